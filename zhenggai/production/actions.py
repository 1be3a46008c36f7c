"""The actions on a heat: record, verify, correct, and the bulk load. Each asks rules.py
whether the actor may, checks the values (heats.check_values), and writes the heat and its
HeatEvent in one transaction; a refusal raises a DomainError with a reason a person can read,
and writes nothing. Pages, API, the replay and the bench all call these."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import Conflict, InvalidInput
from zhenggai.org.models import Member

from . import heats, models, records, rules
from .heats import HeatInput
from .models import Furnace, Heat, HeatEvent
from .rules import Kind


def _event(heat: Heat, kind: str, actor: Member, reason: str = "", data=None) -> HeatEvent:
    return HeatEvent.objects.create(heat=heat, seq=heat.version, kind=kind, actor=actor,
                                    at=timezone.now(), reason=reason, data=data or {})


def record_heat(furnace: Furnace, h: HeatInput, *, actor: Member) -> Heat:
    """A recorder writes a heat down. It counts only once another person verifies it."""
    rules.check_actor(Kind.RECORD, actor, furnace.org_id)
    heats.check_values(furnace, h)
    heats.check_shift(furnace.org_id, h.shift)
    with transaction.atomic():
        Furnace.objects.select_for_update().filter(pk=furnace.pk).first()  # one writer a furnace
        year = timezone.localdate(h.tap_at).year
        if Heat.objects.filter(furnace=furnace, year=year, number=h.number).exists():
            raise InvalidInput(_("Heat number %(n)s already exists on this furnace in %(y)s."),
                               n=h.number, y=year)
        heats.check_overlap(furnace, h)
        values = heats.values_of(h)
        try:
            with transaction.atomic():
                heat = Heat.objects.create(
                    org_id=furnace.org_id, furnace=furnace, year=year, recorder=actor, **values,
                    tap_to_tap_min=heats.tap_to_tap(furnace, h.tap_at),
                    outlier_score=heats.outlier_score(furnace.pk, values["grade"],
                                                      values["heat_min"]),
                )
        except IntegrityError as e:  # a racing recorder took the number first
            raise Conflict(_("Someone recorded this heat number first.")) from e
        heats.refresh_next(furnace, h.tap_at)
        _event(heat, "recorded", actor)
    return heat


def verify_heat(heat: Heat, *, actor: Member, expected_version: int | None = None) -> Heat:
    """A second person confirms the heat. From now on it counts for records and targets."""
    org_id = heat.furnace.org_id
    rules.check_actor(Kind.VERIFY, actor, org_id, recorder_id=heat.recorder_id)
    with transaction.atomic():
        fresh = Heat.objects.select_for_update().get(pk=heat.pk)
        if expected_version is not None and fresh.version != expected_version:
            raise Conflict(_("Someone else changed this heat first. Reload it."))
        rules.check_status(Kind.VERIFY, fresh)
        fresh.status = Heat.Status.VERIFIED
        fresh.verified_by = actor
        fresh.version += 1
        fresh.save(update_fields=["status", "verified_by", "version"])
        _event(fresh, "verified", actor)
        heats.book_days(org_id, {fresh.day: fresh.good_tons})
        records.recompute(org_id, furnace_ids=[fresh.furnace_id])
    heat.__dict__.update({k: getattr(fresh, k) for k in ("status", "verified_by_id", "version")})
    return fresh


def correct_heat(heat: Heat, *, actor: Member, reason: str, changes: dict,
                 expected_version: int | None = None) -> Heat:
    """Correct a heat's figures. The reason is kept in the event, with each value before and
    after; the records it touches are recomputed."""
    org_id = heat.furnace.org_id
    rules.check_actor(Kind.CORRECT, actor, org_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the correction."))
    unknown = set(changes) - set(heats.CORRECTABLE)
    if unknown:
        raise InvalidInput(_("These cannot be corrected: %(f)s."), f=", ".join(sorted(unknown)))
    with transaction.atomic():
        fresh = Heat.objects.select_for_update().select_related("furnace").get(pk=heat.pk)
        if expected_version is not None and fresh.version != expected_version:
            raise Conflict(_("Someone else changed this heat first. Reload it."))
        rules.check_status(Kind.CORRECT, fresh)
        h = HeatInput(**{f.name: getattr(fresh, f.name) for f in fields(HeatInput)})
        for k, v in changes.items():
            setattr(h, k, v)
        heats.check_values(fresh.furnace, h)
        if "shift" in changes:
            heats.check_shift(org_id, h.shift)
        if timezone.localdate(h.tap_at).year != fresh.year:
            raise InvalidInput(_("A correction cannot move a heat into another year."))
        heats.check_overlap(fresh.furnace, h, exclude=fresh.pk)
        values = heats.values_of(h)
        diff = {k: [heats.plain(getattr(fresh, k)), heats.plain(v)] for k, v in values.items()
                if getattr(fresh, k) != v}
        if not diff:
            raise InvalidInput(_("Nothing would change."))
        old_tap, old_day, old_tons = fresh.tap_at, fresh.day, fresh.good_tons
        for k, v in values.items():
            setattr(fresh, k, v)
        fresh.tap_to_tap_min = heats.tap_to_tap(fresh.furnace, fresh.tap_at, exclude=fresh.pk)
        fresh.outlier_score = heats.outlier_score(fresh.furnace_id, fresh.grade, fresh.heat_min,
                                                  exclude=fresh.pk)
        fresh.version += 1
        fresh.save()
        heats.refresh_next(fresh.furnace, old_tap)
        heats.refresh_next(fresh.furnace, fresh.tap_at)
        _event(fresh, "corrected", actor, reason=reason, data=diff)
        if fresh.status == Heat.Status.VERIFIED:
            deltas = {old_day: -old_tons}
            deltas[fresh.day] = deltas.get(fresh.day, 0.0) + fresh.good_tons
            heats.book_days(org_id, deltas)
            records.recompute(org_id, furnace_ids=[fresh.furnace_id])
    return fresh


def load(furnace_inputs, *, recorder: Member, verifier: Member | None = None,
         batch: int = 5000, progress=None) -> int:
    """Bulk-load a heat log (the replay, the bench, an import): the same entry checks as
    record_heat, the same events, and the records recomputed once at the end.

    `furnace_inputs` yields (furnace, HeatInput), each furnace's heats in tap order. A bad
    heat stops the load with its reason; the batches before it stay written."""
    org_id = recorder.org_id
    rules.check_actor(Kind.RECORD, recorder, org_id)
    if verifier is not None:
        rules.check_actor(Kind.VERIFY, verifier, org_id, recorder_id=recorder.pk)
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
                    heats.book_days(org_id, days, bulk=True)
        except IntegrityError as e:
            raise InvalidInput(_("A heat number in this batch exists already.")) from e
        total += len(pending)
        pending.clear()
        if progress:
            progress(total)

    numbers: set = set()
    runs = models.shifts_of(org_id)
    for furnace, h in furnace_inputs:
        heats.check_values(furnace, h)
        heats.check_shift(org_id, h.shift, runs)
        start = h.charge_at - dt.timedelta(minutes=int(h.fettling_min))
        prev = last.get(furnace.pk)
        if prev is not None and start < prev.tap_at:
            raise InvalidInput(_("This heat overlaps heat %(n)s on the same furnace."),
                               n=f"{prev.year}-{prev.number}")
        values = heats.values_of(h)
        year = values["day"].year
        if (furnace.pk, year, h.number) in numbers:
            raise InvalidInput(_("Heat number %(n)s already exists on this furnace in %(y)s."),
                               n=h.number, y=year)
        numbers.add((furnace.pk, year, h.number))
        heat = Heat(org_id=org_id, furnace=furnace, year=year, recorder=recorder, status=status,
                    verified_by=verifier, version=2 if verifier else 1, **values,
                    tap_to_tap_min=heats.minutes_between(prev.tap_at, h.tap_at) if prev else None)
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
