"""What every role page needs: the member, the campaign, and the server-side role check.

A page names the view it is (campaigns/access.py VIEWS); `role_page` answers 403 to a
member without that role, and sends a visitor who is not signed in to the login page.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from zhenggai.campaigns.access import may_view, member_of, views_for
from zhenggai.campaigns.models import Campaign, current_campaign
from zhenggai.campaigns.roles import work_pages
from zhenggai.ids import parse as parse_id
from zhenggai.org import clock
from zhenggai.org.models import Organisation
from zhenggai.security.address import in_networks


def today(org) -> dt.date:
    """The organisation's today (its clock: org/clock.py); `org` or its id."""
    return clock.today(org)


def campaign_for(request: HttpRequest, org_id: int | None) -> Campaign | None:
    if org_id is None:
        return None
    wanted = parse_id(request.GET.get("campaign") or request.POST.get("campaign") or "")
    if wanted is not None:
        return get_object_or_404(Campaign, pk=wanted, org_id=org_id)
    return current_campaign(org_id, today(org_id))


def home_org(request: HttpRequest) -> Organisation | None:
    """The member's organisation; for visitors, the installation's (one plant, one city)."""
    member = member_of(request.user)
    if member is not None:
        return member.org
    return Organisation.objects.order_by("pk").first()


def role_page(view_name: str):
    def wrap(fn):
        @functools.wraps(fn)
        def inner(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            member = member_of(request.user)
            if member is None:
                raise PermissionDenied
            campaign = campaign_for(request, member.org_id)
            if campaign is None or not may_view(member, campaign, view_name):
                raise PermissionDenied
            request.member, request.campaign = member, campaign
            return fn(request, *args, **kwargs)
        return inner
    return wrap


def board_allowed(request: HttpRequest) -> bool:
    """The public pages (the board, its posters and the situation page at /) need no login,
    but only inside the organisation's network (settings.BOARD_NETWORKS; the client's
    address behind a trusted proxy, security/address.py). Signed-in members may see them
    from anywhere."""
    if request.user.is_authenticated and member_of(request.user) is not None:
        return True
    return in_networks(request, settings.BOARD_NETWORKS)


def public_page(fn):
    """A page of the public board: the one rule of `board_allowed`, else 403."""
    @functools.wraps(fn)
    def inner(request, *args, **kwargs):
        if not board_allowed(request):
            raise PermissionDenied
        return fn(request, *args, **kwargs)
    return inner


# Where each work page (campaigns/roles.py WORK) is served.
WORK_URLS = {
    "leader_board": "web:leader", "summarising_desk": "web:desk",
    "verification_queue": "web:verify", "my_problems": "web:my_problems",
    "my_opinions": "web:my_opinions", "submit": "web:submit",
}


def work_links(member, campaign: Campaign | None) -> list[dict]:
    """A member's work pages, their own first: [{"view", "url"}] (campaigns/roles.py)."""
    return [{"view": v, "url": reverse(WORK_URLS[v])} for v in work_pages(member, campaign)]


def work_url(member) -> str | None:
    """Where a member lands after signing in: their work page in the current campaign."""
    if member is None:
        return None
    links = work_links(member, current_campaign(member.org_id, today(member.org_id)))
    return links[0]["url"] if links else None


def nav(request: HttpRequest) -> dict:
    """Context processor: the role pages this member may open, for the menu, and the member.
    It runs on every render, partials (htmx) too: both are worked out only when a template
    reads them, so a page without the menu pays no query for it."""
    def member():
        return member_of(getattr(request, "user", None))

    def views() -> list[str]:
        m = member()
        if m is None:
            return []
        # A role page has found its campaign already (role_page); others take the current one.
        campaign = getattr(request, "campaign", None) or current_campaign(m.org_id, today(m.org_id))
        return views_for(m, campaign) if campaign else []

    cache: list[int] = []

    def unread() -> int:
        """The member's unread notifications, for the menu: asked only when shown."""
        if not cache:
            from zhenggai.notifications.models import Notification

            m = member()
            cache.append(0 if m is None else Notification.objects.filter(
                member=m, read_at__isnull=True).count())
        return cache[0]

    def work() -> list[dict]:
        """The member's work pages, for the links to their other work (_work_links.html)."""
        m = member()
        if m is None:
            return []
        campaign = getattr(request, "campaign", None) or current_campaign(m.org_id, today(m.org_id))
        return work_links(m, campaign)

    return {"nav_views": SimpleLazyObject(views), "me": SimpleLazyObject(member),
            "unread_count": unread, "work_links": SimpleLazyObject(work)}


def status_of(e) -> int:
    """The HTTP status of a refused action: the domain error's own (errors.py)."""
    return e.status


def posted_id(request: HttpRequest, name: str) -> int:
    """An id from a form; anything that is not a number finds nothing (a 404), never a 500."""
    return parse_id(request.POST.get(name, "")) or 0


def query_id(request: HttpRequest, name: str) -> int | None:
    """An id from the query string, or None."""
    return parse_id(request.GET.get(name, ""))


