"""Hand-overs (下放) and carry-over between campaigns (issue 18): the domain actions, their
events and figures, the API, the CLI and the pages; refusals change nothing."""

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from django.contrib.auth import get_user_model

from tests import factories as f
from tests.helpers import bring_to, new_problem, snapshot, when
from zhenggai.api.models import ApiToken
from zhenggai.campaigns.models import Role
from zhenggai.campaigns.roles import has_role, roles_of
from zhenggai.cli import main
from zhenggai.errors import Forbidden, InvalidInput, Refused
from zhenggai.figures.queries import figures
from zhenggai.figures.reference import differences
from zhenggai.problems import actions, lifecycle, queries
from zhenggai.problems.audit import drift
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import Event, Problem

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _owner_groups(org_id, day):
    return {g["key"]: g["problems"] for g in figures(org_id, day, "owner")["groups"]}


def _successor(s):
    """A member with no campaign role yet: the hand-over makes them an owner."""
    return f.member(s.org, "吴新来", s.furnace)


# -- hand-over: the domain --------------------------------------------------------------

def test_a_leader_hands_all_open_problems_to_a_successor_and_the_past_stays_true(story):
    s = story
    assigned, claimed = bring_to(s, lifecycle.ASSIGNED), bring_to(s, lifecycle.CLAIMED)
    reopened, closed = bring_to(s, lifecycle.REOPENED), bring_to(s, lifecycle.CLOSED)
    heir = _successor(s)
    moved = actions.hand_over(s.campaign, s.owner, actor=s.leader, to=heir,
                              reason="张主任调往二炼钢", at=when(40))
    assert sorted(p.pk for p in moved) == sorted([assigned.pk, claimed.pk, reopened.pk])
    for p in moved:
        p.refresh_from_db()
        assert p.owner_id == heir.pk and p.unit_id == s.furnace.pk
        e = p.events.order_by("-seq").first()
        assert (e.kind, e.actor_id, e.note) == (Kind.HAND_OVER, s.leader.pk, "张主任调往二炼钢")
        assert e.data["from"] == s.owner.pk and e.from_state == e.to_state == p.state
    closed.refresh_from_db()
    assert closed.owner_id == s.owner.pk  # closed problems stay where they were
    # The successor is now an owner in the campaign: they see the problems and may claim.
    assert Role.OWNER in roles_of(heir, s.campaign)
    assert {p.pk for p in queries.my_problems(heir, s.campaign)} == {
        assigned.pk, claimed.pk, reopened.pk}
    actions.claim(Problem.objects.get(pk=reopened.pk), actor=heir, done="重新装了风扇",
                  at=when(41))
    # Figures by owner: the day before the hand-over the member who left still owns them.
    before, after = _owner_groups(s.org.pk, when(39).date()), _owner_groups(
        s.org.pk, when(40).date())
    assert before[s.owner.pk] == 4 and heir.pk not in before
    assert after[s.owner.pk] == 1 and after[heir.pk] == 3
    for day in (when(39).date(), when(40).date(), when(41).date()):
        assert differences(s.org.pk, day) == []
    assert drift(s.org.pk) == []


def test_a_hand_over_to_a_unit_leaves_no_person_and_the_unit_claims(story):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    actions.hand_over(s.campaign, s.owner, actor=s.leader, to_unit=s.office,
                      reason="下放劳动", at=when(40))
    p.refresh_from_db()
    assert (p.owner_id, p.unit_id) == (None, s.office.pk)
    actions.claim(p, actor=s.owner2, done="科室解决了", at=when(41))  # owner2 is in the office
    assert differences(s.org.pk, when(41).date()) == []


@pytest.mark.parametrize("case", ["not_a_leader", "same_person", "other_org", "nothing",
                                  "both", "neither", "no_reason", "individual_to_unit"])
def test_a_refused_hand_over_changes_nothing(story, case):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    if case == "individual_to_unit":
        actions.update_problem(p, actor=s.clerk, scope="individual", at=when(5))
    stranger = f.member(f.org("别的厂"), "外人")
    kw = {"actor": s.leader, "to": s.owner2, "reason": "调走了", "at": when(40)}
    member, error = s.owner, InvalidInput
    if case == "not_a_leader":
        kw["actor"], error = s.clerk, Forbidden
    elif case == "same_person":
        kw["to"] = s.owner
    elif case == "other_org":
        kw["to"] = stranger
    elif case == "nothing":
        member, error = s.owner2, Refused
        kw["to"] = s.owner
    elif case == "both":
        kw["to_unit"] = s.office
    elif case == "neither":
        kw["to"] = None
    elif case == "no_reason":
        kw["reason"] = "   "
    elif case == "individual_to_unit":
        kw["to"], kw["to_unit"] = None, s.office
    before = snapshot(s.org.pk)
    with pytest.raises(error) as e:
        actions.hand_over(s.campaign, member, **kw)
    assert str(e.value)
    assert snapshot(s.org.pk) == before


