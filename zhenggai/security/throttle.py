"""Throttles on guessing: receipt look-ups and log-ins.

Each guarded act has two keys: what is guessed at (a receipt's first four characters, an
account) and where the guesses come from (the client's address). Only failures count, so a
whole plant behind one NAT address, looking up its own receipts and signing in with its own
passwords, never meets the limit; a guesser meets it within a minute. The counters live in
the database, so every server process sees the same count, and a refused guess costs no
argon2.

Nothing stored names anybody: a key is a keyed hash (an address, an account) or one of a few
thousand buckets (a receipt prefix, shared by many receipts), and rows older than their
window are deleted as new ones come in.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import DomainError

from .models import Attempt

PREFIX_BUCKETS = 4096


class Throttled(DomainError):
    """Too many failed attempts: wait and try again. Nothing was checked."""

    code = "throttled"
    status = 429
    retry_after = 60


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int  # failures allowed per window
    window: int  # seconds

    def key(self, value: str) -> str:
        return f"{self.name}:{_digest(value)}"


def _digest(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode("utf-8", "replace"),
                    hashlib.sha256).hexdigest()[:40]


def prefix_bucket(code: str) -> str:
    """The bucket of a normalised receipt code: its first four characters, hashed into one of
    PREFIX_BUCKETS, so a stored bucket names no receipt."""
    return str(int(_digest(code[:4])[:8], 16) % PREFIX_BUCKETS)


def rules() -> dict[str, Rule]:
    t = settings.THROTTLES
    return {name: Rule(name, limit, window) for name, (limit, window) in t.items()}


def _clock() -> float:
    return time.time()


def _since(rule: Rule, now: float) -> int:
    return int(now) // rule.window * rule.window


def check(*pairs: tuple[str, str], now: float | None = None) -> None:
    """Raise Throttled if any (rule name, value) has used up its failures in this window."""
    now = _clock() if now is None else now
    all_rules = rules()
    wanted = {}
    for name, value in pairs:
        rule = all_rules[name]
        wanted[(rule.key(value), _since(rule, now))] = rule
    rows = Attempt.objects.filter(key__in=[k for k, _s in wanted],
                                  since__in={s for _k, s in wanted})
    for row in rows:
        rule = wanted.get((row.key, row.since))
        if rule is not None and row.count >= rule.limit:
            e = Throttled(_("Too many failed attempts. Wait a minute and try again."))
            e.retry_after = rule.window - int(now) % rule.window
            raise e


def failed(*pairs: tuple[str, str], now: float | None = None) -> None:
    """Count one failure under each (rule name, value), and forget windows long past."""
    now = _clock() if now is None else now
    all_rules = rules()
    table = connection.ops.quote_name(Attempt._meta.db_table)
    q = connection.ops.quote_name
    sql = (f"INSERT INTO {table} ({q('key')}, {q('since')}, {q('count')}) VALUES (%s, %s, 1) "
           f"ON CONFLICT ({q('key')}, {q('since')}) "
           f"DO UPDATE SET {q('count')} = {table}.{q('count')} + 1")
    with connection.cursor() as cur:
        for name, value in pairs:
            rule = all_rules[name]
            cur.execute(sql, [rule.key(value), _since(rule, now)])
    longest = max(r.window for r in all_rules.values())
    Attempt.objects.filter(since__lt=int(now) - 2 * longest).delete()
