"""Figures as of any day, read from the buckets: a few dozen rows per split key."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import connection
from django.utils import timezone
from django.utils.translation import get_language

from zhenggai.problems import lifecycle as lc

from .counters import COUNTERS, DIMS, INDEX, TOTAL
from .ledger import book_pending

ANON_MIN = 5  # anonymous counts below this are shown as "<5"

# Cast back to BIGINT: PostgreSQL sums BIGINTs as NUMERIC, which psycopg reads as Decimals
# (a third of the time of a split by owner went to them).
_SUMS = ", ".join(f"CAST(SUM({c}) AS BIGINT)" for c in COUNTERS)
_COLS = ", ".join(["gkey", *COUNTERS])
_T = "figures_figurebucket"
# Three range scans of the (org, dim, grain, period) index, one per grain: whole years
# before the day's year, whole months before its month, and the days of its month.
_SQL = f"""
SELECT gkey, {_SUMS} FROM (
    SELECT {_COLS} FROM {_T} WHERE org = %s AND dim = %s AND grain = 'y' AND period < %s
    UNION ALL
    SELECT {_COLS} FROM {_T} WHERE org = %s AND dim = %s AND grain = 'm'
        AND period >= %s AND period < %s
    UNION ALL
    SELECT {_COLS} FROM {_T} WHERE org = %s AND dim = %s AND grain = 'd'
        AND period >= %s AND period <= %s
) AS b
GROUP BY gkey
"""


def _params(org_id: int, day: dt.date, dim: int) -> list:
    y0, m0 = day.replace(month=1, day=1), day.replace(day=1)
    return [org_id, dim, y0, org_id, dim, y0, m0, org_id, dim, m0, day]


def sums(org_id: int, day: dt.date, dim: int = TOTAL) -> dict[int, list[int]]:
    """The raw counters as of the end of `day`, per key of dimension `dim`."""
    book_pending()
    with connection.cursor() as cur:
        cur.execute(_SQL, _params(org_id, day, dim))
        return {row[0]: [int(v or 0) for v in row[1:]] for row in cur.fetchall()}


def _label_sql(by: str) -> str:
    """The split's sums with each key's label joined on: one query, not a second one with
    thousands of ids in it."""
    from zhenggai.campaigns.models import Campaign
    from zhenggai.org.models import Category, Member, Unit

    model, key, en = {"unit": (Unit, "code", "name_en"), "category": (Category, "code", "name_en"),
                      "owner": (Member, "id", "NULL"), "campaign": (Campaign, "id", "NULL")}[by]
    return (f"SELECT s.*, t.{key}, t.name, {'t.' + en if en != 'NULL' else en} FROM ({_SQL}) s "
            f"LEFT JOIN {model._meta.db_table} t ON t.id = s.gkey")


def _split(org_id: int, day: dt.date, by: str) -> tuple[list[int], dict, np.ndarray]:
    """The split's group keys, their "key" and "label" columns, and the matrix of their raw
    counters (one row each)."""
    book_pending()
    with connection.cursor() as cur:
        cur.execute(_label_sql(by), _params(org_id, day, DIMS[by]))
        rows = cur.fetchall()
    if not rows:
        return [], {"key": [], "label": []}, np.zeros((0, len(COUNTERS)), dtype=np.int64)
    gkeys, *counters, keys, names, names_en = zip(*rows, strict=True)
    if not (get_language() or "").startswith("en"):
        names_en = names
    labels = [en or name for en, name in zip(names_en, names, strict=True)]
    # Key 0 is "none" (no unit, no owner): it has no key and no label.
    head = {"key": [k if g else None for g, k in zip(gkeys, keys, strict=True)],
            "label": [lb if g else None for g, lb in zip(gkeys, labels, strict=True)]}
    return list(gkeys), head, np.array(counters, dtype=np.int64).T


def _ratios(a: np.ndarray, b: np.ndarray) -> list[float | None]:
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.round(a / b, 4).tolist()
    return [x if y else None for x, y in zip(r, b.tolist(), strict=True)]


_STATE_COLS = [INDEX[f"st_{s}"] for s in lc.STATES]


def shape_rows(mat: np.ndarray, day: dt.date, head: dict[str, list] | None = None
               ) -> list[dict]:
    """The published figures (domain.md) of each row of raw counters, all rows at once: a
    split by owner has thousands of rows, and a figure per row in Python was the slow part.
    `head`: columns to put first in each row (a split's key and label)."""
    c = {name: mat[:, i] for i, name in enumerate(COUNTERS)}
    claimed_resolved = c["st_claimed"] + c["st_verified"] + c["st_closed"]
    verified_resolved = c["st_verified"] + c["st_closed"]
    today = day.toordinal()
    cols = {
        **(head or {}),
        "opinions": c["opinions"].tolist(),
        "anonymous_opinions": [a if a >= ANON_MIN else f"<{ANON_MIN}"
                               for a in c["anonymous_opinions"].tolist()],
        "problems": c["problems"].tolist(),
        "claims": c["claims"].tolist(),
        "claimed_resolved": claimed_resolved.tolist(),
        "verified_resolved": verified_resolved.tolist(),
        "claimed_share": _ratios(claimed_resolved, c["problems"]),
        "verified_share": _ratios(verified_resolved, c["problems"]),
        "opinions_claimed_share": _ratios(c["opinions_claimed"], c["opinions"]),
        "opinions_verified_share": _ratios(c["opinions_verified"], c["opinions"]),
        "false_figures": c["false_figures"].tolist(),
        "false_share": _ratios(c["false_figures"], c["claims"]),
        "reopened": c["reopened"].tolist(),
        "deteriorated": c["deteriorated"].tolist(),
        "ever_verified": c["ever_verified"].tolist(),
        "regression_rate": _ratios(c["deteriorated"], c["ever_verified"]),
        "followups": c["followups"].tolist(),
        "followups_answered": c["followups_answered"].tolist(),
        "satisfied": c["satisfied"].tolist(),
        "satisfaction": _ratios(c["satisfied"], c["followups_answered"]),
        "overdue": c["overdue"].tolist(),
        "unresolved": c["unresolved"].tolist(),
        "mean_age_days": [round(today - a / u, 1) if u else None for a, u in
                          zip(c["age_sum"].tolist(), c["unresolved"].tolist(), strict=True)],
        "posters": c["posters"].tolist(),
        "states": [dict(zip(lc.STATES, r, strict=True))
                   for r in mat[:, _STATE_COLS].tolist()],
    }
    names = list(cols)
    return [dict(zip(names, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def shape(vec: list[int], day: dt.date) -> dict:
    """The published figures (domain.md) from one row of raw counters."""
    return shape_rows(np.asarray([vec], dtype=np.int64), day)[0]


def figures(org_id: int, as_of: dt.date | None = None, by: str | None = None) -> dict:
    """{"as_of", "total", and with `by` also "groups": [{"key", "label", …}]}."""
    return _figures(org_id, as_of, by, want_rows=False)[0]


def figures_and_sums(org_id: int, as_of: dt.date | None = None,
                     by: str | None = None) -> tuple[dict, dict[int, list[int]]]:
    """The figures, and the raw counters of the split they were shaped from (for callers that
    derive more from the same read, such as the stalled units)."""
    return _figures(org_id, as_of, by, want_rows=True)


def _figures(org_id: int, as_of: dt.date | None, by: str | None,
             want_rows: bool) -> tuple[dict, dict[int, list[int]]]:
    day = as_of or timezone.localdate()
    total = sums(org_id, day).get(0, [0] * len(COUNTERS))
    out = {"as_of": day.isoformat(), "total": shape(total, day)}
    rows: dict[int, list[int]] = {}
    if by:
        if by not in DIMS:
            raise ValueError(f"by must be one of {', '.join(DIMS)}")
        out["by"] = by
        gkeys, head, mat = _split(org_id, day, by)
        if want_rows:
            rows = dict(zip(gkeys, mat.tolist(), strict=True))
        moved = mat.any(axis=1)
        head = {k: [v for v, m in zip(col, moved.tolist(), strict=True) if m]
                for k, col in head.items()}
        groups = shape_rows(mat[moved], day, head)
        groups.sort(key=lambda g: (g["key"] is None, str(g["key"])))
        out["groups"] = groups
    return out, rows


_DAYS_SQL = f"""
SELECT period, {", ".join(COUNTERS)} FROM {_T}
WHERE org = %s AND dim = %s AND gkey = %s AND grain = 'd' AND period >= %s AND period <= %s
ORDER BY period
"""

def last_active_day(org_id: int, day: dt.date) -> dt.date | None:
    """The last day up to `day` on which any figure moved."""
    book_pending()
    with connection.cursor() as cur:
        cur.execute(f"SELECT MAX(period) FROM {_T} WHERE org = %s AND dim = %s AND gkey = 0 "
                    "AND grain = 'd' AND period <= %s", [org_id, TOTAL, day])
        v = cur.fetchone()[0]
    return dt.date.fromisoformat(v) if isinstance(v, str) else v


SERIES = ("claimed_resolved", "verified_resolved", "false_figures", "overdue")


def series(org_id: int, start: dt.date, end: dt.date, dim: int = TOTAL, key: int = 0,
           step: int = 1) -> list[dict]:
    """The figures of one key, day by day from `start` to `end` (every `step` days): the sums
    as of the day before `start`, then the day buckets added one by one. Two queries, however
    long the campaign."""
    if end < start:
        return []
    base = sums(org_id, start - dt.timedelta(days=1), dim).get(key, [0] * len(COUNTERS))
    ndays = (end - start).days + 1
    grid = np.zeros((ndays, len(COUNTERS)), dtype=np.int64)
    with connection.cursor() as cur:
        cur.execute(_DAYS_SQL, [org_id, dim, key, start, end])
        rows = cur.fetchall()
    if rows:
        days = [(r[0] if isinstance(r[0], dt.date) else dt.date.fromisoformat(r[0]))
                for r in rows]
        grid[[(d - start).days for d in days]] = np.array([r[1:] for r in rows],
                                                         dtype=np.int64)
    c = {name: col for name, col in zip(
        COUNTERS, (np.cumsum(grid, axis=0) + np.asarray(base, dtype=np.int64)).T,
        strict=True)}
    # The same sums as shape() makes of them, for every day at once.
    figures_of = {
        "claimed_resolved": c["st_claimed"] + c["st_verified"] + c["st_closed"],
        "verified_resolved": c["st_verified"] + c["st_closed"],
        "false_figures": c["false_figures"],
        "overdue": c["overdue"],
    }
    picks = list(range(0, ndays, step))
    if picks[-1] != ndays - 1:
        picks.append(ndays - 1)
    out = [{"day": (start + dt.timedelta(days=i)).isoformat(),
            **{k: int(figures_of[k][i]) for k in SERIES}} for i in picks]
    return out