def test_a_hand_over_is_all_or_nothing(story):
    """One problem that cannot move (here: changed by someone at a later day) stops all."""
    s = story
    a, b = bring_to(s, lifecycle.ASSIGNED), bring_to(s, lifecycle.ASSIGNED)
    actions.post_poster(b, actor=s.worker, text="快改！", at=when(50))
    before = snapshot(s.org.pk)
    with pytest.raises(InvalidInput):
        actions.hand_over(s.campaign, s.owner, actor=s.leader, to=s.owner2, reason="调走了",
                          at=when(45))
    assert snapshot(s.org.pk) == before
    assert a.events.count() == Problem.objects.get(pk=a.pk).version


# -- carry-over: the domain -------------------------------------------------------------

@pytest.fixture
def next_campaign(story):
    s = story
    c = f.campaign(s.org, name="1958 整改", start=dt.date(1957, 10, 1), previous=s.campaign)
    from zhenggai.campaigns.roles import grant

    grant(s.leader, c, Role.LEADER)
    return c


def test_the_leader_carries_over_the_problems_they_pick_and_their_age_is_kept(
        story, next_campaign):
    s = story
    old = bring_to(s, lifecycle.ASSIGNED)
    other = bring_to(s, lifecycle.REOPENED)
    bring_to(s, lifecycle.CLOSED)  # resolved: never a candidate
    assert {p.pk for p in actions.unresolved_to_carry(s.campaign)} == {old.pk, other.pk}
    age_before = figures(s.org.pk, when(40).date(), "campaign")
    moved = actions.carry_over_many(next_campaign, actor=s.leader, problems=[old.pk],
                                    at=when(40))
    assert [p.pk for p in moved] == [old.pk]
    old.refresh_from_db()
    assert old.campaign_id == next_campaign.pk and old.first_raised == dt.date(1957, 7, 1)
    by_campaign = {g["key"]: g for g in figures(s.org.pk, when(40).date(), "campaign")["groups"]}
    assert by_campaign[next_campaign.pk]["problems"] == 1
    # Age since first raised goes on: the same mean age in the new campaign's row.
    assert by_campaign[next_campaign.pk]["mean_age_days"] == (
        when(40).date() - dt.date(1957, 7, 1)).days
    assert age_before["total"]["mean_age_days"] == figures(
        s.org.pk, when(40).date())["total"]["mean_age_days"]
    # The rest, all at once.
    assert [p.pk for p in actions.carry_over_many(next_campaign, actor=s.leader,
                                                  at=when(41))] == [other.pk]
    assert differences(s.org.pk, when(41).date()) == [] and drift(s.org.pk) == []


@pytest.mark.parametrize("case", ["not_a_leader", "no_previous", "not_a_candidate",
                                  "nothing_left"])
def test_a_refused_carry_over_changes_nothing(story, next_campaign, case):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    closed = bring_to(s, lifecycle.CLOSED)
    target, kw, error = next_campaign, {"actor": s.leader}, Refused
    if case == "not_a_leader":
        kw["actor"], error = s.clerk, Forbidden
    elif case == "no_previous":
        target = s.campaign
        from zhenggai.campaigns.roles import grant

        grant(s.leader, s.campaign, Role.LEADER)
    elif case == "not_a_candidate":
        kw["problems"], error = [p.pk, closed.pk], InvalidInput
    elif case == "nothing_left":
        actions.carry_over_many(next_campaign, actor=s.leader, at=when(40))
    before = snapshot(s.org.pk)
    with pytest.raises(error):
        actions.carry_over_many(target, at=when(41), **kw)
    assert snapshot(s.org.pk) == before


# -- the API ----------------------------------------------------------------------------

def _post(client, member, path, body, lang="en"):
    _, token = ApiToken.issue(member)
    return client.post("/api/v1" + path, data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE=lang)


