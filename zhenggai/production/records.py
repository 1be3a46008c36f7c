"""Records, derived from verified heats and nothing else.

A record is a heat (or a week) that beats everything the same furnace did before it; the
plant-wide records beat everything the plant did before. Judging each furnace against its own
history is what lets an old furnace win (M16). A streak is a run of records set by
consecutive heats (or consecutive days, for the best week).

`recompute` rebuilds the records of some furnaces and of the plant from the heat log, with
numpy over one query, so a correction that removes a record restores the one before it.
"""

from __future__ import annotations

import numpy as np
from django.db import connection, transaction

from .models import Furnace, GradeNorm, Heat, PlantDay, Record, RecordKind

WEEK = 7


def _load(org_id: int, furnace_ids=None) -> dict[str, np.ndarray]:
    """The verified heats in tap order, as columns."""
    heat = Heat._meta.db_table
    sql = (f"SELECT furnace_id, id, day, heat_min, good_tons FROM {heat} "
           "WHERE org_id = %s AND status = %s")
    params: list = [org_id, Heat.Status.VERIFIED]
    if furnace_ids is not None:
        sql += f" AND furnace_id IN ({', '.join(['%s'] * len(furnace_ids))})"
        params += list(furnace_ids)
    sql += " ORDER BY tap_at, id"
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return _columns(rows)


def _columns(rows) -> dict[str, np.ndarray]:
    if not rows:
        empty = np.array([], dtype=np.int64)
        return {"furnace": empty, "id": empty, "day": empty, "minutes": empty.astype(float),
                "tons": empty.astype(float)}
    f, ids, days, minutes, tons = zip(*rows, strict=True)
    return {
        "furnace": np.array(f, dtype=np.int64),
        "id": np.array(ids, dtype=np.int64),
        # SQLite gives ISO strings, PostgreSQL dates: numpy reads both.
        "day": np.array([str(d) for d in days], dtype="datetime64[D]").astype(np.int64),
        "minutes": np.array(minutes, dtype=float),
        "tons": np.array(tons, dtype=float),
    }


def _streaks(positions: np.ndarray) -> np.ndarray:
    """1 for a record after a gap, previous + 1 when it follows the previous record's step."""
    out = np.ones(len(positions), dtype=np.int64)
    for i in range(1, len(positions)):
        if positions[i] == positions[i - 1] + 1:
            out[i] = out[i - 1] + 1
    return out


def single_heat(values: np.ndarray, lower_is_better: bool):
    """Indices of the heats that beat every heat before them, and the best before each."""
    if len(values) < 2:
        return np.array([], dtype=np.int64), np.array([])
    if lower_is_better:
        before = np.minimum.accumulate(values)[:-1]
        hits = np.nonzero(values[1:] < before)[0] + 1
    else:
        before = np.maximum.accumulate(values)[:-1]
        hits = np.nonzero(values[1:] > before)[0] + 1
    return hits, before[hits - 1]


def weekly(days: np.ndarray, tons: np.ndarray, hearth_m2: float):
    """Every seven-day window's t per m² of hearth per day, and the windows that set records.

    Returns (last day of each record window, value, previous best)."""
    if len(days) == 0 or hearth_m2 <= 0:
        return np.array([], dtype=np.int64), np.array([]), np.array([])
    d0 = int(days.min())
    daily = np.bincount(days - d0, weights=tons)
    if len(daily) < WEEK:
        return np.array([], dtype=np.int64), np.array([]), np.array([])
    c = np.concatenate([[0.0], np.cumsum(daily)])
    windows = (c[WEEK:] - c[:-WEEK]) / (WEEK * hearth_m2)  # window i ends on day d0 + i + 6
    windows = np.round(windows, 6)
    hits, before = single_heat(windows, lower_is_better=False)
    return hits + d0 + WEEK - 1, windows[hits], before


