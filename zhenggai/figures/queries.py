"""Figures as of any day, read from the buckets: a few dozen rows per split key.

Reads write nothing: the opinions taken in and not booked into the buckets yet (the queue,
figures.models.UnbookedOpinion) are added in memory, as the worker will book them
(ledger.Queued), so every read counts every opinion taken in."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc

import numpy as np
from django.db import connection
from django.utils.translation import get_language

from zhenggai.campaigns.models import CampaignRole, Role
from zhenggai.org import clock
from zhenggai.org.models import Member
from zhenggai.problems import lifecycle

from .counters import COUNTERS, DIMS, INDEX, TOTAL, WIDE
from .ledger import (
    DAY_GRAINS,
    Queued,
    as_date,
    month_days,
    periods_down,
    read_with_queue,
)

ANON_MIN = 5  # anonymous counts below this are shown as "<5"
HIDDEN = f"<{ANON_MIN}"


def _sum(counter: str, vendor: str) -> str:
    """The SQL sum of a counter. PostgreSQL sums INTEGERs as BIGINT, but BIGINTs as NUMERIC,
    which psycopg reads as Decimals (a third of the time of a split by owner went to them),
    and even cast back to BIGINT each group's NUMERIC costs: the wide counters (counters.WIDE,
    sums of day numbers) are summed as double precision instead, exact below 2**53 (age_sum
    is at most problems times a day number: below 2**43 for ten million problems). SQLite
    sums integers as integers."""
    if vendor == "postgresql" and counter in WIDE:
        return f"CAST(SUM(CAST({counter} AS DOUBLE PRECISION)) AS BIGINT)"
    return f"SUM({counter})"


_COLS = ", ".join(["gkey", *COUNTERS])
_T = "figures_figurebucket"
_PART = f"SELECT {_COLS} FROM {_T} WHERE org = %s AND dim = %s AND grain = "


@functools.cache
def _sum_sql(grains: tuple[str, ...], vendor: str, n_keys: int = 0) -> str:
    """Whole years before the day's year (a range of the (org, dim, grain, period) index),
    then one bucket of each of `grains` (ledger.periods_down: the months before the day's
    month and the days of its month up to the day); with `n_keys`, of that many keys only.

    PostgreSQL reads the parts as one scan (a bitmap of the index ranges): as a UNION ALL
    of scans it planned a Parallel Append, which starts two worker processes whatever the
    table's parallel_workers says (that setting governs scans of the table, not appends),
    and a split by owner spent more time starting and gathering workers than summing
    (docs/scale.md). SQLite reads a UNION ALL as index ranges; an OR of them it would read
    as one range of (org, dim) with a filter: every bucket of the dimension."""
    sums = ", ".join(_sum(c, vendor) for c in COUNTERS)
    keys = f" AND gkey IN ({', '.join(['%s'] * n_keys)})" if n_keys else ""
    if vendor == "postgresql":
        ors = ["grain = 'y' AND period < %s"] + [f"grain = '{g}' AND period = %s"
                                                 for g in grains]
        return (f"SELECT gkey, {sums} FROM {_T} WHERE org = %s AND dim = %s{keys} AND (("
                + ") OR (".join(ors) + ")) GROUP BY gkey")
    parts = [_PART + "'y' AND period < %s" + keys]
    parts += [_PART + f"'{g}' AND period = %s" + keys for g in grains]
    return (f"SELECT gkey, {sums} FROM (" + " UNION ALL ".join(parts) + ") AS b "
            "GROUP BY gkey")


def _query(org_id: int, day: dt.date, dim: int,
           keys: list[int] | None = None) -> tuple[str, list]:
    down = periods_down(day)
    keys = list(keys or [])
    vendor = connection.vendor
    if vendor == "postgresql":
        params = [org_id, dim, *keys, day.replace(month=1, day=1), *(p for _g, p in down)]
    else:
        params = [org_id, dim, day.replace(month=1, day=1), *keys]
        for _g, period in down:
            params += [org_id, dim, period, *keys]
    return _sum_sql(tuple(g for g, _p in down), vendor, len(keys)), params


_FEW_KEYS = 500  # keys named in the statement; more are read all and picked in Python


def sums(org_id: int, day: dt.date, dim: int = TOTAL,
         keys: list[int] | None = None) -> dict[int, list[int]]:
    """The raw counters as of the end of `day`, per key of dimension `dim` (with `keys`, of
    those keys only: the leaders' own problems need a dozen owners' sums, not all of them)."""
    if keys is not None and not keys:
        return {}
    return read_with_queue(org_id, lambda queued: _sums(org_id, day, dim, queued, keys))


def _sums(org_id: int, day: dt.date, dim: int, queued: Queued,
          keys: list[int] | None = None) -> dict[int, list[int]]:
    few = keys if keys is not None and len(keys) <= _FEW_KEYS else None
    with connection.cursor() as cur:
        cur.execute(*_query(org_id, day, dim, few))
        out = {row[0]: [int(v or 0) for v in row[1:]] for row in cur.fetchall()}
    out = queued.add_sums(out, day, dim)
    if keys is not None:
        wanted = set(keys)
        out = {k: v for k, v in out.items() if k in wanted}
    return out


_I_ANON = COUNTERS.index("anonymous_opinions")


def hide_complement(groups: list[dict], anon: list[int]) -> None:
    """No group's anonymous count may be found by subtracting the shown ones from the total.
    Groups of fewer than five are shown as "<5" already; if those hidden together hold one to
    four (so the total minus the shown cells would tell), the smallest shown groups are hidden
    too, until the hidden ones hold five or more."""
    hidden = sum(n for n in anon if n < ANON_MIN)
    shown = sorted((n, i) for i, n in enumerate(anon) if n >= ANON_MIN)
    while 0 < hidden < ANON_MIN and shown:
        n, i = shown.pop(0)
        groups[i]["anonymous_opinions"] = HIDDEN
        hidden += n


def _label_source(by: str):
    """The model of a split's keys, its "key" column and its English name column."""
    from zhenggai.campaigns.models import Campaign
    from zhenggai.org.models import Category, Member, Unit

    return {"unit": (Unit, "code", "name_en"), "category": (Category, "code", "name_en"),
            "owner": (Member, "id", "NULL"), "campaign": (Campaign, "id", "NULL")}[by]


