"""Every action, from every state, by every persona: allowed exactly where the lifecycle
table and the person rules say, and refused otherwise with nothing written."""

import datetime as dt

import pytest
from django.db import transaction

from tests import factories as f
from tests.helpers import bring_to, snapshot, take, when
from zhenggai.campaigns.models import Role
from zhenggai.campaigns.roles import grant
from zhenggai.errors import DomainError, Forbidden, Refused
from zhenggai.problems import actions, lifecycle
from zhenggai.problems.models import Event, Problem
from zhenggai.problems.registry import ACTIONS

DEADLINE = dt.date(1957, 12, 31)
PERSONAS = ["worker", "proposer", "clerk", "owner", "owner2", "rep", "rep2", "leader"]
HELD = {  # roles held in the campaign, beside being a member (a worker)
    "worker": set(),
    "proposer": set(),
    "clerk": {Role.CLERK},
    "owner": {Role.OWNER},
    "owner2": {Role.OWNER},
    "rep": {Role.REPRESENTATIVE},
    "rep2": {Role.REPRESENTATIVE},
    "leader": {Role.LEADER},
}


class Rollback(Exception):
    pass


def actor_of(s, persona):
    return {"worker": s.worker, "proposer": s.worker2, "clerk": s.clerk, "owner": s.owner,
            "owner2": s.owner2, "rep": s.rep, "rep2": s.rep2, "leader": s.leader}[persona]


def expected(action: str, state: str, persona: str) -> bool:
    t = ACTIONS[action]
    if action != "create" and state not in t.sources:
        return False
    if action == "me_too":  # anyone, with an opinion of their own not yet in a problem
        return True
    held = HELD[persona] | {Role.WORKER}
    ok = bool(t.roles & held) or (lifecycle.PROPOSER in t.roles and persona == "proposer")
    if action == "claim":  # only the problem's owner claims
        ok = ok and persona == "owner"
    if action.startswith(("verify_", "check_")):  # never one's own problem or claim
        ok = ok and persona != "owner"
    if action == "propose_decline" and persona != "clerk":  # an owner: only their own problem
        ok = ok and persona == "owner" and state != lifecycle.OPEN  # (an open one has no owner)
    if action.startswith("check_"):  # never by whoever verified (bring_to: rep)
        ok = ok and persona != "rep"
    if action == "followup":  # a conversation is recorded by staff, not by the proposer
        ok = ok and persona in ("clerk", "leader")
    return ok


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_from_every_state_by_every_persona(story, action):
    s = story
    later = f.campaign(s.org, name="1958 整改", previous=s.campaign)
    grant(s.leader, later, Role.LEADER)
    states = [lifecycle.OPEN] if action == "create" else lifecycle.STATES
    for state in states:
        p = bring_to(s, state)
        for persona in PERSONAS:
            want = expected(action, state, persona)
            before = snapshot(s.org.pk)
            try:
                with transaction.atomic():
                    take(action, s, p, actor_of(s, persona), other_campaign=later)
                    after = snapshot(s.org.pk)
                    raise Rollback
            except Rollback:
                assert want, f"{persona} could {action} a problem that is {state}"
                assert after[2] > before[2], "an allowed action writes an event"
            except DomainError as e:
                assert not want, f"{persona} was refused {action} on {state}: {e}"
                assert str(e), "a refusal says why"
                assert snapshot(s.org.pk) == before, "a refused action wrote something"


def test_refusals_say_why_in_words(story):
    s = story
    p = bring_to(s, lifecycle.CLAIMED)
    with pytest.raises(Forbidden, match="Only a representative may"):
        actions.verify(p, actor=s.owner, passed=True, at=when(5))
    grant(s.owner, s.campaign, Role.REPRESENTATIVE)
    with pytest.raises(Forbidden, match="never verifies a problem they own"):
        actions.verify(p, actor=s.owner, passed=True, at=when(5))
    with pytest.raises(Refused, match="cannot be"):
        actions.claim(p, actor=s.owner, done="又改了", at=when(5))
    with pytest.raises(Forbidden, match="Only"):
        actions.verify(p, actor=s.worker, passed=True, at=when(5))


