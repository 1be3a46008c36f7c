"""The desk's proposals (grouping/proposals.py): computed ahead and stored, held by one
clerk at a time, taken whole once (a conflict for the second clerk, never an opinion lost
or in two problems), stale ones never shown as they were, and the progress figures."""

import datetime as dt

import pytest
from django.utils import timezone

from tests import factories as f
from zhenggai.errors import Conflict
from zhenggai.grouping import proposals as P
from zhenggai.grouping.models import Proposal, ProposalRun
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions
from zhenggai.problems.models import Event, Problem

LEAK = ["8号炉漏水严重，请尽快维修", "8号炉漏水严重，快点维修", "8号炉漏水，维修太慢"]
CANTEEN = ["食堂饭菜太贵，请降价", "食堂饭菜太贵了，要降价"]
BATH = ["浴室水不热，洗澡太冷", "浴室水不热，冬天洗澡冷"]


@pytest.fixture
def desk(story):
    s = story
    s.clerk2 = f.member(s.org, "吴文书", s.office, "clerk", c=s.campaign)
    s.ops = {name: [f.opinion(s.campaign, t, unit=s.furnace if name == "leak" else s.office)
                    .opinion for t in texts]
             for name, texts in (("leak", LEAK), ("canteen", CANTEEN), ("bath", BATH))}
    f.opinion(s.campaign, "炉前温度太高，需要通风")  # stands alone
    P.refresh(s.campaign)
    return s


def groups(story):
    return sorted(sorted(p.opinions) for p in Proposal.objects.filter(
        campaign=story.campaign, state=Proposal.OPEN))


def test_the_worker_stores_the_groups_biggest_first(desk):
    s = desk
    assert groups(s) == sorted(sorted(o.pk for o in v) for v in s.ops.values())
    shown = P.page(s.campaign, s.clerk)
    assert [len(x.opinions) for x in shown] == [3, 2, 2]
    assert ProposalRun.objects.get(campaign=s.campaign).log_seq > 0
    assert P.due() == []  # nothing new since
    f.opinion(s.campaign, "食堂饭菜太贵，能不能降价")
    assert P.due() == [s.campaign.pk]
    assert P.refresh_due() == 1
    assert max(len(g) for g in groups(s)) == 3 and P.due() == []


def test_a_refresh_keeps_a_proposal_that_comes_out_the_same(desk):
    s = desk
    first = P.page(s.campaign, s.clerk)[0].proposal
    P.refresh(s.campaign)
    again = Proposal.objects.get(pk=first.pk)
    assert again.state == Proposal.OPEN and again.held_by_id == s.clerk.pk


def test_two_clerks_never_get_the_same_proposal(desk):
    s = desk
    a = {x.proposal.pk for x in P.page(s.campaign, s.clerk, per=2)}
    b = {x.proposal.pk for x in P.page(s.campaign, s.clerk2, per=2)}
    assert len(a) == 2 and len(b) == 1 and not a & b
    # the hold runs out: then the other clerk may get it
    later = timezone.now() + P.HOLD + dt.timedelta(seconds=1)
    c = {x.proposal.pk for x in P.page(s.campaign, s.clerk2, per=3, now=later)}
    assert a <= c
    # moving on releases the clerk's other holds
    P.page(s.campaign, s.clerk2, per=1, now=later)
    assert Proposal.objects.filter(held_by=s.clerk2).count() == 1


def test_taking_a_proposal_makes_one_problem_and_the_second_clerk_a_conflict(desk):
    s = desk
    top = P.page(s.campaign, s.clerk, per=1)[0].proposal
    with pytest.raises(Conflict):  # held by the first clerk: not the second's to take
        P.take(s.campaign, top.pk, s.clerk2, summary="漏水")
    p = P.take(s.campaign, top.pk, s.clerk, summary="8号炉漏水")
    assert p.n_opinions == 3 and set(p.opinions.values_list("pk", flat=True)) == set(top.opinions)
    assert Event.objects.filter(problem=p, kind="create").count() == 1
    with pytest.raises(Conflict, match=f"#{p.pk}"):  # both pressed: the second is told
        P.take(s.campaign, top.pk, s.clerk2, summary="漏水")
    with pytest.raises(Conflict):
        P.take(s.campaign, top.pk, s.clerk, summary="again")
    assert Problem.objects.count() == 1
    # taken: gone for the other clerk
    assert top.pk not in {x.proposal.pk for x in P.page(s.campaign, s.clerk2)}


def test_into_an_existing_problem(desk):
    s = desk
    bath = actions.create_problem(s.campaign, [f.opinion(s.campaign, "浴室水不热").opinion],
                                  actor=s.clerk, summary="浴室水不热")
    prop = next(x for x in P.page(s.campaign, s.clerk)
                if x.opinions[0].pk in {o.pk for o in s.ops["bath"]})
    P.take(s.campaign, prop.proposal.pk, s.clerk, into=bath)
    bath.refresh_from_db()
    assert bath.n_opinions == 3
    assert list(Event.objects.filter(problem=bath).values_list("kind", flat=True)) == [
        "create", "add_opinions"]


