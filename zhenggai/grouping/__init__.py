"""Grouping near-duplicate opinions: a Django-free lexical (BM25F) search and clustering engine.

    from zhenggai.grouping import GroupingEngine
    eng = GroupingEngine()
    eng.add(1, "8号炉漏水")
    eng.query("八號爐漏水了", k=5)      # [Hit(id=1, score=..., similarity=...)]
    eng.cluster()                       # [[1]]
"""

from .engine import Embedder, GroupingEngine, Hit, Text
from .text import normalise, tokens

__all__ = ["Embedder", "GroupingEngine", "Hit", "Text", "normalise", "tokens"]
