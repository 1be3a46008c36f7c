"""Receipt codes for anonymous proposers.

A code is 16 characters of Crockford base32: 80 random bits, shown as XXXX-XXXX-XXXX-XXXX.
Only an argon2id hash of it is stored. The salt is fixed so that a code can be found by its
hash; with 80 random bits behind it no table of precomputed hashes is possible, and argon2
makes each guess slow. A lost code cannot be recovered: nothing here can recreate it.
"""

from __future__ import annotations

import secrets

from argon2.low_level import Type, hash_secret_raw
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import InvalidInput, NotFound

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


def hash_code(code: str) -> str:
    raw = hash_secret_raw(
        code.encode(), _SALT, time_cost=settings.RECEIPT_ARGON2_TIME_COST,
        memory_cost=settings.RECEIPT_ARGON2_MEMORY_KIB, parallelism=1, hash_len=32,
        type=Type.ID,
    )
    return raw.hex()


def redeem(text: str):
    """The receipt holder for a code, to act as the proposer of that opinion."""
    from zhenggai.problems.rules import ReceiptHolder

    from .models import Receipt

    code = normalise(text)
    try:
        receipt = Receipt.objects.select_related("opinion").get(code_hash=hash_code(code))
    except Receipt.DoesNotExist:
        raise NotFound(
            _("No opinion has this receipt. Check the code; a lost receipt cannot be recovered.")
        ) from None
    return ReceiptHolder(receipt.opinion)