def test_hand_over_and_carry_over_over_the_api(story, next_campaign, client):
    s = story
    p, q = bring_to(s, lifecycle.ASSIGNED), bring_to(s, lifecycle.CLAIMED)
    path = f"/campaigns/{s.campaign.pk}/handovers"
    body = {"member": s.owner.pk, "to": s.owner2.pk, "reason": "调往二炼钢"}
    r = _post(client, s.clerk, path, body, lang="zh-hans")
    assert r.status_code == 403 and "领导" in r.json()["error"]["message"]
    r = _post(client, s.leader, path, {**body, "to": s.owner.pk})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
    r = _post(client, s.leader, path, body)
    assert r.status_code == 200, r.content
    assert r.json()["moved"] == 2 and sorted(r.json()["problems"]) == sorted([p.pk, q.pk])
    r = _post(client, s.leader, path, body)
    assert r.status_code == 409  # nothing left to hand over
    # carry-over: the candidates, then some of them
    _, token = ApiToken.issue(s.leader)
    r = client.get(f"/api/v1/campaigns/{next_campaign.pk}/carry-over",
                   HTTP_AUTHORIZATION=f"Bearer {token}")
    assert sorted(x["id"] for x in r.json()) == sorted([p.pk, q.pk])
    r = _post(client, s.leader, f"/campaigns/{next_campaign.pk}/carry-over",
              {"problems": [q.pk]})
    assert r.status_code == 200 and r.json() == {"moved": 1, "problems": [q.pk]}
    r = _post(client, s.leader, f"/campaigns/{next_campaign.pk}/carry-over", {})
    assert r.json() == {"moved": 1, "problems": [p.pk]}
    assert Problem.objects.get(pk=p.pk).campaign_id == next_campaign.pk


# -- the CLI ----------------------------------------------------------------------------

def _login(m, name):
    m.user = get_user_model().objects.create_user(name, password="pw")
    m.save(update_fields=["user"])


def test_hand_over_and_carry_over_from_the_command_line(story, next_campaign):
    s = story
    for m, name in ((s.leader, "leader"), (s.owner, "owner"), (s.owner2, "owner2"),
                    (s.clerk, "clerk")):
        _login(m, name)
    p = bring_to(s, lifecycle.ASSIGNED)
    run = CliRunner().invoke
    r = run(main, ["handover", "--from", "owner", "--to", "owner", "--reason", "x",
                   "--as", "leader", "--campaign", str(s.campaign.pk)])
    assert r.exit_code == 1 and "someone else" in r.output
    r = run(main, ["handover", "--from", "owner", "--to-unit", "office", "--reason", "下放",
                   "--as", "clerk", "--campaign", str(s.campaign.pk)])
    assert r.exit_code == 1 and "leader" in r.output
    r = run(main, ["handover", "--from", "owner", "--to", "owner2", "--reason", "调走了",
                   "--as", "leader", "--campaign", str(s.campaign.pk)])
    assert r.exit_code == 0, r.output
    assert f"#{p.pk}" in r.output and Problem.objects.get(pk=p.pk).owner_id == s.owner2.pk
    r = run(main, ["campaign", "carry-over", "--to", str(next_campaign.pk), "--as", "leader",
                   "--list"])
    assert r.exit_code == 0 and f"#{p.pk}" in r.output
    r = run(main, ["campaign", "carry-over", "--to", str(next_campaign.pk), "--as", "leader"])
    assert r.exit_code == 2  # neither --problem nor --all
    r = run(main, ["campaign", "carry-over", "--to", str(next_campaign.pk), "--as", "leader",
                   "--problem", str(p.pk)])
    assert r.exit_code == 0, r.output
    assert Problem.objects.get(pk=p.pk).campaign_id == next_campaign.pk


# -- the pages --------------------------------------------------------------------------

def test_the_hand_over_page_shows_what_will_move_and_hands_over(story, as_member):
    s = story
    p = new_problem(s)
    client = as_member(s.leader)
    url = f"/leader/handover/?campaign={s.campaign.pk}"
    r = client.get(url, **EN)
    assert r.status_code == 200 and "1 problem will move" in r.content.decode()
    r = client.post(url, {"member": s.owner.pk, "to": s.owner.pk, "reason": "x"}, **EN)
    assert r.status_code == 422 and "someone else" in r.content.decode()
    r = client.post(url, {"member": s.owner.pk, "to": s.owner2.pk, "reason": "调走了"},
                    follow=True, **EN)
    assert r.status_code == 200 and "handed over to 孙科长" in r.content.decode()
    assert Problem.objects.get(pk=p.pk).owner_id == s.owner2.pk
    assert as_member(s.clerk).get(url, **EN).status_code == 403


def test_the_carry_over_page_lists_the_candidates_with_their_age(story, next_campaign,
                                                                  as_member):
    s = story
    p = bring_to(s, lifecycle.ASSIGNED)
    client = as_member(s.leader)
    url = f"/leader/carry-over/?campaign={next_campaign.pk}"
    page = client.get(url, **EN).content.decode()
    assert f"#{p.pk}" in page and "1957-07-01" in page
    r = client.post(url, {}, **EN)
    assert r.status_code == 422 and "Tick" in r.content.decode()
    r = client.post(url, {"problem": [p.pk]}, follow=True, **EN)
    assert "1 problem carried over" in r.content.decode()
    assert Problem.objects.get(pk=p.pk).campaign_id == next_campaign.pk
    assert Event.objects.filter(problem=p, kind=Kind.CARRY_OVER).count() == 1
    assert not has_role(s.clerk, next_campaign, Role.LEADER)
