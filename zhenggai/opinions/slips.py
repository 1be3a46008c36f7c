"""Receipt slips for paper forms (纸质意见表的回执条).

A clerk prints a sheet of slips. Each slip is an unused receipt: a receipt code, printed on
the part the worker keeps, and a slip number, printed on the tab that goes with the paper
form into the box. Only the code's hash is stored (receipts.py), with the number; the code
is shown on the printed sheet once and never again. Workers take slips from a pile, so
nobody learns who holds which.

When a clerk types a form in with its slip number (`submit_paper`), the opinion is stored
anonymously, like any other, with a receipt whose hash is the slip's; the slip forgets its
hash and keeps only that it was used. So a slip cannot be used twice, and nothing stored
links a printed slip (its number, its sheet) to the opinion it became: the opinion keeps
the day it was typed in and no more (README, "Security and anonymity").

A slip number is eight digits, the last a check digit (Damm's algorithm: it catches every
single wrong digit and every swap of two neighbours), so that a typing error is refused
instead of taking somebody else's slip.
"""

from __future__ import annotations

import datetime as dt
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign, Phase
from zhenggai.campaigns.roles import has_role
from zhenggai.errors import CampaignEnded, Forbidden, InvalidInput, NotFound, Refused
from zhenggai.org import clock

from . import receipts
from .models import Channel, Slip

# Slips in one print: four A4 pages. Each code costs one argon2 hash (receipts.py), worked
# out on as many threads as there are argon2 slots, within a page request's time.
MAX_PRINT = 40

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2), (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9), (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8), (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4), (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5), (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def _damm(digits: str) -> int:
    i = 0
    for d in digits:
        i = _DAMM[i][int(d)]
    return i


def new_number() -> str:
    body = "".join(secrets.choice("0123456789") for _ in range(7))
    return body + str(_damm(body))


def pretty(number: str) -> str:
    return f"{number[:4]} {number[4:]}"


def normalise(text: str) -> str:
    """The slip number typed, without spaces or dashes; refused if it cannot be one."""
    number = "".join(ch for ch in str(text or "") if not ch.isspace() and ch != "-")
    if len(number) != 8 or not number.isascii() or not number.isdigit():
        raise InvalidInput(_("A slip number has 8 digits, like 3141 5926."))
    if _damm(number) != 0:
        raise InvalidInput(_("Slip number %(n)s has a typing error: check its digits."),
                           n=pretty(number))
    return number


@dataclass(frozen=True)
class PrintedSlip:
    number: str  # pretty
    receipt: str  # pretty; shown on this print only, never stored


def _clerk(actor, campaign: Campaign) -> None:
    if actor is None or actor.org_id != campaign.org_id or not has_role(actor, campaign,
                                                                        "clerk"):
        raise Forbidden(_("Only a clerk of this campaign may print slips or type in forms."))


def print_slips(campaign: Campaign, *, actor, count: int) -> list[PrintedSlip]:
    """`count` new unused slips for `campaign`, with their receipt codes (to print now)."""
    _clerk(actor, campaign)
    if not isinstance(count, int) or not 1 <= count <= MAX_PRINT:
        raise InvalidInput(_("Print between 1 and %(n)s slips at a time."), n=MAX_PRINT)
    if campaign.phase_on(clock.today(campaign.org_id)) == Phase.ENDED:
        raise CampaignEnded(campaign)
    codes = [receipts.new_code() for _ in range(count)]
    # slow by design (argon2): outside the transaction, on one thread per slot
    with ThreadPoolExecutor(max(1, min(settings.ARGON2_SLOTS, count))) as pool:
        hashes = list(pool.map(lambda c: receipts.hash_code(c, new=True), codes))
    for _attempt in range(5):
        numbers: set[str] = set()
        while len(numbers) < count:
            numbers.add(new_number())
        rows = [Slip(campaign=campaign, number=n, code_hash=h)
                for n, h in zip(numbers, hashes, strict=True)]
        try:
            with transaction.atomic():
                Slip.objects.bulk_create(rows)
        except IntegrityError:  # a number printed before: draw them again
            continue
        return [PrintedSlip(pretty(r.number), receipts.pretty(c))
                for r, c in zip(rows, codes, strict=True)]
    raise Refused(_("Could not draw new slip numbers. Try again."))


def check(campaign: Campaign, number: str) -> Slip:
    """The unused slip with this number, or why there is none."""
    number = normalise(number)
    slip = Slip.objects.filter(campaign=campaign, number=number).first()
    if slip is None:
        raise NotFound(_("No slip numbered %(n)s was printed for this campaign."),
                       n=pretty(number))
    if slip.used:
        raise Refused(_("Slip %(n)s was used already: each slip takes one form."),
                      n=pretty(number))
    return slip


def submit_paper(campaign: Campaign, *, actor, slip: str, text, unit=None, category=None,
                 received_on: dt.date | None = None, source_ref: str = ""):
    """A clerk types in an anonymous paper form with its slip's number: the opinion is
    stored like any anonymous one, and the slip's code becomes its receipt."""
    from . import intake

    _clerk(actor, campaign)
    number = normalise(slip)
    with transaction.atomic():
        found = check(campaign, number)
        # Taken in this transaction: a second clerk typing the same number waits, then
        # finds it used.
        if not Slip.objects.filter(pk=found.pk, used=False).update(used=True, code_hash=""):
            raise Refused(_("Slip %(n)s was used already: each slip takes one form."),
                          n=pretty(number))
        return intake.submit_opinion(
            campaign, text=text, channel=Channel.PAPER, anonymous=True, unit=unit,
            category=category, received_on=received_on or clock.today(campaign.org_id),
            receipt=False,
            code_hash=found.code_hash, source_ref=source_ref)
