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

from .models import Furnace, GradeNorm, Heat, Record, RecordKind

WEEK = 7


def _load(org_id: int, furnace_ids=None) -> dict[str, np.ndarray]:
    """The verified heats in tap order, as columns."""
    heat, furnace = Heat._meta.db_table, Furnace._meta.db_table
    sql = (f"SELECT h.furnace_id, h.id, h.day, h.heat_min, h.good_tons FROM {heat} h "
           f"JOIN {furnace} f ON f.id = h.furnace_id WHERE f.org_id = %s AND h.status = %s")
    params: list = [org_id, Heat.Status.VERIFIED]
    if furnace_ids is not None:
        sql += f" AND h.furnace_id IN ({', '.join(['%s'] * len(furnace_ids))})"
        params += list(furnace_ids)
    sql += " ORDER BY h.tap_at, h.id"
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
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


def recompute(org_id: int, furnace_ids=None) -> int:
    """Rebuild the records of the given furnaces (all when None) and of the plant. Returns
    how many records there are now in what was rebuilt."""
    furnaces = {f.pk: f for f in Furnace.objects.filter(org_id=org_id)}
    targets = list(furnaces) if furnace_ids is None else [i for i in furnace_ids if i in furnaces]
    cols = _load(org_id)
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
    hearth = sum(f.hearth_m2 for f in furnaces.values())
    fastest, _ = single_heat(cols["minutes"], True)
    norms = _norms_of(cols["id"][fastest]) if len(fastest) else {}
    rows += _rows(org_id, None, cols, hearth, norms)
    with transaction.atomic():
        Record.objects.filter(org_id=org_id, furnace_id__in=targets).delete()
        Record.objects.filter(org_id=org_id, furnace__isnull=True).delete()
        Record.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
