"""The bulk loader: a whole history at once, opinions, problems and their events.

For data that already happened elsewhere (a migration, a benchmark, a re-import of an
export). Every event is checked against the lifecycle table and folded by the same
`apply`, and the figures are booked by the same ledger as the live actions, so a loaded
history has the same figures as one built action by action. What it skips are the checks
about people (roles), which belong to the moment an action is taken.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign
from zhenggai.db import insert_rows
from zhenggai.errors import InvalidInput
from zhenggai.figures.ledger import Book, tree_arrays, write_bucket_arrays
from zhenggai.opinions import intake
from zhenggai.opinions.intake import Rules
from zhenggai.opinions.models import Opinion
from zhenggai.org import clock

from .actions import row_fields
from .models import Problem
from .registry import ACTIONS, ADDS_OPINIONS
from .state import EventData, OpinionRef, ProblemState, apply


@dataclass
class BulkEvent:
    kind: str
    at: dt.datetime
    actor: int | None = None
    to_state: str | None = None  # only where the table leaves it open (follow-ups)
    reason: str = ""
    note: str = ""
    data: dict = field(default_factory=dict)


@dataclass
class BulkOpinion:
    """One opinion of a history, checked by the intake's rules (opinions/intake.py) like any
    other; kept to the day (no time), as anonymous ones are anyway."""

    id: int
    campaign: int
    text: str
    channel: str
    day: dt.date
    anonymous: bool
    author: int | None
    unit: int | None
    category: int | None


class BulkLoader:
    """Feed it opinions, then problems with their events; `flush` writes what it has.

    Folding needs no database (checking opinions reads their campaign and the organisation's
    ids once per loader), so a big load can fold in several processes (each with its own
    range of problem ids) and hand `payload()`s to one writer (`write`).
    """

    def __init__(self, org_id: int, *, first_problem_id: int | None = None) -> None:
        self.org = org_id
        self.book = Book()
        self.refs: dict[int, OpinionRef] = {}
        self.rules: dict[int, Rules] = {}  # per campaign
        self.opinion_rows: list[intake.OpinionRow] = []
        self.problem_rows: list[tuple] = []
        self.event_rows: list[tuple] = []
        self.links: list[tuple[int, int]] = []
        if first_problem_id is None:
            first_problem_id = (Problem.objects.order_by("-pk").values_list("pk", flat=True)
                                .first() or 0) + 1
        self.next_problem = first_problem_id
        # Dates and times travel as text, made here (in the folding processes), so that the
        # writer does not call an adapter per value (psycopg's for datetimes was two thirds
        # of copying the events). SQLite keeps datetimes as Django writes them: UTC text
        # without an offset; PostgreSQL reads ISO text with its offset.
        sqlite = connection.vendor == "sqlite"
        self._when = _sqlite_datetime(connection.timezone) if sqlite else _iso_datetime
        self._day = _iso_date
        # The day of an event, in the time zone of its day (timezone.localdate's, read once:
        # asking Django for the current zone per event cost a tenth of a fold).
        self._tz = timezone.get_current_timezone()
        self.recorded = self._when(timezone.now())

    def _rules(self, campaign_id: int) -> Rules:
        rules = self.rules.get(campaign_id)
        if rules is None:
            campaign = Campaign.objects.filter(pk=campaign_id, org_id=self.org).first()
            if campaign is None:
                raise InvalidInput(_("No %(what)s %(id)s in this organisation."),
                                   what=Campaign._meta.verbose_name, id=campaign_id)
            rules = self.rules[campaign_id] = Rules(campaign, today=clock.today(self.org))
        return rules

    def opinions(self, items: Iterable[BulkOpinion]) -> None:
        for o in items:
            row = self._rules(o.campaign).check(
                id=o.id, text=o.text, channel=o.channel, anonymous=o.anonymous,
                author=o.author, unit=o.unit, category=o.category, day=o.day)
            ref = row.ref()
            self.refs[o.id] = ref
            self.book.opinion_received(self.org, ref)
            self.opinion_rows.append(row)

    def problem(self, events: list[BulkEvent]) -> int:
        pid = self.next_problem
        self.next_problem += 1
        s = ProblemState()
        last = None
        ids = random_ids(len(events))
        day_text = self._day
        for e, eid in zip(events, ids, strict=True):
            t = ACTIONS.get(e.kind)
            if t is None:
                raise InvalidInput(_("Unknown event kind %(k)s."), k=e.kind)
            if (e.kind == "create") != (not s.state) or (s.state and s.state not in t.sources):
                raise InvalidInput(_("Problem %(p)s: %(k)s is not allowed from %(s)s."),
                                   p=pid, k=e.kind, s=s.state or "(new)")
            if last is not None and e.at < last:
                raise InvalidInput(_("Problem %(p)s: events out of order."), p=pid)
            last = e.at
            day = timezone.localdate(e.at, self._tz)
            data = e.data
            if e.kind in ADDS_OPINIONS:
                ids = data.pop("opinion_ids", [])
                data = {**data, "opinions": [self.refs[i].as_list() for i in ids]}
                self.links.extend((pid, i) for i in ids)
            target = e.to_state or t.target or s.state
            ev = EventData(e.kind, day, s.state, target, e.reason, e.actor, data)
            after = apply(s, ev)
            self.book.transition(s, after, e.kind, day, data)
            self.event_rows.append((eid, pid, after.version, e.kind, e.actor,
                                    self._when(e.at), day_text(day), s.state, target, e.reason,
                                    e.note, _json(data) if data else "{}", self.recorded))
            s = after
        p = row_fields(s)
        self.problem_rows.append((
            pid, p["org_id"], p["campaign_id"], p["summary"], p["scope"], p["category_id"],
            p["unit_id"], p["owner_id"], p["measures"], p["root_cause"], p["preventive"],
            day_text(p["deadline"]), p["state"],
            p["reopen_reason"], day_text(p["created_on"]), day_text(p["first_raised"]),
            day_text(p["first_raised_given"]),
            p["n_opinions"], p["n_anonymous"], p["last_claim_by_id"], p["ever_verified"],
            day_text(p["verified_on"]), p["verified_by_id"], day_text(p["recheck_due"]),
            p["decline_requested"], p["version"],
            self._when(last),
        ))
        return pid

    def payload(self) -> dict:
        """What was fed since the last payload, folded and ready to write."""
        link = {oid: pid for pid, oid in self.links}
        day_text = self._day
        out = {
            "problems": self.problem_rows,
            # Each row anew (a tuple of its fields): its problem, and its day as written.
            "opinions": [_OPINION_ROW((*r[:5], day_text(r[5]), *r[6:12],
                                       link.pop(r[0], r[12])))
                         for r in self.opinion_rows],
            "late_links": link,  # opinions of an earlier payload, grouped now
            "events": self.event_rows,
            # The figures' deltas per dimension and day: they add up across payloads
            # (figures.ledger.merge_arrays) before `write_figures` spreads them on the buckets.
            "buckets": self.book.day_arrays(),
        }
        self.book.rows.clear()
        self.opinion_rows, self.problem_rows, self.event_rows, self.links = [], [], [], []
        return out

    def flush(self) -> None:
        write(self.payload())

    def finish(self) -> None:
        self.flush()
        finish()


PROBLEM_COLS = ["id", "org_id", "campaign_id", "summary", "scope", "category_id", "unit_id",
                "owner_id", "measures", "root_cause", "preventive", "deadline", "state",
                "reopen_reason", "created_on",
                "first_raised", "first_raised_given", "n_opinions", "n_anonymous",
                "last_claim_by_id", "ever_verified", "verified_on", "verified_by_id",
                "recheck_due",
                "decline_requested", "version", "updated_at"]
EVENT_COLS = ["id", "problem_id", "seq", "kind", "actor_id", "at", "day", "from_state", "to_state",
              "reason", "note", "data", "recorded_at"]


def write(payload: dict, *, buckets: bool = True) -> None:
    """Write one payload in one transaction.

    With buckets=False the caller keeps `payload["buckets"]` to merge with other payloads
    (`ledger.merge_arrays`) and writes them once with `write_figures`: a big load then
    writes each figure row once instead of once per payload.
    """
    # Rows in the order of their keys: a B-tree takes them page after page. The ids are
    # random, so this order tells nothing either (the log's order included).
    opinions = sorted(payload["opinions"], key=_first)
    with transaction.atomic():
        _large_cache()
        bulk_checks = connection.vendor == "postgresql" and _may_skip_row_triggers()
        if bulk_checks:
            # PostgreSQL checks each foreign key with a trigger per row; for a million rows
            # one anti-join per key (below) does the same check many times faster.
            with connection.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = replica")
        insert_rows("problems_problem", PROBLEM_COLS, payload["problems"])
        intake.write_rows(opinions)
        for oid, pid in payload["late_links"].items():
            Opinion.objects.filter(pk=oid, problem__isnull=True).update(problem_id=pid)
        insert_rows("problems_event", EVENT_COLS, sorted(payload["events"], key=_first))
        if buckets:
            write_figures(payload["buckets"])
        if bulk_checks:
            _check_references(payload)
        intake.log_rows(opinions)  # last: it locks the log to the commit


_first = operator.itemgetter(0)
# SQLite's page cache while loading (KiB, negative as PRAGMA cache_size wants it): random
# keys land all over each index, and with the default 2 MB most inserts read a page back
# from the file. The events and opinions of a million opinions are about 600 MB of tables
# keyed by random ids, so a gigabyte (a ceiling: only pages read take memory). `finish`
# gives the connection its default back.
_LOAD_CACHE_KIB = -1_048_576
_DEFAULT_CACHE = -2000


def _large_cache() -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size = {_LOAD_CACHE_KIB}")


def write_figures(buckets: tuple) -> None:
    """Add the day sums of payloads (merged or not) to the stored figures."""
    with transaction.atomic():
        write_bucket_arrays(*tree_arrays(*buckets))


def _may_skip_row_triggers() -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cur.fetchone()
    return bool(row and row[0])


def _check_references(payload: dict) -> None:
    """Every foreign key of the rows just written points at a row that exists: each distinct
    value of each key column, from the rows in hand, looked up once in the table it points
    at. (Reading the rows back from the tables just written, per payload, grew with the
    tables: a big load's later payloads read the keys of all the earlier ones.)"""
    from zhenggai.problems.models import Event

    late = list(payload["late_links"].values())
    tables = [(Problem, PROBLEM_COLS, payload["problems"], []),
              (Opinion, list(intake.COLUMNS), payload["opinions"], [("problem_id", late)]),
              (Event, EVENT_COLS, payload["events"], [])]
    with connection.cursor() as cur:
        for model, cols, rows, more in tables:
            extra = dict(more)
            for f in model._meta.concrete_fields:
                if not (f.is_relation and f.db_constraint) or f.column not in cols:
                    continue
                at = cols.index(f.column)
                ids = {r[at] for r in rows}
                ids.update(extra.get(f.column, ()))
                ids.discard(None)
                if not ids:
                    continue
                parent = f.related_model._meta
                cur.execute(
                    f"SELECT v FROM unnest(%s::bigint[]) AS v WHERE NOT EXISTS (SELECT 1 FROM "
                    f"{parent.db_table} p WHERE p.{parent.pk.column} = v) LIMIT 1",
                    [sorted(ids)],
                )
                missing = cur.fetchone()
                if missing:
                    raise InvalidInput(_("%(table)s.%(col)s refers to %(id)s, which does not "
                                         "exist."), table=model._meta.db_table, col=f.column,
                                       id=missing[0])


def finish() -> None:
    """After explicit ids were written, move PostgreSQL's sequence past them; and refresh the
    planner's statistics, which a bulk load leaves empty (every plan would guess one row)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size = {_DEFAULT_CACHE}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT setval(pg_get_serial_sequence('problems_problem', 'id'), "
                        "(SELECT COALESCE(MAX(id), 1) FROM problems_problem))")
            for table in ("problems_problem", "problems_event", "opinions_opinion",
                          "figures_figurebucket"):
                cur.execute(f"ANALYZE {table}")


def _sqlite_datetime(tz):
    """SQLite's adapt_datetimefield_value with the connection's zone read once: the same text
    (naive, in the connection's zone), without looking up settings and zones per value."""
    def adapt(value: dt.datetime | None) -> str | None:
        if value is None:
            return None
        if value.utcoffset() is not None:
            value = value.astimezone(tz).replace(tzinfo=None)
        return str(value)
    return adapt


def _iso_date(value: dt.date | None) -> str | None:
    """A date as ISO text (as Django's SQLite backend writes it, and PostgreSQL reads it)."""
    return None if value is None else value.isoformat()


def _iso_datetime(value: dt.datetime | None) -> str | None:
    """An aware datetime as ISO text with its offset, which PostgreSQL reads as that instant."""
    if value is None:
        return None
    if value.utcoffset() is None:
        raise InvalidInput(_("Times must carry a time zone."))
    return value.isoformat(" ")


# One encoder for every event (json.dumps with options builds a new one per call).
_json = json.JSONEncoder(ensure_ascii=False, default=str).encode
_OPINION_ROW = intake.OpinionRow._make


def random_ids(n: int) -> list[int]:
    """n random ids as `random_id` makes them (62 random bits, plus one), from one read of
    the system's randomness instead of one per id."""
    raw = os.urandom(8 * n)
    return [(v >> 2) + 1 for v in struct.unpack(f"<{n}Q", raw)]
