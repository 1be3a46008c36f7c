"""One check of a page in Chromium, shared by the browser walks (roles, lists, production).

At each width: no sideways scroll, no raw key where words belong, no bare decimal, no English
left in a Chinese page; once: no Content-Security-Policy violation (Walk.page records them)
and no text below WCAG AA contrast; a full-page screenshot per width (kept out of git).
What counts as a raw key, and which English words a Chinese page may show, are the caller's.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.test_browser import CONTRAST_JS

WIDTHS = ((360, 740), (1920, 1080))  # a phone and a wall
# A programme's key shown as a word: lower-case words joined by underscores (verify_passed,
# not_thorough, t_per_h …).
RAW_KEY = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
# A decimal with no unit after it: 0.051, 470.00 (7.5 t, 10.1%, 5.12 t/m²·d are fine).
BARE = re.compile(r"(?<![\d.,\w])\d+\.\d+(?![\d.])(?!\s*(?:%|t\b|t/|吨|万|亿|h\b|min|分|"
                  r"小时|kg|m²))")
# English left in a Chinese page: a word of five letters or more (addresses are taken out
# first: a URL, or a path such as the one the not-found page quotes).
ENGLISH = re.compile(r"\b[A-Za-z]{5,}\b")
ENGLISH_OK = ("English", "Excel")  # the language switch and the ledger's file type
URL = re.compile(r"(?:https?://|(?<!\S)/)\S+")


def check(page, name: str, lang: str, *, shots: Path, prefix: str = "",
          widths=WIDTHS, raw_key: re.Pattern = RAW_KEY, decimals: bool = True,
          english_ok: tuple[str, ...] | None = ENGLISH_OK, contrast: bool = True,
          settle_ms: int = 100) -> None:
    """Check `page` as it is now (see the module); screenshots go to
    shots/<prefix><name>-<width>.png. `raw_key`: what a raw key looks like on these pages;
    `decimals=False` where the page quotes a version ("3.1"); `english_ok`: the English
    words a Chinese page may show (None: not checked); `contrast=False` only where a page
    is not read on a screen. The viewport is left at a phone's width."""
    shots.mkdir(parents=True, exist_ok=True)
    assert page.csp_violations == [], f"{name}: {page.csp_violations[:3]}"
    if contrast:
        bad = page.evaluate(CONTRAST_JS)
        assert bad == [], f"{name}: text below WCAG AA contrast: {bad[:5]}"
    for width, height in widths:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(settle_ms)
        scroll, inner = page.evaluate(
            "[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{name} at {width} px scrolls sideways: {scroll} > {inner}"
        text = URL.sub("", page.inner_text("body"))
        raw = raw_key.search(text)
        assert not raw, f"{name}: raw key {raw[0]!r}"
        if decimals:
            bare = BARE.findall(text)
            assert not bare, f"{name}: bare decimals {bare[:5]}"
        if lang == "zh-hans" and english_ok is not None:
            english = [w for w in ENGLISH.findall(text) if w not in english_ok]
            assert not english, f"{name}: English in the Chinese page: {english[:5]}"
        page.screenshot(path=str(shots / f"{prefix}{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
