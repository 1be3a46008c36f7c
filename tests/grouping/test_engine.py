"""The grouping engine: search, clustering, incremental index upkeep, embeddings."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhenggai.grouping import GroupingEngine

OPINIONS = {
    1: "8号炉漏水严重，请尽快维修",
    2: "3号炉漏水严重，请尽快维修",
    3: "食堂饭菜价格太贵，希望降价",
    4: "The canteen food is far too expensive, please lower the prices",
    5: "HDFS-1234 NameNode crashes on startup after upgrade",
    6: "宿舍热水经常停，洗澡很不方便",
    7: "No. 8 furnace is leaking water badly",
    8: "班车发车时间不合理，下夜班要等一个小时",
    9: "Overtime pay has been late for two months",
    10: "厂区道路坑洼不平，雨天积水",
}


@pytest.fixture
def engine():
    eng = GroupingEngine()
    for i, t in OPINIONS.items():
        eng.add(i, t)
    return eng


def top(eng, text, k=1):
    return [h.id for h in eng.query(text, k)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("八號爐漏水嚴重,請儘快維修", 1),  # Traditional, half-width comma
        ("８号炉漏水了，赶紧修", 1),  # full-width digit
        ("食堂的饭菜太贵了", 3),
        ("canteen prices are too expensive", 4),
        ("ＨＤＦＳ－１２３４ namenode crash at startup", 5),
        ("宿舍经常停热水", 6),
        ("the No.8 furnace leaks water", 7),
        ("下夜班班车要等很久", 8),
        ("overtime pay late", 9),
        ("雨天厂区道路积水", 10),
    ],
)
def test_duplicates_are_found_first(engine, query, expected):
    assert top(engine, query) == [expected]


def test_numbers_decide_between_otherwise_equal_opinions(engine):
    hits = engine.query("3号炉漏水严重", 2)
    assert [h.id for h in hits] == [2, 1]
    assert hits[0].score > hits[1].score
    assert top(engine, "8号炉漏水严重") == [1]
    groups = engine.cluster(threshold=0.5)
    assert not any({1, 2} <= set(g) for g in groups)


def test_unrelated_opinions_score_low_and_stay_apart(engine):
    assert engine.similarity("食堂饭菜太贵", "宿舍热水经常停") < 0.1
    assert engine.similarity("canteen food too expensive", "NameNode crashes on startup") == 0
    assert engine.query("完全无关的内容：天气预报", 3) == [] or all(
        h.similarity < 0.2 for h in engine.query("完全无关的内容：天气预报", 3))
    assert engine.cluster(threshold=0.5) == [[i] for i in sorted(OPINIONS)]


def test_similarity_is_symmetric_and_bounded(engine):
    a, b = "8号炉漏水严重", "8号炉漏水，请维修"
    assert engine.similarity(a, b) == pytest.approx(engine.similarity(b, a))
    assert engine.similarity(a, a) == pytest.approx(1.0)
    assert 0 < engine.similarity(a, b) < 1
    hit = engine.query(OPINIONS[3], 1)[0]
    assert hit.id == 3 and hit.similarity == pytest.approx(1.0, abs=1e-3)


def test_clusters_group_near_duplicates_in_both_languages():
    eng = GroupingEngine()
    eng.add_many(enumerate([
        "食堂饭菜价格太贵，希望降价",          # 0
        "食堂飯菜價格太貴，希望降價",          # 1 Traditional
        "食堂的饭菜价格太贵了",               # 2
        "The canteen food is too expensive",  # 3
        "canteen food too expensive!!",       # 4
        "8号炉漏水严重",                      # 5
        "八号炉漏水很严重",                   # 6
        "宿舍热水经常停",                     # 7
    ]))
    groups = eng.cluster(threshold=0.5)
    assert [0, 1, 2] in groups and [3, 4] in groups and [5, 6] in groups and [7] in groups


def test_shared_terms_are_the_words_to_highlight(engine):
    terms = engine.shared_terms("八號爐漏水，No. 8", 1)
    assert terms[0] == "8"
    assert "漏水" in terms and "号炉" in terms
    assert "漏" not in terms  # covered by 漏水
    assert engine.shared_terms("HDFS-1234 crash", 5) == ["hdfs-1234", "hdfs", "1234", "crash"]
    assert engine.shared_terms("天气预报", 5) == []


def test_query_id_excludes_the_item_itself(engine):
    hits = engine.query_id(1, 3)
    assert hits[0].id == 2 and 1 not in [h.id for h in hits]


def test_remove_and_re_add_keep_the_index_consistent(engine):
    assert engine.remove(3) and not engine.remove(3)
    assert 3 not in engine and len(engine) == len(OPINIONS) - 1
    assert 3 not in top(engine, "食堂饭菜价格太贵", 10)
    engine.add(1, "食堂饭菜价格太贵")  # re-adding an id replaces its text
    assert top(engine, "食堂饭菜价格太贵") == [1]
    assert 1 not in top(engine, "8号炉漏水严重", 10)
    rest = {i: t for i, t in OPINIONS.items() if i != 3}
    rest[1] = "食堂饭菜价格太贵"
    fresh = GroupingEngine()
    fresh.add_many(sorted(rest.items()))
    for q in ["食堂饭菜太贵", "8号炉漏水", "overtime pay", "No. 8 furnace"]:
        got = [(h.id, round(h.score, 4)) for h in engine.query(q, 5)]
        want = [(h.id, round(h.score, 4)) for h in fresh.query(q, 5)]
        assert got == want, q


def test_merges_and_bulk_adds_give_the_same_answers_as_single_adds():
    texts = [f"{n}号{eq}{p}" for n in range(1, 8) for eq in ("高炉", "水泵", "风机")
             for p in ("漏水", "噪音大", "温度过高")]
    single = GroupingEngine()
    for i, t in enumerate(texts):
        single.add(i, t)
    merging = GroupingEngine(merge_min=16, merge_fraction=0.1)  # merges all the time
    bulk = GroupingEngine()
    bulk.add_many(enumerate(texts), chunk=20)
    for i, t in enumerate(texts):
        merging.add(i, t)
        if i % 7 == 3:
            merging.remove(i - 2)
            merging.add(i - 2, texts[i - 2])
    assert merging._index.rf > 0 and bulk._index.rf > 0  # frozen segments were really used
    for q in ["3号高炉漏水", "水泵噪音大", "No. 5 fan", "风机温度过高"]:
        want = [(h.id, round(h.score, 3)) for h in single.query(q, 8)]
        assert [(h.id, round(h.score, 3)) for h in merging.query(q, 8)] == want
        assert [(h.id, round(h.score, 3)) for h in bulk.query(q, 8)] == want
    assert single.cluster() == merging.cluster() == bulk.cluster()


def test_pruned_search_matches_exhaustive_search_on_top_hits():
    texts = [f"{a}{b}{c}" for a in ("食堂", "宿舍", "班车", "澡堂", "车间")
             for b in ("饭菜", "热水", "空调", "座位", "照明")
             for c in ("太贵", "经常坏", "不够", "很差")]
    exact = GroupingEngine()
    pruned = GroupingEngine(max_postings=30, candidates=20)
    exact.add_many(enumerate(texts))
    pruned.add_many(enumerate(texts))
    for q in ["宿舍热水经常坏", "食堂饭菜太贵", "车间照明不够"]:
        got, want = pruned.query(q, 3), exact.query(q, 3)
        assert got[0].id == want[0].id  # the duplicate itself
        # the best scores are found (ties at the cut may pick another item of equal score)
        assert [round(h.score, 4) for h in got] == [round(h.score, 4) for h in want]


WORDS = ["漏水", "高炉", "食堂", "太贵", "热水", "pump", "leak", "canteen", "8号", "3号",
         "No. 5", "HDFS-12", "噪音", "宿舍", "班车", "late"]


@settings(max_examples=60, deadline=None)
@given(
    docs=st.dictionaries(
        st.integers(-50, 10_000),
        st.lists(st.sampled_from(WORDS), min_size=0, max_size=6).map(" ".join),
        max_size=25,
    ),
    removed=st.lists(st.integers(-50, 10_000), max_size=5),
    threshold=st.sampled_from([0.0, 0.3, 0.5, 0.9]),
    k=st.integers(1, 5),
)
def test_clustering_never_loses_or_duplicates_an_id(docs, removed, threshold, k):
    eng = GroupingEngine(merge_min=8)
    eng.add_many(docs.items())
    for i in removed:
        eng.remove(i)
    alive = sorted(set(docs) - set(removed))
    groups = eng.cluster(threshold=threshold, k=k)
    flat = [i for g in groups for i in g]
    assert sorted(flat) == alive and len(flat) == len(set(flat))
    assert all(g == sorted(g) for g in groups)
    # deterministic, and independent of insertion order
    other = GroupingEngine()
    other.add_many(sorted((i, docs[i]) for i in alive)[::-1])
    assert other.cluster(threshold=threshold, k=k) == groups
    subset = alive[::2]
    sub = [i for g in eng.cluster(subset, threshold=threshold, k=k) for i in g]
    assert sorted(sub) == subset


def test_cluster_rejects_unknown_ids(engine):
    with pytest.raises(KeyError):
        engine.cluster([1, 999])


class FakeEmbedder:
    """Puts every text about food on one axis and everything else on another."""

    def __init__(self):
        self.calls = 0

    def embed(self, texts):
        self.calls += len(texts)
        out = []
        for t in texts:
            food = any(w in t for w in ("食堂", "饭", "canteen", "food", "吃"))
            out.append([1.0, 0.0] if food else [0.0, 1.0])
        return np.array(out, np.float32)


def test_embeddings_are_optional_pending_then_fused():
    emb = FakeEmbedder()
    eng = GroupingEngine(embedder=emb, fusion_weight=0.5)
    eng.add_many([(1, "食堂饭菜太贵"), (2, "宿舍太贵"), (3, "canteen food costs too much")])
    assert eng.pending_embeddings() == 3 and emb.calls == 0  # nothing computed on add
    lexical = eng.query("吃饭太贵", 3)
    assert eng.embed_pending() == 3 and eng.pending_embeddings() == 0
    calls = emb.calls
    fused = eng.query("吃饭太贵", 3)
    assert emb.calls == calls + 1  # only the query was embedded
    assert {h.id for h in lexical} >= {1, 2}
    assert fused[0].id == 1
    by_id = {h.id: h for h in fused}
    # the better view's evidence: a weak cosine does not drag the lexical similarity down,
    # and the vector view nominates the English text that shares no word with the query
    assert by_id[2].similarity == next(h for h in lexical if h.id == 2).similarity
    assert 3 not in {h.id for h in lexical} and by_id[3].similarity > by_id[2].similarity
    eng.add(4, "食堂太贵")  # pending again: answered lexically meanwhile
    assert 4 in [h.id for h in eng.query("食堂太贵", 2)]
    eng.embed_pending()
    assert eng.embed_pending() == 0


class TableEmbedder:
    """A fixed vector per text (normalised), so each cosine of a test is known."""

    def __init__(self, table):
        self.table = table

    def embed(self, texts):
        out = np.array([self.table[t] for t in texts], np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_two_views_that_agree_rank_before_one_view_alone():
    """The order is the noisy-OR of the two views; the similarity for thresholds stays the
    better view's evidence. Opinion 2 shares fewer words with the query than opinion 1 but
    means the same (its cosine is well above the background), and opinion 1 means something
    else (cosine 0): 2 ranks first, though its similarity is the lower of the two."""
    table = {"食堂饭菜价格太贵": [1, 0, 0], "食堂饭菜价格表贴错了": [0, 1, 0],
             "菜太贵吃不起": [0.6, 0, 0.8], "宿舍热水经常停": [0, 0, 1],
             "班车时间不合理": [0, 0.7, 0.7], "更衣室柜子坏了": [0, 0.6, 0.8]}
    eng = GroupingEngine(embedder=TableEmbedder(table))
    eng.add_many(enumerate(list(table)[1:], start=1))
    eng.embed_pending()
    q = "食堂饭菜价格太贵"
    d = eng.signals(q)
    lex, cal = (dict(zip(d["id"].tolist(), d[k].tolist(), strict=True)) for k in ("lexical", "cal"))
    assert lex[1] > lex[2] > 0 and cal[1] == 0 < cal[2] < lex[1]  # the case described
    hits = eng.query(q, 3)
    assert [h.id for h in hits[:2]] == [2, 1]
    assert hits[0].similarity == pytest.approx(max(lex[2], cal[2]))
    assert hits[1].similarity == pytest.approx(lex[1])
    assert hits[1].similarity > hits[0].similarity
    # without the query's vector (embed=False, as at intake before it is computed): words decide
    assert eng.query(q, 2, embed=False)[0].id == 1


def test_zscore_fusion_reorders_candidates_and_keeps_pending_items():
    emb = FakeEmbedder()
    eng = GroupingEngine(embedder=emb)  # z-score fusion is the only rule
    eng.add_many([(1, "食堂饭菜太贵"), (2, "宿舍太贵"), (3, "canteen food costs too much"),
                  (4, "班车太贵")])
    eng.embed_pending()
    eng.add(5, "食堂太贵了")  # embedding pending: still found, lexically
    hits = eng.query("吃饭太贵", 5)
    assert hits[0].id in (1, 5)
    assert {1, 2, 4, 5} <= {h.id for h in hits}
    assert all(0.0 <= h.similarity <= 1.0 for h in hits)
    with pytest.raises(TypeError):  # no other fusion rule is taken
        GroupingEngine(fusion="max")


def test_character_ngrams_see_word_order_that_words_alone_miss():
    docs = [(1, "water pipe leaks near the boiler room"),
            (2, "boiler pipe leaks near the water room")]  # the same bag of words
    words_only = GroupingEngine(char_ngrams=False)
    words_only.add_many(docs)
    both = GroupingEngine()
    both.add_many(docs)
    q = "boiler pipe leaks near water room"
    assert top(words_only, q, 2) == [1, 2]  # a tie, broken by id
    assert top(both, q, 2) == [2, 1]
    assert both.query(q, 2)[0].similarity == words_only.query(q, 2)[0].similarity  # unchanged
    # Chinese: BM25F's character pairs already see local order; the view leaves Han text
    # alone (a second count of the same characters hurt Chinese retrieval, issue 17)
    zh = GroupingEngine()
    zh.add_many([(1, "三号车间的工人反映食堂饭菜太贵"), (2, "食堂太贵，工人反映")])
    assert top(zh, "三号车间工人反映食堂的饭菜太贵", 1) == [1]
    assert zh.char_similarity("三号车间的工人", "三号车间的工人") == 0


def test_character_similarity_is_symmetric_and_bounded(engine):
    a, b = "boiler No. 8 leaks badly", "ＢＯＩＬＥＲ 8 is leaking, please repair"
    assert engine.char_similarity(a, b) == pytest.approx(engine.char_similarity(b, a))
    assert engine.char_similarity(a, a) == pytest.approx(1.0)
    assert 0 < engine.char_similarity(a, b) < 1
    assert engine.char_similarity("食堂饭菜太贵", "NameNode crashes") == 0
    assert engine.char_similarity("", "食堂") == 0
    with pytest.raises(ValueError):
        GroupingEngine(char_ngrams=False).char_similarity(a, b)


def test_character_frequencies_follow_adds_and_removes():
    eng = GroupingEngine()
    eng.add_many([(1, "8号炉漏水"), (2, "No. 8 furnace leaks"), (3, "宿舍热水经常停")])
    eng.add(2, "食堂饭菜太贵")  # replaces
    for i in (1, 2, 3):
        eng.remove(i)
    assert len(eng) == 0 and not eng._chars.df.any()
    eng.add(4, "8号炉漏水")
    assert top(eng, "八号炉漏水") == [4]


def test_intake_ranks_lexically_without_embedding_the_query():
    emb = FakeEmbedder()
    eng = GroupingEngine(embedder=emb)
    eng.add_many([(1, "食堂饭菜太贵"), (2, "宿舍太贵"), (3, "canteen food costs too much")])
    assert eng.query("吃饭太贵", 3) and emb.calls == 0  # nothing embedded yet: no query embedding
    eng.embed_pending()
    calls = emb.calls
    lexical = eng.query("吃饭太贵", 3, embed=False)
    assert emb.calls == calls
    assert lexical[0].id in (1, 2) and 3 not in [h.id for h in lexical]
    given = eng.query("吃饭太贵", 3, vector=[1.0, 0.0])
    assert emb.calls == calls and given[0].id == 1
    sig = eng.signals("吃饭太贵", vector=[1.0, 0.0])
    assert set(sig) == {"id", "score", "lexical", "char", "cosine", "cal"}
    assert len({len(v) for v in sig.values()}) == 1
    eng.add(4, "食堂太贵")  # pending: its cosine is unknown, and it is still found
    sig = eng.signals("食堂太贵", vector=[1.0, 0.0])
    assert np.isnan(sig["cosine"][list(sig["id"]).index(4)])
    assert top(eng, "食堂太贵", 1) == [4]


def test_ngram_table_is_sized_to_the_data_and_widens_exactly():
    rng = np.random.default_rng(5)
    # random Cyrillic letters: the view reads alphabetic text (Han is BM25F's alone)
    texts = ["".join(map(chr, rng.integers(0x0430, 0x0450, 40))) for _ in range(160)]
    small = GroupingEngine()
    small.add_many(OPINIONS.items())
    assert len(small._chars.df) == 2**16  # a small engine keeps a small table
    grown = GroupingEngine()
    for i, t in enumerate(texts):
        grown.add(i, t)
        if i % 9 == 4:
            grown.remove(i - 3)
    live = [(i, t) for i, t in enumerate(texts) if i in grown]
    fresh = GroupingEngine()
    fresh.add_many(live)
    # widened on the way (re-hashing the kept texts): the same table as one built at once
    assert grown._chars.bits == fresh._chars.bits == 18
    assert np.array_equal(grown._chars.df, fresh._chars.df)
    assert grown._chars.occupied == np.count_nonzero(grown._chars.df)
    for q in (texts[7][:20] + texts[9][20:], texts[5], texts[100][5:30]):
        want = [(h.id, round(h.score, 6), round(h.similarity, 6)) for h in fresh.query(q, 5)]
        assert [(h.id, round(h.score, 6), round(h.similarity, 6))
                for h in grown.query(q, 5)] == want
        assert grown.char_similarity(q, texts[5]) == fresh.char_similarity(q, texts[5])


def test_query_paths_agree(engine):
    # query_id ranks like a query with the item's own text, without the item
    for i in (1, 3, 7):
        got = [(h.id, round(h.score, 4)) for h in engine.query_id(i, 4)]
        assert got == [(h.id, round(h.score, 4)) for h in engine.query(OPINIONS[i], 4,
                                                                         exclude=[i])]
    # the char signal of a candidate is the char similarity of the two texts
    q = "8号炉漏水，请维修"
    sig = engine.signals(q)
    for i, c in zip(sig["id"].tolist(), sig["char"].tolist(), strict=True):
        assert c == pytest.approx(engine.char_similarity(q, OPINIONS[i]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-3, 2**40), max_size=300))
def test_sorted_unique_is_numpys_unique(xs):
    from zhenggai.grouping.engine.arrays import unique

    x = np.array(xs, np.int64)
    assert unique(x).tolist() == np.unique(x).tolist()


def test_clustering_scores_every_candidate_pair_exactly():
    """Clustering scores its candidate pairs from a dense block of the set's terms (a
    block of a few rows when the set has many distinct terms): each pair's similarity is
    the engine's own BM25F similarity of the two texts, whatever the block size."""
    from zhenggai.grouping.engine import clustering

    texts = {i: f"{n}号{eq}{p}，{w}" for i, (n, eq, p, w) in enumerate(
        (n, eq, p, w) for n in range(1, 6) for eq in ("高炉", "水泵", "pump", "风机")
        for p in ("漏水", "噪音大", "leaks badly") for w in ("请维修", "please fix", "很危险"))}
    eng = GroupingEngine()
    eng.add_many(texts.items())
    ix = eng._index
    ids = sorted(texts)[5:]
    rows = np.array([ix.id_row[i] for i in ids])
    loc, term, imp = ix.gather(rows)
    got = []
    for dense in (1 << 22, 1):  # one block for all rows; one row per block
        old, clustering._DENSE = clustering._DENSE, dense
        try:
            d = clustering.neighbours(len(ids), loc, term, imp, ix.idf(ix.df[term]),
                                      k=10, budget=256)
        finally:
            clustering._DENSE = old
        assert len(d.a) > 100
        for a, b, s in zip(d.a.tolist(), d.b.tolist(), d.sim.tolist(), strict=True):
            assert s == pytest.approx(eng.similarity(texts[ids[a]], texts[ids[b]]), abs=2e-3)
        got.append(d.sim)
    assert np.array_equal(got[0], got[1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-(1 << 63), (1 << 63) - 1)
                          | st.integers(-20, 20)), max_size=80))
