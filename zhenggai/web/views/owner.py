"""The owner's problems: what needs them (assigned, reopened, overdue: the most overdue
first) and what waits for a representative; searchable, filtered and paged. The claim
form is on each problem's page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhenggai.problems import lifecycle, lists, queries

from ..pages import role_page, today
from .lists import page_of


def rows(page, day) -> list[dict]:
    """Each problem with its days overdue (the figures' rule: past the deadline and not yet
    claimed), or else, while unclaimed, its days left: never a negative number of days."""
    out = []
    for p in page:
        overdue = p.days_overdue(day)
        left = None
        if not overdue and p.deadline and p.state in lifecycle.UNCLAIMED:
            left = (p.deadline - day).days
        out.append({"problem": p, "overdue": overdue, "days_left": left})
    return out


@role_page("my_problems")
def my_problems(request: HttpRequest) -> HttpResponse:
    campaign = request.campaign
    day = today(campaign.org_id)
    f = lists.Filters.from_query(request.GET, states=queries.OWNER_STATES)
    mine = queries.owner_lists(request.member, campaign, day, f)
    needs = page_of(mine["needs"], request.GET.get("page"), queries.LIST_PAGE)
    waiting = page_of(mine["waiting"], request.GET.get("wpage"), queries.LIST_PAGE)
    return render(request, "web/my_problems.html", {
        "campaign": campaign, "f": f, "needs": needs, "waiting": waiting,
        "needs_rows": rows(needs, day), "waiting_rows": rows(waiting, day),
        "states": [(s, lifecycle.STATE_LABELS[s]) for s in queries.OWNER_STATES],
        **lists.filter_choices(campaign, owners=False)})
