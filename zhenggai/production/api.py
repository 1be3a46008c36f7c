"""The production part of the JSON API, mounted under /api/v1/production/. The same
actions and reads as the pages; request.auth is the calling member."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status
from pydantic import create_model

from zhenggai.api.params import as_utc
from zhenggai.api.types import Id
from zhenggai.errors import InvalidInput

from . import actions, competition, heats, targets
from .models import Furnace, Heat, Record

router = Router(tags=["production"])


class FurnaceOut(Schema):
    id: int
    number: int
    kind: str
    capacity_t: float
    hearth_m2: float
    commissioned: int


def _api_type(tp, entry: heats.Entry, delay):
    """The schema type of one declared value, with the bounds the declaration gives."""
    if entry.choices is not None:
        return Literal[tuple(entry.choices.values)]
    if tp == list[dict]:
        return list[delay]
    bounds = {k: v for k, v in (("ge", entry.min), ("le", entry.max),
                                ("max_length", entry.max_length)) if v is not None}
    return Annotated[tp, Field(**bounds)] if bounds else tp


def _plain_type(tp, delay):
    return list[delay] if tp == list[dict] else tp


# The heat's values as the API takes and gives them, made from the one declaration
# (heats.HeatInput, heats.DelayInput), as the entry form is (forms.HeatForm).
Delay = create_model("Delay", __base__=Schema, **{
    name: _api_type(tp, entry, None) for name, tp, entry in heats.declared(heats.DelayInput)})

HeatIn = create_model("HeatIn", __base__=Schema, **{
    "furnace": (Id, Field(description="the furnace's number")),
    **{name: (_api_type(tp, entry, Delay), [] if name == "delays" else ...)
       for name, tp, entry in heats.declared(heats.HeatInput)},
})


class _HeatOut(Schema):
    @staticmethod
    def resolve_furnace(obj) -> int:
        return obj.furnace.number


# The heat as stored: some of the values as written (their types from the declaration), and
# what was computed from them.
HeatOut = create_model("HeatOut", __base__=_HeatOut, **{
    name: _plain_type(heats.TYPES[name], Delay) if tp is None else tp
    for name, tp in [
        ("id", int), ("furnace", int), ("year", int), ("number", None), ("shift", None),
        ("crew", None), ("charge_at", None), ("tap_at", None), ("day", dt.date),
        ("heat_min", int), ("tap_to_tap_min", int | None), ("tons", None),
        ("good_tons", None), ("grade", None), ("fuel_kg_t", None), ("delays", None),
        ("status", str), ("outlier", bool), ("outlier_score", float | None),
        ("version", int),
    ]
})


class VerifyIn(Schema):
    version: int | None = None


class CorrectionIn(Schema):
    reason: str
    changes: dict[str, str | int | float | list[Delay] | dt.datetime]
    version: int | None = None


class RecordOut(Schema):
    furnace: int | None
    kind: str
    value: float
    previous: float | None
    heat: int | None = Field(None, alias="heat_id")
    day: dt.date
    streak: int
    vs_norm: float | None

    @staticmethod
    def resolve_furnace(obj) -> int | None:
        return obj.furnace.number if obj.furnace_id else None


class LeaderOut(Schema):
    rank: int
    key: str
    heats: int
    good_tons: float
    t_per_h: float | None
    t_per_m2_day: float | None
    vs_norm: float | None


class LeaderboardOut(Schema):
    start: dt.date
    end: dt.date
    by: str
    rank: str
    notes: dict[str, str]
    rows: list[LeaderOut]


class TargetOut(Schema):
    year: int
    day: dt.date
    goal_t: float
    plan_t: float
    increase_t: float
    done_t: float
    remaining_t: float
    remaining_furnace_days: int
    needed_per_furnace_day: float | None
    run_rate: float | None
    forecast_t: float | None
    p10_t: float | None
    p90_t: float | None
    probability: float | None
    complete_through: dt.date | None = Field(
        None, description="the forecast reads complete days only, up to this one")


def _furnace(request, number: Id) -> Furnace:
    f = Furnace.objects.filter(org_id=request.auth.org_id, number=number).first()
    if f is None:
        raise InvalidInput(_("No furnace No. %(n)s in this plant."), n=number)
    return f


def _heat(request, heat_id: Id) -> Heat:
    return get_object_or_404(Heat.objects.select_related("furnace"), pk=heat_id,
                             org_id=request.auth.org_id)


@router.get("/furnaces", response=list[FurnaceOut])
def list_furnaces(request):
    """The organisation's furnaces: number, type, capacity, hearth area."""
    return list(Furnace.objects.filter(org_id=request.auth.org_id))