def _rows(org_id, furnace_id, cols, hearth_m2, norms) -> list[Record]:
    out: list[Record] = []
    for kind, values, lower in ((RecordKind.FASTEST, cols["minutes"], True),
                                (RecordKind.HEAVIEST, cols["tons"], False)):
        hits, before = single_heat(values, lower)
        streaks = _streaks(hits)
        for i, prev, streak in zip(hits, before, streaks, strict=True):
            vs_norm = None
            if kind == RecordKind.FASTEST and norms:
                norm = norms.get(int(cols["id"][i]))
                vs_norm = round(norm / values[i] - 1, 4) if norm else None
            out.append(Record(
                org_id=org_id, furnace_id=furnace_id, kind=kind, value=float(values[i]),
                previous=float(prev), heat_id=int(cols["id"][i]),
                day=np.datetime64(int(cols["day"][i]), "D").item(), streak=int(streak),
                vs_norm=vs_norm))
    ends, values, before = weekly(cols["day"], cols["tons"], hearth_m2)
    for end, value, prev, streak in zip(ends, values, before, _streaks(ends), strict=True):
        out.append(Record(org_id=org_id, furnace_id=furnace_id, kind=RecordKind.BEST_WEEK,
                          value=float(value), previous=float(prev),
                          day=np.datetime64(int(end), "D").item(), streak=int(streak)))
    return out


def _norms_of(heat_ids) -> dict[int, int]:
    """Norm minutes for the given heats (their furnace and grade), where a norm is set."""
    pairs = dict(Heat.objects.filter(pk__in=list(heat_ids))
                 .values_list("pk", "furnace_id").iterator())
    grades = dict(Heat.objects.filter(pk__in=list(heat_ids)).values_list("pk", "grade"))
    norms = {(f, g): m for f, g, m in GradeNorm.objects.filter(
        furnace_id__in=set(pairs.values())).values_list("furnace_id", "grade", "minutes")}
    return {pk: norms.get((pairs[pk], grades[pk])) for pk in pairs}


def _plant_candidates(org_id: int, kind: str) -> dict[str, np.ndarray]:
    """The heats that can hold a plant-wide single-heat record: each furnace's own records of
    that kind and its first verified heat. The plant's best so far only ever changes at a
    heat that is also the best so far of its own furnace, so nothing else need be read."""
    ids = set(Record.objects.filter(org_id=org_id, furnace__isnull=False, kind=kind)
              .values_list("heat_id", flat=True))
    for fid in Furnace.objects.filter(org_id=org_id).values_list("pk", flat=True):
        first = (Heat.objects.filter(furnace_id=fid, status=Heat.Status.VERIFIED)
                 .order_by("tap_at", "id").values_list("pk", flat=True).first())
        if first is not None:
            ids.add(first)
    rows = (Heat.objects.filter(pk__in=ids).order_by("tap_at", "id")
            .values_list("furnace_id", "id", "day", "heat_min", "good_tons"))
    return _columns(list(rows))


def _plant_rows(org_id: int, hearth_m2: float) -> list[Record]:
    out: list[Record] = []
    furnace_streak = dict(Record.objects.filter(org_id=org_id, furnace__isnull=False)
                          .values_list("heat_id", "streak"))
    for kind, col, lower in ((RecordKind.FASTEST, "minutes", True),
                             (RecordKind.HEAVIEST, "tons", False)):
        c = _plant_candidates(org_id, kind)
        hits, before = single_heat(c[col], lower)
        norms = _norms_of(c["id"][hits]) if kind == RecordKind.FASTEST and len(hits) else {}
        streak, prev = 0, None
        for i, best in zip(hits, before, strict=True):
            heat_id, furnace = int(c["id"][i]), int(c["furnace"][i])
            # In a row: the same furnace's next heat, as its own streak tells.
            mine = furnace_streak.get(heat_id, 1)
            if prev is not None and prev[0] == furnace and mine == prev[1] + 1:
                streak += 1
            else:
                streak = 1
            prev = (furnace, mine)
            norm = norms.get(heat_id)
            out.append(Record(
                org_id=org_id, furnace_id=None, kind=kind, value=float(c[col][i]),
                previous=float(best), heat_id=heat_id,
                day=np.datetime64(int(c["day"][i]), "D").item(), streak=streak,
                vs_norm=round(norm / c[col][i] - 1, 4) if norm else None))
    days = list(PlantDay.objects.filter(org_id=org_id).exclude(good_tons=0)
                .values_list("day", "good_tons"))
    if days:
        d = np.array([str(x) for x, _ in days], dtype="datetime64[D]").astype(np.int64)
        tons = np.array([y for _, y in days], dtype=float)
        ends, values, before = weekly(d, tons, hearth_m2)
        for end, value, prev_best, streak in zip(ends, values, before, _streaks(ends),
                                                 strict=True):
            out.append(Record(org_id=org_id, furnace_id=None, kind=RecordKind.BEST_WEEK,
                              value=float(value), previous=float(prev_best),
                              day=np.datetime64(int(end), "D").item(), streak=int(streak)))
    return out


