"""What each role's page reads: the lists and stories the web pages show.

Reads only. Who may open which list is campaigns/access.py; who may act is rules.py.
Every list is bounded and uses an index, so that a page stays fast at a million opinions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign
from zhenggai.figures.counters import COUNTERS, DIMS
from zhenggai.figures.queries import sums
from zhenggai.figures.stall import STALL_DAYS, Stall, campaign_stall, stall_of
from zhenggai.opinions.models import Opinion
from zhenggai.org.models import Member, Unit

from . import lifecycle, rules
from .lifecycle import Kind
from .lists import Filters, narrow
from .models import Event, FollowUp, Poster, Problem, ReviewItem, ReviewRound
from .registry import ACTIONS
from .state import ANSWERS, fold_answers

PAGE = 50
LIST_PAGE = 25  # a searchable list's page (the owner's problems, the verification queue)
LONG_STANDING_DAYS = 365  # M12: raised a year or more before


YOU_ANSWERED = {"satisfied": _("You answered: satisfied."),
                "not_satisfied": _("You answered: not satisfied.")}


# -- worker ----------------------------------------------------------------------------

def story(problem: Problem | None, opinion: Opinion | None = None) -> list[dict]:
    """The case's history for its proposer: day, each event in its plain words (the
    registry's; no names: the proposer sees what happened, the board shows who is
    responsible), and what a leader said on a decline (domain.md: the reason is shown to
    proposers)."""
    if problem is None:
        return []
    key = None
    if opinion is not None:
        from .actions import proposer_key  # the write side, read only here

        key = proposer_key(opinion)
    out = []
    # Event.Meta.ordering is (problem, seq): all() is in order, and uses a prefetch if any.
    for e in problem.events.all():
        a = ACTIONS.get(e.kind)
        line = {"day": e.day, "text": a.plain if a else e.kind}
        if a is not None and a.shows_note:
            line["note"] = e.note
        if e.kind == Kind.FOLLOWUP:
            outcome = (e.data or {}).get("outcome", "no_answer")
            if key is not None and (e.data or {}).get("proposer") == key and outcome in ANSWERS:
                # `opinion`'s proposer reads their own answer as theirs.
                line["text"] = YOU_ANSWERED[outcome]
            else:
                line["outcome"] = FollowUp.Outcome(outcome).label
        out.append(line)
    return out


def asks_satisfaction(problem: Problem | None) -> bool:
    """Whether a proposer is asked "is it fixed to your satisfaction?": once it is claimed
    resolved. "Not satisfied" on a verified problem sends it back to verification."""
    return problem is not None and problem.state in lifecycle.CLAIMED_RESOLVED


def my_opinions(member: Member) -> QuerySet:
    """A member's named opinions, newest first. Anonymous ones are reached by receipt only."""
    return (Opinion.objects.filter(author=member).select_related("problem", "campaign")
            .prefetch_related("problem__events").order_by("-received_on", "-pk"))


def case_facts(problem: Problem | None, opinion: Opinion) -> dict:
    """What a proposer is told of their case besides its steps: the measures and deadline
    promised, what the responsible person says was done (the latest claim), and their own
    answer to that claim ("satisfied" / "not satisfied"; "" when not answered), all read
    from the problem's events (prefetched by my_opinions; one query otherwise)."""
    if problem is None:
        return {"measures": "", "deadline": None, "done": "", "answer": ""}
    from .actions import proposer_key  # the write side, read only here

    done, answers = "", {}
    for e in problem.events.all():
        if e.kind == Kind.CLAIM:
            done = e.note
        answers = fold_answers(answers, e.kind, e.data or {})
    return {"measures": problem.measures, "deadline": problem.deadline,
            "done": done if problem.state in lifecycle.CLAIMED_RESOLVED else "",
            "answer": answers.get(proposer_key(opinion), "")}


# -- clerk -----------------------------------------------------------------------------

def unsummarised(campaign: Campaign, *, after: int | None = None) -> QuerySet:
    # An anonymous "me too" waits for its day's end to join its problem, not for a clerk.
    qs = Opinion.objects.waiting(campaign)
    if after:
        qs = qs.filter(pk__gt=after)
    return qs.select_related("unit", "author").order_by("pk")  # what the desk shows


