"""The one cleaner of text that people type: every intake and every text field passes here
(problems/actions.py `_text`, the API's `Text` type, the pages' forms, the importer).

- text that is not valid Unicode (a lone surrogate, which no database stores) or that holds
  a NUL is refused with a clear message;
- bidirectional controls (RLO, LRI, …) are removed, so text shows in the order it was typed
  and cannot disguise what it says; other control characters except tab and new line too;
- text of only spaces and invisible characters (zero-width space, joiner, BOM…) is empty.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from zhenggai.errors import InvalidInput

# Bidirectional embedding, override and isolate controls, and the directional marks.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# Characters that show nothing: a text of only these (and spaces) is empty.
INVISIBLE = "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u3164\u115f"
_DROP = re.compile(f"[{BIDI_CONTROLS}\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(value) -> str:
    """The text to store: valid, without bidi or control characters, trimmed ("" when it
    shows nothing). Raises InvalidInput for text no database can hold."""
    text = "" if value is None else str(value)
    if _SURROGATE.search(text):
        raise InvalidInput(_("The text holds a character that is not valid Unicode (a lone "
                             "surrogate). Send it as UTF-8 text."))
    if "\x00" in text:
        raise InvalidInput(_("The text holds a NUL character, which text cannot contain."))
    text = _DROP.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    trimmed = text.strip()
    if not trimmed.strip(INVISIBLE + " \t\n\u3000"):
        return ""
    return trimmed.strip(INVISIBLE).strip()
