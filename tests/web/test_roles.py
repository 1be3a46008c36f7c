"""Every role page and every role-restricted action, refused on the server for every other
role: 403, and nothing written."""


import pytest

from tests.helpers import bring_to, snapshot
from zhenggai.problems import lifecycle
from zhenggai.problems.models import Problem

ROLES = ["worker", "clerk", "owner", "rep", "leader"]

PAGES = {
    "/desk/": {"clerk"},
    "/owner/": {"owner"},
    "/verify/": {"rep"},
    "/rounds/": {"rep", "leader"},
    "/leader/": {"leader"},
    "/mine/": set(ROLES),
}


@pytest.mark.parametrize("path", sorted(PAGES))
def test_pages_answer_403_to_every_other_role(story, as_member, client, path):
    for role in ROLES:
        c = as_member(getattr(story, role))
        r = c.get(path)
        expected = 200 if role in PAGES[path] else 403
        assert r.status_code == expected, (path, role, r.status_code)
    assert as_member(story.admin).get(path).status_code == 200
    client.logout()
    r = client.get(path)
    assert r.status_code == 302 and r["Location"].startswith("/login/")


# action: (state it needs, roles that may take it, form data)
ACTIONS = {
    "assign": (lifecycle.OPEN, {"clerk"}, lambda s, p: {
        "owner": s.owner.pk, "unit": s.furnace.pk, "scope": "common",
        "deadline": "2030-01-01", "measures": "通风"}),
    "claim": (lifecycle.ASSIGNED, {"owner"}, lambda s, p: {"text": "装了风扇"}),
    "verify_passed": (lifecycle.CLAIMED, {"rep"}, lambda s, p: {"text": ""}),
    "verify_not_thorough": (lifecycle.CLAIMED, {"rep"}, lambda s, p: {"text": "还是热"}),
    # bring_to's verifier is rep: the check is another representative's (rep2).
    "check_holds": (lifecycle.VERIFIED, {"rep2"}, lambda s, p: {"text": ""}),
    "check_deteriorated": (lifecycle.VERIFIED, {"rep2"}, lambda s, p: {"text": "又坏了"}),
    "propose_decline": (lifecycle.ASSIGNED, {"clerk", "owner"}, lambda s, p: {"text": "超出权限"}),
    "decline": (lifecycle.ASSIGNED, {"leader"}, lambda s, p: {"text": "超出权限"}),
    "reject_decline": ("proposed", {"leader"}, lambda s, p: {"text": ""}),
    "followup": (lifecycle.VERIFIED, {"leader", "clerk"}, lambda s, p: {
        "opinion": p.opinions.first().pk, "channel": "home_visit", "outcome": "satisfied"}),
    "split": (lifecycle.ASSIGNED, {"clerk"}, lambda s, p: {"opinion": p.opinions.first().pk}),
}


def _problem(story, state):
    if state == "proposed":
        from zhenggai.problems import actions

        p = bring_to(story, lifecycle.ASSIGNED)
        actions.propose_decline(p, actor=story.clerk, reason="超出权限")
        return Problem.objects.get(pk=p.pk)
    return bring_to(story, state)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_role_restricted_actions_are_refused_for_every_other_role(story, as_member, action):
    state, allowed, data = ACTIONS[action]
    p = _problem(story, state)
    for role in ROLES:
        if role in allowed:
            continue
        before = snapshot(story.org.pk)
        c = as_member(getattr(story, role))
        r = c.post(f"/problems/{p.pk}/", {"do": action, "version": p.version,
                                           **data(story, p)})
        assert r.status_code == 403, (action, role, r.status_code)
        assert snapshot(story.org.pk) == before
    # And the role that may, can, through the same form.
    c = as_member(getattr(story, sorted(allowed)[0]))
    r = c.post(f"/problems/{p.pk}/", {"do": action, "version": p.version, **data(story, p)})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Problem.objects.get(pk=p.pk).version > p.version


def test_a_stale_form_gets_a_conflict_not_a_lost_update(story, as_member):
    p = bring_to(story, lifecycle.CLAIMED)
    c = as_member(story.rep)
    r1 = c.post("/verify/", {"problem": p.pk, "version": p.version, "do": "verify_passed"})
    assert r1.status_code == 302
    before = snapshot(story.org.pk)
    r2 = as_member(story.rep2).post("/verify/", {"problem": p.pk, "version": p.version,
                                                 "do": "verify_not_thorough",
                                                 "text": "不彻底"})
    assert r2.status_code == 409 and snapshot(story.org.pk) == before


def test_only_a_leader_starts_a_review_round_and_approves_declines(story, as_member):
    p = _problem(story, "proposed")
    before = snapshot(story.org.pk)
    rep = as_member(story.rep)
    r = rep.post("/rounds/", {"name": "复查", "starts_on": "2026-01-01", "ends_on": "2026-01-05"})
    assert r.status_code == 403
    assert rep.post("/leader/", {"problem": p.pk, "do": "decline", "text": "x"}).status_code == 403
    assert snapshot(story.org.pk) == before
    leader = as_member(story.leader)
    r = leader.post("/leader/", {"problem": p.pk, "version": p.version, "do": "decline",
                                 "text": "不归本厂管"})
    assert r.status_code == 302
    assert Problem.objects.get(pk=p.pk).state == lifecycle.DECLINED
    r = leader.post("/rounds/", {"name": "复查", "starts_on": "2026-01-01",
                                 "ends_on": "2026-01-05"})
    assert r.status_code == 302
    assert "复查" in leader.get("/rounds/").content.decode()


def test_bad_input_changes_nothing(story, as_member):
    p = bring_to(story, lifecycle.ASSIGNED)
    before = snapshot(story.org.pk)
    c = as_member(story.owner)
    r = c.post(f"/problems/{p.pk}/", {"do": "claim", "text": "   ", "version": p.version},
               HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422 and "must not be empty" in r.content.decode()
    r = c.post(f"/problems/{p.pk}/", {"do": "nonsense", "version": p.version})
    assert r.status_code == 422
    assert snapshot(story.org.pk) == before


def test_garbage_in_any_form_is_a_clear_error_not_a_crash(story, as_member):
    p = bring_to(story, lifecycle.CLAIMED)
    junk = {"problem": "x" * 30, "opinion": ["99999999999999999999999", "9" * 19],
            "version": "-1",
            "do": "verify_passed", "campaign": "abc", "deadline": "31/12/1957",
            "owner": "nobody", "starts_on": "soon", "ends_on": "", "receipt": "💥" * 50}
    before = snapshot(story.org.pk)
    for who, path in [(story.rep, "/verify/"), (story.rep, f"/problems/{p.pk}/"),
                      (story.clerk, "/desk/"), (story.leader, "/leader/"),
                      (story.leader, "/rounds/"), (story.worker, "/mine/"),
                      (story.worker, "/receipt/"), (story.worker, "/submit/")]:
        r = as_member(who).post(path, junk)
        assert 400 <= r.status_code < 500, (path, r.status_code)
        r = as_member(who).get(path + "?campaign=" + "9" * 40 + "&after=" + "9" * 40)
        assert r.status_code < 500, (path, r.status_code)
    assert snapshot(story.org.pk) == before