def open_problems(campaign: Campaign, q: str = "") -> QuerySet:
    """Problems a clerk can still group opinions into, newest first."""
    qs = Problem.objects.filter(campaign=campaign, state__in=sorted(lifecycle.UNRESOLVED))
    if q:
        qs = qs.filter(summary__icontains=q)
    return qs.order_by("-updated_at", "-pk")


# -- owner -----------------------------------------------------------------------------

def my_problems(member: Member, campaign: Campaign) -> QuerySet:
    """The problems this member answers for, personally or through their unit, soonest
    deadline first; those without a deadline last."""
    mine = Q(owner=member)
    if member.unit_id:
        mine |= Q(owner__isnull=True, unit_id=member.unit_id)
    return Problem.objects.filter(
        mine,
        campaign=campaign,
        state__in=[lifecycle.ASSIGNED, lifecycle.REOPENED, lifecycle.CLAIMED],
    ).order_by(F("deadline").asc(nulls_last=True), "pk")


OWNER_NEEDS = (lifecycle.ASSIGNED, lifecycle.REOPENED)  # the owner acts next
OWNER_STATES = (*OWNER_NEEDS, lifecycle.CLAIMED)


def owner_lists(member: Member, campaign: Campaign, day: dt.date,
                wanted: Filters | None = None) -> dict[str, QuerySet]:
    """The owner's page (M-owner): "needs you" (assigned or reopened, so also every overdue
    one: the most overdue first, as the deadline comes first) and "waiting for verification"
    (claimed), each narrowed by `wanted` (as of `day`)."""
    qs = my_problems(member, campaign).select_related("unit", "category")
    if wanted is not None:
        qs = narrow(qs, wanted, campaign.org_id, day)
    return {"needs": qs.filter(state__in=OWNER_NEEDS),
            "waiting": qs.filter(state=lifecycle.CLAIMED)}


# -- representative -------------------------------------------------------------------

def _due(member: Member, campaign: Campaign, day: dt.date) -> list[QuerySet]:
    """What waits for a representative: the review round's items shared out to them (on any
    problem counted as resolved: a claim to verify, or a verified or closed problem to check
    again), then claims, then consolidation checks that are due. A consolidation check is
    offered only once it may be made (rules.consolidation_due) and never to whoever
    verified."""
    # Never their own problem: the rules refuse it anyway, the queue does not offer it.
    base = Problem.objects.filter(campaign=campaign).filter(rules.not_own_problem(member))
    not_verifier = Q(verified_by__isnull=True) | ~Q(verified_by=member)
    checkable = not_verifier & Q(
        verified_on__lte=day - dt.timedelta(days=campaign.consolidation_days))
    resolved = Q(state=lifecycle.CLAIMED) | (
        Q(state__in=sorted(lifecycle.VERIFIED_RESOLVED)) & checkable
    )
    mine = base.filter(resolved, review_items__assignee=member,
                       review_items__outcome=ReviewItem.Outcome.PENDING).distinct()
    return [mine, base.filter(state=lifecycle.CLAIMED),
            base.filter(not_verifier, state=lifecycle.VERIFIED, recheck_due__lte=day)]


def next_to_verify(member: Member, campaign: Campaign, day: dt.date,
                   after: int | None = None) -> Problem | None:
    """The next problem in this representative's queue, oldest first in each part of it
    (see `_due`). `after` skips past a problem the representative passed over."""
    for qs in _due(member, campaign, day):
        if after:
            qs = qs.filter(pk__gt=after)
        p = qs.order_by("pk").first()
        if p is not None:
            return p
    return None


def verify_queue(member: Member, campaign: Campaign, day: dt.date,
                 wanted: Filters | None = None) -> QuerySet:
    """Everything in the representative's queue (`_due`) as one list, oldest first, narrowed
    by `wanted`: what the queue page lists, searches and pages."""
    mine, claims, checks = _due(member, campaign, day)
    # One UNION of the three: an OR of three IN-subqueries was a scan of every problem of
    # the campaign on PostgreSQL (hashed subplans as a filter), 35 ms at 200,000.
    due = mine.values("pk").union(claims.values("pk"), checks.values("pk"))
    qs = (Problem.objects.filter(pk__in=due)
          .select_related("owner", "unit", "category").order_by("pk"))
    return narrow(qs, wanted, campaign.org_id, day) if wanted is not None else qs


