"""Array helpers shared by the index, the character view and clustering."""

from __future__ import annotations

import numpy as np


def ranges(start: np.ndarray, cnt: np.ndarray) -> np.ndarray:
    """The indices ``start[i] .. start[i] + cnt[i] - 1`` for every i, concatenated."""
    return np.repeat(start - np.cumsum(cnt) + cnt, cnt) + np.arange(int(cnt.sum()))
