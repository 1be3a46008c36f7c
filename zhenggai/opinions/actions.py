"""Intake of opinions (鸣放), from every channel, named or anonymous."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign, Phase
from zhenggai.errors import InvalidInput, Refused
from zhenggai.figures.models import UnbookedOpinion
from zhenggai.grouping.models import IndexLog
from zhenggai.org.models import Category, Member, Unit
from zhenggai.text import clean as clean_text

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
    text = clean_text(text)
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
    code_hash = receipts.hash_code(code, new=True) if code else None
    opinion = Opinion(
        org_id=campaign.org_id, campaign=campaign, text=text, channel=channel,
        received_on=day, received_at=None if anonymous else at, anonymous=anonymous,
        author=author, unit=unit, category=category, source_ref=source_ref,
    )
    try:
        _store(opinion, code_hash)
    except IntegrityError:
        if source_ref and Opinion.objects.filter(org_id=campaign.org_id,
                                                 source_ref=source_ref).exists():
            raise Refused(_("This row was imported already.")) from None
        raise
    return Submitted(opinion, receipts.pretty(code) if code else None)


_FIELDS = list(Opinion._meta.concrete_fields)
_INSERT = (f"INSERT INTO {Opinion._meta.db_table} ({', '.join(f.column for f in _FIELDS)}) "
           f"VALUES ({', '.join(['%s'] * len(_FIELDS))})")
_RECEIPT = f"INSERT INTO {Receipt._meta.db_table} (id, opinion_id, code_hash) "
_LOG = f"INSERT INTO {IndexLog._meta.db_table} (opinion_id, campaign_id) "
_UNBOOKED = f"INSERT INTO {UnbookedOpinion._meta.db_table} (opinion_id) "


def _store(opinion: Opinion, code_hash: str | None) -> None:
    """The opinion, its receipt, its index log row and its place in the figures' queue
    (figures.ledger.book_pending), all or nothing.

    Intake is the busiest write there is (bench/intake.py). The ORM's insert and a
    transaction's round trips cost more than the rows, so this is plain SQL: on PostgreSQL
    one statement, atomic on its own; on SQLite one IMMEDIATE transaction."""
    values = [f.get_db_prep_save(getattr(opinion, f.attname), connection) for f in _FIELDS]
    if connection.vendor == "postgresql":
        sql = ("WITH o AS (" + _INSERT + " RETURNING id)"
               + (f", r AS ({_RECEIPT} SELECT id, id, %s FROM o)" if code_hash else "")
               + f", l AS ({_LOG} SELECT id, %s FROM o)"
               + f", u AS ({_UNBOOKED} SELECT id FROM o) SELECT id FROM o")
        params = [*values, *([code_hash] if code_hash else []), opinion.campaign_id]
        # Inside a caller's transaction, a savepoint keeps a refused row from spoiling it.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            with connection.cursor() as cur:
                cur.execute(sql, params)
    else:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(_INSERT, values)
            if code_hash:
                cur.execute(_RECEIPT + "VALUES (%s, %s, %s)", [opinion.pk, opinion.pk, code_hash])
            cur.execute(_LOG + "VALUES (%s, %s)", [opinion.pk, opinion.campaign_id])
            cur.execute(_UNBOOKED + "VALUES (%s)", [opinion.pk])
    opinion._state.adding = False
    opinion._state.db = connection.alias