def queue_counts(member: Member, campaign: Campaign, day: dt.date) -> dict[str, int]:
    """What the queue's count is made of: claims to verify, re-checks that are due (a
    consolidation check, or a review round's item on a resolved problem), and their sum."""
    mine, claims, checks = _due(member, campaign, day)
    extra = mine.exclude(state=lifecycle.CLAIMED).exclude(
        state=lifecycle.VERIFIED, recheck_due__lte=day
    )
    n_claims = claims.count()
    n_checks = checks.count() + extra.count()
    return {"claims": n_claims, "rechecks": n_checks, "total": n_claims + n_checks}


def queue_size(member: Member, campaign: Campaign, day: dt.date) -> int:
    return queue_counts(member, campaign, day)["total"]


@dataclass
class RoundProgress:
    round: ReviewRound
    total: int
    checked: int
    passed: int
    failed: int
    behind: list[dict]  # [{"member": name, "pending": n}], most behind first


def round_progress(rnd: ReviewRound, day: dt.date | None = None) -> RoundProgress:
    """The round's progress now, or as of the end of `day` (an item checked later is still
    pending then)."""
    items = rnd.items.all()
    done = Q(outcome__in=[ReviewItem.Outcome.PASSED, ReviewItem.Outcome.FAILED])
    if day is not None:
        done &= Q(event__day__lte=day)
    total = items.count()
    counts = dict(items.filter(done).values_list("outcome").annotate(n=Count("pk")))
    passed = counts.get(ReviewItem.Outcome.PASSED, 0)
    failed = counts.get(ReviewItem.Outcome.FAILED, 0)
    rows = (items.exclude(done)
            .values("assignee__name").annotate(n=Count("pk")).order_by("-n")[:20])
    behind = [{"member": r["assignee__name"] or _("nobody (no representative free)"),
               "pending": r["n"]} for r in rows]
    return RoundProgress(rnd, total, passed + failed, passed, failed, behind)


def rounds(campaign: Campaign, limit: int = 5, day: dt.date | None = None
           ) -> list[RoundProgress]:
    """The latest review rounds, newest first, with their progress; with `day`, only those
    started by then, as they stood at the end of that day."""
    qs = campaign.rounds.all()
    if day is not None:
        qs = qs.filter(starts_on__lte=day)
    return [round_progress(r, day) for r in qs.order_by("-starts_on", "-pk")[:limit]]


# -- leader ----------------------------------------------------------------------------

def _named(vec: list[int]) -> dict[str, int]:
    return dict(zip(COUNTERS, vec, strict=True))


def _by_unit(org_id: int, day: dt.date, rows: dict[int, list[int]] | None = None) -> dict:
    """The raw counters per unit as of `day` (`rows`: if the caller has read them)."""
    rows = sums(org_id, day, DIMS["unit"]) if rows is None else rows
    return {k: _named(v) for k, v in rows.items() if k}


def stalled_units(org_id: int, day: dt.date, days: int = STALL_DAYS,
                  now: dict[int, list[int]] | None = None) -> list[dict]:
    """M5: units that have stalled on `day` (figures/stall.py, the same definition as the
    campaign's). Read from the figures, so any past day works. `now`: the raw sums by unit
    as of `day`, if the caller has read them already."""
    now = _by_unit(org_id, day, now)
    then = _by_unit(org_id, day - dt.timedelta(days=days))
    out = []
    for key, c in now.items():
        s = stall_of(c, then.get(key, {}), days)
        if s is not None:
            out.append({"unit_id": key, "unresolved": c["unresolved"], "overdue": c["overdue"],
                        "waiting": s.waiting, "checked": s.checked, "reason": s.reason})
    names = {u.pk: u.label() for u in Unit.objects.filter(pk__in=[r["unit_id"] for r in out])}
    for r in out:
        r["unit"] = names.get(r["unit_id"], "—")
    out.sort(key=lambda r: (-r["waiting"], -r["overdue"], -r["unresolved"]))
    return out


def campaign_stalled(org_id: int, day: dt.date, days: int = STALL_DAYS,
                     now: dict[int, list[int]] | None = None) -> Stall | None:
    """M5's warning: the whole organisation has stalled ("single-minded" leadership moved
    on after the first 85%); figures/stall.py defines it. `now`: the raw sums of a split as
    of `day`, if the caller has read one (as for `stalled_units`)."""
    return campaign_stall(org_id, day, days, now)


