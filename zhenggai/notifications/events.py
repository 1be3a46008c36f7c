"""Who is told of which event: one table, `TELL`, from each kind of problem event to the
people who must act on it (or asked to hear of it) and whether the group robots hear it.

A new kind of event is one line here (tests/notifications/test_events.py fails while a
`lifecycle.Kind` has none). The worker reads the outbox every minute (`drain`): each named
event is told once (the notification's unique key is the event's id and the member's), in
the member's language, in the app, by mail (unless they chose the daily summary) and to
the group robots of its unit or campaign (channels.py). Anonymous acts (a contest, a
poster or an answer through a receipt) write no outbox row: the daily sweep tells of them
the next day (`tell_anonymous`), so that no message and no row dates them finer than the
day. No message ever names a proposer: the people told are named, the proposer never.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from zhenggai.campaigns.models import CampaignRole, Role
from zhenggai.opinions.models import Opinion
from zhenggai.org.models import Member
from zhenggai.problems import lifecycle
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import Event, Problem, ReviewItem
from zhenggai.problems.registry import ACTIONS

from .models import Follow, Notification, Outbox

# Who: the problem's owner (after the event), its named proposers, the proposers of the
# opinions the event added, its followers, the leaders of its campaign.
OWNER, PROPOSERS, ADDED, FOLLOWERS, LEADERS = "owner", "proposers", "added", "followers", \
    "leaders"
# When one person is several of these, the first in this order says why they are told.
PRECEDENCE = (OWNER, LEADERS, PROPOSERS, ADDED, FOLLOWERS)


@dataclass(frozen=True)
class Tell:
    headline: object  # what happened, in a few words
    who: frozenset[str]
    group: bool = False  # the group robots of its unit or campaign hear of it too


def _t(headline, *who, group=False) -> Tell:
    return Tell(headline, frozenset(who), group)


# The words are translated when a message is written, in its reader's language.
TELL: dict[str, Tell] = {
    # A creation with an owner writes an assignment too: the owner hears of that one.
    Kind.CREATE: _t(_l("Your opinion became a problem"), PROPOSERS),
    Kind.ASSIGN: _t(_l("Made responsible"), OWNER, PROPOSERS, FOLLOWERS, group=True),
    Kind.UPDATE: _t(_l("Summary corrected"), FOLLOWERS),
    Kind.ADD_OPINIONS: _t(_l("Opinions added"), ADDED, FOLLOWERS),
    Kind.REMOVE_OPINION: _t(_l("An opinion split out"), FOLLOWERS),
    Kind.CLAIM: _t(_l("Claimed as rectified"), PROPOSERS, FOLLOWERS, group=True),
    Kind.VERIFY_PASSED: _t(_l("Verified"), OWNER, PROPOSERS, FOLLOWERS, group=True),
    Kind.VERIFY_NOT_THOROUGH: _t(_l("Found not thorough, open again"), OWNER, PROPOSERS,
                                 FOLLOWERS, group=True),
    Kind.CHECK_HOLDS: _t(_l("Re-check: the fix holds"), OWNER, PROPOSERS, FOLLOWERS),
    Kind.CHECK_DETERIORATED: _t(_l("Re-check: deteriorated, open again"), OWNER, PROPOSERS,
                                FOLLOWERS, group=True),
    Kind.FOLLOWUP: _t(_l("A proposer was asked"), OWNER, FOLLOWERS),
    Kind.PROPOSE_DECLINE: _t(_l("A decline waits for your decision"), LEADERS, FOLLOWERS),
    Kind.DECLINE: _t(_l("Declined"), OWNER, PROPOSERS, FOLLOWERS, group=True),
    Kind.REJECT_DECLINE: _t(_l("Decline rejected: it goes on"), OWNER, FOLLOWERS),
    Kind.CONTEST: _t(_l("A decline was contested"), OWNER, LEADERS, FOLLOWERS),
    Kind.CARRY_OVER: _t(_l("Carried over"), OWNER, PROPOSERS, FOLLOWERS),
    Kind.POSTER: _t(_l("A poster about it"), OWNER, FOLLOWERS),
    # The successor hears of a hand-over as of an assignment.
    Kind.HAND_OVER: _t(_l("Handed over to a successor"), OWNER, FOLLOWERS, group=True),
    Kind.ME_TOO: _t(_l("Another worker said “me too”"), OWNER, FOLLOWERS),
}

# Kinds an anonymous proposer may take (by receipt, unsigned, or an anonymous "me too"):
# told the next day. The registry says which they are.
ANONYMOUS_KINDS = tuple(k for k, a in ACTIONS.items() if lifecycle.PROPOSER in a.roles)
ANONYMOUS_WINDOW = 7  # days back the sweep still tells of (a worker that was down)

# Long overdue: the leaders hear of a problem this many days past its deadline.
LONG_OVERDUE_DAYS = 30

_silent = contextvars.ContextVar("notifications_silent", default=False)


@contextlib.contextmanager
def silenced():
    """Events written inside are told to nobody (the demo's replay of 1957)."""
    token = _silent.set(True)
    try:
        yield
    finally:
        _silent.reset(token)


def record(event: Event, anonymous: bool) -> None:
    """Called by problems.actions in the event's transaction: queue it to be told."""
    if anonymous or _silent.get() or event.kind not in TELL:
        return
    Outbox.objects.create(event=event)


# -- recipients --------------------------------------------------------------------------

def recipients(event: Event, problem: Problem) -> dict[int, str]:
    """The members told of this event, each with why (PRECEDENCE); never its actor."""
    who = TELL[event.kind].who
    found: dict[str, set[int]] = {}
    if OWNER in who and problem.owner_id:
        found[OWNER] = {problem.owner_id}
    if PROPOSERS in who:
        found[PROPOSERS] = set(Opinion.objects.filter(
            problem_id=problem.pk, anonymous=False, author__isnull=False)
            .values_list("author_id", flat=True))
    if ADDED in who:
        ids = [o[0] for o in (event.data or {}).get("opinions", [])]
        found[ADDED] = set(Opinion.objects.filter(
            pk__in=ids, anonymous=False, author__isnull=False)
            .values_list("author_id", flat=True))
    if FOLLOWERS in who:
        found[FOLLOWERS] = set(Follow.objects.filter(problem_id=problem.pk)
                               .values_list("member_id", flat=True))
    if LEADERS in who:
        found[LEADERS] = set(CampaignRole.objects.filter(
            campaign_id=problem.campaign_id, role=Role.LEADER)
            .values_list("member_id", flat=True))
    out: dict[int, str] = {}
    for why in PRECEDENCE:
        for m in sorted(found.get(why, ())):
            out.setdefault(m, why)
    out.pop(event.actor_id, None)
    return out


# -- the words ---------------------------------------------------------------------------

def subject_of(event: Event, problem: Problem) -> str:
    return _("%(what)s: #%(id)s %(s)s") % {"what": TELL[event.kind].headline,
                                           "id": problem.pk, "s": problem.summary[:60]}


def body_of(event: Event, problem: Problem, why: str) -> str:
    """The message to one member, in the active language. It names nobody who wrote an
    opinion; the actor only for staff's acts (an anonymous act has no actor)."""
    action = ACTIONS.get(event.kind)
    lines = [_("Problem #%(id)s: %(s)s") % {"id": problem.pk, "s": problem.summary[:300]}]
    if action is not None:
        lines.append(str(action.plain))
    lines.append(_("Now: %(state)s.") % {"state": problem.state_label})
    if why == OWNER and event.kind in (Kind.ASSIGN, Kind.HAND_OVER):
        lines.append(_("You are responsible for it. Measures: %(m)s. Deadline: %(d)s.") % {
            "m": problem.measures or "—",
            "d": problem.deadline.isoformat() if problem.deadline else "—"})
    if action is not None and action.shows_note and event.note:
        lines.append(_("Reason or findings: %(n)s") % {"n": event.note[:500]})
    lines.append({
        OWNER: _("You are told as its owner."),
        LEADERS: _("You are told as a leader of its campaign."),
        PROPOSERS: _("You are told as one of its proposers."),
        ADDED: _("You are told as one of its proposers."),
        FOLLOWERS: _("You are told because you follow it."),
    }[why])
    return "\n".join(lines)


def group_text(event: Event, problem: Problem) -> tuple[str, str]:
    """The group robot's message: no person at all (it posts to a whole group)."""
    subject = subject_of(event, problem)
    lines = [_("Now: %(state)s.") % {"state": problem.state_label}]
    if problem.unit_id:
        lines.append(_("Unit: %(u)s") % {"u": problem.unit.label()})
    if problem.deadline and problem.state in lifecycle.UNRESOLVED:
        lines.append(_("Deadline: %(d)s") % {"d": problem.deadline.isoformat()})
    return subject, "\n".join(lines)


# -- telling -----------------------------------------------------------------------------

def tell_event(event: Event) -> int:
    """Tell one event to its recipients and its group robots; how many notifications were
    made now (0 if they were before: every key is unique)."""
    from . import channels

    problem = Problem.objects.select_related("unit", "owner").get(pk=event.problem_id)
    made = 0
    told = recipients(event, problem)
    members = Member.objects.select_related("user", "notification_preference") \
        .in_bulk(list(told))
    for member_id, why in told.items():
        member = members[member_id]

        def subject(e=event, p=problem):
            return subject_of(e, p)

        def body(e=event, p=problem, w=why):
            return body_of(e, p, w)

        made += bool(channels.notify(member, Notification.Kind.EVENT,
                                     f"ev:{event.pk}:{member_id}", problem, subject, body))
    if TELL[event.kind].group:
        for hook in channels.hooks_for(problem):
            lang = hook.language or settings.LANGUAGE_CODE
            with translation.override(lang):
                subject_, text = group_text(event, problem)
            channels.queue_webhook(hook, f"hook:{hook.pk}:{event.pk}", subject_, text)
    return made


def drain(limit: int = 500) -> int:
    """Tell the queued named events (the worker, every minute). Each is told and taken off
    the queue in one transaction; two workers never take the same row (PostgreSQL skips
    locked rows; SQLite writes one at a time)."""
    from . import channels

    told = 0
    while True:
        with transaction.atomic():
            qs = Outbox.objects.order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)
            batch = list(qs.values_list("pk", flat=True)[:50])
            if not batch:
                break
            with channels.held():  # sent after the commit, below
                for event in Event.objects.filter(pk__in=batch):
                    told += tell_event(event)
            Outbox.objects.filter(pk__in=batch).delete()
        limit -= len(batch)
        if limit <= 0:
            break
    channels.deliver_due()
    return told


