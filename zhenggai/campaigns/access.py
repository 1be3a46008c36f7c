"""Who may see what: the read side of the role rules. Pages and API both ask here.

The write side (who may take an action) is the lifecycle table and problems/rules.py.
"""

from __future__ import annotations

from zhenggai.org.models import Member

from .models import Campaign, Role
from .roles import has_role

# Each working view of a campaign and the roles that may open it. Admins may open all.
VIEWS: dict[str, frozenset[str]] = {
    "submit": frozenset({Role.WORKER}),  # any member; anonymous intake needs no login
    "my_opinions": frozenset({Role.WORKER}),
    "summarising_desk": frozenset({Role.CLERK}),
    "my_problems": frozenset({Role.OWNER}),
    "verification_queue": frozenset({Role.REPRESENTATIVE}),
    "review_rounds": frozenset({Role.REPRESENTATIVE, Role.LEADER}),
    "leader_board": frozenset({Role.LEADER}),
    "followups": frozenset({Role.LEADER}),
    "declines": frozenset({Role.LEADER}),
    # The names behind named opinions: those who summarise them and lead the campaign.
    "opinion_authors": frozenset({Role.CLERK, Role.LEADER}),
    # The rectification ledger's download: of the campaigns where one is clerk or leader.
    "ledger": frozenset({Role.CLERK, Role.LEADER}),
    # The lists that grow (/problems/, /opinions/): every problem for every member; the
    # opinions, searched one by one, for those who summarise, verify and lead.
    "problem_list": frozenset({Role.WORKER}),
    "opinion_list": frozenset({Role.CLERK, Role.REPRESENTATIVE, Role.LEADER}),
}


def member_of(user) -> Member | None:
    """The member behind a signed-in user, or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.member
    except Member.DoesNotExist:
        return None


def may_view(member: Member | None, campaign: Campaign, view: str) -> bool:
    if member is None or member.org_id != campaign.org_id:
        return False
    return has_role(member, campaign, *VIEWS[view])


def views_for(member: Member | None, campaign: Campaign) -> list[str]:
    """The views this member may open in the campaign, for a menu."""
    return [v for v in VIEWS if may_view(member, campaign, v)]