def test_a_representative_never_verifies_a_problem_they_own(story):
    s = story
    grant(s.rep, s.campaign, Role.OWNER)
    op = f.opinion(s.campaign).opinion
    p = actions.create_problem(s.campaign, [op], actor=s.clerk, summary="x", owner=s.rep,
                         deadline=DEADLINE, at=when(0))
    actions.claim(p, actor=s.rep, done="done", at=when(1))
    with pytest.raises(Forbidden, match="never verifies a problem they own"):
        actions.verify(p, actor=s.rep, passed=True, at=when(2))
    e = actions.verify(p, actor=s.rep2, passed=True, at=when(2))
    p.refresh_from_db()
    assert (e.kind, e.actor, p.state) == ("verify_passed", s.rep2, lifecycle.VERIFIED)


def test_nobody_verifies_their_own_claim_even_as_admin(story):
    s = story
    grant(s.admin, s.campaign, Role.OWNER)
    op = f.opinion(s.campaign).opinion
    p = actions.create_problem(s.campaign, [op], actor=s.clerk, summary="x", owner=s.admin,
                         deadline=DEADLINE, at=when(0))
    actions.claim(p, actor=s.admin, done="done", at=when(1))
    with pytest.raises(Forbidden):
        actions.verify(p, actor=s.admin, passed=True, at=when(2))


def test_a_stale_version_is_a_conflict_and_writes_nothing(story):
    from zhenggai.errors import Conflict

    s = story
    p = bring_to(s, lifecycle.CLAIMED)
    seen = p.version
    actions.verify(
        p, actor=s.rep, passed=False, findings="不彻底", at=when(5), expected_version=seen
    )
    before = snapshot(s.org.pk)
    with pytest.raises(Conflict):
        actions.verify(p, actor=s.rep2, passed=True, at=when(5), expected_version=seen)
    assert snapshot(s.org.pk) == before
    assert Problem.objects.get(pk=p.pk).state == lifecycle.REOPENED


def test_events_are_never_changed_or_deleted(story):
    s = story
    p = bring_to(s, lifecycle.CLAIMED)
    e = Event.objects.filter(problem=p).first()
    e.note = "rewritten"
    with pytest.raises(TypeError):
        e.save()
    with pytest.raises(TypeError):
        e.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(problem=p).update(note="x")
    with pytest.raises(TypeError):
        Event.objects.filter(problem=p).delete()


def test_each_transition_records_who_when_from_to_and_why(story):
    s = story
    p = bring_to(s, lifecycle.REOPENED)
    kinds = list(Event.objects.filter(problem=p).values_list(
        "kind", "from_state", "to_state", "reason", "actor_id"))
    assert kinds == [
        ("create", "", lifecycle.OPEN, "", s.clerk.pk),
        ("assign", lifecycle.OPEN, lifecycle.ASSIGNED, "", s.clerk.pk),
        ("claim", lifecycle.ASSIGNED, lifecycle.CLAIMED, "", s.owner.pk),
        (
            "verify_not_thorough",
            lifecycle.CLAIMED,
            lifecycle.REOPENED,
            lifecycle.NOT_THOROUGH,
            s.rep.pk,
        ),
    ]


def test_not_satisfied_sends_a_resolved_problem_back_to_verification(story):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)
    actions.record_followup(p.opinions.first(), actor=s.leader, channel="home_visit",
                      outcome="not_satisfied", at=when(6))
    p.refresh_from_db()
    assert p.state == lifecycle.CLAIMED
    actions.verify(p, actor=s.rep2, passed=False, findings="提意见人说仍然存在", at=when(7))
    p.refresh_from_db()
    assert (p.state, p.reopen_reason) == (lifecycle.REOPENED, lifecycle.DISSATISFIED)


