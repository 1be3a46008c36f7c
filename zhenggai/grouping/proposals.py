"""The clerk's proposals, computed ahead and taken whole (the summarising desk).

The worker (`zhenggai worker`, every minute; or :func:`refresh` directly) groups each
campaign's unsummarised opinions with the grouping engine (service.propose_groups) once
new opinions have come in, and stores the groups as :class:`~.models.Proposal` rows,
biggest first, with the existing problems most like each. The desk only reads them: a page
of proposals is a few indexed rows, however many opinions wait.

Rules (here, not in the views):

- A clerk who is shown a proposal holds it for :data:`HOLD` (``held_by``/``held_until``);
  another clerk is not shown it meanwhile. Moving on releases the clerk's other holds.
- Taking a proposal (:func:`take`: a new problem, or into an existing one) is one
  conditional update of its state from open to taken, in the same transaction as the
  problem's event (problems.actions): if two clerks press at once, one wins and the other
  gets :class:`~zhenggai.errors.Conflict` (409), and nothing of theirs is written. An opinion
  grouped meanwhile by other means also refuses the whole take (actions._take_opinions), so
  no opinion is ever lost or in two problems.
- A proposal one of whose opinions has been summarised otherwise is never shown as it was:
  its opinions still waiting are shown, and with fewer than two it is marked stale.
- Skipping puts a proposal behind the others (``skips``); splitting one opinion off returns
  that opinion to the unsummarised pool.

The problem's events (create, add opinions) are the record of every decision; holds, skips
and split-offs change no problem and no opinion, only the desk's queue.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhenggai.errors import Conflict, InvalidInput
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions, queries
from zhenggai.problems.models import Problem

from .models import IndexLog, LogHorizon, Proposal, ProposalRun

#: How long a proposal shown to a clerk stays theirs alone.
HOLD = dt.timedelta(minutes=5)
#: Proposals per page of the desk.
PER_PAGE = 5
#: Existing problems stored per proposal as places it may go instead.
TARGETS = 3
#: Proposals that get their targets computed (the biggest; the rest get them on refresh).
TARGETS_FOR = 100
#: Opinions shown per proposal (keys 1-9 mark them); taking it takes all of them.
SHOWN = 9
_CHUNK = 5000  # ids per IN list: under SQLite's and PostgreSQL's parameter limits


def _loose(campaign_id: int):
    return Opinion.objects.waiting(campaign_id)


def _gone(ids) -> set[int]:
    """Those of these opinions that no longer wait (summarised, or a "me too" waiting for
    its problem): a few rows, whatever the size of the groups. The ids travel as one
    parameter (an array on PostgreSQL, a JSON list on SQLite): a group of a thousand
    opinions costs no thousand-parameter query to build and plan."""
    import json

    from django.db import connection

    from zhenggai.opinions.models import PendingMeToo

    ids = [int(i) for i in ids]
    if not ids:
        return set()
    op, me = Opinion._meta.db_table, PendingMeToo._meta.db_table
    if connection.vendor == "postgresql":
        # As array text: psycopg writing a list of thousands of ints took longer than the
        # server's index probes for them.
        among, param = "o.id = ANY(%s::bigint[])", "{" + ",".join(map(str, ids)) + "}"
    else:
        among, param = "o.id IN (SELECT value FROM json_each(%s))", json.dumps(ids)
    with connection.cursor() as cur:
        cur.execute(f"SELECT o.id FROM {op} o WHERE {among} AND (o.problem_id IS NOT NULL "
                    f"OR EXISTS (SELECT 1 FROM {me} m WHERE m.opinion_id = o.id))", [param])
        return {r[0] for r in cur.fetchall()}


def _still_waiting(props) -> list[tuple[Proposal, list[int]]]:
    """Each proposal with those of its opinions that still wait: one query for them all."""
    gone = _gone({i for p in props for i in p.opinions})
    return [(p, [i for i in p.opinions if i not in gone]) for p in props]


# -- the worker's side -------------------------------------------------------------------

def _last_seq(campaign_id: int) -> int:
    return IndexLog.objects.filter(campaign_id=campaign_id).aggregate(
        m=Max("seq"))["m"] or 0


def due() -> list[int]:
    """Campaigns with opinions logged since their last run (or never run)."""
    runs = dict(ProposalRun.objects.values_list("campaign_id", "log_seq"))
    last = IndexLog.objects.values("campaign_id").annotate(m=Max("seq"))
    return [r["campaign_id"] for r in last if r["m"] > runs.get(r["campaign_id"], -1)]


def refresh_due() -> int:
    """The worker's tick: refresh every campaign that has new opinions. Returns how many."""
    from zhenggai.campaigns.models import Campaign

    n = 0
    for c in Campaign.objects.filter(pk__in=due()):
        refresh(c)
        n += 1
    return n


