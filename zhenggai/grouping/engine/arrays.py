"""Array helpers shared by the index, the character view and clustering."""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np


def ranges(start: np.ndarray, cnt: np.ndarray) -> np.ndarray:
    """The indices ``start[i] .. start[i] + cnt[i] - 1`` for every i, concatenated."""
    return np.repeat(start - np.cumsum(cnt) + cnt, cnt) + np.arange(int(cnt.sum()))


def unique(x: np.ndarray) -> np.ndarray:
    """The sorted distinct values of ``x``, as ``np.unique(x)``. Sort-based: plain
    ``np.unique`` (numpy 2.x) takes a hashing path that is 6-15 times slower on integers
    (1.8 ms against 0.3 ms for 16,000 rows, the vector cells a query reads)."""
    x = np.sort(x, axis=None)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        fn = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc
        return None
    if fn is not None:
        fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


_TRIM = _malloc_trim()


def give_back() -> None:
    """Return the memory a bulk step freed to the operating system (glibc ``malloc_trim``;
    nothing elsewhere).

    glibc raises its mmap threshold as large arrays are freed (up to 32 MB), after which
    every temporary array below it comes from the heap, and the freed heap stays in the
    process: after indexing 200,000 opinions, 170 MB of a 370 MB RSS was such free heap.
    The engine calls this at the end of its bulk steps (merging, clustering, training the
    vector cells), not per query (the heap's reuse is what keeps queries fast)."""
    if _TRIM is not None:
        _TRIM(0)
