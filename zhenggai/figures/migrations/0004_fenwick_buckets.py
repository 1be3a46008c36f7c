"""Day and month buckets become Fenwick trees (see figures.ledger): bucket `d` at day i holds
the days (i - lowbit(i), i] of its month, bucket `m` at month j the months (j - lowbit(j), j]
of its year. Year buckets stay as they are. Self-contained: it does not import the ledger,
whose code may change after it."""

import datetime as dt
from collections import defaultdict

from django.db import migrations

COUNTERS = [
    "opinions", "anonymous_opinions", "problems", "opinions_claimed", "opinions_verified",
    "st_open", "st_assigned", "st_claimed", "st_verified", "st_closed", "st_reopened",
    "st_declined", "unresolved", "age_sum", "overdue", "claims", "false_figures", "reopened",
    "deteriorated", "ever_verified", "followups", "followups_answered", "satisfied", "posters",
]
KEYS = ["org", "dim", "grain", "period", "gkey"]
TABLE = "figures_figurebucket"


def _length(grain: str, period: dt.date) -> int:
    if grain == "m":
        return 12
    nxt = (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (nxt - period.replace(day=1)).days


def _pos(grain: str, period: dt.date) -> int:
    return period.month if grain == "m" else period.day


def _at(grain: str, period: dt.date, k: int) -> dt.date:
    return period.replace(month=k, day=1) if grain == "m" else period.replace(day=k)


def _up(i: int, n: int):
    while i <= n:
        yield i
        i += i & -i


def _rewrite(schema_editor, convert) -> None:
    conn = schema_editor.connection
    cols = ", ".join(KEYS + COUNTERS)
    with conn.cursor() as cur:
        cur.execute(f"SELECT {cols} FROM {TABLE} WHERE grain IN ('d', 'm')")
        rows = cur.fetchall()
        if not rows:
            return
        out = convert(rows)
        cur.execute(f"DELETE FROM {TABLE} WHERE grain IN ('d', 'm')")
        marks = ", ".join(["%s"] * (len(KEYS) + len(COUNTERS)))
        cur.executemany(f"INSERT INTO {TABLE} ({cols}) VALUES ({marks})",
                        [(*k, *v) for k, v in sorted(out.items()) if any(v)])


def _date(v) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(v)


def to_trees(rows):
    out = defaultdict(lambda: [0] * len(COUNTERS))
    for org, dim, grain, period, gkey, *vec in rows:
        period = _date(period)
        for k in _up(_pos(grain, period), _length(grain, period)):
            acc = out[(org, dim, grain, _at(grain, period, k), gkey)]
            for i, v in enumerate(vec):
                acc[i] += int(v)
    return out


def to_plain(rows):
    trees = defaultdict(dict)
    for org, dim, grain, period, gkey, *vec in rows:
        period = _date(period)
        first = period.replace(day=1) if grain == "d" else period.replace(month=1, day=1)
        trees[(org, dim, grain, first, gkey)][_pos(grain, period)] = [int(v) for v in vec]
    out = {}
    for (org, dim, grain, first, gkey), nodes in trees.items():
        zero = [0] * len(COUNTERS)

        def prefix(i, nodes=nodes, zero=zero):
            acc = list(zero)
            while i > 0:
                for j, v in enumerate(nodes.get(i, zero)):
                    acc[j] += v
                i -= i & -i
            return acc

        for i in range(1, _length(grain, first) + 1):
            a, b = prefix(i), prefix(i - 1)
            out[(org, dim, grain, _at(grain, first, i), gkey)] = [x - y for x, y in zip(a, b, strict=True)]
    return out


class Migration(migrations.Migration):
    dependencies = [("figures", "0003_unbooked_key_is_the_rowid")]

    operations = [
        migrations.RunPython(lambda apps, se: _rewrite(se, to_trees),
                             lambda apps, se: _rewrite(se, to_plain)),
    ]