def refresh(campaign) -> ProposalRun:
    """Group the campaign's unsummarised opinions afresh and store the groups. An open
    proposal whose group comes out the same is kept (with its hold and skips); the others
    are replaced. Also counts the progress figures (opinions per unit) for the desk."""
    from . import service as S

    seq = _last_seq(campaign.pk)
    groups = S.service.propose_groups(campaign)
    open_ = queries.open_problems(campaign)
    kept = {tuple(sorted(p.opinions)): p
            for p in Proposal.objects.filter(campaign=campaign, state=Proposal.OPEN)}
    new, kept_now = [], []
    for i, g in enumerate(groups):
        ids = [o.pk for o in g.opinions]
        targets = []
        if i < TARGETS_FOR:  # problems made since the last run count too
            targets = [s.problem.pk for s in S.problems_like(
                campaign, [g.opinions[0].text], k=TARGETS, among=open_)]
        old = kept.get(tuple(sorted(ids)))
        if old is not None:
            old.targets = targets
            kept_now.append(old)
            continue
        new.append(Proposal(campaign=campaign, size=len(ids), opinions=ids,
                            shared=g.shared, targets=targets))
    keep_ids = {p.pk for p in kept_now}
    units = _count_units(campaign.pk, seq)
    ProposalRun.objects.get_or_create(campaign=campaign)
    with transaction.atomic():
        # One writer at a time per campaign (two workers may both find it due): the run's
        # row locked, and a run as new as this one already written wins.
        run = ProposalRun.objects.select_for_update().get(campaign=campaign)
        if run.made_at is not None and run.log_seq > seq:
            return run
        Proposal.objects.filter(campaign=campaign, state=Proposal.OPEN).exclude(
            pk__in=keep_ids).update(state=Proposal.REPLACED, held_by=None, held_until=None)
        Proposal.objects.bulk_create(new, batch_size=500)
        Proposal.objects.bulk_update(kept_now, ["targets"], batch_size=500)
        # what no desk needs any longer
        Proposal.objects.filter(campaign=campaign, state__in=[
            Proposal.REPLACED, Proposal.STALE]).delete()
        # Only the day: which opinions a run held, beside its time, would bound when an
        # anonymous opinion came finer than the day. made_at only says a run was made.
        run.log_seq, run.units = seq, units
        run.made_at = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        run.save()
    return run


def _count_units(campaign_id: int, seq: int) -> dict[str, int]:
    """Opinions per unit, leaving out those logged after ``seq`` (the desk adds them)."""
    since = IndexLog.objects.filter(campaign_id=campaign_id, seq__gt=seq).values("opinion_id")
    rows = (Opinion.objects.filter(campaign_id=campaign_id).exclude(pk__in=since)
            .values("unit_id").annotate(n=Count("pk")))
    return {str(r["unit_id"] or 0): r["n"] for r in rows}


