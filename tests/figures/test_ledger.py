"""The vectorised bucket projection equals the plain definition."""

import calendar
import datetime as dt
import random
from collections import defaultdict

from zhenggai.figures.counters import CAMPAIGN, CATEGORY, COUNTERS, OWNER, TOTAL, UNIT, N
from zhenggai.figures.ledger import Book, rows_from_arrays


def covering(i: int, n: int, block: int) -> tuple[list[int], list[int]]:
    """The buckets up to n that hold position i, by their ranges: an inner one at k (k not a
    multiple of the block) holds (block * (k // block), k], a block one at k holds (0, k]."""
    inner = [k for k in range(1, n + 1) if k % block and block * (k // block) < i <= k]
    return inner, [k for k in range(block, n + 1, block) if i <= k]


def fenwick_covering(i: int, n: int) -> list[int]:
    """The Fenwick nodes up to n that cover position i (figures 0004's layout): node k
    covers (k - lowbit(k), k]."""
    return [k for k in range(1, n + 1) if k - (k & -k) < i <= k]


def two_levels(day: dt.date) -> list[tuple[str, dt.date]]:
    """The buckets a delta on `day` adds to, by their ranges (figures.ledger)."""
    d, w = covering(day.day, calendar.monthrange(day.year, day.month)[1], 8)
    m, q = covering(day.month, 11, 3)
    return ([("d", day.replace(day=k)) for k in d] + [("w", day.replace(day=k)) for k in w]
            + [("m", day.replace(month=k, day=1)) for k in m]
            + [("q", day.replace(month=k, day=1)) for k in q]
            + [("y", day.replace(month=1, day=1))])


def fenwick(day: dt.date) -> list[tuple[str, dt.date]]:
    """The buckets as figures 0004 to 0006 laid them out: Fenwick trees of days, months."""
    n_days = calendar.monthrange(day.year, day.month)[1]
    return ([("d", day.replace(day=k)) for k in fenwick_covering(day.day, n_days)]
            + [("m", day.replace(month=k, day=1)) for k in fenwick_covering(day.month, 12)]
            + [("y", day.replace(month=1, day=1))])


def plain(rows, layout=two_levels):
    out = defaultdict(lambda: [0] * N)
    for (org, c, u, cat, o, day), vec in rows.items():
        buckets = layout(day)
        for dim, g in ((TOTAL, 0), (CAMPAIGN, c), (UNIT, u), (CATEGORY, cat), (OWNER, o)):
            for grain, per in buckets:
                acc = out[(org, dim, grain, per, g)]
                for j, v in enumerate(vec):
                    acc[j] += v
    return {k: v for k, v in out.items() if any(v)}


def test_bucket_rows_equal_the_plain_projection():
    b = Book()
    r = random.Random(1)
    for _i in range(3000):
        day = dt.date(1957, 1, 1) + dt.timedelta(days=r.randint(0, 500))
        k = (r.randint(1, 3), r.randint(1, 4), r.randint(0, 30), r.randint(0, 5),
             r.randint(0, 99), day)
        row = b.rows[k]
        for j in range(N):
            row[j] += r.randint(-2, 3)
    assert b.bucket_rows() == plain(b.rows)


def test_huge_ids_take_the_slow_path_and_agree():
    b = Book()
    b.rows[(1, 2**40, 0, 0, 2**35, dt.date(2024, 5, 6))][0] += 1
    b.rows[(1, 2**40, 0, 0, 2**35, dt.date(2024, 5, 7))][0] += 2
    assert b.bucket_rows() == plain(b.rows)


def test_merging_payloads_equals_booking_them_together():
    from zhenggai.figures.ledger import merge_arrays, rows_from_arrays

    r = random.Random(2)
    a, b, both = Book(), Book(), Book()
    for book in (a, b):
        for _i in range(500):
            day = dt.date(2024, 1, 1) + dt.timedelta(days=r.randint(0, 400))
            k = (1, r.randint(1, 2), r.randint(0, 9), r.randint(0, 3), r.randint(0, 20), day)
            v = r.randint(-3, 3)
            book.rows[k][0] += v
            both.rows[k][0] += v
    merged = merge_arrays(a.bucket_arrays(), b.bucket_arrays())
    assert rows_from_arrays(*merged) == both.bucket_rows()


def test_small_and_vectorised_projections_agree():
    """One action's few keys are summed in plain Python, a bulk load's with numpy: same rows."""
    import random

    from zhenggai.figures.counters import COUNTERS
    from zhenggai.figures.ledger import Book, rows_from_arrays

    rng = random.Random(3)
    for n in (1, 5, 40):
        book = Book()
        for _ in range(n):
            key = (1, rng.randint(1, 3), rng.randint(0, 4), rng.randint(0, 2), rng.randint(0, 3),
                   dt.date(1957, rng.randint(1, 12), rng.randint(1, 28)))
            book._add(key[:5], key[5], [(rng.randrange(len(COUNTERS)), rng.choice([-1, 1, 2]))],
                      1)
        assert book._small_rows() == rows_from_arrays(*book.bucket_arrays())


def test_small_and_vectorised_paths_agree_on_month_ends_and_leap_days():
    for day in (dt.date(2024, 2, 29), dt.date(2023, 2, 28), dt.date(2024, 12, 31),
                dt.date(2024, 4, 30), dt.date(1958, 1, 16), dt.date(2025, 7, 1)):
        b = Book()
        b.rows[(1, 2, 3, 4, 5, day)][0] += 1
        assert b._small_rows() == plain(b.rows) == rows_from_arrays(*b.bucket_arrays())


def test_the_migration_to_trees_gives_the_ledger_s_buckets_and_goes_back():
    """figures 0003 rewrites plain day and month buckets as the ledger now writes them."""
    import importlib

    m = importlib.import_module("zhenggai.figures.migrations.0004_fenwick_buckets")
    r = random.Random(4)
    n0 = len(m.COUNTERS)  # the counters as they were then (later ones stay zero here)
    b = Book()
    for _i in range(300):
        day = dt.date(1959, 11, 1) + dt.timedelta(days=r.randint(0, 150))
        b.rows[(1, r.randint(1, 2), r.randint(0, 3), 0, r.randint(0, 5), day)][
            r.randrange(n0)] += r.choice([-1, 1, 2])
    old = defaultdict(lambda: [0] * N)  # the layout before: one bucket a day and a month
    for (org, c, u, cat, o, day), vec in b.rows.items():
        for dim, g in ((TOTAL, 0), (CAMPAIGN, c), (UNIT, u), (CATEGORY, cat), (OWNER, o)):
            for grain, per in (("d", day), ("m", day.replace(day=1))):
                acc = old[(org, dim, grain, per, g)]
                for j, v in enumerate(vec):
                    acc[j] += v
    old = {k: v[:n0] for k, v in old.items()}
    rows = [(*k, *v) for k, v in old.items() if any(v)]
    trees = {k: v for k, v in m.to_trees(rows).items() if any(v)}
    assert trees == {k: v[:n0] for k, v in plain(b.rows, fenwick).items() if k[2] != "y"}
    back = m.to_plain([(*k, *v) for k, v in trees.items()])
    assert {k: v for k, v in back.items() if any(v)} == {k: v for k, v in old.items()
                                                          if any(v)}


def test_the_migration_to_two_levels_gives_the_ledger_s_buckets_and_goes_back():
    """figures 0007 rewrites 0004's Fenwick trees as the ledger now writes them, and back
    (December's month node again, from the year: the two levels keep months 1..11)."""
    import importlib

    m = importlib.import_module("zhenggai.figures.migrations.0007_two_level_buckets")
    assert m.COUNTERS == COUNTERS  # written for the counters as they are now
    r = random.Random(7)
    b = Book()
    for _i in range(400):
        day = dt.date(2023, 10, 1) + dt.timedelta(days=r.randint(0, 500))
        b.rows[(1, r.randint(1, 2), r.randint(0, 3), 0, r.randint(0, 5), day)][
            r.randrange(N)] += r.choice([-1, 1, 2])
    b.rows[(1, 3, 0, 0, 9, dt.date(2024, 12, 5))][0] += 1  # a key only seen in December
    old = plain(b.rows, fenwick)
    rows = [(*k, *v) for k, v in old.items() if k[2] != "y"]
    blocks = {k: v for k, v in m.to_blocks(rows).items() if any(v)}
    assert blocks == {k: v for k, v in b.bucket_rows().items() if k[2] != "y"}
    back = m.to_fenwick([(*k, *v) for k, v in b.bucket_rows().items()])
    assert {k: v for k, v in back.items() if any(v)} == {k: v for k, v in old.items()
                                                          if k[2] != "y"}


def test_day_sums_merged_then_spread_equal_booking_together():
    """A bulk load's payloads carry day sums (`day_arrays`); added up and spread onto the
    buckets once (`tree_arrays`), they give the buckets of booking everything in one book,
    across month ends, leap days and years (before 1970 too)."""
    from zhenggai.figures.ledger import merge_arrays, tree_arrays

    r = random.Random(5)
    books, both = [Book(), Book(), Book()], Book()
    for book in books:
        for _i in range(400):
            day = dt.date(1967, 11, 1) + dt.timedelta(days=r.randint(0, 1700))
            k = (r.randint(1, 2), r.randint(1, 3), r.randint(0, 9), r.randint(0, 3),
                 r.randint(0, 40), day)
            j, v = r.randrange(N), r.randint(-3, 3)
            book.rows[k][j] += v
            both.rows[k][j] += v
    merged = merge_arrays(*(b.day_arrays() for b in books))
    assert rows_from_arrays(*tree_arrays(*merged)) == both.bucket_rows() == plain(both.rows)


def test_sums_by_key_agree_when_keys_do_not_pack_into_one_number():
    import numpy as np

    from zhenggai.figures.ledger import sum_by_key

    r = random.Random(6)
    keys = np.array([(r.choice([0, 2**62]), r.randint(0, 3), r.choice([-(2**40), 5]))
                     for _i in range(500)], dtype=np.int64)
    vals = np.array([(r.randint(-2, 2), r.randint(0, 1)) for _i in range(500)], dtype=np.int64)
    want = defaultdict(lambda: [0, 0])
    for k, v in zip(keys.tolist(), vals.tolist(), strict=True):
        want[tuple(k)][0] += v[0]
        want[tuple(k)][1] += v[1]
    got_keys, got_vals = sum_by_key(keys, vals)
    assert [tuple(k) for k in got_keys.tolist()] == sorted(k for k, v in want.items() if any(v))
    assert {tuple(k): v for k, v in zip(got_keys.tolist(), got_vals.tolist(), strict=True)} == {
        k: v for k, v in want.items() if any(v)}
