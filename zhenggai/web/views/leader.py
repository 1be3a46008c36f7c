"""The leader's situation board: claimed against verified against false, by unit and
category, their trend over the campaign, stalled units (M5), long-standing problems (M12),
proposed declines to approve, and the follow-up log (M10)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from zhenggai import human
from zhenggai.campaigns import bulletins
from zhenggai.errors import DomainError, InvalidInput
from zhenggai.figures import stall
from zhenggai.figures.queries import (
    figures,
    figures_and_sums,
    last_active_day,
    leaders_own,
    series,
)
from zhenggai.ids import parse_all
from zhenggai.org.models import Member, Unit
from zhenggai.problems import actions, lifecycle, queries
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import Problem

from ..pages import posted_id, role_page, status_of, today
from ..problem_forms import take

CHART_POINTS = 120
SPLIT_ROWS = 30  # the units or categories most in need of attention; ?all=1 for every one
SPLIT_COLUMNS = ("problems", "claimed_resolved", "verified_resolved", "false_figures",
                 "overdue", "mean_lead_days")


def split_rows(result: dict, show_all: bool) -> tuple[list, int]:
    """The groups of a split, those with the most false figures and overdue problems first,
    as plain strings (a city has thousands of units: the page shows the worst)."""
    groups = sorted(result["groups"], key=lambda g: (-g["false_figures"], -g["overdue"],
                                                     str(g["label"] or "")))
    shown = groups if show_all else groups[:SPLIT_ROWS]
    # Human numbers: thousands separated, the mean days in whole days (no bare "111.0").
    rows = [(g["label"] or "—", [human.number(g[c]) for c in SPLIT_COLUMNS]) for g in shown]
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
        "campaign_stall": queries.campaign_stalled(org_id, day, now=unit_sums), "now": now,
        "stall_days": queries.STALL_DAYS, "stall_share": f"{stall.CHECK_SHARE:.0%}",
        "long": queries.long_standing(campaign, day, now=now),
        "declines": declines, "followups": queries.followup_log(campaign, day=then),
        "rounds": queries.rounds(campaign, limit=1, day=then),
        "leaders_own": leaders_own(campaign, day),
        "bulletin": bulletins.latest(org_id, day), "bulletins": bulletins.history(campaign),
        "languages": settings.LANGUAGES,
    }, status=400 if bad else status)


# -- hand-over (下放), carry-over, the situation bulletin ---------------------------------

def _member_choice(request, name: str, org_id: int) -> Member | None:
    pk = posted_id(request, name)
    return Member.objects.filter(pk=pk, org_id=org_id).first() if pk else None


@role_page("leader_board")
@require_http_methods(["GET", "POST"])
def handover(request: HttpRequest) -> HttpResponse:
    """A member leaves or is transferred: all their open problems to a successor at once."""
    campaign, leader = request.campaign, request.member
    error, status = None, 200
    if request.method == "POST":
        org = campaign.org_id
        member = _member_choice(request, "member", org)
        to = _member_choice(request, "to", org)
        unit_pk = posted_id(request, "to_unit")
        to_unit = Unit.objects.filter(pk=unit_pk, org_id=org).first() if unit_pk else None
        try:
            if member is None:
                raise InvalidInput(_("Choose the member who leaves."))
            moved = actions.hand_over(campaign, member, actor=leader, to=to, to_unit=to_unit,
                                      reason=request.POST.get("reason", ""))
        except DomainError as e:
            error, status = str(e), status_of(e)
        else:
            messages.success(request, ngettext(
                "%(n)s problem of %(who)s handed over to %(to)s.",
                "%(n)s problems of %(who)s handed over to %(to)s.", len(moved)) % {
                    "n": len(moved), "who": member.name,
                    "to": to.name if to else to_unit.label()})
            return redirect(f"{reverse('web:handover')}?campaign={campaign.pk}")
    owners = (Problem.objects.filter(campaign=campaign, state__in=sorted(lifecycle.LIVE),
                                     owner__isnull=False)
              .values("owner_id", "owner__name").annotate(n=Count("pk"))
              .order_by("owner__name"))
    return render(request, "web/handover.html", {
        "campaign": campaign, "error": error, "owners": owners,
        "members": Member.objects.filter(org_id=campaign.org_id).order_by("name"),
        "units": Unit.objects.filter(org_id=campaign.org_id).order_by("code"),
        "posted": request.POST if request.method == "POST" else {},
    }, status=status)


@role_page("leader_board")
@require_http_methods(["GET", "POST"])
def carry_over(request: HttpRequest) -> HttpResponse:
    """A new campaign starts: its leader picks the unresolved problems of the previous one
    that carry over (or all of them)."""
    campaign, leader = request.campaign, request.member
    error, status = None, 200
    if request.method == "POST":
        chosen = None if request.POST.get("all") == "1" else [
            i for i in parse_all(request.POST.getlist("problem")) if i]
        try:
            if chosen == []:
                raise InvalidInput(_("Tick the problems to carry over, or carry over all."))
            moved = actions.carry_over_many(campaign, actor=leader, problems=chosen)
        except DomainError as e:
            error, status = str(e), status_of(e)
        else:
            messages.success(request, ngettext(
                "%(n)s problem carried over into “%(c)s”; its age since first raised is kept.",
                "%(n)s problems carried over into “%(c)s”; their age since first raised is "
                "kept.", len(moved)) % {"n": len(moved), "c": campaign.name})
            return redirect(f"{reverse('web:carry_over')}?campaign={campaign.pk}")
    day = today(campaign.org_id)
    rows = []
    if campaign.previous_id is not None:
        rows = [{"problem": p, "age": (day - p.first_raised).days if p.first_raised else None}
                for p in actions.unresolved_to_carry(campaign.previous)
                .select_related("owner", "unit")[:500]]
    return render(request, "web/carry_over.html", {
        "campaign": campaign, "previous": campaign.previous, "rows": rows, "error": error,
    }, status=status)


@role_page("leader_board")
@require_http_methods(["POST"])
def bulletin(request: HttpRequest) -> HttpResponse:
    """A new situation bulletin, written in the language the leader picks."""
    campaign = request.campaign
    try:
        bulletins.post(campaign, actor=request.member, text=request.POST.get("text", ""),
                       language=request.POST.get("language", ""))
    except DomainError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("The bulletin is on the board and the situation page."))
    return redirect(f"{reverse('web:leader')}?campaign={campaign.pk}")