@dataclass
class Stored:
    """A stored proposal as it stands now, for a read that holds nothing (the grouping page
    and the API): its opinions still waiting, the words they share, and those of its stored
    targets still open to grouping."""

    opinions: list[Opinion]
    shared: list[str]
    targets: list[Problem]


def computed(campaign) -> bool:
    """Whether the worker has stored the campaign's proposals at least once."""
    return ProposalRun.objects.filter(campaign=campaign, made_at__isnull=False).exists()


def stored(campaign) -> list[Stored]:
    """The campaign's open proposals from the worker's last run, in the desk's order
    (skipped last, then biggest first), each with only its opinions still waiting; one
    with fewer than two left is not shown. Reads a few rows whatever the number of
    opinions; nothing is held or written (the desk's :func:`page` holds and marks)."""
    props = list(Proposal.objects.filter(campaign=campaign, state=Proposal.OPEN)
                 .order_by("skips", "-size", "pk"))
    keep = [(p, ids) for p, ids in _still_waiting(props) if len(ids) >= 2]
    want = [i for _p, ids in keep for i in ids]
    objs = {}
    for i in range(0, len(want), _CHUNK):
        objs.update(Opinion.objects.in_bulk(want[i:i + _CHUNK]))
    tids = {t for p, _ids in keep for t in p.targets}
    probs = ({x.pk: x for x in queries.open_problems(campaign).filter(pk__in=tids)}
             if tids else {})
    return [Stored([objs[i] for i in ids if i in objs], list(p.shared),
                   [probs[t] for t in p.targets if t in probs]) for p, ids in keep]


# -- how far the summary is --------------------------------------------------------------

@dataclass
class UnitProgress:
    unit_id: int
    total: int
    done: int


@dataclass
class Progress:
    total: int
    done: int
    units: list[UnitProgress] = field(default_factory=list)
    counted: bool = True  # False: no run yet, counted now from the opinions


def progress(campaign) -> Progress:
    """Opinions of the campaign and how many are summarised, in all and per unit: the
    totals from the worker's last run plus the opinions logged since, the unsummarised
    counted now (an indexed range: only the waiting ones)."""
    run = ProposalRun.objects.filter(campaign=campaign, made_at__isnull=False).first()
    horizon = LogHorizon.objects.aggregate(m=Max("pruned_to"))["m"] or 0
    if run is None or horizon > run.log_seq:  # the log since the run is gone: count all
        totals = {int(r["unit_id"] or 0): r["n"] for r in Opinion.objects.filter(
            campaign=campaign).values("unit_id").annotate(n=Count("pk"))}
        counted = run is not None
    else:
        totals = {int(k): v for k, v in run.units.items()}
        since = IndexLog.objects.filter(campaign_id=campaign.pk, seq__gt=run.log_seq)
        for r in (Opinion.objects.filter(pk__in=since.values("opinion_id"),
                                         campaign=campaign)
                  .values("unit_id").annotate(n=Count("pk"))):
            k = int(r["unit_id"] or 0)
            totals[k] = totals.get(k, 0) + r["n"]
        counted = True
    loose = {int(r["unit_id"] or 0): r["n"]
             for r in _loose(campaign.pk).values("unit_id").annotate(n=Count("pk"))}
    units = [UnitProgress(u, t, max(0, t - loose.get(u, 0))) for u, t in totals.items()]
    units.sort(key=lambda u: (-(u.total - u.done), -u.total, u.unit_id))
    total = sum(totals.values())
    return Progress(total, max(0, total - sum(loose.values())), units, counted)


# -- the clerk's side --------------------------------------------------------------------

@dataclass
class Shown:
    proposal: Proposal
    opinions: list[Opinion]  # the first SHOWN of them
    targets: list[Problem]
    size: int  # all its opinions, which taking it takes

    @property
    def more(self) -> int:
        return self.size - len(self.opinions)

    @property
    def summary(self) -> str:
        """The summary offered until the clerk writes one: the shortest of its opinions
        shown (the fewest extra words), cut at 100 characters."""
        text = min((o.text for o in self.opinions), key=len, default="").strip()
        return text if len(text) <= 100 else text[:99] + "…"


