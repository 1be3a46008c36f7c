"""Issue 13: figures nobody can game. Each loophole a member could use to move the figures
without doing the work is closed in the domain (rules.py, actions.py), and the pages and
the API follow it."""

import datetime as dt

import pytest
from django.test import Client

from tests import factories as f
from tests.helpers import DAY, bring_to, snapshot, when
from zhenggai.api.models import ApiToken
from zhenggai.errors import Forbidden, InvalidInput, Refused
from zhenggai.figures.queries import figures
from zhenggai.problems import actions as problem_actions
from zhenggai.problems import lifecycle, rules
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import FollowUp, Problem
from zhenggai.problems.registry import ACTIONS

# -- 1. A consolidation check only after the period, and never by the verifier ------------

def test_the_verifier_cannot_close_the_problem_the_same_day(story):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)  # verified by rep on when(3)
    before = snapshot(s.org.pk)
    with pytest.raises(Forbidden, match="other than the one who verified"):
        problem_actions.consolidation_check(p, actor=s.rep, holds=True, at=when(3))
    with pytest.raises(Forbidden, match="other than the one who verified"):
        problem_actions.consolidation_check(p, actor=s.rep, holds=True, at=when(40))
    # Another representative, but before the consolidation period is over.
    with pytest.raises(Refused, match="30 days after verification"):
        problem_actions.consolidation_check(p, actor=s.rep2, holds=True, at=when(32))
    assert snapshot(s.org.pk) == before
    problem_actions.consolidation_check(p, actor=s.rep2, holds=True, at=when(33))
    assert Problem.objects.get(pk=p.pk).state == lifecycle.CLOSED


def test_the_page_offers_the_check_only_when_the_domain_allows_it(story):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)
    state = problem_actions.stored_state(p)
    names = ["check_holds", "check_deteriorated"]
    assert rules.offered(names, state, s.campaign, s.rep, p.pk, day=when(40).date()) == set()
    assert rules.offered(names, state, s.campaign, s.rep2, p.pk, day=when(10).date()) == set()
    assert rules.offered(names, state, s.campaign, s.rep2, p.pk,
                         day=when(33).date()) == set(names)


def test_the_queue_brings_a_due_check_to_another_representative_only(story):
    from zhenggai.problems import queries

    s = story
    p = bring_to(s, lifecycle.VERIFIED)
    due = DAY + dt.timedelta(days=33)
    assert queries.next_to_verify(s.rep, s.campaign, due) is None  # the verifier
    assert queries.next_to_verify(s.rep2, s.campaign, due - dt.timedelta(days=1)) is None
    assert queries.next_to_verify(s.rep2, s.campaign, due).pk == p.pk


def test_a_review_round_never_gives_the_check_to_the_verifier(story):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)
    day = DAY + dt.timedelta(days=40)
    rnd = problem_actions.start_review_round(s.campaign, actor=s.leader, name="复查", starts_on=day,
                               ends_on=day + dt.timedelta(days=4))
    assert rnd.items.get(problem=p).assignee_id == s.rep2.pk


# -- 2. One answer per proposer per claim; staff channels by staff only --------------------

def _answers(s, day=None):
    t = figures(s.org.pk, day or dt.date(1957, 12, 31))["total"]
    return t["satisfied"], t["followups_answered"]


def test_a_proposer_counts_once_per_claim_and_the_latest_answer_counts(story):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)  # worker2's opinion
    op = p.opinions.get()
    for _k in range(5):
        problem_actions.proposer_answer(op, actor=s.worker2, outcome="satisfied")
    assert _answers(s, dt.date(2999, 1, 1)) == (1, 1)
    problem_actions.record_followup(
        op, actor=s.leader, channel="home_visit", outcome="not_satisfied", at=None
    )
    assert _answers(s, dt.date(2999, 1, 1)) == (0, 1)  # replaced, not added
    # The history keeps every answer.
    assert FollowUp.objects.filter(opinion=op).count() == 6


def test_two_proposers_count_twice_and_no_answer_replaces_nothing(story):
    s = story
    op1 = f.opinion(s.campaign, author=s.worker).opinion
    op2 = f.opinion(s.campaign, author=s.worker2).opinion
    p = problem_actions.create_problem(
        s.campaign,
        [op1, op2],
        actor=s.clerk,
        summary="x",
        owner=s.owner,
        deadline=dt.date(1957, 12, 1),
        at=when(0),
    )
    problem_actions.claim(p, actor=s.owner, done="改了", at=when(1))
    problem_actions.verify(p, actor=s.rep, passed=True, at=when(2))
    problem_actions.record_followup(
        op1, actor=s.leader, channel="conversation", outcome="satisfied", at=when(3)
    )
    problem_actions.record_followup(
        op2, actor=s.leader, channel="conversation", outcome="satisfied", at=when(3)
    )
    problem_actions.record_followup(op1, actor=s.clerk, channel="home_visit", outcome="no_answer",
                      at=when(4))
    assert _answers(s) == (2, 2)
    # A later claim asks again: answers to it count beside those to the first one.
    problem_actions.consolidation_check(Problem.objects.get(pk=p.pk), actor=s.rep2, holds=False,
                          findings="又坏了", at=when(40))
    problem_actions.claim(Problem.objects.get(pk=p.pk), actor=s.owner, done="再改", at=when(41))
    problem_actions.record_followup(
        op1, actor=s.leader, channel="conversation", outcome="not_satisfied", at=when(42)
    )
    assert _answers(s) == (2, 3)
    from zhenggai.figures.reference import differences

    assert differences(s.org.pk, dt.date(1957, 12, 31)) == []


