"""Numbers as people say them, in the reader's language: the one place the pages, the
exports and the CLI turn a share, a duration, a tonnage or a chance into words
(`{% load human %}` in a template: figures/templatetags/human.py).

"10.1%", not 0.101; "7 h 50 min" / "7小时50分", not 470; "1,410,000 t" / "141万吨", not
1410000.0; "about 5%", not 0.051."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext as _


def _zh() -> bool:
    return (get_language() or "").lower().startswith("zh")


def _trim(s: str) -> str:
    """"141.0" → "141"; "12.50" → "12.5"."""
    return s.rstrip("0").rstrip(".") if "." in s else s


def number(value, decimals: int = 0) -> str:
    """Thousands separated: 1410000 → "1,410,000"; None → "—"."""
    if value is None or value == "":
        return "—"
    return f"{float(value):,.{decimals}f}"


def percent(value, decimals: int = 1) -> str:
    """A share (0–1) as a percentage: 0.1007 → "10.1%"."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{decimals}f}%"


def signed_percent(value, decimals: int = 1) -> str:
    """A difference as a signed percentage: 0.052 → "+5.2%", -0.031 → "−3.1%"."""
    if value is None or value == "":
        return "—"
    p = round(float(value) * 100, decimals)
    if p == 0:
        return f"{0:.{decimals}f}%"
    return f"{'+' if p > 0 else '−'}{abs(p):.{decimals}f}%"


def chance(value) -> str:
    """A probability as a whole percentage, never a bare 0.051: "5%", "under 1%",
    "over 99%"."""
    if value is None or value == "":
        return "—"
    p = float(value) * 100
    if p <= 0:
        return "0%"
    if p >= 100:
        return "100%"
    if p < 1:
        return _("under 1%")
    if p > 99:
        return _("over 99%")
    return f"{round(p)}%"


def minutes(value) -> str:
    """A duration in minutes: 470 → "7 h 50 min" (English) / "7小时50分" (Chinese)."""
    if value is None or value == "":
        return "—"
    total = round(float(value))
    sign, total = ("−" if total < 0 else ""), abs(total)
    h, m = divmod(total, 60)
    if _zh():
        if not h:
            return f"{sign}{m}分钟"
        return f"{sign}{h}小时{m}分" if m else f"{sign}{h}小时"
    if not h:
        return f"{sign}{m} min"
    return f"{sign}{h} h {m} min" if m else f"{sign}{h} h"


def tonnes(value, decimals: int = 0) -> str:
    """A tonnage with its unit: 1410000 → "1,410,000 t" / "141万吨"; small amounts keep
    `decimals` (87.34, 1 → "87.3 t" / "87.3吨")."""
    if value is None or value == "":
        return "—"
    v = float(value)
    if _zh():
        if abs(v) >= 1e8:
            return f"{_trim(f'{v / 1e8:.2f}')}亿吨"
        if abs(v) >= 1e4:
            return f"{_trim(f'{v / 1e4:.1f}')}万吨"
        return f"{v:,.{decimals}f}吨"
    return f"{v:,.{decimals}f} t"