def test_an_answer_while_a_claim_waits_does_not_mark_it_dissatisfied(story):
    """A follow-up on a problem that is still claimed moves nothing: a satisfied answer must
    not make a later "not thorough" read as "proposer not satisfied"."""
    s = story
    p = bring_to(s, lifecycle.CLAIMED)
    actions.record_followup(p.opinions.first(), actor=s.leader, channel="home_visit",
                            outcome="satisfied", at=when(6))
    p.refresh_from_db()
    assert (p.state, p.reopen_reason) == (lifecycle.CLAIMED, "")
    ev = Event.objects.filter(problem=p, kind="followup").get()
    assert (ev.from_state, ev.to_state, ev.reason) == (lifecycle.CLAIMED, lifecycle.CLAIMED, "")
    actions.verify(p, actor=s.rep, passed=False, findings="还漏", at=when(7))
    p.refresh_from_db()
    assert (p.state, p.reopen_reason) == (lifecycle.REOPENED, lifecycle.NOT_THOROUGH)


def test_deteriorated_reopens_and_the_owner_rectifies_again(story):
    s = story
    p = bring_to(s, lifecycle.VERIFIED)
    actions.consolidation_check(p, actor=s.rep2, holds=False, findings="又坏了", at=when(40))
    p.refresh_from_db()
    assert (p.state, p.reopen_reason) == (lifecycle.REOPENED, lifecycle.DETERIORATED)
    actions.claim(p, actor=s.owner, done="加固措施", at=when(41))
    actions.verify(p, actor=s.rep2, passed=True, at=when(42))
    p.refresh_from_db()
    assert p.state == lifecycle.VERIFIED and p.recheck_due is not None


def test_grouping_twice_is_refused(story):
    s = story
    op = f.opinion(s.campaign).opinion
    actions.create_problem(s.campaign, [op], actor=s.clerk, summary="a", at=when(0))
    from zhenggai.errors import Conflict

    with pytest.raises(Conflict):
        actions.create_problem(s.campaign, [op], actor=s.clerk, summary="b", at=when(0))
    assert Problem.objects.filter(org=s.org).count() == 1


def test_split_keeps_the_opinion(story):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    extra = f.opinion(s.campaign, "食堂饭菜太咸").opinion
    actions.add_opinions(p, [extra], actor=s.clerk, at=when(5))
    actions.remove_opinion(extra, actor=s.clerk, at=when(6))
    extra.refresh_from_db()
    assert extra.problem_id is None and extra.text == "食堂饭菜太咸"
    p.refresh_from_db()
    assert p.n_opinions == 1


def test_carry_over_keeps_first_raised(story):
    import datetime as dt

    s = story
    later = f.campaign(s.org, name="1958", start=dt.date(1958, 1, 1), previous=s.campaign)
    grant(s.leader, later, Role.LEADER)
    op = f.opinion(s.campaign, day=dt.date(1957, 6, 3)).opinion
    p = actions.create_problem(s.campaign, [op], actor=s.clerk, summary="x",
                         first_raised=dt.date(1955, 4, 1), at=when(0))
    p = actions.carry_over(p, later, actor=s.leader, at=when(120))
    assert p.campaign_id == later.pk
    assert p.first_raised == dt.date(1955, 4, 1)


def test_the_callers_copy_shows_the_new_state(story):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    actions.claim(p, actor=s.owner, done="改了", at=when(5))
    assert (p.state, p.last_claim_by_id, p.version) == (lifecycle.CLAIMED, s.owner.pk, 3)


def test_a_decline_is_proposed_once_then_decided_and_a_leader_may_decline_unasked(story):
    from zhenggai.problems import rules

    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    acts = ["propose_decline", "decline", "reject_decline"]
    assert rules.offered(acts, actions.stored_state(p), s.campaign, s.leader, p.pk) == {"decline"}
    before = snapshot(s.org.pk)
    with pytest.raises(Refused, match="Nobody has proposed"):
        actions.reject_decline(p, actor=s.leader, at=when(9))
    assert snapshot(s.org.pk) == before
    actions.propose_decline(p, actor=s.clerk, reason="超出权限", at=when(9))
    p = Problem.objects.get(pk=p.pk)
    assert rules.offered(acts, actions.stored_state(p), s.campaign, s.clerk, p.pk) == set()
    before = snapshot(s.org.pk)
    with pytest.raises(Refused, match="proposed already"):
        actions.propose_decline(p, actor=s.owner, reason="再提一次", at=when(9))
    assert snapshot(s.org.pk) == before
    assert rules.offered(acts, actions.stored_state(p), s.campaign, s.leader, p.pk) == {
        "decline", "reject_decline"}