def test_a_proposer_cannot_record_a_staff_visit_about_herself(story):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)
    op = p.opinions.get()
    before = snapshot(s.org.pk)
    for channel in ("home_visit", "conversation"):
        with pytest.raises(Forbidden, match="recorded by a leader or a clerk"):
            problem_actions.record_followup(
                op, actor=s.worker2, channel=channel, outcome="satisfied"
            )
    with pytest.raises(Forbidden):  # nor a representative, who is not staff for visits
        problem_actions.record_followup(op, actor=s.rep, channel="home_visit", outcome="satisfied")
    assert snapshot(s.org.pk) == before


def test_over_the_api_too(story, client):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)
    op = p.opinions.get()
    _, token = ApiToken.issue(s.worker2)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": "en"}
    for _k in range(5):
        r = client.post(f"/api/v1/problems/{p.pk}/followups",
                        {"opinion": op.pk, "channel": "home_visit", "outcome": "satisfied"},
                        content_type="application/json", **auth)
        assert r.status_code == 403, r.content
    # An anonymous proposer answering three times through the receipt counts once.
    sub = f.opinion(s.campaign)  # anonymous, with a receipt
    problem_actions.add_opinions(Problem.objects.get(pk=p.pk), [sub.opinion], actor=s.clerk)
    anon = Client()
    for _k in range(3):
        r = anon.post("/api/v1/receipts/answer", {"receipt": sub.receipt,
                                                  "outcome": "satisfied"},
                      content_type="application/json")
        assert r.status_code == 200, r.content
    assert _answers(s, dt.date(2999, 1, 1)) == (1, 1)


# -- 3. A deadline to assign, kept on every edit ------------------------------------------

def test_assigning_needs_a_deadline(story):
    s = story
    op = f.opinion(s.campaign).opinion
    before = snapshot(s.org.pk)
    with pytest.raises(InvalidInput, match="deadline"):
        problem_actions.create_problem(s.campaign, [op], actor=s.clerk, summary="x", owner=s.owner,
                         at=when(0))
    assert snapshot(s.org.pk) == before
    p = bring_to(s, lifecycle.OPEN)
    with pytest.raises(InvalidInput, match="deadline"):
        problem_actions.assign(p, actor=s.clerk, owner=s.owner, at=when(1))
    assert Problem.objects.get(pk=p.pk).state == lifecycle.OPEN


def test_editing_an_assigned_problem_on_its_page_keeps_its_deadline(story, client):
    from tests.factories import user_for

    s = story
    p = bring_to(s, lifecycle.ASSIGNED)  # deadline 1957-10-01
    client.force_login(user_for(s.clerk))
    for lang in ("zh-hans", "en"):
        page = client.get(f"/problems/{p.pk}/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
        assert 'type="date"' in page and 'value="1957-10-01"' in page, lang
    # The form posted back as the browser fills it changes the measures, not the deadline.
    r = client.post(f"/problems/{p.pk}/", {
        "do": "assign", "version": p.version, "owner": s.owner.pk, "unit": s.furnace.pk,
        "scope": "common", "measures": "装风扇", "deadline": "1957-10-01"})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.deadline == dt.date(1957, 10, 1) and p.measures == "装风扇"
    r = client.post(f"/problems/{p.pk}/", {
        "do": "assign", "version": p.version, "owner": s.owner.pk, "unit": s.furnace.pk,
        "scope": "common", "measures": "x", "deadline": ""})
    assert r.status_code == 422
    assert Problem.objects.get(pk=p.pk).deadline == dt.date(1957, 10, 1)


# -- 5. The lifecycle table says what a follow-up does ------------------------------------

def test_the_table_says_where_not_satisfied_leads():
    t = ACTIONS[Kind.FOLLOWUP]
    assert t.target_for(lifecycle.VERIFIED, "not_satisfied") == lifecycle.CLAIMED
    assert t.target_for(lifecycle.CLOSED, "not_satisfied") == lifecycle.CLAIMED
    assert t.target_for(lifecycle.VERIFIED, "satisfied") == lifecycle.VERIFIED
    assert t.target_for(lifecycle.ASSIGNED, "not_satisfied") == lifecycle.ASSIGNED


def test_zhenggai_lifecycle_prints_it(story):
    from click.testing import CliRunner

    from zhenggai.cli import main

    out = CliRunner().invoke(main, ["lifecycle"]).output
    line = out[out.index("followup"):].splitlines()
    assert "(unchanged)" in line[0]
    assert "not_satisfied: closed, verified" in line[1] and line[1].rstrip().endswith("claimed")
