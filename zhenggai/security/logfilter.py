"""A logging filter that keeps secrets out of every log line: the request object (its body,
cookies and headers) is dropped from the record, and whatever still looks like a receipt
code, a bearer token or a password in the message or the traceback is blanked."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    # A receipt code, with or without its dashes (Crockford base32, 16 characters).
    re.compile(r"(?<![0-9A-Za-z])[0-9A-HJKMNP-TV-Z]{4}(?:-?[0-9A-HJKMNP-TV-Z]{4}){3}"
               r"(?![0-9A-Za-z])"),
    re.compile(r"(?i)(bearer\s+)\S+"),
    re.compile(r"(?i)((?:password|passwd|token|receipt|secret|csrfmiddlewaretoken|sessionid)"
               r"['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,}]+"),
]


def scrub(text: str) -> str:
    for p in _PATTERNS:
        text = p.sub(lambda m: (m.group(1) if m.groups() else "") + "[hidden]", text)
    return text


class NoSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        try:
            message = record.getMessage()
        except Exception:  # a broken format: keep the template only
            message = str(record.msg)
        record.msg, record.args = scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
