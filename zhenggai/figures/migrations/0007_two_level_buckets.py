"""Day and month buckets become prefix sums in two levels (see figures.ledger): a figure as
of any day then reads at most two day and two month buckets per key, where the Fenwick
trees of 0004 read up to five and three. Bucket `w` at day 8k holds days 1..8k of its
month and `d` at another day i the days from the block's start (8 * (i // 8)) to i; bucket
`q` at month 3k holds months 1..3k of its year and `m` at another month j the months from
3 * (j // 3) to j (months 1..11 only: a figure reads the months before its day's month).
Year buckets stay as they are. Self-contained: it does not import the ledger, whose code
may change after it."""

import datetime as dt
from collections import defaultdict

from django.db import migrations

COUNTERS = [
    "opinions", "anonymous_opinions", "problems", "opinions_claimed", "opinions_verified",
    "st_open", "st_assigned", "st_claimed", "st_verified", "st_closed", "st_reopened",
    "st_declined", "unresolved", "age_sum", "overdue", "claims", "false_figures", "reopened",
    "deteriorated", "ever_verified", "followups", "followups_answered", "satisfied", "posters",
    "lead_days",
]
KEYS = ["org", "dim", "grain", "period", "gkey"]
TABLE = "figures_figurebucket"
DAY_BLOCK, MONTH_BLOCK, MONTHS_READ = 8, 3, 11


def _date(v) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(v)


def _month_length(day: dt.date) -> int:
    nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (nxt - day.replace(day=1)).days


# A tree is the positions of one key's month (its days) or year (its months).
LEVELS = {"d": "day", "w": "day", "m": "month", "q": "month"}


def _first(grain: str, period: dt.date) -> dt.date:
    return period.replace(day=1) if LEVELS[grain] == "day" else period.replace(month=1, day=1)


def _pos(grain: str, period: dt.date) -> int:
    return period.day if LEVELS[grain] == "day" else period.month


def _at(level: str, first: dt.date, k: int) -> dt.date:
    return first.replace(day=k) if level == "day" else first.replace(month=k)


def _size(level: str, first: dt.date, fenwick: bool) -> int:
    if level == "day":
        return _month_length(first)
    return 12 if fenwick else MONTHS_READ


def _fenwick_prefix(nodes: dict, i: int) -> list[int]:
    acc = [0] * len(COUNTERS)
    while i > 0:
        for j, v in enumerate(nodes.get(("f", i), ())):
            acc[j] += v
        i -= i & -i
    return acc


def _block_prefix(nodes: dict, i: int, block: int) -> list[int]:
    acc = [0] * len(COUNTERS)
    for key in (("b", i - i % block), ("i", i)):
        for j, v in enumerate(nodes.get(key, ())):
            acc[j] += v
    return acc


def _trees(rows, fenwick: bool):
    """{(org, dim, level, first, gkey): {(kind, position): counters}}: kind "f" for a
    Fenwick node, "b" for a block bucket (w, q), "i" for an inner one (d, m)."""
    trees = defaultdict(dict)
    for org, dim, grain, period, gkey, *vec in rows:
        period = _date(period)
        kind = "f" if fenwick else ("b" if grain in ("w", "q") else "i")
        trees[(org, dim, LEVELS[grain], _first(grain, period), gkey)][
            (kind, _pos(grain, period))] = [int(v or 0) for v in vec]
    return trees


def _plain(rows, fenwick: bool):
    """{(org, dim, level, first, gkey): [counters of position 1, 2, …]}"""
    out = {}
    for (org, dim, level, first, gkey), nodes in _trees(rows, fenwick).items():
        block = DAY_BLOCK if level == "day" else MONTH_BLOCK
        n = _size(level, first, fenwick)
        prefix = [[0] * len(COUNTERS)] + [
            _fenwick_prefix(nodes, i) if fenwick else _block_prefix(nodes, i, block)
            for i in range(1, n + 1)]
        out[(org, dim, level, first, gkey)] = [
            [a - b for a, b in zip(prefix[i], prefix[i - 1], strict=True)]
            for i in range(1, n + 1)]
    return out


def _add(out, key, vec):
    acc = out[key]
    for j, v in enumerate(vec):
        acc[j] += v


