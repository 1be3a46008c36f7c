"""Intake of opinions (鸣放), from every channel, named or anonymous: one set of rules, one
write for a single opinion and one for many.

Every way in goes through here. The submit page, the API and the replay call
`submit_opinion`; the paper-form importer (`Rules` then `store_many`) and the bulk loader
(`Rules`, then `write_rows` and `log_rows` inside its own transaction) write many at once.
Each rule refuses with one error class, the same on every path (errors.py): an ended
campaign is a 409 (`CampaignEnded`), an author of another organisation a 403
(`NotAMember`), bad input a 422 (`InvalidInput`).

What an opinion writes, all or nothing: its row; its receipt (anonymous, not from paper);
its row in the grouping index's log (grouping/service.py catches up from it); and its
figures: queued for the next figure read on a single write (figures.ledger.book_pending),
booked in the same transaction on a bulk one.

Anonymity (README, "Security and anonymity"): an anonymous opinion keeps no author and no
time finer than the day, and every opinion's id is random, so that ids do not order
opinions either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.api import idempotency
from zhenggai.campaigns.models import Campaign, Phase
from zhenggai.db import insert_rows
from zhenggai.errors import CampaignEnded, InvalidInput, NotAMember, Refused
from zhenggai.figures.ledger import Book
from zhenggai.figures.models import UnbookedOpinion
from zhenggai.grouping.models import IndexLog
from zhenggai.org.models import Category, Member, Unit
from zhenggai.problems import photos as photo_files
from zhenggai.problems.state import OpinionRef
from zhenggai.text import clean as clean_text

from . import receipts
from .models import Channel, Opinion, OpinionPhoto, PendingMeToo, Receipt, random_id

MAX_TEXT = 5000
# Looked up once: Django works out a Choices' values anew on every access, and an import
# checks a million rows.
_CHANNELS = frozenset(Channel.values)
_ENDED = Phase.ENDED


class OpinionRow(NamedTuple):
    """One checked opinion, as the opinions table stores it (columns by name, in the order a
    bulk write sends them)."""

    id: int
    org_id: int
    campaign_id: int
    text: str
    channel: str
    received_on: dt.date
    received_at: dt.datetime | None  # named opinions only: anonymous ones keep the day
    anonymous: bool
    author_id: int | None
    unit_id: int | None
    category_id: int | None
    source_ref: str = ""
    problem_id: int | None = None

    def ref(self) -> OpinionRef:
        """What the figures and a problem's fold know of it."""
        return OpinionRef(self.id, self.received_on, self.anonymous, self.campaign_id,
                          self.unit_id, self.category_id)


COLUMNS = OpinionRow._fields


def new_id() -> int:
    """A fresh opinion id: random (models.random_id), never a counter."""
    return Opinion._meta.pk.get_default()


def text_of(value) -> str:
    """An opinion's text as stored (zhenggai/text.py, the domain's one cleaner), or the
    rule it breaks. The submit form asks it too, to show the error beside the field."""
    text = clean_text(value)
    if not text:
        raise InvalidInput(_("An opinion must say something."))
    if len(text) > MAX_TEXT:
        raise InvalidInput(_("An opinion is at most %(n)s characters."), n=MAX_TEXT)
    return text


def wants_receipt(anonymous: bool, channel: str) -> bool:
    """An anonymous proposer gets a receipt, unless a clerk typed the opinion in from paper."""
    return anonymous and channel != Channel.PAPER


class Rules:
    """The rules every opinion passes, on every path, for one campaign.

    Built once per opinion or once per batch. `today`: the last day an opinion may be dated
    (the caller's today: real time for a submission, the organisation's clock for an import).
    The author, unit and category are model instances (their organisation is on them) or
    ids (looked up among the organisation's, once per Rules)."""

    def __init__(self, campaign: Campaign, *, today: dt.date | None = None) -> None:
        self.campaign = campaign
        self.org = campaign.org_id
        self.today = today or timezone.localdate()
        self._ids: dict | None = None

    def _known(self, model) -> set[int]:
        if self._ids is None:
            self._ids = {m: set(m.objects.filter(org_id=self.org).values_list("pk", flat=True))
                         for m in (Member, Unit, Category)}
        return self._ids[model]

    def _id(self, thing, model) -> tuple[int | None, bool]:
        """The id of a reference, and whether it belongs to this organisation."""
        if thing is None:
            return None, True
        if isinstance(thing, int):
            return thing, thing in self._known(model)
        return thing.pk, thing.org_id == self.org

    def check(self, *, text, channel: str = Channel.WEB, anonymous: bool = False,
              author=None, unit=None, category=None, day: dt.date | None = None,
              at: dt.datetime | None = None, receipt: bool = False, source_ref: str = "",
              id: int | None = None) -> OpinionRow:
        """The row to store, or the error of the first rule it breaks. `at` is kept for a
        named opinion only; without `day`, the opinion is dated by `at`, else today."""
        text = text_of(text)
        if channel not in _CHANNELS:
            raise InvalidInput(_("Unknown channel."))
        if anonymous == (author is not None):
            raise InvalidInput(_("An opinion is either anonymous or has an author, not both."))
        author_id, ok = self._id(author, Member)
        if not ok:
            raise NotAMember()
        unit_id, ok_unit = self._id(unit, Unit)
        category_id, ok_category = self._id(category, Category)
        if not (ok_unit and ok_category):
            raise InvalidInput(_("Unit and category must belong to this organisation."))
        if at is not None and timezone.is_naive(at):
            raise InvalidInput(_("Times must carry a time zone."))
        if day is None:
            day = timezone.localdate(at) if at is not None else self.today
        if day > self.today:
            raise InvalidInput(_("An opinion cannot be dated in the future."))
        if self.campaign.phase_on(day) == _ENDED:
            raise CampaignEnded(self.campaign)
        if receipt and not anonymous:
            raise InvalidInput(_("Only anonymous proposers get a receipt."))
        return OpinionRow(new_id() if id is None else id, self.org, self.campaign.pk, text,
                          channel, day, None if anonymous else at, anonymous, author_id,
                          unit_id, category_id, source_ref)


