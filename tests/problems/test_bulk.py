"""Loading a whole history in bulk gives the same state and figures as the actions."""

import datetime as dt

import pytest
from django.db import IntegrityError

from tests import factories as f
from zhenggai.errors import InvalidInput
from zhenggai.figures.reference import differences
from zhenggai.opinions.models import Opinion, random_id
from zhenggai.problems import actions as problem_actions
from zhenggai.problems.bulk import BulkEvent, BulkLoader, BulkOpinion
from zhenggai.problems.models import Event, Problem
from zhenggai.problems.state import replay


def lifecycle(s, ids, day0):
    def at(n, h=10):
        d = day0 + dt.timedelta(days=n)
        return f.at(d.year, d.month, d.day, h)

    return [
        BulkEvent("create", at(0), s.clerk.pk, data={
            "org": s.org.pk, "campaign": s.campaign.pk, "summary": "炉前太热",
            "category": s.category.pk, "unit": s.furnace.pk, "opinion_ids": ids}),
        BulkEvent("assign", at(0, 11), s.clerk.pk, data={
            "owner": s.owner.pk, "unit": s.furnace.pk, "measures": "装风扇",
            "deadline": (day0 + dt.timedelta(days=10)).isoformat(), "scope": "common"}),
        BulkEvent("claim", at(20), s.owner.pk),
        BulkEvent("verify_not_thorough", at(22), s.rep.pk, reason="not_thorough"),
        BulkEvent("claim", at(25), s.owner.pk),
        BulkEvent("verify_passed", at(27), s.rep.pk,
                     data={"recheck_due": (day0 + dt.timedelta(days=57)).isoformat()}),
        BulkEvent("followup", at(28), s.leader.pk,
                     data={"outcome": "satisfied", "channel": "conversation"}),
        BulkEvent("poster", at(28, 12), s.worker.pk),
    ]


def opinions(s, n, day):
    return [BulkOpinion(random_id(), s.campaign.pk, "炉前太热", "paper", day, i % 3 == 0,
                           None if i % 3 == 0 else s.worker.pk, s.furnace.pk, s.category.pk)
            for i in range(n)]


def test_a_loaded_history_has_the_figures_of_its_events(story):
    s = story
    loader = BulkLoader(s.org.pk)
    for k in range(30):
        day = dt.date(1957, 6, 1) + dt.timedelta(days=k)
        ops = opinions(s, 1 + k % 4, day)
        loader.opinions(ops)
        loader.problem(lifecycle(s, [o.id for o in ops], day + dt.timedelta(days=3)))
        if k == 14:
            loader.flush()  # two payloads, as a big load writes them
    loader.finish()
    assert Problem.objects.filter(org=s.org).count() == 30
    assert Opinion.objects.filter(org=s.org, problem__isnull=False).count() == sum(
        1 + k % 4 for k in range(30))
    for p in Problem.objects.filter(org=s.org):
        events = list(Event.objects.filter(problem=p).order_by("seq"))
        assert problem_actions.row_fields(replay(events)) == problem_actions.row_fields(
            problem_actions.stored_state(p)
        )
    for day in ("1957-06-10", "1957-07-01", "1957-07-20", "1957-09-01"):
        assert differences(s.org.pk, dt.date.fromisoformat(day)) == []
    # The loaded problems go on living through the ordinary actions.
    p = Problem.objects.filter(org=s.org).first()
    problem_actions.consolidation_check(p, actor=s.rep2, holds=False, findings="又坏了",
                          at=f.at(1957, 12, 1))
    assert differences(s.org.pk, dt.date(1957, 12, 1)) == []


def one_problem(s):
    """A loader fed one opinion, and the events of a problem made of it."""
    loader = BulkLoader(s.org.pk)
    ops = opinions(s, 1, dt.date(1957, 6, 1))
    loader.opinions(ops)
    return loader, lifecycle(s, [ops[0].id], dt.date(1957, 6, 3))


def test_an_illegal_transition_is_refused(story):
    loader, events = one_problem(story)
    del events[2]  # verify without a claim
    with pytest.raises(InvalidInput) as e:
        loader.problem(events)
    assert "verify_not_thorough is not allowed from assigned" in str(e.value)


@pytest.mark.django_db(transaction=True)
def test_a_broken_reference_writes_nothing(story):
    """The load commits for real here, as it does outside tests."""
    s = story
    loader, events = one_problem(s)
    events[2].actor = 10**9  # nobody
    loader.problem(events)
    with pytest.raises((InvalidInput, IntegrityError)):
        loader.flush()
    assert not Problem.objects.filter(org=s.org).exists()
    assert not Opinion.objects.filter(org=s.org).exists()
