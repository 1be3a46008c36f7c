"""Rewriting a day's rows in random order, so that no order at rest dates an anonymous act.

Every table that gets a row for an anonymous act (an opinion, its receipt, a poster, an
answer through a receipt, their events) has random ids, and anonymous acts keep no time
finer than the day. What is left is the order in which the database itself wrote the rows:

- the grouping index's log (`grouping_indexlog.seq`) numbers intakes in order: `shuffle`
  writes its rows again in random order under new numbers;
- on PostgreSQL, every row carries the id of the transaction that wrote it (`xmin`) and
  sits where it was written (`ctid`). The worker marks where each day begins in the
  transaction order (`mark_day`, its first tick of the day); once a day is over, `shuffle`
  deletes every row written that day, in every table of the project, and inserts them again
  in random order, in one transaction: they all get the same `xmin` and shuffled places.
  VACUUM then frees the old versions.

SQLite keeps rows in the order of their integer key, which is random for those tables.
What this does not hide: the order during the day itself, before the shuffle (a live
watcher of the database sees it), nor remnants in PostgreSQL's WAL files and free space.
"""

from __future__ import annotations

import itertools
import secrets

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from zhenggai.grouping.models import IndexLog

from .models import ShuffleMark

_XID = "mod(txid_current(), 4294967296)"


def _tables() -> list[str]:
    skip = {ShuffleMark._meta.db_table, IndexLog._meta.db_table}
    out = []
    for m in apps.get_models():
        meta = m._meta
        if (m.__module__.startswith("zhenggai.") and meta.managed and not meta.proxy
                and meta.db_table not in skip):
            out.append(meta.db_table)
    return sorted(set(out))


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def mark_day(*, now: bool = False) -> None:
    """Where today begins (once a day, at the worker's first tick), or with now=True a
    boundary at this moment (an operator's release of the day so far)."""
    today = timezone.localdate()
    with transaction.atomic():
        if not now and ShuffleMark.objects.filter(day=today).exists():
            return
        if _postgres():
            with connection.cursor() as cur:
                cur.execute(f"INSERT INTO {ShuffleMark._meta.db_table} (day, xid, shuffled) "
                            f"VALUES (%s, {_XID}, false)", [today])
        else:
            ShuffleMark.objects.create(day=today)


def shuffle() -> int:
    """Rewrite in random order the rows written between each mark and the next (days that
    are over), and the index log. Returns how many rows were rewritten."""
    marks = list(ShuffleMark.objects.order_by("pk"))
    closed = [(a, b) for a, b in itertools.pairwise(marks) if not a.shuffled]
    n = 0
    touched: list[str] = []
    with transaction.atomic():
        if _postgres():
            with connection.cursor() as cur:
                # Triggers that guard a table against changes may let this through: it
                # writes every row again exactly as it was.
                cur.execute("SET LOCAL zhenggai.shuffle = 'on'")
                if closed:
                    # Writers wait until the rows are back: an UPDATE of a row that this
                    # deletes and inserts again would otherwise find nothing and be lost.
                    # Readers go on (EXCLUSIVE blocks writes only).
                    cur.execute(f"LOCK TABLE {', '.join(_tables())} IN EXCLUSIVE MODE")
                cur.execute(f"SELECT {_XID}")
                me = cur.fetchone()[0]
                done = [m.shuffle_xid for m in marks if m.shuffle_xid is not None]
                for a, b in closed:
                    for table in _tables():
                        k = _rewrite(cur, table, a.xid, b.xid, done)
                        if k:
                            n += k
                            touched.append(table)
        else:
            me = None
        n += _shuffle_log()
        for a, _b in closed:
            ShuffleMark.objects.filter(pk=a.pk).update(shuffled=True, shuffle_xid=me)
    if _postgres() and not connection.in_atomic_block:
        with connection.cursor() as cur:
            for table in [*sorted(set(touched)), IndexLog._meta.db_table]:
                cur.execute(f"VACUUM {table}")
    return n


def _rewrite(cur, table: str, lo: int | None, hi: int | None, done: list[int]) -> int:
    """Delete the rows `table` got from transactions between the marks `lo` and `hi` and
    insert them again in random order."""
    cond = ["age(xmin) > age(%s::text::xid)", "NOT (xmin::text::bigint = ANY(%s))"]
    params: list = [str(hi), done]
    if lo is not None:
        cond.append("age(xmin) <= age(%s::text::xid)")
        params.append(str(lo))
    cur.execute(f"CREATE TEMP TABLE zg_shuffle ON COMMIT DROP AS "
                f"SELECT * FROM {table} WITH NO DATA")
    cur.execute(f"WITH moved AS (DELETE FROM {table} WHERE {' AND '.join(cond)} RETURNING *) "
                f"INSERT INTO zg_shuffle SELECT * FROM moved", params)
    k = cur.rowcount
    if k:
        cur.execute(f"INSERT INTO {table} SELECT * FROM zg_shuffle ORDER BY random()")
    cur.execute("DROP TABLE zg_shuffle")
    return k


def _shuffle_log() -> int:
    """The index log again, in random order, numbered above every process's last place:
    each process reads the rows again and skips the opinions it has indexed."""
    rows = list(IndexLog.objects.values_list("seq", "opinion_id", "campaign_id"))
    if not rows:
        return 0
    top = max(r[0] for r in rows)
    secrets.SystemRandom().shuffle(rows)
    IndexLog.objects.filter(seq__lte=top).delete()
    with connection.cursor() as cur:
        cur.executemany(f"INSERT INTO {IndexLog._meta.db_table} (opinion_id, campaign_id) "
                        f"VALUES (%s, %s)", [r[1:] for r in rows])
    return len(rows)