# -- one opinion ------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    opinion: Opinion
    receipt: str | None  # shown once to an anonymous proposer, never stored
    me_too: object = None  # the problem the proposer said "me too" on


def submit_opinion(campaign: Campaign, *, text: str, channel: str = Channel.WEB,
                   author: Member | None = None, anonymous: bool = False,
                   unit: Unit | int | None = None, category: Category | int | None = None,
                   received_on: dt.date | None = None, at: dt.datetime | None = None,
                   receipt: bool | None = None, source_ref: str = "",
                   photos: Sequence[bytes] = (), code_hash: str | None = None,
                   me_too=None) -> Submitted:
    """Take in one opinion. Anonymous ones get a receipt code (unless typed in from paper).

    `photos`: the bytes of up to MAX_PHOTOS images, each checked and re-encoded from its
    pixels (problems/photos.py) before anything is written. `code_hash`: the hash of a
    receipt code printed on a paper slip (slips.py), for the receipt instead of a new code.

    `me_too`: a problem the proposer says "me too" (附议) on. Their opinion joins it (empty
    text: the problem's summary is what they say): a named one at once, by the problem's
    action (problems.actions.me_too); an anonymous one when its day is over
    (`link_me_toos`), so that no event's number places it among the day's named acts.
    Until then it waits, apart from the desk's queue. A problem of another campaign, or one
    that takes no "me too" (verified, closed, declined), is refused before anything is
    stored."""
    from zhenggai.problems import actions as problem_actions

    now = timezone.now()
    if len(photos) > photo_files.MAX_PHOTOS:
        raise InvalidInput(_("At most %(n)s photos with one opinion."),
                           n=photo_files.MAX_PHOTOS)
    if me_too is not None:
        me_too = problem_actions.may_second(me_too, campaign)
        if not clean_text(text or ""):
            text = me_too.summary
    if receipt is None:
        receipt = wants_receipt(anonymous, channel)
    again = idempotency.written_ref()
    if again.isdigit():  # the first run stored it and died before it answered
        return Submitted(Opinion.objects.get(pk=int(again)), None, me_too)
    row = Rules(campaign, today=timezone.localdate(now)).check(
        text=text, channel=channel, anonymous=anonymous, author=author, unit=unit,
        category=category, day=received_on, at=at or now, receipt=receipt,
        source_ref=source_ref)
    # The slow hash (argon2, by design) is worked out before the transaction, so that no
    # writer holds the database's write lock while it runs.
    if code_hash is not None and not anonymous:
        raise InvalidInput(_("Only anonymous proposers get a receipt."))
    cleaned = [photo_files.clean(data) for data in photos]
    code = receipts.new_code() if receipt else None
    if code:
        code_hash = receipts.hash_code(code, new=True)
    opinion = Opinion(
        id=row.id, org_id=row.org_id, campaign=campaign, text=row.text, channel=row.channel,
        received_on=row.received_on, received_at=row.received_at, anonymous=row.anonymous,
        author_id=row.author_id, unit_id=row.unit_id, category_id=row.category_id,
        source_ref=row.source_ref,
    )
    try:
        if me_too is None:
            _store(opinion, code_hash, cleaned)
        else:
            with transaction.atomic():
                _store(opinion, code_hash, cleaned)
                if anonymous:
                    PendingMeToo.objects.create(id=opinion.pk, opinion=opinion, problem=me_too,
                                                written_on=timezone.localdate(now))
                else:
                    problem_actions.me_too(me_too, opinion, actor=author, at=at or now)
    except IntegrityError:
        if source_ref and Opinion.objects.filter(org_id=campaign.org_id,
                                                 source_ref=source_ref).exists():
            raise Refused(_("This row was imported already.")) from None
        raise
    return Submitted(opinion, receipts.pretty(code) if code else None, me_too)


_FIELDS = list(Opinion._meta.concrete_fields)
_INSERT = (f"INSERT INTO {Opinion._meta.db_table} ({', '.join(f.column for f in _FIELDS)}) "
           f"VALUES ({', '.join(['%s'] * len(_FIELDS))})")