def test_the_id_map_answers_as_a_dict(steps):
    """The index's id -> row map (numpy arrays folded from a small dict) behaves as a dict
    through adds, removes, re-adds and folds."""
    from zhenggai.grouping.engine.index import IdMap

    m, d = IdMap(fold=3), {}
    for row, (add, i) in enumerate(steps):
        if add and i not in d:
            m[i] = d[i] = row
        elif not add and i in d:
            assert m.pop(i) == d.pop(i)
        elif not add:
            with pytest.raises(KeyError):
                m.pop(i)
        assert len(m) == len(d) and (i in m) == (i in d)
    probe = sorted({i for _a, i in steps} | {1 << 70, -(1 << 70)})
    assert [m.get(i) for i in probe] == [d.get(i) for i in probe]
    small = [i for i in probe if -(1 << 63) <= i < 1 << 63]
    assert m.rows(np.array(small, np.int64)).tolist() == [d.get(i, -1) for i in small]


def test_many_ids_fold_and_clustering_rejects_huge_ids():
    eng = GroupingEngine()
    eng.add_many((i * 7919, f"{i % 50}号炉漏水") for i in range(70_000))
    assert len(eng._index.id_row.recent) < 70_000 and len(eng._index.id_row.keys) > 0
    assert 7919 * 69_999 in eng and 7919 * 70_000 not in eng
    assert eng.remove(7919 * 3) and 7919 * 3 not in eng and not eng.remove(7919 * 3)
    eng.add(7919 * 3, "3号炉漏水")
    assert eng.query("3号炉漏水", 1)[0].id in {7919 * i for i in range(3, 70_000, 50)}
    with pytest.raises(KeyError):
        eng.cluster([0, 1 << 64])
    with pytest.raises(KeyError):
        eng.cluster([0, 1])