def to_blocks(rows):
    out = defaultdict(lambda: [0] * len(COUNTERS))
    for (org, dim, level, first, gkey), values in _plain(rows, fenwick=True).items():
        block = DAY_BLOCK if level == "day" else MONTH_BLOCK
        inner, outer = ("d", "w") if level == "day" else ("m", "q")
        n = _size(level, first, fenwick=False)
        for pos, vec in enumerate(values[:n], start=1):
            for k in range(pos, n + 1):
                if k % block and k - k % block < pos:
                    _add(out, (org, dim, inner, _at(level, first, k), gkey), vec)
                elif k % block == 0:
                    _add(out, (org, dim, outer, _at(level, first, k), gkey), vec)
    return out


def to_fenwick(rows):
    """Back to 0004's trees. Their month trees held December too, which the blocks leave to
    the year bucket: it is the year less its first eleven months."""
    years = {(org, dim, _date(period), gkey): [int(v or 0) for v in vec]
             for org, dim, grain, period, gkey, *vec in rows if grain == "y"}
    out = defaultdict(lambda: [0] * len(COUNTERS))
    plain = _plain([r for r in rows if r[2] != "y"], fenwick=False)
    for org, dim, first, gkey in years:  # a year whose only activity was in December
        plain.setdefault((org, dim, "month", first, gkey),
                         [[0] * len(COUNTERS) for _ in range(MONTHS_READ)])
    for (org, dim, level, first, gkey), values in plain.items():
        n = _size(level, first, fenwick=True)
        grain = "d" if level == "day" else "m"
        if level == "month":
            year = years.get((org, dim, first, gkey), [0] * len(COUNTERS))
            values = [*values, [y - sum(col) for y, col in
                                zip(year, zip(*values, strict=True), strict=True)]]
        for pos, vec in enumerate(values, start=1):
            k = pos
            while k <= n:
                _add(out, (org, dim, grain, _at(level, first, k), gkey), vec)
                k += k & -k
    return out


_BATCH = 5000


def _by_key(cur, batch: int = _BATCH):
    """The rows of a cursor ordered by (org, dim, gkey), one key's rows at a time."""
    key, rows = None, []
    while chunk := cur.fetchmany(batch):
        for row in chunk:
            k = (row[0], row[1], row[4])
            if k != key and rows:
                yield rows
                rows = []
            key = k
            rows.append(row)
    if rows:
        yield rows


def _rewrite(schema_editor, convert, grains, also=()) -> None:
    """Rewrite the buckets of `grains` by `convert`, which also reads those of `also`.

    One key at a time (a key's buckets are its own trees), read in key order from a
    server-side cursor on PostgreSQL, the new rows kept in a scratch table until the old
    ones are replaced: memory stays that of one key's history at any size."""
    conn = schema_editor.connection
    cols = ", ".join(KEYS + COUNTERS)
    listed = ", ".join(f"'{g}'" for g in grains)
    read = ", ".join(f"'{g}'" for g in (*grains, *also))
    marks = ", ".join(["%s"] * (len(KEYS) + len(COUNTERS)))
    select = f"SELECT {cols} FROM {TABLE} WHERE grain IN ({read}) ORDER BY org, dim, gkey"
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE figure_rewrite AS SELECT {cols} FROM {TABLE} "
                    "WHERE 1 = 0")
        reader = (conn.connection.cursor(name="figure_rewrite")
                  if conn.vendor == "postgresql" else conn.connection.cursor())
        if conn.vendor == "postgresql":
            reader.itersize = _BATCH
            reader.execute(select)
        else:
            reader.execute(select.replace("%s", "?"))
        out: list[tuple] = []
        for rows in _by_key(reader):
            out += [(*k, *v) for k, v in sorted(convert(rows).items()) if any(v)]
            if len(out) >= _BATCH:
                cur.executemany(f"INSERT INTO figure_rewrite ({cols}) VALUES ({marks})", out)
                out = []
        reader.close()
        if out:
            cur.executemany(f"INSERT INTO figure_rewrite ({cols}) VALUES ({marks})", out)
        cur.execute(f"DELETE FROM {TABLE} WHERE grain IN ({listed})")
        cur.execute(f"INSERT INTO {TABLE} ({cols}) SELECT {cols} FROM figure_rewrite "
                    "ORDER BY org, dim, grain, period, gkey")
        cur.execute("DROP TABLE figure_rewrite")


class Migration(migrations.Migration):
    dependencies = [("figures", "0006_figure_reads_stay_serial")]

    operations = [
        migrations.RunPython(
            lambda apps, se: _rewrite(se, to_blocks, ("d", "m")),
            lambda apps, se: _rewrite(se, to_fenwick, ("d", "w", "m", "q"), ("y",))),
    ]
