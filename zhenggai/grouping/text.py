"""Normalising and tokenising opinion text for matching (Chinese, English and mixed).

normalise(): NFKC (full-width letters, digits and punctuation become half-width), Traditional
to Simplified Chinese (compact table in _t2s), Chinese numerals before 号/號 or after 第 become
digits ("八号炉" matches "8号炉").

tokens(): one list of string tokens, in order of appearance:
- Chinese (and Japanese/Korean) runs: every character and every pair of adjacent characters
  (unigrams + bigrams, the combination that works best for Chinese retrieval without a
  dictionary segmenter);
- English and other alphabetic words: lower case, light "S-stemmer" (Harman 1991), a short
  stop list; camelCase words also give their parts (``NameNode`` -> namenode, name, node);
- numbers: ``#`` + the integer without leading zeros (``8``, ``No. 8``, ``008`` -> ``#8``);
- numbered things ("8号", "第8", "No. 8", "#8", "8#"): also ``№8``, an identifier token that
  doubles the weight of the number and lets clustering keep "8号炉" apart from "3号炉";
- codes: letter/digit chunks joined by ``-_./:`` or mixing letters and digits keep a token for
  the whole code (``HDFS-1234`` -> ``hdfs-1234``) besides their parts (``hdfs``, ``#1234``).

words(), shared_words(): the words a clerk reads ("共同词语"): Chinese cut into words by a
dictionary segmenter (rjieba, the Rust port of jieba), never into character fragments.

char_text(): the normalised, lower-cased, space-collapsed text whose character 2-4-grams the
engine's second lexical view reads.
"""

from __future__ import annotations

import re
import unicodedata

from ._t2s import T2S

__all__ = ["char_text", "display", "latin_char_text", "normalise", "shared_words", "tokens",
           "words"]

# Lucene's default English stop set: short, standard, and harmless for duplicate detection.
STOP = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with".split()
)

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKEN = re.compile(
    rf"(?P<cjk>[{_CJK}]+)"
    r"|(?P<code>[A-Za-z0-9]+(?:[-_./:][A-Za-z0-9]+)*)"
    r"|(?P<word>[^\W\d_]+)"
)
_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^\W\d_]+")
_CAMEL = re.compile(r"[a-z][A-Z]|[A-Z]{2}[a-z]")
_SEP = re.compile(r"[-_./:]")
_VOWEL = re.compile(r"[aeiouy]")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "零〇一二两三四五六七八九十百千"
_CN_NUMBERED = re.compile(rf"第([{_CN_NUM}]+)|([{_CN_NUM}]+)(?=号)")

_IDENT = re.compile(r"(?:\bno\.?|#|第)\s*(\d+)|(\d+)\s*(?:号|#)", re.IGNORECASE)
IDENT = "№"
MAX_CODE = 40  # longer chunks (URLs, paths) only give their parts


def _cn_to_int(s: str) -> int | None:
    total, digit = 0, None
    for ch in s:
        if ch in _CN_DIGITS:
            if digit is not None:  # digit by digit, e.g. 一〇八
                digit = digit * 10 + _CN_DIGITS[ch]
            else:
                digit = _CN_DIGITS[ch]
        else:
            unit = _CN_UNITS[ch]
            total += (1 if digit is None else digit) * unit
            digit = None
    total += digit or 0
    return total


def _replace_cn_number(m: re.Match) -> str:
    if m.group(1) is not None:
        return f"第{_cn_to_int(m.group(1))}"
    return str(_cn_to_int(m.group(2)))


def normalise(text: str) -> str:
    """Width (NFKC), script (Traditional -> Simplified) and Chinese numerals; keeps case."""
    text = unicodedata.normalize("NFKC", text).translate(T2S)
    if "号" in text or "第" in text:
        text = _CN_NUMBERED.sub(_replace_cn_number, text)
    return text


_SPACE = re.compile(r"[\s\x00]+")


def char_text(text: str) -> str:
    """The text the character n-gram channel reads: :func:`normalise`, lower case, every run of
    white space (and NUL) one space, stripped."""
    return _SPACE.sub(" ", normalise(text).lower()).strip()


_CJK_RUN = re.compile(rf"[{_CJK}]+")


