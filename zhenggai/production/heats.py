"""The heat log's rules: what may be recorded, who verifies, how a verified heat is corrected.

Pages, API and the replay all call these. Each refusal raises a DomainError with a reason a
person can read, and writes nothing. Every change is a HeatEvent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import Conflict, Forbidden, InvalidInput, Refused
from zhenggai.org import clock
from zhenggai.org.models import Member

from . import records
from .models import DelayCode, Furnace, Heat, HeatEvent, PlantDay, ProductionRole, Shift

# Tons tapped outside this share of the nominal capacity cannot be one heat of this furnace.
TONS_LOW, TONS_HIGH = 0.5, 1.3
# Phases may differ from charge-to-tap by this much (clock readings are to the minute).
PHASE_SLACK_MIN = 5
OUTLIER_Z = 3.5
OUTLIER_MIN_SAMPLES = 8
PHASES = ("charging_min", "hot_metal_min", "meltdown_min", "refining_min", "tapping_min")


@dataclass
class HeatInput:
    """What a recorder writes down for one heat."""

    number: int
    shift: str
    crew: str
    charge_at: dt.datetime
    tap_at: dt.datetime
    fettling_min: int
    charging_min: int
    hot_metal_min: int
    meltdown_min: int
    refining_min: int
    tapping_min: int
    tons: float
    good_tons: float
    grade: str
    fuel_kg_t: float
    delays: list = field(default_factory=list)


CORRECTABLE = [f.name for f in fields(HeatInput) if f.name != "number"]


def has_role(member: Member | None, org_id: int, role: str) -> bool:
    if member is None or member.org_id != org_id:
        return False
    return ProductionRole.objects.filter(member=member, role=role).exists()


def grant(member: Member, *roles: str) -> None:
    for role in roles:
        ProductionRole.objects.get_or_create(member=member, role=role)


def _minutes(a: dt.datetime, b: dt.datetime) -> int:
    return round((b - a).total_seconds() / 60)


def _check_values(furnace: Furnace, h: HeatInput) -> None:
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
    heat_min = _minutes(h.charge_at, h.tap_at)
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


def _check_overlap(furnace: Furnace, h: HeatInput, exclude: int | None = None) -> None:
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


def _tap_to_tap(furnace: Furnace, tap_at: dt.datetime, exclude: int | None = None) -> int | None:
    prev = Heat.objects.filter(furnace=furnace, tap_at__lt=tap_at)
    if exclude:
        prev = prev.exclude(pk=exclude)
    prev_tap = prev.order_by("-tap_at").values_list("tap_at", flat=True).first()
    return _minutes(prev_tap, tap_at) if prev_tap else None


def _refresh_next(furnace: Furnace, tap_at: dt.datetime) -> None:
    """The heat after this one has a new predecessor: its tap-to-tap changes."""
    nxt = Heat.objects.filter(furnace=furnace, tap_at__gt=tap_at).order_by("tap_at").first()
    if nxt is not None:
        Heat.objects.filter(pk=nxt.pk).update(tap_to_tap_min=_tap_to_tap(furnace, nxt.tap_at))


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


def _event(heat: Heat, kind: str, actor: Member, reason: str = "", data=None) -> HeatEvent:
    return HeatEvent.objects.create(heat=heat, seq=heat.version, kind=kind, actor=actor,
                                    at=timezone.now(), reason=reason, data=data or {})


def _values(h: HeatInput) -> dict:
    values = {f.name: getattr(h, f.name) for f in fields(HeatInput)}
    values["crew"] = values["crew"].strip()
    values["grade"] = values["grade"].strip()
    values["delays"] = list(values["delays"] or [])
    values["heat_min"] = _minutes(h.charge_at, h.tap_at)
    values["day"] = timezone.localdate(h.tap_at)
    return values


def record_heat(furnace: Furnace, h: HeatInput, *, actor: Member) -> Heat:
    """A recorder writes a heat down. It counts only once another person verifies it."""
    if not has_role(actor, furnace.org_id, ProductionRole.Role.RECORDER):
        raise Forbidden(_("Only a recorder of this plant may record heats."))
    _check_values(furnace, h)
    with transaction.atomic():
        Furnace.objects.select_for_update().filter(pk=furnace.pk).first()  # one writer a furnace
        year = timezone.localdate(h.tap_at).year
        if Heat.objects.filter(furnace=furnace, year=year, number=h.number).exists():
            raise InvalidInput(_("Heat number %(n)s already exists on this furnace in %(y)s."),
                               n=h.number, y=year)
        _check_overlap(furnace, h)
        values = _values(h)
        try:
            with transaction.atomic():
                heat = Heat.objects.create(
                    org_id=furnace.org_id, furnace=furnace, year=year, recorder=actor, **values,
                    tap_to_tap_min=_tap_to_tap(furnace, h.tap_at),
                    outlier_score=outlier_score(furnace.pk, values["grade"], values["heat_min"]),
                )
        except IntegrityError as e:  # a racing recorder took the number first
            raise Conflict(_("Someone recorded this heat number first.")) from e
        _refresh_next(furnace, h.tap_at)
        _event(heat, "recorded", actor)
    return heat


def verify_heat(heat: Heat, *, actor: Member, expected_version: int | None = None) -> Heat:
    """A second person confirms the heat. From now on it counts for records and targets."""
    org_id = heat.furnace.org_id
    if not has_role(actor, org_id, ProductionRole.Role.VERIFIER):
        raise Forbidden(_("Only a verifier of this plant may verify heats."))
    if actor.pk == heat.recorder_id:
        raise Forbidden(_("The recorder of a heat cannot verify it; a second person must."))
    with transaction.atomic():
        fresh = Heat.objects.select_for_update().get(pk=heat.pk)
        if expected_version is not None and fresh.version != expected_version:
            raise Conflict(_("Someone else changed this heat first. Reload it."))
        if fresh.status == Heat.Status.VERIFIED:
            raise Refused(_("This heat is verified already."))
        fresh.status = Heat.Status.VERIFIED
        fresh.verified_by = actor
        fresh.version += 1
        fresh.save(update_fields=["status", "verified_by", "version"])
        _event(fresh, "verified", actor)
        book_days(org_id, {fresh.day: fresh.good_tons})
        records.recompute(org_id, furnace_ids=[fresh.furnace_id])
    heat.__dict__.update({k: getattr(fresh, k) for k in ("status", "verified_by_id", "version")})
    return fresh


def correct_heat(heat: Heat, *, actor: Member, reason: str, changes: dict,
                 expected_version: int | None = None) -> Heat:
    """Correct a heat's figures. The reason is kept in the event, with each value before and
    after; the records it touches are recomputed."""
    org_id = heat.furnace.org_id
    if not (has_role(actor, org_id, ProductionRole.Role.VERIFIER)
            or has_role(actor, org_id, ProductionRole.Role.RECORDER)):
        raise Forbidden(_("Only a recorder or verifier of this plant may correct heats."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the correction."))
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise InvalidInput(_("These cannot be corrected: %(f)s."), f=", ".join(sorted(unknown)))
    with transaction.atomic():
        fresh = Heat.objects.select_for_update().select_related("furnace").get(pk=heat.pk)
        if expected_version is not None and fresh.version != expected_version:
            raise Conflict(_("Someone else changed this heat first. Reload it."))
        h = HeatInput(**{f.name: getattr(fresh, f.name) for f in fields(HeatInput)})
        for k, v in changes.items():
            setattr(h, k, v)
        _check_values(fresh.furnace, h)
        if timezone.localdate(h.tap_at).year != fresh.year:
            raise InvalidInput(_("A correction cannot move a heat into another year."))
        _check_overlap(fresh.furnace, h, exclude=fresh.pk)
        values = _values(h)
        diff = {k: [_plain(getattr(fresh, k)), _plain(v)] for k, v in values.items()
                if getattr(fresh, k) != v}
        if not diff:
            raise InvalidInput(_("Nothing would change."))
        old_tap, old_day, old_tons = fresh.tap_at, fresh.day, fresh.good_tons
        for k, v in values.items():
            setattr(fresh, k, v)
        fresh.tap_to_tap_min = _tap_to_tap(fresh.furnace, fresh.tap_at, exclude=fresh.pk)
        fresh.outlier_score = outlier_score(fresh.furnace_id, fresh.grade, fresh.heat_min,
                                            exclude=fresh.pk)
        fresh.version += 1
        fresh.save()
        _refresh_next(fresh.furnace, old_tap)
        _refresh_next(fresh.furnace, fresh.tap_at)
        _event(fresh, "corrected", actor, reason=reason, data=diff)
        if fresh.status == Heat.Status.VERIFIED:
            deltas = {old_day: -old_tons}
            deltas[fresh.day] = deltas.get(fresh.day, 0.0) + fresh.good_tons
            book_days(org_id, deltas)
            records.recompute(org_id, furnace_ids=[fresh.furnace_id])
    return fresh


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


def _plain(v):
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return v



def load(furnace_inputs, *, recorder: Member, verifier: Member | None = None,
         batch: int = 5000, progress=None) -> int:
    """Bulk-load a heat log (the replay, the bench, an import): the same entry checks as
    record_heat, the same events, and the records recomputed once at the end.

    `furnace_inputs` yields (furnace, HeatInput), each furnace's heats in tap order. A bad
    heat stops the load with its reason; the batches before it stay written."""
    org_id = recorder.org_id
    if not has_role(recorder, org_id, ProductionRole.Role.RECORDER):
        raise Forbidden(_("Only a recorder of this plant may record heats."))
    if verifier is not None:
        if not has_role(verifier, org_id, ProductionRole.Role.VERIFIER):
            raise Forbidden(_("Only a verifier of this plant may verify heats."))
        if verifier.pk == recorder.pk:
            raise Forbidden(_("The recorder of a heat cannot verify it; a second person must."))
    last: dict[int, Heat] = {}
    for fid in Furnace.objects.filter(org_id=org_id).values_list("pk", flat=True):
        h = Heat.objects.filter(furnace_id=fid).order_by("-tap_at").first()
        if h is not None:
            last[fid] = h
    now = timezone.now()
    status = Heat.Status.VERIFIED if verifier else Heat.Status.RECORDED
    total = 0
    pending: list[Heat] = []

    def flush() -> None:
        nonlocal total
        try:
            with transaction.atomic():
                Heat.objects.bulk_create(pending, batch_size=batch)  # sets pk on both engines
                events = []
                for h in pending:
                    events.append(HeatEvent(heat_id=h.pk, seq=1, kind="recorded",
                                            actor=recorder, at=now, data={"bulk": True}))
                    if verifier:
                        events.append(HeatEvent(heat_id=h.pk, seq=2, kind="verified",
                                                actor=verifier, at=now))
                HeatEvent.objects.bulk_create(events, batch_size=batch)
                if verifier:
                    days: dict = {}
                    for h in pending:
                        days[h.day] = days.get(h.day, 0.0) + h.good_tons
                    book_days(org_id, days, bulk=True)
        except IntegrityError as e:
            raise InvalidInput(_("A heat number in this batch exists already.")) from e
        total += len(pending)
        pending.clear()
        if progress:
            progress(total)

    numbers: set = set()
    for furnace, h in furnace_inputs:
        _check_values(furnace, h)
        start = h.charge_at - dt.timedelta(minutes=int(h.fettling_min))
        prev = last.get(furnace.pk)
        if prev is not None and start < prev.tap_at:
            raise InvalidInput(_("This heat overlaps heat %(n)s on the same furnace."),
                               n=f"{prev.year}-{prev.number}")
        values = _values(h)
        year = values["day"].year
        if (furnace.pk, year, h.number) in numbers:
            raise InvalidInput(_("Heat number %(n)s already exists on this furnace in %(y)s."),
                               n=h.number, y=year)
        numbers.add((furnace.pk, year, h.number))
        heat = Heat(org_id=org_id, furnace=furnace, year=year, recorder=recorder, status=status,
                    verified_by=verifier, version=2 if verifier else 1, **values,
                    tap_to_tap_min=_minutes(prev.tap_at, h.tap_at) if prev else None)
        last[furnace.pk] = heat
        pending.append(heat)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    if connection.vendor == "postgresql" and total > 10_000:
        # Fresh statistics, or the planner keeps guessing from an empty table.
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {Heat._meta.db_table}, {HeatEvent._meta.db_table}")
    if verifier:
        records.recompute(org_id)
    return total