def _first_per_state(qs: QuerySet, states, field: str, limit: int) -> list[Problem]:
    """The first `limit` problems of `qs` in any of `states`, by `field` (then id). Asked
    per state, each question reads one range of a (…, state, field) index and stops after
    `limit`; asked for all states at once, the database would sort every match."""
    keys = []
    for state in sorted(states):
        keys += qs.filter(state=state).order_by(field, "pk").values_list(field, "pk")[:limit]
    pks = [pk for _value, pk in sorted(keys)[:limit]]
    return sorted(Problem.objects.filter(pk__in=pks).select_related("owner", "unit"),
                  key=lambda p: (getattr(p, field), p.pk))


def long_standing(campaign: Campaign, day: dt.date, limit: int = 20,
                  now: bool = True) -> dict:
    """M12: problems first raised a year or more before `day`: those still open, oldest
    first, and how many of them have been solved. `now`: `day` is today (the problems'
    current states); otherwise their states as of the end of `day`, from their events."""
    cutoff = day - dt.timedelta(days=LONG_STANDING_DAYS)
    old = Problem.objects.filter(org_id=campaign.org_id, first_raised__lte=cutoff)
    if not now:
        return _long_standing_then(old, day, limit)
    rows = _first_per_state(old, lifecycle.UNRESOLVED, "first_raised", limit)
    return {"open": [{"problem": p, "age": (day - p.first_raised).days,
                      "state": p.state_label} for p in rows],
            **_long_standing_counts(campaign.org_id, cutoff)}


def _long_standing_then(old: QuerySet, day: dt.date, limit: int) -> dict:
    """Long-standing problems as they stood at the end of a past day: each one's state is
    its last event's up to then (none yet: it did not exist)."""
    then = Subquery(Event.objects.filter(problem=OuterRef("pk"), day__lte=day)
                    .order_by("-seq").values("to_state")[:1])
    old = old.annotate(state_then=then)
    counts = dict(old.values_list("state_then").annotate(n=Count("pk")).order_by())
    rows = (old.filter(state_then__in=sorted(lifecycle.UNRESOLVED)).select_related("owner", "unit")
            .order_by("first_raised", "pk")[:limit])
    out = []
    for p in rows:
        p.state_label_then = lifecycle.STATE_LABELS.get(p.state_then, p.state_then)
        out.append({"problem": p, "age": (day - p.first_raised).days,
                    "state": p.state_label_then})
    return {"open": out,
            "solved": sum(counts.get(s, 0) for s in lifecycle.VERIFIED_RESOLVED),
            "still_open": sum(counts.get(s, 0) for s in lifecycle.UNRESOLVED)}


def _long_standing_counts(org_id: int, cutoff: dt.date) -> dict:
    """How many long-standing problems are solved and still open. Counting them reads every
    one of them (a city has hundreds of thousands): the counts are kept per process until the
    next event anywhere, which is when they can change, so they are always exact."""
    # Where the log stands (event ids are random): the latest problem update and the count of
    # today's events (an anonymous act is dated to the start of its day), both by index.
    last = Problem.objects.aggregate(m=Max("updated_at"))["m"]
    n_today = Event.objects.filter(
        kind__in=sorted(ACTIONS), day=timezone.localdate()
    ).count()
    stamp = last.timestamp() if last else 0
    key = f"zhenggai:long-standing:{org_id}:{cutoff.isoformat()}:{stamp}:{n_today}"
    counts = cache.get(key)
    if counts is None:
        old = Problem.objects.filter(org_id=org_id, first_raised__lte=cutoff)
        counts = {"solved": old.filter(state__in=sorted(lifecycle.VERIFIED_RESOLVED)).count(),
                  "still_open": old.filter(state__in=sorted(lifecycle.UNRESOLVED)).count()}
        cache.set(key, counts, 3600)
    return counts


def _newest(qs: QuerySet, keep, limit: int, batch: int = 200, batches: int = 50) -> list:
    """The newest `limit` rows of `qs` (already ordered newest first) that `keep` accepts,
    read in batches backwards along the ordering's index. A filter through the problem in
    SQL would make the database start from the organisation's problems and sort them all."""
    out: list = []
    for i in range(batches):
        rows = list(qs[i * batch:(i + 1) * batch])
        out += [r for r in rows if keep(r)]
        if len(out) >= limit or len(rows) < batch:
            break
    return out[:limit]


