"""``{{ text|highlight:words }}``: the text with the shared words wrapped in <mark>."""
import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from zhenggai.grouping.text import normalise

register = template.Library()


@register.filter
def highlight(text: str, words) -> str:
    text = str(text)
    words = sorted({w for w in (words or []) if w}, key=len, reverse=True)
    if not words:
        return escape(text)
    # Match on the normalised text (width, case, script) but mark the original characters,
    # which works where normalising keeps one character per character.
    norm = normalise(text)
    if len(norm) != len(text):
        norm, words = text, words
    pattern = re.compile("|".join(re.escape(w) for w in words))
    out, pos = [], 0
    for m in pattern.finditer(norm):
        out.append(escape(text[pos:m.start()]))
        out.append(mark_safe("<mark>") + escape(text[m.start():m.end()]) + mark_safe("</mark>"))
        pos = m.end()
    out.append(escape(text[pos:]))
    return mark_safe("".join(str(x) for x in out))