def latin_char_text(text: str) -> str:
    """:func:`char_text` without its Chinese (and Japanese/Korean) characters: what the
    character n-gram view reads. Han text already gives BM25F every character and every
    pair of adjacent characters; its character n-grams again would count the same surface
    twice (and reward long shared templates), which measurably hurts Chinese retrieval. For
    alphabetic text the n-grams add what word tokens miss: word parts and word order."""
    return _SPACE.sub(" ", _CJK_RUN.sub(" ", char_text(text))).strip()


def stem(word: str) -> str:
    """Light English stemming: regular plurals only (an S-stemmer, predictable for clerks)."""
    if len(word) <= 3 or word[-1] != "s" or not _VOWEL.search(word[:-1]):
        return word  # short words and acronyms such as "hdfs" stay as they are
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith(("us", "ss", "is")):
        return word
    return word[:-1]


def _word(w: str, out: list[str]) -> None:
    if _CAMEL.search(w):
        low = w.lower()
        out.append(stem(low))
        for p in _PARTS.findall(w):
            p = p.lower()
            if p != low and p not in STOP and len(p) > 1:
                out.append(stem(p))
        return
    w = w.lower()
    if w not in STOP and (len(w) > 1 or not w.isascii()):
        out.append(stem(w) if w.isascii() else w)


def _number(d: str, out: list[str]) -> None:
    out.append("#" + (d.lstrip("0") or "0"))


def tokens(text: str) -> list[str]:
    """Tokens of ``text`` after :func:`normalise` (see the module docstring)."""
    out: list[str] = []
    text = normalise(text)
    for m in _IDENT.finditer(text):
        out.append(IDENT + ((m.group(1) or m.group(2)).lstrip("0") or "0"))
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        s = m.group()
        if kind == "cjk":
            out.extend(s)
            out.extend(s[i : i + 2] for i in range(len(s) - 1))
        elif kind == "code":
            if s.isdigit():
                _number(s, out)
            elif s.isalpha():
                _word(s, out)
            else:
                if len(s) <= MAX_CODE:
                    out.append(s.lower())
                for part in _SEP.split(s):
                    if part.isdigit():
                        _number(part, out)
                    elif part.isalpha():
                        _word(part, out)
                    else:  # mixed letters and digits, e.g. "v2", "No8", "HDFS1234"
                        for p in _PARTS.findall(part):
                            if p.isdigit():
                                _number(p, out)
                            else:
                                _word(p, out)
        else:
            _word(s, out)
    return out


def display(token: str) -> str:
    """A token as a clerk would read it (numbers lose their ``#``)."""
    return token[1:] if token[:1] in ("#", IDENT) else token


try:  # a dictionary word segmenter for display (rjieba: jieba's dictionary, in Rust)
    from rjieba import cut as _cut
except ImportError:  # pragma: no cover - a declared dependency; bigrams would be fragments
    _cut = None

#: Function words that are not worth highlighting.
_ZH_STOP = frozenset("的 了 是 在 和 有 也 都 就 不 没 很 我 我们 你 他 她 它 这 那 这个 那个 "
                     "一个 没有 还 又 把 被 给 让 对 说 要 会 能 可以 什么 怎么 因为 所以 "
                     "但是 而且 如果 已经 还是 或者 一直 非常 太 请 希望".split())
_WORDISH = re.compile(rf"[{_CJK}]|[^\W_]")


def words(text: str) -> list[str]:
    """The distinct words of ``text`` worth highlighting, in order: Chinese words of two or
    more characters (segmented), English words (lower case, not stop words), numbers."""
    out: list[str] = []
    norm = normalise(text)
    pieces = _cut(norm) if _cut is not None else _TOKEN.findall(norm)
    for w in pieces:
        w = w if isinstance(w, str) else "".join(w)
        w = w.strip()
        if not w or not _WORDISH.search(w):
            continue
        if re.fullmatch(rf"[{_CJK}]+", w):
            if len(w) >= 2 and w not in _ZH_STOP:
                out.append(w)
        else:
            for m in _TOKEN.finditer(w):
                x = m.group().lower()
                if x.isdigit() or (x not in STOP and len(x) > 1 and not
                                   re.fullmatch(rf"[{_CJK}]+", x)):
                    out.append(x)
    return list(dict.fromkeys(out))


def shared_words(a: str, b: str, limit: int = 12) -> list[str]:
    """Words of ``a`` that ``b`` also has (:func:`words`), in ``a``'s order."""
    wb = set(words(b))
    return [w for w in words(a) if w in wb][:limit]
