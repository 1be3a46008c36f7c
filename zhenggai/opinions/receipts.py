"""Receipt codes for anonymous proposers.

A code is 16 characters of Crockford base32: 80 random bits, shown as XXXX-XXXX-XXXX-XXXX.
Only an argon2id hash of it is stored. The salt is fixed so that a code can be found by its
hash; with 80 random bits behind it no table of precomputed hashes is possible, and argon2
makes each guess slow. A lost code cannot be recovered: nothing here can recreate it.

Look-ups are throttled (security/throttle.py: failures per address and per code prefix) and
every hash takes one of a few argon2 slots (security/slots.py), so guessing can neither
succeed nor take the server from everyone else. A right and a wrong code cost the same hash
and one indexed look-up, so the answer's timing does not tell them apart.
"""

from __future__ import annotations

import secrets

from argon2.low_level import Type, hash_secret_raw
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import InvalidInput, NotFound
from zhenggai.security import slots, throttle

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 16  # 16 × 5 bits = 80 bits
_SALT = b"zhenggai-receipt-v1"
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def pretty(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise(text: str) -> str:
    code = "".join(ch for ch in (text or "").upper() if ch.isalnum()).translate(_CONFUSABLE)
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        raise InvalidInput(_("A receipt code has 16 letters and digits, like 7KQ2-M9XD-4HTR-8WJB."))
    return code


def hash_code(code: str, *, new: bool = False) -> str:
    """The stored form of a code. Holds an argon2 slot; raises slots.Busy if none is free.
    A new receipt (an anonymous opinion coming in) waits longer for one than a look-up:
    it is never a guess, and a burst of submissions should queue, not be turned away."""
    with slots.slot(settings.ARGON2_SUBMIT_WAIT_S if new else None):
        raw = hash_secret_raw(
            code.encode(), _SALT, time_cost=settings.RECEIPT_ARGON2_TIME_COST,
            memory_cost=settings.RECEIPT_ARGON2_MEMORY_KIB, parallelism=1, hash_len=32,
            type=Type.ID,
        )
    return raw.hex()


def redeem(text: str, *, address: str | None = None):
    """The receipt holder for a code, to act as the proposer of that opinion.

    `address` is the client's (security.address.client_address); with it, failed look-ups
    also count against the address's budget. Raises throttle.Throttled once a budget is
    spent, before any hashing."""
    from zhenggai.problems.rules import ReceiptHolder

    from .models import Receipt

    code = normalise(text)
    keys = [("receipt_prefix", throttle.prefix_bucket(code))]
    if address is not None:
        keys.append(("receipt_address", address))
    throttle.check(*keys)
    receipt = Receipt.objects.select_related("opinion").filter(
        code_hash=hash_code(code)).first()
    if receipt is None:
        throttle.failed(*keys)
        raise NotFound(
            _("No opinion has this receipt. Check the code; a lost receipt cannot be recovered.")
        )
    return ReceiptHolder(receipt.opinion)
