"""Booking the deltas of events into figure buckets.

A `Book` collects deltas keyed by the full split key of the thing that changed
(org, campaign, unit, category, owner) and the day they take effect. `flush` projects them
onto each dimension and each grain and adds them to the buckets with one upsert.

Why days in the future: a problem with a deadline becomes overdue on the day after its
deadline without any event. The event that sets the deadline books +1 `overdue` on that
future day; the event that ends it (a claim, a new deadline) books -1 on the day it takes
effect or, when that comes before, on the same future day, cancelling it.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from django.db import connection, transaction

from zhenggai.opinions.models import Opinion
from zhenggai.problems import lifecycle
from zhenggai.problems.registry import ACTIONS, ADDS_OPINIONS
from zhenggai.problems.state import OPINION_REF_COLUMNS, OpinionRef, ProblemState

from .counters import CAMPAIGN, CATEGORY, COUNTERS, INDEX, OWNER, TOTAL, UNIT, WIDE, N
from .models import UnbookedOpinion

ONE_DAY = dt.timedelta(days=1)
_EPOCH = dt.date(1970, 1, 1).toordinal()


def _date(days_since_epoch: int) -> dt.date:
    return dt.date.fromordinal(days_since_epoch + _EPOCH)
FullKey = tuple  # (org, campaign, unit, category, owner, day)

I_OPINIONS, I_ANON = INDEX["opinions"], INDEX["anonymous_opinions"]
I_PROBLEMS, I_UNRESOLVED, I_AGE = INDEX["problems"], INDEX["unresolved"], INDEX["age_sum"]
I_OVERDUE = INDEX["overdue"]
I_OP_CLAIMED, I_OP_VERIFIED = INDEX["opinions_claimed"], INDEX["opinions_verified"]
I_STATE = {s: INDEX[f"st_{s}"] for s in lifecycle.STATES}


def _level(s: ProblemState) -> list[tuple[int, int]]:
    """The (counter, value) pairs a problem in state `s` contributes while it stays so."""
    out = [(I_PROBLEMS, 1), (I_STATE[s.state], 1)]
    n = len(s.opinions)
    if n:
        out.append((I_OPINIONS, n))
        anon = s.n_anonymous
        if anon:
            out.append((I_ANON, anon))
        if s.state in lifecycle.CLAIMED_RESOLVED:
            out.append((I_OP_CLAIMED, n))
        if s.state in lifecycle.VERIFIED_RESOLVED:
            out.append((I_OP_VERIFIED, n))
    if s.state in lifecycle.UNRESOLVED:
        out.append((I_UNRESOLVED, 1))
        fr = s.first_raised
        if fr:
            out.append((I_AGE, fr.toordinal()))
    return out


def _overdue_from(s: ProblemState, day: dt.date) -> dt.date | None:
    if s.state in lifecycle.UNCLAIMED and s.deadline is not None:
        return max(day, s.deadline + ONE_DAY)
    return None


def flows_of(kind: str, before: ProblemState, after: ProblemState,
             data: dict) -> list[tuple[str, int]]:
    """The flow counters an event moves, with their deltas: its registry entry says
    (problems/registry.py); an unknown kind moves none."""
    action = ACTIONS.get(kind)
    return action.flows(before, after, data) if action is not None else []


def _pack(cols: list[np.ndarray]) -> np.ndarray | None:
    """One int64 per row that orders the rows as the columns do, one after the other, when
    their ranges fit in 63 bits together (they do for any real organisation); else None."""
    packed = np.zeros(len(cols[0]), dtype=np.int64)
    bits = 0
    for c in cols:
        lo = int(c.min())
        width = (int(c.max()) - lo).bit_length()
        bits += width
        if bits > 63:
            return None
        packed = (packed << width) | (c - lo)
    return packed


def sum_by_key(keys: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add up the rows of `vals` whose rows of `keys` are equal: (keys, sums) in the order
    of the keys' columns, rows that net to zero dropped. One sort of one int64 per row
    where the keys pack into one (`_pack`), else a sort by every column."""
    if not len(keys):
        return keys, vals
    packed = _pack(list(keys.T))
    if packed is not None and (packed[1:] > packed[:-1]).all():
        keep = vals.any(axis=1)  # summed and in order already (`merge_arrays`' output)
        return (keys, vals) if keep.all() else (keys[keep], vals[keep])
    if packed is None:
        order = np.lexsort(keys.T[::-1])
        ordered = keys[order]
        new = (ordered[1:] != ordered[:-1]).any(axis=1)
    else:
        order = np.argsort(packed)
        ordered = packed[order]
        new = ordered[1:] != ordered[:-1]
    if new.all():  # every key once: only the order changes
        sums = vals[order]
        keep = sums.any(axis=1)
        return keys[order[keep]], sums[keep]
    starts = np.flatnonzero(np.r_[True, new])
    sums = np.add.reduceat(vals[order], starts, axis=0)
    keep = sums.any(axis=1)
    return keys[order[starts[keep]]], sums[keep]