def _free(clerk, now):
    return Q(held_by__isnull=True) | Q(held_by=clerk) | Q(held_until__lt=now)


def available(campaign, clerk, now=None):
    """The open proposals this clerk may be shown: none held by another clerk just now."""
    now = now or timezone.now()
    return Proposal.objects.filter(campaign=campaign, state=Proposal.OPEN).filter(
        _free(clerk, now))


@transaction.atomic  # its few writes (stale, holds, releases): one commit, not four
def page(campaign, clerk, number: int = 0, per: int = PER_PAGE, now=None) -> list[Shown]:
    """A page of proposals for this clerk, biggest first (skipped ones last), each held by
    the clerk for :data:`HOLD`; the clerk's other holds are released. A proposal with an
    opinion summarised meanwhile shows only its opinions still waiting (stale with fewer
    than two: skipped)."""
    now = now or timezone.now()
    queue = available(campaign, clerk, now).order_by("skips", "-size", "pk")
    start = max(0, number) * per
    chosen: list[tuple[Proposal, list[int]]] = []
    for _round in range(5):
        cands = list(queue[start + len(chosen): start + len(chosen) + per - len(chosen)])
        if not cands:
            break
        stale = []
        for p, keep in _still_waiting(cands):
            if len(keep) < 2:
                stale.append(p.pk)
            else:
                if len(keep) < len(p.opinions):  # what is shown is what is taken
                    Proposal.objects.filter(pk=p.pk, state=Proposal.OPEN).update(
                        opinions=keep, size=len(keep))
                    p.opinions, p.size = keep, len(keep)
                chosen.append((p, keep))
        if stale:
            Proposal.objects.filter(pk__in=stale, state=Proposal.OPEN).update(
                state=Proposal.STALE, held_by=None, held_until=None)
        if len(chosen) >= per:
            break
    pks = [p.pk for p, _k in chosen]
    # Hold them: a conditional update, so that of two clerks at once only one gets each.
    Proposal.objects.filter(pk__in=pks, state=Proposal.OPEN).filter(_free(clerk, now)).update(
        held_by=clerk, held_until=now + HOLD)
    mine = set(Proposal.objects.filter(pk__in=pks, held_by=clerk).values_list("pk", flat=True))
    Proposal.objects.filter(held_by=clerk, campaign=campaign).exclude(pk__in=mine).update(
        held_by=None, held_until=None)
    chosen = [(p, k) for p, k in chosen if p.pk in mine]
    objs = Opinion.objects.select_related("unit").in_bulk(
        [i for _p, k in chosen for i in k[:SHOWN]])
    tids = {t for p, _k in chosen for t in p.targets}
    open_ = dict(queries.open_problems(campaign).filter(pk__in=tids).values_list("pk", "pk"))
    probs = Problem.objects.in_bulk([t for t in tids if t in open_]) if tids else {}
    return [Shown(p, [objs[i] for i in k[:SHOWN] if i in objs],
                  [probs[t] for t in p.targets if t in probs], len(k)) for p, k in chosen]


def _get(campaign, pk) -> Proposal:
    p = Proposal.objects.filter(pk=pk, campaign=campaign).first()
    if p is None:
        raise Conflict(_("This proposal is gone: the desk shows the proposals afresh."))
    return p


def _refuse(p: Proposal, clerk) -> None:
    """Why the proposal cannot be taken by this clerk now (always raises Conflict)."""
    p.refresh_from_db()
    if p.state == Proposal.TAKEN:
        if p.problem_id:
            raise Conflict(_("Another clerk has just summarised this group (problem #%(id)s)."),
                           id=p.problem_id)
        raise Conflict(_("Another clerk has just summarised this group."))
    if p.state != Proposal.OPEN:
        raise Conflict(_("This group has changed meanwhile: the desk shows it afresh."))
    raise Conflict(_("Another clerk is working on this group just now."))


