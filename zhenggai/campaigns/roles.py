"""Who may do what: the one place role membership is read, a campaign's roles and the
plant's (production) roles."""

from zhenggai.production.models import ProductionRole

from .models import Campaign, CampaignRole, Role


def roles_of(member, campaign: Campaign) -> set[str]:
    if member is None:
        return set()
    cache = getattr(member, "_role_cache", None)
    if cache is None:
        cache = member._role_cache = {}
    if campaign.pk not in cache:
        cache[campaign.pk] = set(
            CampaignRole.objects.filter(member=member, campaign=campaign).values_list(
                "role", flat=True
            )
        )
    return cache[campaign.pk]


def has_role(member, campaign: Campaign, *roles: str) -> bool:
    held = roles_of(member, campaign)
    # Every member of the organisation is a worker; admins may act as any role.
    if Role.WORKER in roles and member is not None:
        return True
    return bool(held & set(roles)) or Role.ADMIN in held


def grant(member, campaign: Campaign, *roles: str) -> None:
    for role in roles:
        CampaignRole.objects.get_or_create(member=member, campaign=campaign, role=role)
    if hasattr(member, "_role_cache"):
        member._role_cache.pop(campaign.pk, None)


# -- The plant's roles (production) ---------------------------------------------------------
#
# A recorder, verifier or planner holds the role for the organisation's plant, not for a
# campaign. There is no admin override here: ADMIN is held in one campaign and lets its
# holder act as any role *of that campaign*; it says nothing about who may write or confirm
# the heat log. A plant role is granted explicitly (the admin site, or grant_production_roles).


def production_roles_of(member) -> set[str]:
    """The plant roles a member holds (one query; read afresh each time)."""
    if member is None:
        return set()
    return set(ProductionRole.objects.filter(member=member).values_list("role", flat=True))


def has_production_role(member, org_id: int, *roles: str, held: set[str] | None = None) -> bool:
    """Whether `member` holds one of `roles` in the plant of organisation `org_id`. `held`:
    the member's plant roles when already read (production_roles_of)."""
    if member is None or member.org_id != org_id:
        return False
    if held is None:
        held = production_roles_of(member)
    return bool(held & set(roles))


def grant_production_roles(member, *roles: str) -> None:
    for role in roles:
        ProductionRole.objects.get_or_create(member=member, role=role)


# -- A member's work page ---------------------------------------------------------------
#
# After signing in, a member lands on the page of their work, not on the plant's figures:
# each role has one (a view of access.VIEWS), and a member with several roles is offered
# the others beside it. The order says which comes first for a member who holds several:
# the leader's decisions, then the clerk's desk, the representative's queue, the owner's
# problems. Every member is a worker: their own opinions, or the form if they have none.

WORK = (
    (Role.LEADER, "leader_board"),
    (Role.CLERK, "summarising_desk"),
    (Role.REPRESENTATIVE, "verification_queue"),
    (Role.OWNER, "my_problems"),
)


def work_pages(member, campaign: Campaign | None) -> list[str]:
    """The views that are this member's work, their own first (`work_page`)."""
    if member is None:
        return []
    pages = [] if campaign is None or member.org_id != campaign.org_id else [
        view for role, view in WORK if has_role(member, campaign, role)]
    from zhenggai.opinions.models import Opinion  # opinions' models import campaigns'

    has_opinions = Opinion.objects.filter(author=member).exists()
    pages.append("my_opinions" if has_opinions else "submit")
    return pages


def work_page(member, campaign: Campaign | None) -> str | None:
    """The view a member lands on after signing in; None for who is not a member."""
    pages = work_pages(member, campaign)
    return pages[0] if pages else None
