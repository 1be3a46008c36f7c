"""The leader's situation board: claimed against verified against false, by unit and
category, their trend over the campaign, stalled units (M5), long-standing problems (M12),
proposed declines to approve, and the follow-up log (M10)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from zhenggai.errors import DomainError
from zhenggai.figures import stall
from zhenggai.figures.queries import figures, figures_and_sums, last_active_day, series
from zhenggai.problems import queries
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import Problem

from ..pages import posted_id, role_page, status_of, today
from ..problem_forms import take

CHART_POINTS = 120
SPLIT_ROWS = 30  # the units or categories most in need of attention; ?all=1 for every one
SPLIT_COLUMNS = ("problems", "claimed_resolved", "verified_resolved", "false_figures",
                 "overdue")


def split_rows(result: dict, show_all: bool) -> tuple[list, int]:
    """The groups of a split, those with the most false figures and overdue problems first,
    as plain strings (a city has thousands of units: the page shows the worst)."""
    groups = sorted(result["groups"], key=lambda g: (-g["false_figures"], -g["overdue"],
                                                     str(g["label"] or "")))
    shown = groups if show_all else groups[:SPLIT_ROWS]
    rows = [(g["label"] or "—", [str(g[c]) for c in SPLIT_COLUMNS]) for g in shown]
    return rows, len(groups)


def _as_of(request, org_id: int) -> tuple[dt.date, bool]:
    try:
        return (dt.date.fromisoformat(request.GET["as_of"]), False) if request.GET.get(
            "as_of") else (today(org_id), False)
    except ValueError:
        return today(org_id), True


def trend(campaign, day: dt.date) -> list[dict]:
    """The campaign's figures day by day, up to `day` or its last activity if earlier."""
    end = last_active_day(campaign.org_id, day) or day
    start = campaign.airing_from
    step = max(1, (end - start).days // CHART_POINTS + 1)
    return series(campaign.org_id, start, end, step=step)


@role_page("leader_board")
@require_http_methods(["GET", "POST"])
def board(request: HttpRequest) -> HttpResponse:
    campaign, leader = request.campaign, request.member
    error, status = None, 200
    if request.method == "POST":  # approve or reject a proposed decline
        p = get_object_or_404(Problem, pk=posted_id(request, "problem"), campaign=campaign)
        try:
            messages.success(request, take(request, p, leader,
                                           allowed=(Kind.DECLINE, Kind.REJECT_DECLINE)))
        except DomainError as e:
            error, status = str(e), status_of(e)
        else:
            return redirect("web:leader")
    day, bad = _as_of(request, campaign.org_id)
    org_id = campaign.org_id
    # Every panel is as of `day`; what can only be now (declines to decide) says so.
    now = day >= today(org_id)
    then = None if now else day
    show_all = request.GET.get("all") == "1"
    by_unit, unit_sums = figures_and_sums(org_id, day, "unit")
    by_category = figures(org_id, day, "category")
    unit_rows, n_units = split_rows(by_unit, show_all)
    category_rows, n_categories = split_rows(by_category, show_all)
    declines = [{"problem": p, "reason": queries.decline_reason(p)}
                for p in queries.pending_declines(campaign)[:queries.PAGE]]
    return render(request, "web/leader.html", {
        "campaign": campaign, "as_of": day, "bad_date": bad, "error": error,
        "total": by_unit["total"], "unit_rows": unit_rows, "n_units": n_units,
        "category_rows": category_rows, "n_categories": n_categories,
        "trend": trend(campaign, day), "stalled": queries.stalled_units(org_id, day, now=unit_sums),
        "campaign_stall": queries.campaign_stalled(org_id, day), "now": now,
        "stall_days": queries.STALL_DAYS, "stall_share": f"{stall.CHECK_SHARE:.0%}",
        "long": queries.long_standing(campaign, day, now=now),
        "declines": declines, "followups": queries.followup_log(campaign, day=then),
        "rounds": queries.rounds(campaign, limit=1, day=then),
    }, status=400 if bad else status)
