"""Production pages: heat entry, verification, records, leaderboard, target. They call the
domain modules (actions, rules, competition, targets) and hold no rule of their own: what a
member may do with a heat is what rules.offered says."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.access import member_of
from zhenggai.errors import DomainError
from zhenggai.org import clock

from . import actions, competition, heats, records, rules, targets
from .forms import HeatForm, correction_fields, corrections, parse_value
from .models import DelayCode, Furnace, Heat, Record, RecordKind
from .rules import Kind


def _member(request: HttpRequest):
    member = member_of(request.user)
    if member is None:
        raise PermissionDenied
    return member


def _day(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _today(org_id: int) -> dt.date:
    """The day the pages show: the organisation's today (its clock, org/clock.py)."""
    return clock.today(org_id)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    org_id = member.org_id
    day = _day(request.GET.get("day"), _today(org_id))
    from .board import production_summary

    return render(request, "production/overview.html", {
        "summary": production_summary(member.org, day), "day": day,
    })


@login_required
def heat_new(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if Kind.RECORD not in rules.offered(member, member.org_id):
        raise PermissionDenied
    form = HeatForm(request.POST or None, org_id=member.org_id)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            heat = actions.record_heat(form.cleaned_data["furnace"], form.heat_input(),
                                       actor=member)
        except DomainError as e:
            error = str(e)
        else:
            return redirect("production:heat", heat.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "production/heat_form.html",
                  {"form": form, "error": error}, status=status)


@login_required
def heat_list(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    qs = Heat.objects.filter(org_id=member.org_id).select_related("furnace")
    status = request.GET.get("status")
    if status in Heat.Status.values:
        qs = qs.filter(status=status)
    furnace = request.GET.get("furnace")
    if furnace and furnace.isdigit():
        qs = qs.filter(furnace__number=int(furnace))
    page = Paginator(qs.order_by("-tap_at"), 50).get_page(request.GET.get("page"))
    return render(request, "production/heat_list.html", {
        "page": page, "status": status, "furnace": furnace,
        "furnaces": Furnace.objects.filter(org_id=member.org_id),
    })


@login_required
def heat_detail(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request)
    heat = get_object_or_404(Heat.objects.select_related("furnace", "recorder", "verified_by"),
                             pk=pk, org_id=member.org_id)
    error = ""
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", "0"))
            if request.POST.get("action") == Kind.VERIFY:
                actions.verify_heat(heat, actor=member, expected_version=version)
            elif request.POST.get("action") == Kind.CORRECT:
                if "field" in request.POST:  # one value, as a script may still post it
                    field = request.POST.get("field", "")
                    changes = {field: parse_value(field, request.POST.get("value", ""))}
                else:  # the form: every value shown, the changed ones corrected together
                    changes = corrections(heat, request.POST)
                actions.correct_heat(heat, actor=member, reason=request.POST.get("reason", ""),
                                     changes=changes, expected_version=version)
            else:
                raise PermissionDenied
        except DomainError as e:
            error = str(e)
        else:
            return redirect("production:heat", heat.pk)
    return render(request, "production/heat_detail.html", {
        "heat": heat, "events": history(heat), "error": error,
        "offered": rules.offered(member, member.org_id, heat),
        "fields": correction_fields(heat, request.POST if error else None),
        "delay_codes": DelayCode.choices, "reason": request.POST.get("reason", "") if error else "",
    }, status=400 if error else 200)


EVENT_LABELS = {"recorded": _("recorded"), "verified": _("verified"),
                "corrected": _("corrected")}


def history(heat: Heat) -> list:
    """The heat's events as the page tells them: what happened, and for a correction each
    value's label with its value before and after."""
    labels = {name: entry.label for name, _tp, entry in heats.declared(heats.HeatInput)}
    labels["heat_min"], labels["day"] = _("heat time (min)"), _("day")
    out = []
    for e in heat.events.select_related("actor"):
        e.label = EVENT_LABELS.get(e.kind, e.kind)
        e.changes = [(labels.get(k, k), _plain(v[0]), _plain(v[1]))
                     for k, v in e.data.items() if k != "bulk" and isinstance(v, list)]
        out.append(e)
    return out


def _plain(v) -> str:
    """A value from a correction's record: a time as the page shows times."""
    if isinstance(v, str) and len(v) > 16 and v[4:5] == "-" and v[10:11] == "T":
        try:
            return timezone.localtime(dt.datetime.fromisoformat(v)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return v
    if isinstance(v, list):
        return ", ".join(f"{d.get('code')} {d.get('minutes')}" for d in v
                         if isinstance(d, dict)) or "—"
    return str(v)


@login_required
def record_list(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    recs = (Record.objects.filter(org_id=member.org_id)
            .select_related("furnace", "heat").order_by("-day", "kind"))
    kind = request.GET.get("kind")
    if kind not in RecordKind.values:
        kind = ""
    if kind:
        recs = recs.filter(kind=kind)
    return render(request, "production/records.html", {
        "records": recs[:200], "streaks": records.streaks(member.org_id, kind or None),
        "kind": kind, "kinds": RecordKind.choices,
    })


@login_required
def leaderboard(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    end = _day(request.GET.get("end"), _today(member.org_id))
    start = _day(request.GET.get("start"), end - dt.timedelta(days=27))
    by = request.GET.get("by") or "furnace"
    rank = request.GET.get("rank") or "vs_norm"
    error = ""
    try:
        rows = competition.leaderboard(member.org_id, start, end, by=by, rank=rank)
    except DomainError as e:
        rows, error = [], str(e)
    return render(request, "production/leaderboard.html", {
        "rows": rows, "start": start, "end": end, "by": by, "rank": rank, "error": error,
        "notes": [(k, competition.LABELS[k], competition.NOTES[k]) for k in competition.FIGURES],
        "bys": competition.BY, "ranks": list(competition.LABELS.items()),
    }, status=400 if error else 200)


@login_required
def target(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    day = _day(request.GET.get("day"), _today(member.org_id))
    number = request.GET.get("furnace", "")
    furnace = (Furnace.objects.filter(org_id=member.org_id, number=int(number)).first()
               if number.isdigit() else None)
    error = ""
    try:
        progress = targets.progress(member.org_id, day, furnace)
    except DomainError as e:
        progress, error = None, str(e)
    from .board import chart

    return render(request, "production/target.html", {
        "p": progress, "day": day, "error": error, "chart": chart(progress),
        "furnace": furnace, "furnaces": Furnace.objects.filter(org_id=member.org_id),
    }, status=404 if error else 200)
