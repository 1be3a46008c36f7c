"""Intake of opinions (鸣放), from every channel, named or anonymous."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign, Phase
from zhenggai.errors import InvalidInput, Refused
from zhenggai.figures.ledger import Book, write_buckets
from zhenggai.grouping.models import IndexLog
from zhenggai.org.models import Category, Member, Unit
from zhenggai.problems.state import OpinionRef

from . import receipts
from .models import Channel, Opinion, Receipt

MAX_TEXT = 5000


@dataclass(frozen=True)
class Submitted:
    opinion: Opinion
    receipt: str | None  # shown once to an anonymous proposer, never stored


def submit_opinion(campaign: Campaign, *, text: str, channel: str = Channel.WEB,
                   author: Member | None = None, anonymous: bool = False,
                   unit: Unit | None = None, category: Category | None = None,
                   received_on: dt.date | None = None, at: dt.datetime | None = None,
                   receipt: bool | None = None, source_ref: str = "") -> Submitted:
    """Take in one opinion. Anonymous ones get a receipt code (unless typed in from paper)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("An opinion must say something."))
    if len(text) > MAX_TEXT:
        raise InvalidInput(_("An opinion is at most %(n)s characters."), n=MAX_TEXT)
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown channel."))
    if anonymous == (author is not None):
        raise InvalidInput(_("An opinion is either anonymous or has an author, not both."))
    if author is not None and author.org_id != campaign.org_id:
        raise InvalidInput(_("The author is not a member of this organisation."))
    for thing in (unit, category):
        if thing is not None and thing.org_id != campaign.org_id:
            raise InvalidInput(_("Unit and category must belong to this organisation."))
    now = timezone.now()
    if at is not None and timezone.is_naive(at):
        raise InvalidInput(_("Times must carry a time zone."))
    at = at or now
    day = received_on or timezone.localdate(at)
    if day > timezone.localdate(now):
        raise InvalidInput(_("An opinion cannot be dated in the future."))
    if campaign.phase_on(day) == Phase.ENDED:
        raise Refused(_("Campaign “%(c)s” has ended."), c=campaign.name)
    if receipt is None:
        receipt = anonymous and channel != Channel.PAPER
    if receipt and not anonymous:
        raise InvalidInput(_("Only anonymous proposers get a receipt."))
    # The slow hash (argon2, by design) is worked out before the transaction, so that no
    # writer holds the database's write lock while it runs.
    code = receipts.new_code() if receipt else None
    code_hash = receipts.hash_code(code) if code else None
    opinion = Opinion(
        org_id=campaign.org_id, campaign=campaign, text=text, channel=channel,
        received_on=day, received_at=None if anonymous else at, anonymous=anonymous,
        author=author, unit=unit, category=category, source_ref=source_ref,
    )
    book = Book()
    book.opinion_received(campaign.org_id, OpinionRef(
        opinion.pk, day, anonymous, campaign.pk, opinion.unit_id, opinion.category_id))
    buckets = book.bucket_rows()
    try:
        # The opinion, its receipt, its index log row and its figures: one transaction.
        with transaction.atomic():
            opinion.save(force_insert=True)
            if code_hash:
                Receipt.objects.create(opinion=opinion, code_hash=code_hash)
            IndexLog.append(opinion.pk, campaign.pk)
            # Last: every intake of a day updates the same bucket rows, and holds their
            # locks from here to the commit.
            write_buckets(buckets)
    except IntegrityError:
        if source_ref and Opinion.objects.filter(org_id=campaign.org_id,
                                                 source_ref=source_ref).exists():
            raise Refused(_("This row was imported already.")) from None
        raise
    return Submitted(opinion, receipts.pretty(code) if code else None)
