"""A heat as a recorder writes it down: its values declared once (`HeatInput`, from which
the entry form and the API's schema are made), the checks on what may be written, and the
figures derived from it (heat time, tap to tap, outlier score, the plant's days).

Who may record, verify or correct a heat is in rules.py; the actions that write are in
actions.py. Each refusal here raises an InvalidInput with a reason a person can read.
"""

from __future__ import annotations

import datetime as dt
import typing
from dataclasses import dataclass, field, fields

import numpy as np
from django.db.models import F, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import InvalidInput
from zhenggai.org import clock

from .models import DelayCode, Furnace, Heat, PlantDay, Shift
from .models import shifts_of as models_shifts_of

# Tons tapped outside this share of the nominal capacity cannot be one heat of this furnace.
TONS_LOW, TONS_HIGH = 0.5, 1.3
# Phases may differ from charge-to-tap by this much (clock readings are to the minute).
PHASE_SLACK_MIN = 5
OUTLIER_Z = 3.5
OUTLIER_MIN_SAMPLES = 8
PHASES = ("charging_min", "hot_metal_min", "meltdown_min", "refining_min", "tapping_min")
INT_MAX = 2**31 - 1  # the largest whole number a heat's integer columns hold


@dataclass(frozen=True)
class Entry:
    """How a person enters one value: its label and the bounds an entry form and the API
    enforce before the domain's own checks (check_values) run."""

    label: object
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    choices: type[TextChoices] | None = None


def _entry(label, **kw) -> dict:
    return {"entry": Entry(label, **kw)}


MINUTES = {"min": 0, "max": INT_MAX}


@dataclass
class DelayInput:
    """One stoppage during a heat, with its reason."""

    code: str = field(metadata=_entry(_("delay reason"), choices=DelayCode))
    minutes: int = field(metadata=_entry(_("delay (min)"), min=1, max=INT_MAX))


@dataclass
class HeatInput:
    """What a recorder writes down for one heat: the one declaration of the heat's values.
    `delays` holds dicts of DelayInput's fields."""

    number: int = field(metadata=_entry(_("heat number"), min=1, max=INT_MAX))
    shift: str = field(metadata=_entry(_("shift"), choices=Shift))
    crew: str = field(metadata=_entry(_("crew"), max_length=50))
    charge_at: dt.datetime = field(metadata=_entry(_("charging starts")))
    tap_at: dt.datetime = field(metadata=_entry(_("tap")))
    fettling_min: int = field(metadata=_entry(_("fettling (min)"), **MINUTES))
    charging_min: int = field(metadata=_entry(_("charging (min)"), **MINUTES))
    hot_metal_min: int = field(metadata=_entry(_("hot-metal addition (min)"), **MINUTES))
    meltdown_min: int = field(metadata=_entry(_("melt-down (min)"), **MINUTES))
    refining_min: int = field(metadata=_entry(_("refining (min)"), **MINUTES))
    tapping_min: int = field(metadata=_entry(_("tap (min)"), **MINUTES))
    tons: float = field(metadata=_entry(_("tons tapped"), min=0))
    good_tons: float = field(metadata=_entry(_("good tons"), min=0))
    grade: str = field(metadata=_entry(_("steel grade"), max_length=30))
    fuel_kg_t: float = field(metadata=_entry(_("fuel per ton (kg)"), min=0))
    delays: list[dict] = field(default_factory=list, metadata=_entry(_("delays")))


def declared(cls) -> list[tuple[str, type, Entry]]:
    """(name, type, entry) of each value of a declaration (HeatInput, DelayInput), in order:
    what the form and the API schema are made from."""
    hints = typing.get_type_hints(cls)
    return [(f.name, hints[f.name], f.metadata["entry"]) for f in fields(cls)]


TYPES = {name: tp for name, tp, _e in declared(HeatInput)}
CORRECTABLE = [name for name in TYPES if name != "number"]


def minutes_between(a: dt.datetime, b: dt.datetime) -> int:
    return round((b - a).total_seconds() / 60)


def check_values(furnace: Furnace, h: HeatInput) -> None:
    """Refuse what cannot be, each with its own reason."""
    if h.number is None or int(h.number) <= 0:
        raise InvalidInput(_("The heat number must be a positive whole number."))
    if h.shift not in Shift.values:
        raise InvalidInput(_("Unknown shift “%(s)s”."), s=h.shift)
    if not (h.crew or "").strip():
        raise InvalidInput(_("Name the crew."))
    if not (h.grade or "").strip():
        raise InvalidInput(_("Name the steel grade."))
    for t in (h.charge_at, h.tap_at):
        if not isinstance(t, dt.datetime) or timezone.is_naive(t):
            raise InvalidInput(_("Times must be full dates and times with a time zone."))
    if h.tap_at <= h.charge_at:
        raise InvalidInput(_("The tap (%(tap)s) is not after charging starts (%(charge)s)."),
                           tap=timezone.localtime(h.tap_at).strftime("%Y-%m-%d %H:%M"),
                           charge=timezone.localtime(h.charge_at).strftime("%Y-%m-%d %H:%M"))
    if h.tap_at > clock.now(furnace.org_id):
        raise InvalidInput(_("A heat cannot be tapped in the future."))
    for name in ("fettling_min", *PHASES):
        value = getattr(h, name)
        if value is None or int(value) < 0:
            raise InvalidInput(_("Phase times are minutes, zero or more."))
    heat_min = minutes_between(h.charge_at, h.tap_at)
    phases = sum(int(getattr(h, name)) for name in PHASES)
    if abs(phases - heat_min) > PHASE_SLACK_MIN:
        raise InvalidInput(
            _("The phases add up to %(p)s min, but charging to tap is %(h)s min."),
            p=phases, h=heat_min)
    if h.tons is None or h.good_tons is None or h.tons <= 0 or h.good_tons < 0:
        raise InvalidInput(_("Tons must be positive."))
    low, high = TONS_LOW * furnace.capacity_t, TONS_HIGH * furnace.capacity_t
    if not low <= h.tons <= high:
        raise InvalidInput(
            _("%(t)s t is far from this furnace's capacity of %(c)s t (allowed %(lo)s–%(hi)s t)."),
            t=h.tons, c=furnace.capacity_t, lo=round(low), hi=round(high))
    if h.good_tons > h.tons:
        raise InvalidInput(_("Good tons cannot exceed tons tapped."))
    if h.fuel_kg_t is None or h.fuel_kg_t < 0:
        raise InvalidInput(_("Fuel per ton cannot be negative."))
    delay_total = 0
    for d in h.delays or []:
        if not isinstance(d, dict) or d.get("code") not in DelayCode.values:
            raise InvalidInput(_("Each delay needs a reason code: %(codes)s."),
                               codes=", ".join(DelayCode.values))
        minutes = d.get("minutes")
        if not isinstance(minutes, int) or minutes <= 0:
            raise InvalidInput(_("Each delay needs its minutes, more than zero."))
        delay_total += minutes
    if delay_total > heat_min + int(h.fettling_min):
        raise InvalidInput(_("The delays are longer than the heat itself."))