def tell_anonymous(today: dt.date, org_id: int) -> int:
    """The anonymous acts of the days before `today` (the organisation's), told once each
    by the daily sweep."""
    told = 0
    rows = Event.objects.filter(
        kind__in=ANONYMOUS_KINDS, actor__isnull=True, problem__org_id=org_id,
        day__lt=today, day__gte=today - dt.timedelta(days=ANONYMOUS_WINDOW))
    for event in rows:
        told += tell_event(event)
    return told


def review_rounds(today: dt.date, org_id: int) -> int:
    """Each representative with items in a review round running today is told once."""
    from . import channels

    told = 0
    items = (ReviewItem.objects.filter(
        round__campaign__org_id=org_id, round__starts_on__lte=today, round__ends_on__gte=today,
        assignee__isnull=False, outcome=ReviewItem.Outcome.PENDING)
        .values_list("round_id", "assignee_id").distinct())
    wanted = {f"round:{r}:{m}": (r, m) for r, m in items}
    done = set(Notification.objects.filter(key__in=list(wanted)).values_list("key", flat=True))
    for key, (round_id, member_id) in wanted.items():
        if key in done:
            continue
        from zhenggai.problems.models import ReviewRound

        rnd = ReviewRound.objects.get(pk=round_id)
        n = ReviewItem.objects.filter(round_id=round_id, assignee_id=member_id).count()

        def subject(r=rnd):
            return _("Review round started: %(r)s") % {"r": r.name}

        def body(r=rnd, n=n):
            return _("%(n)s problems counted as resolved are yours to check again, until "
                     "%(d)s. Find them under Review rounds.") % {"n": n,
                                                                "d": r.ends_on.isoformat()}

        told += bool(channels.notify(Member.objects.get(pk=member_id), Notification.Kind.ROUND,
                                     key, None, subject, body))
    return told