def followup_log(campaign: Campaign, limit: int = 20,
                 day: dt.date | None = None) -> list[FollowUp]:
    """The newest follow-ups of the campaign, newest recorded first; with `day`, those made
    up to the end of that day."""
    qs = (FollowUp.objects.select_related("problem", "event", "recorded_by")
          .order_by("-event__recorded_at", "-pk"))  # ids are random
    if day is None:
        return _newest(qs, lambda f: f.problem.campaign_id == campaign.pk, limit)
    return _newest(qs, lambda f: f.problem.campaign_id == campaign.pk and f.event.day <= day,
                   limit)


def _proposed_reasons(problem) -> QuerySet:
    """The notes of a problem's proposed declines, latest first."""
    return (Event.objects.filter(problem=problem, kind="propose_decline")
            .order_by("-seq").values_list("note", flat=True))


def pending_declines(campaign: Campaign) -> QuerySet:
    """Proposed declines waiting for a leader, each with the latest proposal's reason
    (`decline_note`), read in the same query."""
    return (Problem.objects.filter(campaign=campaign, decline_requested=True,
                                   state__in=[lifecycle.OPEN, lifecycle.ASSIGNED])
            .annotate(decline_note=Subquery(_proposed_reasons(OuterRef("pk"))[:1]))
            .select_related("owner", "unit").order_by("updated_at", "pk"))


def decline_reason(problem: Problem) -> str:
    """The reason of the latest proposal to decline: from pending_declines' annotation if
    the problem came from there, else one query."""
    note = getattr(problem, "decline_note", None)
    if note is None:
        note = _proposed_reasons(problem).first()
    return note or ""


# -- the public board ------------------------------------------------------------------

def responsible(p: Problem) -> str:
    """The person or unit that answers for a problem, as the board names them (M9)."""
    if p.owner_id:
        return p.owner.name + (f" · {p.unit.label()}" if p.unit_id else "")
    return p.unit.label() if p.unit_id else "—"


def overdue(org_id: int, day: dt.date, limit: int = PAGE, offset: int = 0) -> list[dict]:
    """Past their deadline and not yet claimed, most overdue first; `offset`: from the
    kiosk's later pages."""
    late = Problem.objects.filter(org_id=org_id, deadline__lt=day)
    qs = _first_per_state(late, lifecycle.UNCLAIMED, "deadline", offset + limit)[offset:]
    return [{"problem": p, "who": responsible(p), "days": p.days_overdue(day)} for p in qs]


def overdue_count(org_id: int, day: dt.date) -> int:
    return Problem.objects.filter(org_id=org_id, deadline__lt=day,
                                  state__in=sorted(lifecycle.UNCLAIMED)).count()


def reopened_count(org_id: int) -> int:
    return Problem.objects.filter(org_id=org_id, state=lifecycle.REOPENED).count()


def reopened(org_id: int, day: dt.date, limit: int = PAGE, offset: int = 0) -> list[dict]:
    qs = (Problem.objects.filter(org_id=org_id, state=lifecycle.REOPENED)
          .select_related("owner", "unit").order_by("-updated_at", "-pk")[offset:offset + limit])
    return [{"problem": p, "who": responsible(p),
             "reason": p.reopen_label,
             "days": p.days_overdue(day)}
            for p in qs]


def recent_posters(org_id: int, limit: int = 20) -> list[Poster]:
    """Posters, newest first. An unsigned poster carries no name (signed_by is empty)."""
    qs = Poster.objects.select_related("problem", "signed_by").order_by("-day", "-pk")
    return _newest(qs, lambda p: p.problem.org_id == org_id, limit)


def events_of(problem: Problem) -> list[Event]:
    """The problem's events, each with the lifecycle's label for its kind."""
    events = list(Event.objects.filter(problem=problem).select_related("actor").order_by("seq"))
    for e in events:
        a = ACTIONS.get(e.kind)
        e.label = a.label if a else e.kind
        e.from_label = lifecycle.STATE_LABELS.get(e.from_state, "")
        e.to_label = lifecycle.STATE_LABELS.get(e.to_state, "")
    return events