def check_shift(org_id: int, shift: str, runs: list[str] | None = None) -> None:
    """Refuse a shift the plant does not run (models.ShiftPlan); `runs`: its shifts, when
    the caller has read them already (a bulk load)."""
    runs = models_shifts_of(org_id) if runs is None else runs
    if shift not in runs:
        raise InvalidInput(_("This plant runs no shift “%(s)s”; its shifts are %(all)s."),
                           s=shift, all=", ".join(str(Shift(c).label) for c in runs))


def check_overlap(furnace: Furnace, h: HeatInput, exclude: int | None = None) -> None:
    start = h.charge_at - dt.timedelta(minutes=int(h.fettling_min))
    near = Heat.objects.filter(furnace=furnace, tap_at__gt=start,
                               charge_at__lt=h.tap_at + dt.timedelta(days=1))
    if exclude:
        near = near.exclude(pk=exclude)
    for other in near:
        other_start = other.charge_at - dt.timedelta(minutes=other.fettling_min)
        if other_start < h.tap_at and other.tap_at > start:
            raise InvalidInput(_("This heat overlaps heat %(n)s on the same furnace."),
                               n=f"{other.year}-{other.number}")


def tap_to_tap(furnace: Furnace, tap_at: dt.datetime, exclude: int | None = None) -> int | None:
    prev = Heat.objects.filter(furnace=furnace, tap_at__lt=tap_at)
    if exclude:
        prev = prev.exclude(pk=exclude)
    prev_tap = prev.order_by("-tap_at").values_list("tap_at", flat=True).first()
    return minutes_between(prev_tap, tap_at) if prev_tap else None


def refresh_next(furnace: Furnace, tap_at: dt.datetime) -> None:
    """The heat after this one has a new predecessor: its tap-to-tap changes."""
    nxt = Heat.objects.filter(furnace=furnace, tap_at__gt=tap_at).order_by("tap_at").first()
    if nxt is not None:
        Heat.objects.filter(pk=nxt.pk).update(tap_to_tap_min=tap_to_tap(furnace, nxt.tap_at))


def outlier_score(furnace_id: int, grade: str, heat_min: int, exclude: int | None = None):
    """Robust z (median and MAD) of a heat time among the furnace's verified heats of the
    grade. None while there are too few to judge."""
    qs = Heat.objects.filter(furnace_id=furnace_id, grade=grade, status=Heat.Status.VERIFIED)
    if exclude:
        qs = qs.exclude(pk=exclude)
    sample = np.array(list(qs.order_by("-tap_at").values_list("heat_min", flat=True)[:500]),
                      dtype=float)
    if len(sample) < OUTLIER_MIN_SAMPLES:
        return None
    median = float(np.median(sample))
    mad = float(np.median(np.abs(sample - median)))
    if mad == 0:
        mad = 1.0  # all alike: a minute's difference is one unit
    return round(0.6745 * (heat_min - median) / mad, 2)


def values_of(h: HeatInput) -> dict:
    values = {f.name: getattr(h, f.name) for f in fields(HeatInput)}
    values["crew"] = values["crew"].strip()
    values["grade"] = values["grade"].strip()
    values["delays"] = list(values["delays"] or [])
    values["heat_min"] = minutes_between(h.charge_at, h.tap_at)
    values["day"] = timezone.localdate(h.tap_at)
    return values


def book_days(org_id: int, deltas: dict, bulk: bool = False) -> None:
    """Add verified good tons to the plant's days (negative to take them back)."""
    if not bulk:  # live actions: a racing verifier on the same new day is safe
        for day, tons in deltas.items():
            row, _created = PlantDay.objects.get_or_create(org_id=org_id, day=day)
            PlantDay.objects.filter(pk=row.pk).update(good_tons=F("good_tons") + tons)
        return
    existing = dict(PlantDay.objects.filter(org_id=org_id, day__in=list(deltas))
                    .values_list("day", "pk"))
    for day, tons in deltas.items():
        if day in existing:
            PlantDay.objects.filter(pk=existing[day]).update(good_tons=F("good_tons") + tons)
    PlantDay.objects.bulk_create([PlantDay(org_id=org_id, day=d, good_tons=tons)
                                  for d, tons in deltas.items() if d not in existing])


def plain(v):
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v