def long_overdue(today: dt.date, org_id: int) -> int:
    """The leaders of a problem's campaign are told when it passes LONG_OVERDUE_DAYS past
    its deadline unclaimed, once per deadline missed."""
    from . import channels

    told = 0
    mark = today - dt.timedelta(days=LONG_OVERDUE_DAYS)
    problems = Problem.objects.filter(
        org_id=org_id, state__in=lifecycle.UNCLAIMED, deadline__lte=mark,
        deadline__gte=mark - dt.timedelta(days=ANONYMOUS_WINDOW))
    problems = list(problems)
    leaders: dict[int, list[CampaignRole]] = {}
    for role in CampaignRole.objects.filter(
            campaign_id__in={p.campaign_id for p in problems}, role=Role.LEADER) \
            .select_related("member__user", "member__notification_preference"):
        leaders.setdefault(role.campaign_id, []).append(role)
    for p in problems:
        for role in leaders.get(p.campaign_id, []):
            def subject(p=p):
                return _("Long overdue: #%(id)s %(s)s") % {"id": p.pk, "s": p.summary[:60]}

            def body(p=p, t=today):
                return _("Problem #%(id)s was due on %(d)s and is %(n)s days overdue, still "
                         "not claimed as rectified.") % {
                    "id": p.pk, "d": p.deadline.isoformat(), "n": p.days_overdue(t)}

            told += bool(channels.notify(
                role.member, Notification.Kind.LONG_OVERDUE,
                f"longoverdue:{p.pk}:{p.deadline}:{role.member_id}", p, subject, body))
    return told