def test_a_proposal_summarised_otherwise_is_never_shown_wrong(desk):
    s = desk
    leak = s.ops["leak"]
    rest = sorted(o.pk for o in leak[1:])
    prop = next(x.proposal for x in P.page(s.campaign, s.clerk)
                if leak[0].pk in x.proposal.opinions)
    # summarised by hand while the clerk looks at the proposal
    actions.create_problem(s.campaign, [leak[0]], actor=s.clerk2, summary="漏水")
    n = Event.objects.count()
    with pytest.raises(Conflict):  # refuses the whole and writes nothing
        P.take(s.campaign, prop.pk, s.clerk, summary="x")
    assert Event.objects.count() == n
    assert Opinion.objects.get(pk=leak[1].pk).problem_id is None
    P.mark_stale_if_changed(s.campaign, prop.pk)
    assert sorted(Proposal.objects.get(pk=prop.pk).opinions) == rest
    # shown again: only what still waits, and that is what is taken
    shown = {x.proposal.pk: sorted(o.pk for o in x.opinions) for x in P.page(s.campaign, s.clerk)}
    assert shown[prop.pk] == rest
    assert all(leak[0].pk not in v for v in shown.values())
    assert sorted(P.take(s.campaign, prop.pk, s.clerk, summary="漏水").opinions
                  .values_list("pk", flat=True)) == rest
    # canteen summarised by hand: its proposal has one opinion left, so it is stale
    actions.create_problem(s.campaign, [s.ops["canteen"][0]], actor=s.clerk, summary="贵")
    shown = P.page(s.campaign, s.clerk)
    assert all(len(x.opinions) >= 2 for x in shown) and len(shown) == 1
    assert Proposal.objects.filter(state=Proposal.STALE).count() == 1


def test_skip_and_split_off(desk):
    s = desk
    first = P.page(s.campaign, s.clerk)[0].proposal
    P.skip(s.campaign, first.pk, s.clerk)
    assert P.page(s.campaign, s.clerk)[-1].proposal.pk == first.pk  # behind the others
    one = first.opinions[1]
    left = P.split_off(s.campaign, first.pk, one, s.clerk)
    assert one not in left.opinions and left.size == 2 and left.state == Proposal.OPEN
    p = P.take(s.campaign, first.pk, s.clerk, summary="漏水")
    assert p.n_opinions == 2 and Opinion.objects.get(pk=one).problem_id is None
    # split the last but one: no group left
    other = P.page(s.campaign, s.clerk)[0].proposal
    assert P.split_off(s.campaign, other.pk, other.opinions[0], s.clerk).state == \
        Proposal.STALE
    with pytest.raises(Conflict):
        P.skip(s.campaign, other.pk, s.clerk)


def test_progress_by_unit(desk):
    s = desk
    g = P.progress(s.campaign)
    assert (g.total, g.done) == (8, 0)
    units = {u.unit_id: (u.total, u.done) for u in g.units}
    assert units[s.furnace.pk] == (3, 0) and sum(t for t, _d in units.values()) == 8
    top = P.page(s.campaign, s.clerk, per=1)[0].proposal
    P.take(s.campaign, top.pk, s.clerk, summary="漏水")
    f.opinion(s.campaign, "新意见：澡堂没有热水", unit=s.furnace)  # after the run
    g = P.progress(s.campaign)
    assert (g.total, g.done) == (9, 3)
    assert {u.unit_id: (u.total, u.done) for u in g.units}[s.furnace.pk] == (4, 3)
    P.refresh(s.campaign)
    assert (P.progress(s.campaign).total, P.progress(s.campaign).done) == (9, 3)


def test_two_workers_refreshing_at_once_leave_one_set_of_proposals(desk):
    s = desk
    from zhenggai.grouping.models import ProposalRun

    run = ProposalRun.objects.get(campaign=s.campaign)
    P.refresh(s.campaign)
    P.refresh(s.campaign)
    assert len(groups(s)) == 3 and len({tuple(g) for g in groups(s)}) == 3
    # a run newer than the one being written wins: the older one writes nothing
    ProposalRun.objects.filter(pk=run.pk).update(log_seq=run.log_seq + 10**6)
    before = list(Proposal.objects.values_list("pk", flat=True).order_by("pk"))
    P.refresh(s.campaign)
    assert list(Proposal.objects.values_list("pk", flat=True).order_by("pk")) == before


def test_a_run_keeps_no_time_finer_than_the_day(desk):
    """Which opinions a run held, beside the run's time, would bound when an anonymous
    opinion came; the run keeps only its day."""
    made = ProposalRun.objects.get(campaign=desk.campaign).made_at
    assert made is not None
    assert (made.hour, made.minute, made.second, made.microsecond) == (0, 0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_tick_refreshes_in_a_thread_and_leaves_no_timed_row(story):
    """The tick (notifications/worker.py) starts the refresh in a thread: grouping a large
    campaign never holds up the minute's notifications, and no job row keeps the minute
    after new opinions came (which would date an anonymous one)."""
    from django_tasks_db.models import DBTaskResult

    from zhenggai.notifications import worker

    for t in LEAK:
        f.opinion(story.campaign, t)
    assert P.due() == [story.campaign.pk]
    assert worker.propose() is True
    with worker._refreshing:  # taken until the thread is done
        pass
    assert len(groups(story)) == 1
    assert ProposalRun.objects.get(campaign=story.campaign).made_at is not None
    assert not DBTaskResult.objects.exists()
    assert P.due() == [] and worker.propose() is False  # nothing new: nothing started
    f.opinion(story.campaign, "8号炉漏水严重，请赶快维修")
    assert worker.propose(wait=True) is True and P.due() == []
