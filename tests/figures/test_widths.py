"""The counters keep their values at the edges of their widths (counters.WIDE: 64-bit sums
of day numbers, the rest 32-bit on PostgreSQL), whichever way the buckets are written: a
bulk load's rows into an empty table (PostgreSQL: binary COPY, each field its own width),
through the upsert, and one action's few rows."""

import datetime as dt

import numpy as np
import pytest

from zhenggai.figures.counters import COUNTERS, INDEX, TOTAL, WIDE, N
from zhenggai.figures.ledger import GRAINS, write_bucket_arrays, write_buckets
from zhenggai.figures.models import FigureBucket
from zhenggai.figures.queries import sums

KEYS = 450  # more rows than one statement takes: the bulk paths (ledger._BATCH)
DAY = dt.date(2024, 5, 17)


def edge_values() -> np.ndarray:
    """One row of counters: the wide ones past 2**40, the narrow ones near 2**31 / 4 (four
    writes below must still fit), one of them negative."""
    vec = np.array([2**40 + 7 if c in WIDE else 2**29 + INDEX[c] for c in COUNTERS], np.int64)
    vec[INDEX["overdue"]] = -(2**29)
    return vec


@pytest.mark.django_db
def test_counters_keep_their_values_through_every_write_path(story):
    org = story.org.pk
    year = np.datetime64(DAY.replace(month=1, day=1), "D").astype(np.int64)
    keys = np.array([[org, TOTAL, GRAINS.index("y"), year, k] for k in range(KEYS)], np.int64)
    vec = edge_values()
    vals = np.tile(vec, (KEYS, 1))
    assert not FigureBucket.objects.exists()
    write_bucket_arrays(keys, vals)  # into the empty table
    write_bucket_arrays(keys, vals)  # through the upsert
    write_buckets({(org, TOTAL, "y", DAY.replace(month=1, day=1), 3): vec.tolist()})
    got = sums(org, dt.date(2025, 1, 1))
    assert len(got) == KEYS
    assert got[0] == (2 * vec).tolist()
    assert got[3] == (3 * vec).tolist()
    assert all(isinstance(v, int) for v in got[3])
    assert len(got[3]) == N