def _label_sql(org_id: int, day: dt.date, by: str) -> tuple[str, list]:
    """The split's sums with each key's label joined on: one query, not a second one with
    thousands of ids in it."""
    model, key, en = _label_source(by)
    label = f"t.{key}, t.name, {'t.' + en if en != 'NULL' else en}"
    table = model._meta.db_table
    if connection.vendor == "sqlite":
        years = _years_before(org_id, day, DIMS[by])
        if len(years) <= _MAX_YEAR_ARMS:
            arms = [("y", y) for y in years] + periods_down(day)
            return _joined_sql(tuple(g for g, _p in arms), label, table), [
                org_id, DIMS[by], day.replace(month=1, day=1),
                *(v for _g, p in arms for v in (org_id, DIMS[by], p))]
    sql, params = _query(org_id, day, DIMS[by])
    return f"SELECT s.*, {label} FROM ({sql}) s LEFT JOIN {table} t ON t.id = s.gkey", params


_MAX_YEAR_ARMS = 8  # more years of history than this are summed by _sum_sql's GROUP BY
# The years before a day's year that have a year bucket: one index look-up each, from the
# first (a recursive query steps from year to year; the years between hold no rows).
_YEARS_SQL = f"""
WITH RECURSIVE y(p) AS (
  SELECT MIN(period) FROM {_T} WHERE org = %s AND dim = %s AND grain = 'y' AND period < %s
  UNION ALL
  SELECT (SELECT MIN(period) FROM {_T} WHERE org = %s AND dim = %s AND grain = 'y'
          AND period > y.p AND period < %s) FROM y WHERE y.p IS NOT NULL
) SELECT p FROM y WHERE p IS NOT NULL LIMIT %s"""


def _years_before(org_id: int, day: dt.date, dim: int) -> list[dt.date]:
    """Up to _MAX_YEAR_ARMS + 1 of the years before `day`'s year with a year bucket."""
    first = day.replace(month=1, day=1)
    with connection.cursor() as cur:
        cur.execute(_YEARS_SQL, [org_id, dim, first, org_id, dim, first, _MAX_YEAR_ARMS + 2])
        return [as_date(p) for (p,) in cur.fetchall()]


