"""Figures as of any day, read from the buckets: a few dozen rows per split key."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import connection
from django.utils.translation import get_language

from zhenggai.org import clock

from .counters import COUNTERS, DIMS, TOTAL
from .ledger import book_pending

ANON_MIN = 5  # anonymous counts below this are shown as "<5"

_SUMS = ", ".join(f"SUM({c})" for c in COUNTERS)
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


def sums(org_id: int, day: dt.date, dim: int = TOTAL) -> dict[int, list[int]]:
    """The raw counters as of the end of `day`, per key of dimension `dim`."""
    y0, m0 = day.replace(month=1, day=1), day.replace(day=1)
    book_pending()
    with connection.cursor() as cur:
        cur.execute(_SQL, [org_id, dim, y0, org_id, dim, y0, m0, org_id, dim, m0, day])
        return {row[0]: [int(v or 0) for v in row[1:]] for row in cur.fetchall()}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def shape(vec: list[int], day: dt.date) -> dict:
    """The published figures (domain.md) from the raw counters."""
    c = dict(zip(COUNTERS, vec, strict=True))
    claimed_resolved = c["st_claimed"] + c["st_verified"] + c["st_closed"]
    verified_resolved = c["st_verified"] + c["st_closed"]
    anon = c["anonymous_opinions"]
    unresolved = c["unresolved"]
    return {
        "opinions": c["opinions"],
        "anonymous_opinions": anon if anon >= ANON_MIN else f"<{ANON_MIN}",
        "problems": c["problems"],
        "claims": c["claims"],
        "claimed_resolved": claimed_resolved,
        "verified_resolved": verified_resolved,
        "claimed_share": _ratio(claimed_resolved, c["problems"]),
        "verified_share": _ratio(verified_resolved, c["problems"]),
        "opinions_claimed_share": _ratio(c["opinions_claimed"], c["opinions"]),
        "opinions_verified_share": _ratio(c["opinions_verified"], c["opinions"]),
        "false_figures": c["false_figures"],
        "false_share": _ratio(c["false_figures"], c["claims"]),
        "reopened": c["reopened"],
        "deteriorated": c["deteriorated"],
        "ever_verified": c["ever_verified"],
        "regression_rate": _ratio(c["deteriorated"], c["ever_verified"]),
        "followups": c["followups"],
        "followups_answered": c["followups_answered"],
        "satisfied": c["satisfied"],
        "satisfaction": _ratio(c["satisfied"], c["followups_answered"]),
        "overdue": c["overdue"],
        "unresolved": unresolved,
        "mean_age_days": (round(day.toordinal() - c["age_sum"] / unresolved, 1)
                          if unresolved else None),
        "posters": c["posters"],
        "states": {k[3:]: c[k] for k in COUNTERS if k.startswith("st_")},
    }


def _labels(org_id: int, by: str, keys) -> dict[int, tuple]:
    from zhenggai.campaigns.models import Campaign
    from zhenggai.org.models import Category, Member, Unit

    keys = [k for k in keys if k]
    if by in ("unit", "category"):
        # Plain rows, not model instances: a city has thousands of units.
        model = Unit if by == "unit" else Category
        english = (get_language() or "").startswith("en")
        rows = model.objects.filter(org_id=org_id, pk__in=keys).values_list(
            "pk", "code", "name", "name_en")
        return {pk: (code, name_en if english and name_en else name)
                for pk, code, name, name_en in rows}
    if by == "campaign":
        rows = Campaign.objects.filter(org_id=org_id, pk__in=keys)
        return {c.pk: (c.pk, c.name) for c in rows}
    rows = Member.objects.filter(org_id=org_id, pk__in=keys).values_list("pk", "name")
    return {pk: (pk, name) for pk, name in rows}


def figures(org_id: int, as_of: dt.date | None = None, by: str | None = None) -> dict:
    """{"as_of", "total", and with `by` also "groups": [{"key", "label", …}]}."""
    return figures_and_sums(org_id, as_of, by)[0]


def figures_and_sums(org_id: int, as_of: dt.date | None = None,
                     by: str | None = None) -> tuple[dict, dict[int, list[int]]]:
    """The figures, and the raw counters of the split they were shaped from (for callers that
    derive more from the same read, such as the stalled units)."""
    from .shares import DENOMINATORS

    day = as_of or clock.today(org_id)
    total = sums(org_id, day).get(0, [0] * len(COUNTERS))
    # Each share's denominator, by its field's name (shares.py): the same everywhere.
    out = {"as_of": day.isoformat(), "denominators": DENOMINATORS,
           "total": shape(total, day)}
    rows: dict[int, list[int]] = {}
    if by:
        if by not in DIMS:
            raise ValueError(f"by must be one of {', '.join(DIMS)}")
        out["by"] = by
        rows = sums(org_id, day, DIMS[by])
        labels = _labels(org_id, by, rows)
        groups = []
        for gkey, vec in rows.items():
            if not any(vec):
                continue
            key, label = labels.get(gkey, (None, None)) if gkey else (None, None)
            groups.append({"key": key, "label": label, **shape(vec, day)})
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