def recompute(org_id: int, furnace_ids=None) -> int:
    """Rebuild the records of the given furnaces (all when None) and of the plant. Returns
    how many records there are now in what was rebuilt.

    Only the given furnaces' heats are read; the plant's records come from the furnaces'
    records and the plant's daily tons (PlantDay), so verifying one heat stays quick at a
    million heats."""
    furnaces = {f.pk: f for f in Furnace.objects.filter(org_id=org_id)}
    targets = list(furnaces) if furnace_ids is None else [i for i in furnace_ids if i in furnaces]
    cols = _load(org_id, None if furnace_ids is None else targets)
    rows: list[Record] = []
    order = np.argsort(cols["furnace"], kind="stable")
    by_furnace = {k: v[order] for k, v in cols.items()}
    for fid in targets:
        lo = int(np.searchsorted(by_furnace["furnace"], fid, side="left"))
        hi = int(np.searchsorted(by_furnace["furnace"], fid, side="right"))
        part = {k: v[lo:hi] for k, v in by_furnace.items()}
        fastest, _ = single_heat(part["minutes"], True)
        norms = _norms_of(part["id"][fastest]) if len(fastest) else {}
        rows += _rows(org_id, fid, part, furnaces[fid].hearth_m2, norms)
    with transaction.atomic():
        Record.objects.filter(org_id=org_id, furnace_id__in=targets).delete()
        Record.objects.bulk_create(rows, batch_size=2000)
        plant = _plant_rows(org_id, sum(f.hearth_m2 for f in furnaces.values()))
        Record.objects.filter(org_id=org_id, furnace__isnull=True).delete()
        Record.objects.bulk_create(plant, batch_size=2000)
    return len(rows) + len(plant)


def rebuild_plant_days(org_id: int) -> None:
    """Rebuild the plant's daily tons from the heat log (the ledger's audit)."""
    from django.db.models import Sum

    with transaction.atomic():
        PlantDay.objects.filter(org_id=org_id).delete()
        PlantDay.objects.bulk_create([
            PlantDay(org_id=org_id, day=r["day"], good_tons=r["t"]) for r in
            Heat.objects.filter(org_id=org_id, status=Heat.Status.VERIFIED)
            .values("day").annotate(t=Sum("good_tons")).order_by()])


def streaks(org_id: int, kind: str | None = None, limit: int = 10) -> list[dict]:
    """The runs of records in a row, each once: a run of four lists as one line "4 in a
    row", not again as the "3 in a row" it passed through. A plant-wide run set by the same
    heats as a furnace's run is told on that furnace's line (`plant`: how many of its
    records were plant records too). Longest first, then latest.

    Each: {"furnace", "kind", "length", "first": Record, "last": Record, "plant": int}."""
    qs = Record.objects.filter(org_id=org_id).select_related("furnace").order_by(
        "furnace_id", "kind", "id")  # each group's records were written in order
    if kind:
        qs = qs.filter(kind=kind)
    runs: list[list[Record]] = []
    current: list[Record] = []
    for r in qs:
        same = current and current[-1].furnace_id == r.furnace_id and \
            current[-1].kind == r.kind and r.streak == current[-1].streak + 1
        if not same:
            if len(current) > 1:
                runs.append(current)
            current = []
        current.append(r)
    if len(current) > 1:
        runs.append(current)
    out: list[dict] = []
    by_heats: dict[tuple, dict] = {}
    for run in sorted(runs, key=lambda x: x[0].furnace_id is None):  # furnaces' runs first
        line = {"furnace": run[-1].furnace, "kind": run[-1].kind, "length": len(run),
                "first": run[0], "last": run[-1], "plant": 0}
        heat_ids = {r.heat_id for r in run if r.heat_id}
        if run[0].furnace_id is None and heat_ids:
            host = next((h for (k, ids), h in by_heats.items()
                         if k == line["kind"] and heat_ids <= ids), None)
            if host is not None:
                host["plant"] = len(run)
                continue
        elif heat_ids:
            by_heats[(line["kind"], frozenset(heat_ids))] = line
        out.append(line)
    out.sort(key=lambda x: (-x["length"], -x["last"].day.toordinal(), x["last"].pk))
    return out[:limit]