@functools.cache
def _joined_sql(grains: tuple[str, ...], label: str, table: str) -> str:
    """SQLite: a split as one LEFT JOIN of each bucket onto the split's keys (those with a
    year bucket up to the day's year: every delta is booked into its year's), each an index
    lookup. The same sums as a GROUP BY over the buckets' union (_sum_sql), in a fifth to a
    quarter less time: SQLite's GROUP BY copies every row, every counter, through a sorter
    (bench/figures.py, by owner). A key none of the buckets has is left out, as there."""
    joins = "".join(
        f" LEFT JOIN {_T} a{i} ON a{i}.org = %s AND a{i}.dim = %s AND a{i}.grain = '{g}' "
        f"AND a{i}.period = %s AND a{i}.gkey = k.gkey" for i, g in enumerate(grains))
    sums = ", ".join(" + ".join(f"IFNULL(a{i}.{c}, 0)" for i in range(len(grains)))
                     for c in COUNTERS) if grains else ", ".join("0" for _c in COUNTERS)
    found = " OR ".join(f"a{i}.gkey IS NOT NULL" for i in range(len(grains))) or "0"
    return (f"SELECT k.gkey, {sums}, {label} FROM (SELECT DISTINCT gkey FROM {_T} "
            "WHERE org = %s AND dim = %s AND grain = 'y' AND period <= %s) k"
            f"{joins} LEFT JOIN {table} t ON t.id = k.gkey WHERE {found}")


def _with_queued(rows: list[tuple], queued: Queued, day: dt.date, by: str) -> list[tuple]:
    """The split's rows (gkey, counters…, key, name, English name) with the queue added; a
    key only the queue has (a unit whose first opinion is not booked yet) gets its label from
    one more query."""
    extra = queued.add_sums({}, day, DIMS[by])
    if not extra:
        return rows
    n = len(COUNTERS)
    out = []
    for gkey, *rest in rows:
        vec = extra.pop(gkey, None)
        counters = rest[:n] if vec is None else [
            int(a or 0) + b for a, b in zip(rest[:n], vec, strict=True)]
        out.append((gkey, *counters, *rest[n:]))
    if extra:
        model, key, en = _label_source(by)
        fields = ["id", key, "name", *([en] if en != "NULL" else [])]
        labels = {r[0]: (*r[1:], None)[:3]
                  for r in model.objects.filter(pk__in=list(extra)).values_list(*fields)}
        out += [(gkey, *vec, *labels.get(gkey, (None, None, None)))
                for gkey, vec in extra.items()]
    return out


def _split(org_id: int, day: dt.date, by: str, queued: Queued
           ) -> tuple[list[int], dict, np.ndarray]:
    """The split's group keys, their "key" and "label" columns, and the matrix of their raw
    counters (one row each)."""
    # PostgreSQL would plan a parallel aggregate here (it cannot tell how many groups a
    # union of index ranges has); the table's parallel_workers = 0 (migration 0005) keeps
    # it serial without a transaction and a SET LOCAL around the read: three round trips.
    with connection.cursor() as cur:
        cur.execute(*_label_sql(org_id, day, by))
        rows = cur.fetchall()
    rows = _with_queued(rows, queued, day, by)
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