_RECEIPT = f"INSERT INTO {Receipt._meta.db_table} (id, opinion_id, code_hash) "
_LOG_TABLE = IndexLog._meta.db_table
_LOG = f"INSERT INTO {_LOG_TABLE} (opinion_id, campaign_id) "
_UNBOOKED = f"INSERT INTO {UnbookedOpinion._meta.db_table} (opinion_id) "


def _store(opinion: Opinion, code_hash: str | None, photos: Sequence = ()) -> None:
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
        # An idempotent request marks its key "written" in the same transaction.
        sealed = idempotency.running()
        with (transaction.atomic() if connection.in_atomic_block or photos or sealed
              else nullcontext()):
            with connection.cursor() as cur:
                cur.execute(sql, params)
                _store_photos(cur, opinion.pk, photos)
                idempotency.seal(opinion.pk)
    else:
        with transaction.atomic(), connection.cursor() as cur:
            idempotency.seal(opinion.pk)
            cur.execute(_INSERT, values)
            _store_photos(cur, opinion.pk, photos)
            if code_hash:
                cur.execute(_RECEIPT + "VALUES (%s, %s, %s)", [opinion.pk, opinion.pk, code_hash])
            cur.execute(_LOG + "VALUES (%s, %s)", [opinion.pk, opinion.campaign_id])
            cur.execute(_UNBOOKED + "VALUES (%s)", [opinion.pk])
    opinion._state.adding = False
    opinion._state.db = connection.alias


_PHOTO = (f"INSERT INTO {OpinionPhoto._meta.db_table} "
          f"(id, opinion_id, place, data, content_type, width, height) "
          f"VALUES (%s, %s, %s, %s, %s, %s, %s)")


def _store_photos(cur, opinion_id: int, photos: Sequence) -> None:
    """The opinion's photos, in the opinion's transaction: rows with random ids and the
    re-encoded bytes, no file and no time."""
    if photos:
        cur.executemany(_PHOTO, [(random_id(), opinion_id, i, ph.data, ph.content_type,
                                  ph.width, ph.height) for i, ph in enumerate(photos)])


# -- many opinions ----------------------------------------------------------------------


def store_many(rows: Sequence[OpinionRow]) -> None:
    """Checked opinions (`Rules.check`) in one transaction: their rows, their figures
    (booked now) and their index log rows. No receipts: many at once come from paper or
    from a history, never from a proposer waiting for one."""
    if not rows:
        return
    with transaction.atomic():
        write_rows(rows)
        book = Book()
        for r in rows:
            book.opinion_received(r.org_id, r.ref())
        book.flush()
        log_rows(rows)


def write_rows(rows: Sequence[OpinionRow]) -> None:
    """The opinions' rows (COPY on PostgreSQL, executemany on SQLite), in the caller's
    transaction. The caller books their figures and, last, calls `log_rows`."""
    insert_rows(Opinion._meta.db_table, COLUMNS, rows)


def log_rows(rows: Sequence[OpinionRow]) -> None:
    """The opinions' rows in the grouping index's log; the last write of the caller's
    transaction.

    A process catches up from the log rows above the last seq it saw, less a small overlap
    for transactions that commit out of seq order (grouping/service.py). A batch takes a
    block of seqs, far wider than that overlap, so on PostgreSQL it locks the log against
    other writers first (it waits for the ones under way, which then commit below it) and
    holds it to its commit: nobody's seq can land among its own and commit before it. SQLite
    has one writer at a time anyway."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"LOCK TABLE {_LOG_TABLE} IN SHARE ROW EXCLUSIVE MODE")
    insert_rows(_LOG_TABLE, ("opinion_id", "campaign_id"),
                [(r.id, r.campaign_id) for r in rows])


# -- "me too" by anonymous proposers ----------------------------------------------------


def link_me_toos(before: dt.date | None = None) -> dict:
    """Put the anonymous "me too"s written before `before` (real time: today) into their
    problems, in random order, each by the problem's own action with the proposer's receipt
    standing for them (no actor, the day only). One whose problem no longer takes one
    (verified, closed or declined meanwhile) waits at the summarising desk as any new
    opinion. The daily sweep calls it. Returns {"linked": n, "to_desk": n}."""
    import secrets

    from zhenggai.errors import DomainError
    from zhenggai.problems import actions as problem_actions
    from zhenggai.problems.rules import ReceiptHolder

    before = before or timezone.localdate()
    pending = list(PendingMeToo.objects.filter(written_on__lt=before)
                   .select_related("opinion", "problem"))
    secrets.SystemRandom().shuffle(pending)
    out = {"linked": 0, "to_desk": 0}
    for p in pending:
        with transaction.atomic():
            PendingMeToo.objects.filter(pk=p.pk).delete()
            try:
                with transaction.atomic():
                    problem_actions.me_too(p.problem, p.opinion, actor=ReceiptHolder(p.opinion))
            except DomainError:
                out["to_desk"] += 1
            else:
                out["linked"] += 1
    return out