# The grains in the order of their letters, which is the table's key order (a bulk load
# writes rows in that order).
GRAINS = ("d", "m", "q", "w", "y")
# Days within a month and months within a year are kept as prefix sums in two levels, not
# one bucket each. With blocks of B positions, bucket `w` at a block's end p = kB holds
# positions 1..p (the month's days, the year's months), and bucket `d` (`m`) at a
# position p inside a block holds the positions from the block's start up to p. Positions
# 1..i are then the block bucket at the last block end before i and the inner bucket at i:
# at most two rows a level, so a figure as of day D reads the years before D's year and
# at most four rows per key (the Fenwick trees before read up to eight, and a split by
# 2,000 owners spent its time in SQLite's GROUP BY of those rows). A delta is added to at
# most seven day, three block-of-days, two month and three quarter buckets.
DAY_BLOCK = 8  # w: days 1..8, 1..16, 1..24
MONTH_BLOCK = 3  # q: months 1..3, 1..6, 1..9
MONTHS_READ = 11  # a figure reads the months before its day's month: 1..11 at most


def nodes_up(i: int, n: int, block: int) -> tuple[list[int], list[int]]:
    """The positions of the inner and of the block buckets that a value at position i
    (1-based) adds to, over positions 1..n with blocks of `block`."""
    inner = [] if i % block == 0 else list(range(i, min(i - i % block + block - 1, n) + 1))
    return inner, list(range(-(-i // block) * block, n + 1, block))


def nodes_down(i: int, block: int) -> tuple[int | None, int | None]:
    """The inner and the block bucket (None where there is none) whose sum is 1..i."""
    return (i if i % block else None), (i - i % block or None)


def _month_length(day: dt.date) -> int:
    nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (nxt - day.replace(day=1)).days


def periods_of(day: dt.date) -> list[tuple[str, dt.date]]:
    """The buckets (grain, period) a delta on `day` adds to."""
    days, weeks = nodes_up(day.day, _month_length(day), DAY_BLOCK)
    months, quarters = nodes_up(day.month, MONTHS_READ, MONTH_BLOCK)
    return ([("d", day.replace(day=i)) for i in days]
            + [("w", day.replace(day=i)) for i in weeks]
            + [("m", day.replace(month=j, day=1)) for j in months]
            + [("q", day.replace(month=j, day=1)) for j in quarters]
            + [("y", day.replace(month=1, day=1))])


def periods_down(day: dt.date) -> list[tuple[str, dt.date]]:
    """The day and month buckets (grain, period) whose sum is the year of `day` up to its
    end: the months before its month, and its month's days up to it (years before are
    the `y` buckets before its year)."""
    out = []
    m, q = nodes_down(day.month - 1, MONTH_BLOCK)
    for grain, j in (("q", q), ("m", m)):
        if j:
            out.append((grain, day.replace(month=j, day=1)))
    d, w = nodes_down(day.day, DAY_BLOCK)
    for grain, i in (("w", w), ("d", d)):
        if i:
            out.append((grain, day.replace(day=i)))
    return out


DAY_GRAINS = ("d", "w")  # the buckets of a month's days, inner and block


def as_date(v) -> dt.date:
    """A bucket's period as read back: a date (PostgreSQL) or its ISO text (SQLite)."""
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(v)


@functools.cache
def _day_prefix(n: int) -> np.ndarray:
    """(n, 62): row i-1 picks, of a month's inner day buckets (columns 0-30, by day) and its
    block buckets (columns 31-61), the ones whose sum is days 1..i (`nodes_down`)."""
    m = np.zeros((n, 62), dtype=np.int64)
    for i in range(1, n + 1):
        inner, block = nodes_down(i, DAY_BLOCK)
        if inner:
            m[i - 1, inner - 1] = 1
        if block:
            m[i - 1, 31 + block - 1] = 1
    return m


def month_days(rows, width: int) -> dict[dt.date, np.ndarray]:
    """What each day added, per month, from day buckets (grain, period, counters…) of one
    key: {first day of a month: (days of the month, width)}."""
    trees: dict[dt.date, np.ndarray] = {}
    for grain, period, *vec in rows:
        p = as_date(period)
        tree = trees.setdefault(p.replace(day=1), np.zeros((62, width), np.int64))
        tree[p.day - 1 + (31 if grain == "w" else 0)] = vec
    return {month: np.diff(_day_prefix(_month_length(month)) @ tree, axis=0, prepend=0)
            for month, tree in trees.items()}


def merge_arrays(*parts: tuple[np.ndarray, np.ndarray],
                 width: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Add up arrays of sums by key: day sums (`Book.day_arrays`) or bucket arrays."""
    parts = tuple(p for p in parts if len(p[0]))
    if not parts:
        return np.zeros((0, width), dtype=np.int64), np.zeros((0, N), dtype=np.int64)
    return sum_by_key(np.concatenate([k for k, _v in parts]),
                      np.concatenate([v for _k, v in parts]))


def _unique(a: np.ndarray) -> np.ndarray:
    """np.unique of int64s by one sort (numpy's hashes first, then sorts anyway)."""
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]]


def _range_sums(pos_key: np.ndarray, node: np.ndarray, start: np.ndarray,
                cum: np.ndarray) -> np.ndarray:
    """The sums of the rows of a tree between two keys, (start, node]: the difference of two
    running sums (`cum`, a zero row first), so no row is copied per bucket it adds to."""
    hi = np.searchsorted(pos_key, node, side="right")
    lo = np.searchsorted(pos_key, start, side="right")
    return cum[hi] - cum[lo]


def _blocks(pos_key: np.ndarray, pos: np.ndarray, size: np.ndarray, cum: np.ndarray,
            block: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The inner and the block buckets (`nodes_up`) of every row at once, each as (node
    keys, sums).

    `pos_key` orders the rows (ascending) as (tree, position): tree * 64 + position, a
    position from 1; `size` is each row's tree's size; `cum` the running sums of the rows."""
    base = pos_key - pos
    inner = []
    idx, p = np.flatnonzero(pos % block), pos[pos % block != 0]
    while len(idx):  # nodes_up's inner positions: to the block's last before its end
        inner.append(base[idx] + p)
        p = p + 1
        keep = (p % block != 0) & (p <= size[idx])
        idx, p = idx[keep], p[keep]
    outer = []
    idx, p = np.arange(len(pos)), -(-pos // block) * block
    keep = p <= size
    idx, p = idx[keep], p[keep]
    while len(idx):  # nodes_up's block ends
        outer.append(base[idx] + p)
        p = p + block
        keep = p <= size[idx]
        idx, p = idx[keep], p[keep]
    out = []
    for nodes, inner_level in ((inner, True), (outer, False)):
        node = _unique(np.concatenate(nodes)) if nodes else np.zeros(0, np.int64)
        at = node % 64
        start = node - (at % block if inner_level else at)
        out.append((node, _range_sums(pos_key, node, start, cum)))
    return out[0], out[1]


def tree_arrays(keys: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day sums (org, dim, gkey, day; `Book.day_arrays`) onto the buckets, as bucket
    arrays: keys (org, dim, grain index, period day, gkey) in key order, and their sums.

    Each bucket is the sum of a run of days (or months) of one key: with the days in order,
    the difference of two running sums. So the rows are never copied per bucket they add to
    (up to sixteen), which a load of millions of day sums could not afford."""
    keys, vals = sum_by_key(keys, vals)  # in (org, dim, gkey, day) order, one row each
    n = len(keys)
    if not n:
        return np.zeros((0, 5), dtype=np.int64), np.zeros((0, N), dtype=np.int64)
    cum = np.zeros((n + 1, N), dtype=np.int64)
    np.cumsum(vals, axis=0, out=cum[1:])
    group = np.cumsum(np.r_[0, (keys[1:, :3] != keys[:-1, :3]).any(axis=1)])
    first = keys[np.flatnonzero(np.r_[True, group[1:] != group[:-1]]), :3]
    days = keys[:, 3].astype("datetime64[D]")
    month = days.astype("datetime64[M]").astype(np.int64)
    year = days.astype("datetime64[Y]").astype(np.int64)
    day_of_month = (days - month.astype("datetime64[M]").astype("datetime64[D]")
                    ).astype(np.int64) + 1
    month_length = ((month + 1).astype("datetime64[M]").astype("datetime64[D]")
                    - month.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    month_of_year = month - year * 12 + 1
    m0, y0 = int(month.min()), int(year.min())
    months, years = int(month.max()) - m0 + 1, int(year.max()) - y0 + 1
    out_keys, out_vals = [], []
    def month_start(m: np.ndarray) -> np.ndarray:  # a month number to its first day
        return m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)

    # Days: two levels per (key, month), of the month's days.
    inner, block = _blocks((group * months + month - m0) * 64 + day_of_month, day_of_month,
                           month_length, cum, DAY_BLOCK)
    for grain, (node, sums) in (("d", inner), ("w", block)):
        tree = node // 64
        out_keys.append((tree // months, GRAINS.index(grain),
                         month_start(tree % months + m0) + node % 64 - 1))
        out_vals.append(sums)
    # Months: two levels per (key, year), of the months a figure reads (1..11).
    inner, block = _blocks((group * years + year - y0) * 64 + month_of_year, month_of_year,
                           np.full(n, MONTHS_READ), cum, MONTH_BLOCK)
    for grain, (node, sums) in (("m", inner), ("q", block)):
        tree = node // 64
        out_keys.append((tree // years, GRAINS.index(grain),
                         month_start((tree % years + y0) * 12 + node % 64 - 1)))
        out_vals.append(sums)
    # Years: one bucket per (key, year).
    per_tree = group * years + year - y0
    tree = _unique(per_tree)
    hi = np.searchsorted(per_tree, tree, side="right")
    lo = np.searchsorted(per_tree, tree, side="left")
    period = (tree % years + y0).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    out_keys.append((tree // years, GRAINS.index("y"), period))
    out_vals.append(cum[hi] - cum[lo])
    k5 = np.empty((sum(len(v) for v in out_vals), 5), dtype=np.int64)
    at = 0
    for (g, grain, period), v in zip(out_keys, out_vals, strict=True):
        rows = slice(at, at + len(v))
        k5[rows, 0], k5[rows, 1] = first[g, 0], first[g, 1]
        k5[rows, 2], k5[rows, 3], k5[rows, 4] = grain, period, first[g, 2]
        at += len(v)
    return sum_by_key(k5, np.concatenate(out_vals))  # in the table's key order


def rows_from_arrays(keys: np.ndarray, vals: np.ndarray) -> dict[tuple, list[int]]:
    return {(o, d, GRAINS[g], _date(per), gk): vec
            for (o, d, g, per, gk), vec in zip(keys.tolist(), vals.tolist(), strict=True)}


SMALL = 64  # full keys up to which bucket_rows sums in plain Python
_OVERDUE = ((I_OVERDUE, 1),)


class Book:
    def __init__(self) -> None:
        self.rows: dict[FullKey, list[int]] = defaultdict(lambda: [0] * N)
        # The last state booked after a transition, with its level: a history's next event
        # starts from it (states are never changed in place, so the same object is the same
        # state), and its level need not be worked out again.
        self._last: tuple[ProblemState | None, list] = (None, [])

    def _add(self, s_key: tuple, day: dt.date, pairs, sign: int) -> None:
        row = self.rows[(*s_key, day)]
        for i, v in pairs:
            row[i] += sign * v

    @staticmethod
    def key_of(s: ProblemState) -> tuple:
        return (s.org, s.campaign, s.unit or 0, s.category or 0, s.owner or 0)

    @staticmethod
    def opinion_key(org: int, o: OpinionRef) -> tuple:
        return (org, o.campaign, o.unit or 0, o.category or 0, 0)

    def opinion_received(self, org: int, o: OpinionRef) -> None:
        pairs = [(I_OPINIONS, 1)] + ([(I_ANON, 1)] if o.anonymous else [])
        self._add(self.opinion_key(org, o), o.day, pairs, +1)

    def _opinion_moves(self, org: int, refs, day: dt.date, sign: int) -> None:
        # An opinion outside any problem is counted on its own key; inside one, on the
        # problem's (through the problem's level).
        for o in refs:
            pairs = [(I_OPINIONS, 1)] + ([(I_ANON, 1)] if o.anonymous else [])
            self._add(self.opinion_key(org, o), day, pairs, sign)

    def transition(self, before: ProblemState, after: ProblemState, kind: str, day: dt.date,
                   data: dict) -> None:
        kb, ka = self.key_of(before), self.key_of(after)
        level = _level(after)
        row = self.rows[(*ka, day)]  # the after state's level and the event's flows
        od = _overdue_from(after, day)
        if before.state:
            last, before_level = self._last
            if last is not before:
                before_level = _level(before)
            if kb == ka:  # the usual event: the same key before and after, one row
                for i, v in before_level:
                    row[i] -= v
            else:
                self._add(kb, day, before_level, -1)
            od_before = _overdue_from(before, day)
            if od_before and (od_before != od or kb != ka):
                self._add(kb, od_before, _OVERDUE, -1)
            elif od_before:
                od = None  # the same overdue day on the same key: it stays booked
        self._last = (after, level)
        for i, v in level:
            row[i] += v
        if od:
            self._add(ka, od, _OVERDUE, +1)
        for f, v in flows_of(kind, before, after, data):
            row[INDEX[f]] += v
        if kind in ADDS_OPINIONS:
            added = [o for oid, o in after.opinions.items() if oid not in before.opinions]
            self._opinion_moves(after.org, added, day, -1)
        elif kind == "remove_opinion":
            gone = [o for oid, o in before.opinions.items() if oid not in after.opinions]
            self._opinion_moves(after.org, gone, day, +1)

    def day_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The booked deltas summed per dimension and day, as arrays: keys (org, dim, gkey,
        day) in that order, and their sums. What a bulk load's payloads carry: they add up
        (`merge_arrays`) before they are spread onto the buckets once (`tree_arrays`)."""
        items = [(k, v) for k, v in self.rows.items() if any(v)]
        if not items:
            return merge_arrays()
        n = len(items)
        keys = np.array([(*k[:5], k[5].toordinal() - _EPOCH) for k, _v in items],
                        dtype=np.int64)
        vals = np.fromiter(itertools.chain.from_iterable(v for _k, v in items),
                           dtype=np.int64, count=n * N).reshape(n, N)
        out_keys, out_vals = [], []
        for dim, col in ((TOTAL, None), (CAMPAIGN, 1), (UNIT, 2), (CATEGORY, 3), (OWNER, 4)):
            k4 = np.empty((n, 4), dtype=np.int64)
            k4[:, 0], k4[:, 1], k4[:, 3] = keys[:, 0], dim, keys[:, 5]
            k4[:, 2] = 0 if col is None else keys[:, col]
            k4, sums = sum_by_key(k4, vals)
            out_keys.append(k4)
            out_vals.append(sums)
        return np.concatenate(out_keys), np.concatenate(out_vals)

    def bucket_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Project onto buckets, as arrays: keys (org, dim, grain index, period day, gkey).

        Vectorised: a bulk load books hundreds of thousands of full keys at once.
        """
        return tree_arrays(*self.day_arrays())

    def bucket_rows(self) -> dict[tuple, list[int]]:
        """Project onto (org, dim, grain, period, gkey) rows, dropping what nets to zero."""
        if len(self.rows) <= SMALL:
            return self._small_rows()
        return rows_from_arrays(*self.bucket_arrays())

    def _small_rows(self) -> dict[tuple, list[int]]:
        """The same projection in plain Python: one action books a handful of keys, and
        numpy's set-up would cost more than the sums."""
        out: dict[tuple, list[int]] = {}
        for (org, camp, unit, cat, owner, day), vec in self.rows.items():
            if not any(vec):
                continue
            buckets = periods_of(day)
            for dim, gkey in ((TOTAL, 0), (CAMPAIGN, camp), (UNIT, unit), (CATEGORY, cat),
                              (OWNER, owner)):
                for grain, period in buckets:
                    row = out.get((org, dim, grain, period, gkey))
                    if row is None:
                        row = out[(org, dim, grain, period, gkey)] = [0] * N
                    for i, x in enumerate(vec):
                        if x:
                            row[i] += x
        return {k: r for k, r in out.items() if any(r)}

    def flush(self) -> int:
        rows = self.bucket_rows()
        write_buckets(rows)
        self.rows.clear()
        return len(rows)


_TABLE = "figures_figurebucket"
_KEY_COLS = ["org", "dim", "grain", "period", "gkey"]
_COLS = _KEY_COLS + COUNTERS
_NAMES = ", ".join(_COLS)
_BATCH = 400  # rows per statement: stays under SQLite's and PostgreSQL's parameter limits
# The statement's parts, built once: every action writes buckets.
_ONE = "(" + ", ".join(["%s"] * len(_COLS)) + ")"
_HEAD = f"INSERT INTO {_TABLE} ({_NAMES}) VALUES "
_ORDER = f" ORDER BY {', '.join(_KEY_COLS)}"
_TAIL = (f" ON CONFLICT ({', '.join(_KEY_COLS)}) DO UPDATE SET "
         + ", ".join(f"{c} = {_TABLE}.{c} + excluded.{c}" for c in COUNTERS))
_PG_CASTS = {"dim": "smallint", "grain": "text", "period": "date",  # the rest are bigint
             **{c: "integer" for c in COUNTERS if c not in WIDE}}
# PostgreSQL, a few rows (one action's): the rows travel as one JSON parameter. psycopg
# parses a statement with few parameters once and keeps it; one with hundreds of
# placeholders it parses and quotes anew on every call, which cost a third of an intake.
_PG_JSON = (
    f"INSERT INTO {_TABLE} ({_NAMES}) SELECT "
    + ", ".join(f"(r->>{i})::{_PG_CASTS.get(c, 'bigint')}" for i, c in enumerate(_COLS))
    + " FROM json_array_elements(%s::json) AS r ORDER BY 1, 2, 3, 4, 5" + _TAIL
)


def write_buckets(rows: dict[tuple, list[int]]) -> None:
    if not rows:
        return
    # A fixed order of keys, so that two transactions lock shared rows in the same order.
    _write_rows([(*key, *vec) for key, vec in sorted(rows.items())])


def write_bucket_arrays(keys: np.ndarray, vals: np.ndarray) -> None:
    """`write_buckets` for bucket arrays as `merge_arrays` leaves them (summed, in key
    order): a bulk load's million rows go straight to the statement, with no dict of them to
    build and sort. On PostgreSQL they go as binary COPY made by numpy, with no Python object
    per value (writing them row by row was a third of a bulk load's writing)."""
    if not len(keys):
        return
    if connection.vendor == "postgresql" and len(keys) > _BATCH:
        _copy_arrays(keys, vals)
        return
    if connection.vendor == "sqlite" and len(keys) > _BATCH:
        # Columns to lists and rows zipped from them, the dates as SQLite keeps them (ISO
        # text): no Python call per value (the date adapter was a fifth of this write).
        cols = [keys[:, 0].tolist(), keys[:, 1].tolist(),
                np.array(GRAINS)[keys[:, 2]].tolist(),
                np.datetime_as_string(keys[:, 3].astype("datetime64[D]")).tolist(),
                keys[:, 4].tolist(), *vals.T.tolist()]
        with connection.cursor() as cur:
            cur.executemany(_HEAD + _ONE + _TAIL, zip(*cols, strict=True))
        return
    _write_rows([(o, d, GRAINS[g], _date(p), k, *vec) for (o, d, g, p, k), vec
                 in zip(keys.tolist(), vals.tolist(), strict=True)])


_PG_EPOCH = (dt.date(2000, 1, 1) - dt.date(1970, 1, 1)).days  # PostgreSQL's day 0
_COPY_ROWS = 100_000  # rows per COPY buffer (35 MB)


def _binary_copy_rows(keys: np.ndarray, vals: np.ndarray) -> bytes:
    """Rows (the key's five columns, then the counters) in COPY's binary format: every field
    is fixed in size, so one numpy record per row, big-endian, each field after its length."""
    types = [(">i8", 8), (">i2", 2), ("S1", 1), (">i4", 4), (">i8", 8)] + [
        (">i8", 8) if c in WIDE else (">i4", 4) for c in COUNTERS]
    dtype = [("n", ">i2")]
    for i, (t, _size) in enumerate(types):
        dtype += [(f"l{i}", ">i4"), (f"v{i}", t)]
    rec = np.empty(len(keys), dtype=np.dtype(dtype))
    rec["n"] = len(types)
    for i, (_t, size) in enumerate(types):
        rec[f"l{i}"] = size
    rec["v0"], rec["v1"], rec["v4"] = keys[:, 0], keys[:, 1], keys[:, 4]
    rec["v2"] = np.array([g.encode() for g in GRAINS], dtype="S1")[keys[:, 2]]
    rec["v3"] = keys[:, 3] - _PG_EPOCH
    for j in range(N):
        rec[f"v{5 + j}"] = vals[:, j]
    return rec.tobytes()


def _copy_arrays(keys: np.ndarray, vals: np.ndarray) -> None:
    """Bucket arrays into the buckets on PostgreSQL. Into an empty table (a fresh bulk load;
    locked against writers first, so it stays empty until the commit) they go straight in;
    else into a scratch table and then one upsert."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {_TABLE})")
        empty = cur.fetchone()[0]
        if empty:
            cur.execute(f"LOCK TABLE {_TABLE} IN SHARE ROW EXCLUSIVE MODE")
            cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {_TABLE})")
            empty = cur.fetchone()[0]
        if not empty:
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS figure_delta AS SELECT {_NAMES} "
                        f"FROM {_TABLE} WITH NO DATA")
        target = _TABLE if empty else "figure_delta"
        with cur.cursor.copy(f"COPY {target} ({_NAMES}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(b"PGCOPY\n\xff\r\n\x00" + bytes(8))
            for i in range(0, len(keys), _COPY_ROWS):
                copy.write(_binary_copy_rows(keys[i:i + _COPY_ROWS], vals[i:i + _COPY_ROWS]))
            copy.write(b"\xff\xff")
        if not empty:
            cur.execute(f"INSERT INTO {_TABLE} ({_NAMES}) SELECT {_NAMES} FROM figure_delta"
                        + _ORDER + _TAIL)
            cur.execute("TRUNCATE figure_delta")


def _write_rows(rows: list[tuple]) -> None:
    """Add rows (the key's five columns, then the counters), in key order, to the buckets."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite" and len(rows) > _BATCH:
            # One prepared statement bound row by row is SQLite's fastest path.
            cur.executemany(_HEAD + _ONE + _TAIL, rows)
            return
        if connection.vendor == "postgresql" and len(rows) > _BATCH:
            # PostgreSQL's fastest path: COPY into a scratch table, then one upsert.
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS figure_delta AS SELECT {_NAMES} "
                        f"FROM {_TABLE} WITH NO DATA")
            with cur.cursor.copy(f"COPY figure_delta ({_NAMES}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(f"INSERT INTO {_TABLE} ({_NAMES}) SELECT {_NAMES} FROM figure_delta"
                        + _ORDER + _TAIL)
            cur.execute("TRUNCATE figure_delta")
            return
        if connection.vendor == "postgresql":
            cur.execute(_PG_JSON, [json.dumps(
                [[*row[:3], row[3].isoformat(), *row[4:]] for row in rows])])
            return
        for i in range(0, len(rows), _BATCH):
            chunk = rows[i : i + _BATCH]
            params: list = []
            for row in chunk:
                params.extend(row)
            cur.execute(_HEAD + ", ".join([_ONE] * len(chunk)) + _TAIL, params)


_UNBOOKED = UnbookedOpinion._meta.db_table
_CHUNK = 5000  # ids per IN list: under SQLite's and PostgreSQL's parameter limits


def _received(book: Book, ids: list[int]) -> None:
    """Book each of these opinions as taken in."""
    for i in range(0, len(ids), _CHUNK):
        rows = Opinion.objects.filter(pk__in=ids[i:i + _CHUNK])
        for org, *ref in rows.values_list("org_id", *OPINION_REF_COLUMNS):
            book.opinion_received(org, OpinionRef(*ref))


def _queue_empty() -> bool:
    """Whether no opinion of any organisation waits to be booked: one row looked for, no
    ORM query built (every figure read asks, and the worker books each minute's queue)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT 1 FROM {_UNBOOKED} LIMIT 1")
        return cur.fetchone() is None


def book_pending() -> int:
    """Add the opinions taken in since the last call to the buckets; returns how many.

    The worker calls it every minute (figure reads do not: they add the queue in memory,
    see `Queued`). Cheap when there are none (it looks for one row). The rows are taken with
    DELETE … RETURNING in the same transaction that books them, so each opinion is counted
    exactly once, however many bookers run at the same time."""
    if _queue_empty():
        return 0
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # One booker at a time: two DELETEs could otherwise lock rows in crossed order.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_UNBOOKED])
        cur.execute(f"DELETE FROM {_UNBOOKED} RETURNING opinion_id")
        ids = [r[0] for r in cur.fetchall()]
        book = Book()
        _received(book, ids)
        book.flush()
    return len(ids)


T = TypeVar("T")
# Where a full key (org, campaign, unit, category, owner, day) holds each dimension's key.
_KEY_AT = {TOTAL: None, CAMPAIGN: 1, UNIT: 2, CATEGORY: 3, OWNER: 4}


class Queued:
    """One organisation's opinions taken in and not booked yet, booked into a `Book` in
    memory instead of the buckets: what `book_pending` will add, for a read to add itself.
    So a figure read writes nothing and still counts every opinion taken in."""

    def __init__(self, org_id: int) -> None:
        self.ids: list[int] = []
        self.rows: list = []
        if _queue_empty():
            return
        # One query, this organisation's only: the queue is every organisation's.
        refs = Opinion.objects.filter(
            org_id=org_id, pk__in=UnbookedOpinion.objects.values("opinion_id"),
        ).values_list(*OPINION_REF_COLUMNS)
        book = Book()
        for ref in refs:
            book.opinion_received(org_id, OpinionRef(*ref))
            self.ids.append(ref[0])
        self.rows = [(k, v) for k, v in book.rows.items() if any(v)]

    def _of(self, dim: int):
        at = _KEY_AT[dim]
        for k, v in self.rows:
            yield (0 if at is None else k[at]), k[5], v

    def add_sums(self, out: dict[int, list[int]], day: dt.date, dim: int) -> dict:
        """Add to `out` ({gkey: counters} as of the end of `day`) what the queue adds."""
        for gkey, d, vec in self._of(dim):
            if d <= day:
                row = out.setdefault(gkey, [0] * N)
                for i, x in enumerate(vec):
                    row[i] += x
        return out

    def add_days(self, out: np.ndarray, dim: int, gkey: int, first: dt.date,
                 cols: list[int]) -> np.ndarray:
        """Add to `out` (one row per day from `first` of the counters `cols`, by index) what
        the queue adds."""
        for g, d, vec in self._of(dim):
            at = (d - first).days
            if g == gkey and 0 <= at < len(out):
                out[at] += np.asarray(vec, dtype=np.int64)[cols]
        return out

    def days(self) -> list[dt.date]:
        return [k[5] for k, _v in self.rows]

    def still_queued(self) -> bool:
        """Whether no booker has taken any of these opinions into the buckets since they
        were read (booking deletes their queue rows in the transaction that books them)."""
        n = 0
        with connection.cursor() as cur:
            for i in range(0, len(self.ids), _CHUNK):
                chunk = self.ids[i:i + _CHUNK]
                cur.execute(f"SELECT COUNT(*) FROM {_UNBOOKED} WHERE opinion_id IN "
                            f"({', '.join(['%s'] * len(chunk))})", chunk)
                n += cur.fetchone()[0]
        return n == len(self.ids)


def read_with_queue(org_id: int, read: Callable[[Queued], T]) -> T:
    """`read(queued)`: a read of the buckets that adds the queue to what it reads. The
    worker may book some of the queued opinions between the queue's read and the buckets':
    they would count twice, so then read again (it moves a queue of a minute at most once a
    minute, so the second read finds them booked)."""
    while True:
        queued = Queued(org_id)
        out = read(queued)
        if not queued.ids or queued.still_queued():
            return out
