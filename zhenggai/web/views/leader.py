"""The leader's situation board: claimed against verified against false, by unit and
category, their trend over the campaign, stalled units (M5), long-standing problems (M12),
proposed declines to approve, and the follow-up log (M10)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zhenggai.errors import DomainError
from zhenggai.figures.queries import figures, series
from zhenggai.problems import actions as A
from zhenggai.problems import queries as Q
from zhenggai.problems.models import Problem

from ..pages import posted_id, role_page, status_of, today

CHART_POINTS = 120


def _as_of(request) -> tuple[dt.date, bool]:
    try:
        return (dt.date.fromisoformat(request.GET["as_of"]), False) if request.GET.get(
            "as_of") else (today(), False)
    except ValueError:
        return today(), True


def trend(campaign, day: dt.date) -> list[dict]:
    """The campaign's figures day by day, up to `day` or its last activity if earlier."""
    last = Problem.objects.filter(org_id=campaign.org_id).aggregate(m=Max("updated_at"))["m"]
    end = min(day, last.date()) if last else day
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
        v = request.POST.get("version", "")
        try:
            if request.POST.get("do") == "decline":
                A.decline(p, actor=leader, reason=request.POST.get("text", ""),
                          expected_version=int(v) if v.isdigit() and len(v) < 10 else -1)
                messages.success(request, _("#%(id)s declined.") % {"id": p.pk})
            else:
                A.reject_decline(p, actor=leader, note=request.POST.get("text", ""),
                                 expected_version=int(v) if v.isdigit() and len(v) < 10 else -1)
                messages.success(request, _("#%(id)s goes on.") % {"id": p.pk})
        except DomainError as e:
            error, status = str(e), status_of(e)
        else:
            return redirect("web:leader")
    day, bad = _as_of(request)
    org_id = campaign.org_id
    declines = [{"problem": p, "reason": Q.decline_reason(p)}
                for p in Q.pending_declines(campaign)[:Q.PAGE]]
    return render(request, "web/leader.html", {
        "campaign": campaign, "as_of": day, "bad_date": bad, "error": error,
        "by_unit": figures(org_id, day, "unit"), "by_category": figures(org_id, day, "category"),
        "trend": trend(campaign, day), "stalled": Q.stalled_units(org_id, day),
        "stall_days": Q.STALL_DAYS, "long": Q.long_standing(campaign, day),
        "declines": declines, "followups": Q.followup_log(campaign),
        "rounds": Q.rounds(campaign)[:1],
    }, status=400 if bad else status)