@router.get("/heats", response=list[HeatOut])
def list_heats(request, furnace: Id | None = None,
               status: Literal["recorded", "verified"] | None = None,
               before: dt.datetime | None = None, limit: int = 50):
    """Newest first, at most 500. Page backwards with `before` = the last item's tap_at."""
    limit = min(max(limit, 1), 500)
    qs = Heat.objects.filter(org_id=request.auth.org_id).select_related("furnace")
    if furnace is not None:
        qs = qs.filter(furnace__number=furnace)
    if status:
        qs = qs.filter(status=status)
    if before:
        qs = qs.filter(tap_at__lt=as_utc(before))
    return list(qs.order_by("-tap_at", "-pk")[:limit])


@router.get("/heats/{heat_id}", response=HeatOut)
def get_heat(request, heat_id: Id):
    """One heat with its values, status and derived figures."""
    return _heat(request, heat_id)


@router.post("/heats", response={201: HeatOut})
def record_heat(request, body: HeatIn):
    """Record a heat; it counts for records and targets once another person verifies it."""
    data = body.dict()
    furnace = _furnace(request, data.pop("furnace"))
    heat = actions.record_heat(furnace, heats.HeatInput(**data), actor=request.auth)
    return Status(201, heat)


@router.post("/heats/{heat_id}/verify", response=HeatOut)
def verify_heat(request, heat_id: Id, body: VerifyIn):
    """A second person confirms the heat: from now on it counts."""
    return actions.verify_heat(_heat(request, heat_id), actor=request.auth,
                               expected_version=body.version)


@router.post("/heats/{heat_id}/corrections", response=HeatOut)
def correct_heat(request, heat_id: Id, body: CorrectionIn):
    """Correct one or more of a heat's values together, with the reason; records are recomputed."""
    changes = body.dict()["changes"]
    for k, tp in heats.TYPES.items():  # a time comes as text
        if tp is dt.datetime and isinstance(changes.get(k), str):
            try:
                changes[k] = dt.datetime.fromisoformat(changes[k])
            except ValueError as e:
                raise InvalidInput(_("“%(v)s” is not a valid value for this field."),
                                   v=changes[k]) from e
    return actions.correct_heat(_heat(request, heat_id), actor=request.auth,
                                reason=body.reason, changes=changes,
                                expected_version=body.version)


@router.get("/records", response=list[RecordOut])
def list_records(request, kind: Literal["fastest", "heaviest", "best_week"] | None = None,
                 furnace: int | None = None, plant: bool = False):
    """The records set, newest first, optionally of one kind."""
    qs = Record.objects.filter(org_id=request.auth.org_id).select_related("furnace")
    if kind:
        qs = qs.filter(kind=kind)
    if plant:
        qs = qs.filter(furnace__isnull=True)
    elif furnace is not None:
        qs = qs.filter(furnace__number=furnace)
    return list(qs.order_by("day", "pk"))


@router.get("/leaderboard", response=LeaderboardOut)
def leaderboard(request, start: dt.date, end: dt.date,
                by: Literal["furnace", "shift", "crew"] = "furnace",
                rank: Literal["t_per_h", "t_per_m2_day", "vs_norm"] = "vs_norm"):
    """Fair leaderboards between furnaces, shifts or crews over a period (see the competition page
    for how each figure is computed)."""
    rows = competition.leaderboard(request.auth.org_id, start, end, by=by, rank=rank)
    for r in rows:
        r["key"] = str(r["key"])
    return {"start": start, "end": end, "by": by, "rank": rank,
            "notes": {k: str(v) for k, v in competition.NOTES.items()}, "rows": rows}


@router.get("/target", response=TargetOut)
def target(request, day: dt.date, furnace: Id | None = None):
    """The plant's target, or one furnace's with `furnace` (its number)."""
    f = _furnace(request, furnace) if furnace is not None else None
    return targets.progress(request.auth.org_id, day, f)
