"""The lists that grow: /problems/ (every member) and /opinions/ (clerk, representative,
leader), searched, filtered, sorted and paged. The queries are problems/lists.py."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhenggai.campaigns.access import may_view
from zhenggai.problems import lifecycle, lists

from ..pages import role_page, today


def page_of(qs, number, per_page: int):
    """One page of `qs` (past the end: the last; not a number: the first), with the page
    numbers its links show (`page.links`): what web/_page_links.html, every list's pager,
    needs besides the query string its links keep."""
    page = Paginator(qs, per_page).get_page(number)
    page.links = _links(page)
    return page


def _page(request: HttpRequest, qs, f: lists.Filters) -> dict:
    page = page_of(qs, request.GET.get("page"), lists.PER_PAGE)
    page.object_list = lists.rows(page.object_list)
    # The page links keep the filters (and drop the page number).
    keep = request.GET.copy()
    keep.pop("page", None)
    return {"page": page, "total": page.paginator.count, "keep": keep.urlencode(), "f": f}


def _links(page) -> list[int | None]:
    """The page numbers to link: the first, the last, and two either side of this one;
    None where numbers are left out."""
    n, at = page.paginator.num_pages, page.number
    wanted = sorted({1, n, *range(max(1, at - 2), min(n, at + 2) + 1)})
    out: list[int | None] = []
    for i in wanted:
        if out and out[-1] is not None and i - out[-1] > 1:
            out.append(None)
        out.append(i)
    return out


@role_page("problem_list")
def problem_list(request: HttpRequest) -> HttpResponse:
    campaign = request.campaign
    day = today(campaign.org_id)
    f = lists.Filters.from_query(request.GET, lists.PROBLEM_SORTS)
    ctx = _page(request, lists.problems(campaign, f, day), f)
    for p in ctx["page"].object_list:
        p.overdue_days = p.days_overdue(day)
    return render(request, "web/problem_list.html", {
        **ctx, **lists.filter_choices(campaign), "campaign": campaign, "as_of": day,
        "states": [(s, lifecycle.STATE_LABELS[s]) for s in lifecycle.STATES],
        "sorts": [(k, label) for k, (label, _order) in lists.PROBLEM_SORTS.items()],
    })


@role_page("opinion_list")
def opinion_list(request: HttpRequest) -> HttpResponse:
    campaign = request.campaign
    day = today(campaign.org_id)
    f = lists.Filters.from_query(request.GET, lists.OPINION_SORTS)
    ctx = _page(request, lists.opinions(campaign, f, day), f)
    return render(request, "web/opinion_list.html", {
        **ctx, **lists.filter_choices(campaign), "campaign": campaign, "as_of": day,
        # Named opinions' authors: for those who may see them (clerk, leader); never an
        # anonymous one's, which has none.
        "show_authors": may_view(request.member, campaign, "opinion_authors"),
        "states": [(lists.UNSUMMARISED, lists.UNSUMMARISED_LABEL)]
        + [(s, lifecycle.STATE_LABELS[s]) for s in lifecycle.STATES],
        "sorts": [(k, label) for k, (label, _order) in lists.OPINION_SORTS.items()],
    })