@transaction.atomic
def take(campaign, pk: int, clerk, *, summary: str = "", into: Problem | None = None,
         now=None) -> Problem:
    """Take a proposal whole: its waiting opinions become a new problem (``summary``) or
    join ``into`` (an open problem of the campaign). One transaction: the proposal's state
    (conditional on open and not held by another clerk) and the problem's event."""
    now = now or timezone.now()
    p = _get(campaign, pk)
    n = Proposal.objects.filter(pk=p.pk, state=Proposal.OPEN).filter(
        _free(clerk, now)).update(state=Proposal.TAKEN, held_by=clerk, held_until=None)
    if n != 1:
        _refuse(p, clerk)
    if _gone(p.opinions):
        raise Conflict(_("Some opinions of this group were summarised meanwhile: the desk "
                         "shows it afresh."))
    waiting = [o for i in range(0, len(p.opinions), _CHUNK)
               for o in Opinion.objects.filter(campaign=campaign,
                                               pk__in=p.opinions[i:i + _CHUNK])]
    if len(waiting) != len(p.opinions):
        raise Conflict(_("This group has changed meanwhile: the desk shows it afresh."))
    if into is not None:
        if into.campaign_id != campaign.pk:
            raise InvalidInput(_("Choose a problem of this campaign."))
        problem = actions.add_opinions(into, waiting, actor=clerk)
    else:
        problem = actions.create_problem(campaign, waiting, actor=clerk, summary=summary)
    Proposal.objects.filter(pk=p.pk).update(problem=problem)
    return problem


def mark_stale_if_changed(campaign, pk: int) -> None:
    """After a refused take: a proposal with an opinion summarised otherwise is stale."""
    p = Proposal.objects.filter(pk=pk, campaign=campaign, state=Proposal.OPEN).first()
    if p is None:
        return
    [(_p, keep)] = _still_waiting([p])
    if len(keep) < 2:
        Proposal.objects.filter(pk=p.pk).update(state=Proposal.STALE, held_by=None,
                                                held_until=None)
    elif len(keep) < len(p.opinions):
        Proposal.objects.filter(pk=p.pk).update(opinions=keep, size=len(keep))


def _mine(campaign, pk, clerk, now) -> Proposal:
    p = _get(campaign, pk)
    if p.state != Proposal.OPEN or not (p.held_by_id in (None, clerk.pk)
                                        or (p.held_until and p.held_until < now)):
        _refuse(p, clerk)
    return p


@transaction.atomic
def skip(campaign, pk: int, clerk, now=None) -> None:
    """Put the proposal behind the others, for every clerk, and let it go."""
    now = now or timezone.now()
    p = _mine(campaign, pk, clerk, now)
    n = Proposal.objects.filter(pk=p.pk, state=Proposal.OPEN).filter(_free(clerk, now)).update(
        skips=p.skips + 1, held_by=None, held_until=None)
    if n != 1:
        _refuse(p, clerk)


@transaction.atomic
def split_off(campaign, pk: int, opinion_id: int, clerk, now=None) -> Proposal:
    """Take one opinion out of the proposal (it waits again, on its own); a proposal left
    with one opinion is no group any more (stale)."""
    now = now or timezone.now()
    p = _mine(campaign, pk, clerk, now)
    if opinion_id not in p.opinions:
        raise InvalidInput(_("That opinion is not in this group."))
    keep = [i for i in p.opinions if i != opinion_id]
    state = Proposal.OPEN if len(keep) >= 2 else Proposal.STALE
    n = Proposal.objects.filter(pk=p.pk, state=Proposal.OPEN).filter(
        _free(clerk, now)).update(opinions=keep, size=len(keep), state=state)
    if n != 1:
        _refuse(p, clerk)
    p.refresh_from_db()
    return p