def test_stored_vectors_keep_their_cosines_when_they_share_a_common_part():
    """A sentence encoder's vectors share a large common part; they are kept as int8 around
    a fixed centre, so their cosines with a query stay within a few ten-thousandths (about
    the distance between paraphrases), and the nearest are found in the exact order."""
    from zhenggai.grouping.engine import embeddings

    rng = np.random.default_rng(3)
    # 384 dimensions, two unrelated texts at a cosine of about 0.8, as multilingual-e5's
    common = rng.normal(size=384)
    v = common / np.linalg.norm(common) + rng.normal(scale=0.0255, size=(3000, 384))
    v = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    store = embeddings.EmbeddingStore()
    store.reserve(len(v))
    store.store_many(range(100), np.arange(100), v[:100])  # the centre: these hundred
    store.store_many(range(100, len(v)), np.arange(100, len(v)), v[100:])
    q = v[7] + rng.normal(scale=0.01, size=384).astype(np.float32)
    q /= np.linalg.norm(q)
    exact = v @ q
    err = np.abs(store.cosines(np.arange(len(v)), q) - exact)
    assert err.max() < 1e-3 and err.mean() < 2e-4
    assert np.abs(store.rows(np.arange(len(v))) - v).max() < 1e-3
    alive = np.ones(len(v), bool)
    rows, sims = store.top(q, 5, alive)
    assert rows.tolist() == np.argsort(-exact)[:5].tolist()
    assert np.abs(sims - exact[rows]).max() < 1e-3
    # Where every vector is stored whole (the centre at the origin), rounding is about
    # twice as coarse: the centre is what keeps it fine.
    whole = embeddings.EmbeddingStore()
    whole.reserve(len(v))
    whole.centre = np.zeros(384, np.float32)
    whole.store_many(range(len(v)), np.arange(len(v)), v)
    off = np.abs(whole.cosines(np.arange(len(v)), q) - exact).mean()
    assert off > 1.5 * err.mean()