def _ratios(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b to four places, None where b is 0 (an object column, for shape_rows)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.round(a / b, 4).astype(object)
    r[b == 0] = None
    return r


def _ratio_days(a: np.ndarray, b: np.ndarray) -> list[float | None]:
    return [round(x / y, 1) if y else None for x, y in zip(a.tolist(), b.tolist(), strict=True)]


_STATE_COLS = [INDEX[f"st_{s}"] for s in lifecycle.STATES]


def shape_rows(mat: np.ndarray, day: dt.date, head: dict[str, list] | None = None
               ) -> list[dict]:
    """The published figures (domain.md) of each row of raw counters, all rows at once: a
    split by owner has thousands of rows, and a figure per row in Python was the slow part.
    `head`: columns to put first in each row (a split's key and label)."""
    c = {name: mat[:, i] for i, name in enumerate(COUNTERS)}
    claimed_resolved = c["st_claimed"] + c["st_verified"] + c["st_closed"]
    verified_resolved = c["st_verified"] + c["st_closed"]
    today = day.toordinal()
    anonymous = c["anonymous_opinions"].astype(object)
    anonymous[c["anonymous_opinions"] < ANON_MIN] = HIDDEN
    # Columns are numpy arrays (objects where a cell may be None or "<5") or lists; they are
    # laid into one object table, whose tolist() makes every row's values at C speed.
    cols = {
        **(head or {}),
        "opinions": c["opinions"],
        "anonymous_opinions": anonymous,
        "problems": c["problems"],
        "claims": c["claims"],
        "claimed_resolved": claimed_resolved,
        "verified_resolved": verified_resolved,
        "claimed_share": _ratios(claimed_resolved, c["problems"]),
        "verified_share": _ratios(verified_resolved, c["problems"]),
        "opinions_claimed_share": _ratios(c["opinions_claimed"], c["opinions"]),
        "opinions_verified_share": _ratios(c["opinions_verified"], c["opinions"]),
        "false_figures": c["false_figures"],
        "false_share": _ratios(c["false_figures"], c["claims"]),
        "reopened": c["reopened"],
        "deteriorated": c["deteriorated"],
        "ever_verified": c["ever_verified"],
        "regression_rate": _ratios(c["deteriorated"], c["ever_verified"]),
        "followups": c["followups"],
        "followups_answered": c["followups_answered"],
        "satisfied": c["satisfied"],
        "satisfaction": _ratios(c["satisfied"], c["followups_answered"]),
        "overdue": c["overdue"],
        "unresolved": c["unresolved"],
        "mean_age_days": [round(today - a / u, 1) if u else None for a, u in
                          zip(c["age_sum"].tolist(), c["unresolved"].tolist(), strict=True)],
        "posters": c["posters"],
        # days from first opinion to verified, over the problems ever verified
        "mean_lead_days": _ratio_days(c["lead_days"], c["ever_verified"]),
        "states": [dict(zip(lifecycle.STATES, r, strict=True))
                   for r in mat[:, _STATE_COLS].tolist()],
    }
    names = list(cols)
    table = np.empty((len(mat), len(names)), dtype=object)
    for j, col in enumerate(cols.values()):
        table[:, j] = col
    return [dict(zip(names, row, strict=True)) for row in table.tolist()]


def shape(vec: list[int], day: dt.date) -> dict:
    """The published figures (domain.md) from one row of raw counters."""
    return shape_rows(np.asarray([vec], dtype=np.int64), day)[0]


def leaders_own(campaign, day: dt.date) -> dict:
    """What the leaders did themselves (厂长、书记亲自动手): the problems owned by the
    campaign's leaders, as of `day`, from the figures by owner: how many they own, how many
    they claimed resolved, how many were verified; per leader (`rows`) and in all."""
    leaders = list(Member.objects.filter(
        pk__in=CampaignRole.objects.filter(campaign=campaign, role=Role.LEADER)
        .values("member_id")).order_by("name"))
    # Only the leaders' own sums: the split by every owner is thousands of rows at scale.
    by_owner = sums(campaign.org_id, day, DIMS["owner"], keys=[m.pk for m in leaders])
    rows, total = [], [0] * len(COUNTERS)
    for m in leaders:
        vec = by_owner.get(m.pk, [0] * len(COUNTERS))
        total = [a + b for a, b in zip(total, vec, strict=True)]
        f = shape(vec, day)
        rows.append({"member": m, "problems": f["problems"], "claimed": f["claimed_resolved"],
                     "verified": f["verified_resolved"]})
    t = shape(total, day)
    return {"rows": rows, "problems": t["problems"], "claimed": t["claimed_resolved"],
            "verified": t["verified_resolved"]}


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
    day = as_of or clock.today(org_id)
    return read_with_queue(
        org_id, lambda queued: _read_figures(org_id, day, by, want_rows, queued))


@contextlib.contextmanager
def _gc_paused():
    """Python's cycle collector paused: a split by owner makes some hundred thousand lists
    and dicts (none in a cycle), which started a collection every 700 of them, older
    generations' (the whole server's heap) among them: a quarter of the split's Python
    time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _read_figures(org_id: int, day: dt.date, by: str | None, want_rows: bool,
                  queued: Queued) -> tuple[dict, dict[int, list[int]]]:
    if not by:
        return _read_figures_now(org_id, day, by, want_rows, queued)
    with _gc_paused():
        return _read_figures_now(org_id, day, by, want_rows, queued)


def _read_figures_now(org_id: int, day: dt.date, by: str | None, want_rows: bool,
                      queued: Queued) -> tuple[dict, dict[int, list[int]]]:
    from .shares import DENOMINATORS

    if by and by not in DIMS:
        raise ValueError(f"by must be one of {', '.join(DIMS)}")
    if by:
        gkeys, head, mat = _split(org_id, day, by, queued)
        # Every delta is booked on every dimension (key 0: none), so a split's rows add up
        # to the whole organisation's: no second query for the total.
        total = mat.sum(axis=0).tolist() if len(mat) else [0] * len(COUNTERS)
    else:
        total = _sums(org_id, day, TOTAL, queued).get(0, [0] * len(COUNTERS))
    # Each share's denominator, by its field's name (shares.py): the same everywhere.
    out = {"as_of": day.isoformat(), "denominators": DENOMINATORS,
           "total": shape(total, day)}
    rows: dict[int, list[int]] = {}
    if by:
        out["by"] = by
        if want_rows:
            rows = dict(zip(gkeys, mat.tolist(), strict=True))
        moved = mat.any(axis=1)
        head = {k: [v for v, m in zip(col, moved.tolist(), strict=True) if m]
                for k, col in head.items()}
        groups = shape_rows(mat[moved], day, head)
        hide_complement(groups, mat[moved, _I_ANON].tolist())
        groups.sort(key=lambda g: (g["key"] is None, str(g["key"])))
        out["groups"] = groups
    return out, rows


@functools.cache
def _days_sql(cols: tuple[str, ...]) -> str:
    return f"""
SELECT grain, period, {", ".join(cols)} FROM {_T}
WHERE org = %s AND dim = %s AND gkey = %s AND grain IN {DAY_GRAINS} AND period >= %s
AND period <= %s
"""


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _plain_days(org_id: int, dim: int, key: int, first: dt.date, last: dt.date,
                queued: Queued, cols: tuple[str, ...] = tuple(COUNTERS)) -> np.ndarray:
    """(days, cols): what each day from `first` to `last` added to the counters `cols`, out
    of the months' day buckets (one query) and the queue. A trend over a long campaign reads
    a thousand rows: only the counters it shows are read."""
    m0, m1 = first.replace(day=1), _month_end(last)
    with connection.cursor() as cur:
        cur.execute(_days_sql(cols), [org_id, dim, key, m0, m1])
        rows = cur.fetchall()
    out = np.zeros(((m1 - m0).days + 1, len(cols)), dtype=np.int64)
    for month, days in month_days(rows, len(cols)).items():
        at = (month - m0).days
        out[at:at + len(days)] = days
    queued.add_days(out, dim, key, m0, [INDEX[c] for c in cols])
    lo = (first - m0).days
    return out[lo:lo + (last - first).days + 1]


def last_active_day(org_id: int, day: dt.date) -> dt.date | None:
    """The last day up to `day` on which any figure moved."""
    return read_with_queue(org_id, lambda queued: _last_active_day(org_id, day, queued))


def _last_active_day(org_id: int, day: dt.date, queued: Queued) -> dt.date | None:
    month = day.replace(day=1)
    while True:
        moved = np.flatnonzero(_plain_days(org_id, TOTAL, 0, month, day, queued).any(axis=1))
        if len(moved):
            return month + dt.timedelta(days=int(moved[-1]))
        with connection.cursor() as cur:  # the latest earlier month with a bucket …
            cur.execute(f"SELECT MAX(period) FROM {_T} WHERE org = %s AND dim = %s AND "
                        f"gkey = 0 AND grain IN {DAY_GRAINS} AND period < %s",
                        [org_id, TOTAL, month])
            v = cur.fetchone()[0]
        # … or with an opinion in the queue
        earlier = [d for d in queued.days() if d < month] + ([as_date(v)] if v else [])
        if not earlier:
            return None
        month = max(earlier).replace(day=1)
        day = _month_end(month)


SERIES = ("claimed_resolved", "verified_resolved", "false_figures", "overdue")
# The counters SERIES are made of (below).
_SERIES_COUNTERS = ("st_claimed", "st_verified", "st_closed", "false_figures", "overdue")


def series(org_id: int, start: dt.date, end: dt.date, dim: int = TOTAL, key: int = 0,
           step: int = 1) -> list[dict]:
    """The figures of one key, day by day from `start` to `end` (every `step` days): the sums
    as of the day before `start`, then what each day added. Two queries, however long the
    campaign."""
    if end < start:
        return []
    return read_with_queue(
        org_id, lambda queued: _series(org_id, start, end, dim, key, step, queued))


def _series(org_id: int, start: dt.date, end: dt.date, dim: int, key: int, step: int,
            queued: Queued) -> list[dict]:
    base = _sums(org_id, start - dt.timedelta(days=1), dim, queued).get(
        key, [0] * len(COUNTERS))
    ndays = (end - start).days + 1
    grid = _plain_days(org_id, dim, key, start, end, queued, _SERIES_COUNTERS)
    base = np.asarray(base, dtype=np.int64)[[INDEX[n] for n in _SERIES_COUNTERS]]
    c = {name: col for name, col in zip(
        _SERIES_COUNTERS, (np.cumsum(grid, axis=0) + base).T, strict=True)}
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
