"""The grouping endpoints of the JSON API (/api/v1/grouping/)."""


from tests import factories as f
from tests.helpers import snapshot
from zhenggai.api.models import ApiToken
from zhenggai.figures.reference import differences
from zhenggai.org import clock
from zhenggai.problems import actions
from zhenggai.problems.models import Problem


def get(client, member, path, **params):
    _, token = ApiToken.issue(member)
    return client.get("/api/v1/grouping" + path, params, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_suggest_and_proposals(story, client):
    ops = [f.opinion(story.campaign, t).opinion
           for t in ("8号炉漏水严重", "八號爐漏水嚴重", "canteen food too expensive")]
    p = actions.create_problem(story.campaign, ops[:1], actor=story.clerk, summary="炉子漏水")
    r = get(client, story.worker, f"/{story.campaign.pk}/suggest", text="8号炉漏水")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["problems"][0]["problem"] == p.pk
    assert {o["opinion"] for o in body["opinions"]} == {ops[0].pk, ops[1].pk}
    # the same with the text in a POST body (no text in a URL)
    _, token = ApiToken.issue(story.worker)
    r = client.post(f"/api/v1/grouping/{story.campaign.pk}/suggest",
                    data={"text": "8号炉漏水"}, content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200 and r.json() == body
    assert get(client, story.worker, f"/{story.campaign.pk}/proposals").status_code == 403
    r = get(client, story.clerk, f"/{story.campaign.pk}/proposals")
    assert r.status_code == 200
    other = f.org("另一个厂")
    stranger = f.member(other, "外人")
    assert get(client, stranger, f"/{story.campaign.pk}/suggest",
               text="漏水").status_code == 404


def test_proposals_are_the_stored_groups(story, client):
    from zhenggai.grouping import proposals as P

    ops = [f.opinion(story.campaign, t).opinion
           for t in ("8号炉漏水严重", "八號爐漏水嚴重", "8号炉漏水严重了", "食堂饭菜太贵")]
    url = f"/{story.campaign.pk}/proposals"
    assert get(client, story.clerk, url).json() == []  # the worker has not run yet
    P.refresh(story.campaign)
    (g,) = get(client, story.clerk, url).json()
    assert sorted(g["opinions"]) == sorted(o.pk for o in ops[:3])
    assert sorted(g["texts"]) == sorted(o.text for o in ops[:3]) and "漏水" in g["shared"]
    late = f.opinion(story.campaign, "8号炉漏水严重啊").opinion
    assert late.pk not in get(client, story.clerk, url).json()[0]["opinions"]
    actions.create_problem(story.campaign, ops[:2], actor=story.clerk, summary="炉子漏水")
    assert get(client, story.clerk, url).json() == []  # one opinion left: no group


def post(client, member, path, body):
    _, token = ApiToken.issue(member)
    return client.post("/api/v1/grouping" + path, data=body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def _two_problems(story):
    ops = [f.opinion(story.campaign, t).opinion
           for t in ("8号炉漏水严重", "八號爐漏水嚴重", "8号炉维修太慢", "炉子又漏水了")]
    leak = actions.create_problem(story.campaign, ops[:2], actor=story.clerk, summary="炉子漏水")
    slow = actions.create_problem(story.campaign, ops[2:3], actor=story.clerk, summary="维修慢")
    return ops, leak, slow


def members(problem) -> set[int]:
    return set(problem.opinions.values_list("pk", flat=True))


def test_move_is_one_call(story, client):
    """Opinions from another problem and from none move into a problem in one call: an
    event on each problem they leave, one on the problem they join."""
    ops, leak, slow = _two_problems(story)
    leak.refresh_from_db()
    r = post(client, story.clerk, f"/{story.campaign.pk}/move",
             {"opinions": [ops[1].pk, ops[3].pk], "problem": slow.pk})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["problem"] == slow.pk and set(body["opinions"]) == {ops[1].pk, ops[2].pk,
                                                                       ops[3].pk}
    assert members(leak) == {ops[0].pk} and members(slow) == set(body["opinions"])
    assert list(leak.events.order_by("seq").values_list("kind", flat=True)) == [
        "create", "remove_opinion"]
    assert list(slow.events.order_by("seq").values_list("kind", flat=True)) == [
        "create", "add_opinions"]
    slow.refresh_from_db()
    assert body["version"] == slow.version and slow.n_opinions == 3
    assert differences(story.org.pk, clock.today(story.org)) == []


def test_a_refused_move_changes_nothing(story, client):
    """The move is refused after its first event (the problem it joins changed since the
    caller read it): the opinion taken out of its problem is back, nothing is written."""
    ops, leak, slow = _two_problems(story)
    stale = slow.version
    actions.update_problem(slow, actor=story.clerk, summary="8号炉维修慢")
    stranger = f.opinion(f.campaign(story.org, "另一个运动"), "别的意见").opinion
    before = snapshot(story.org.pk)
    url = f"/{story.campaign.pk}/move"
    r = post(client, story.clerk, url,
             {"opinions": [ops[1].pk, ops[3].pk], "problem": slow.pk, "version": stale})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict", r.content
    assert snapshot(story.org.pk) == before
    assert members(leak) == {ops[0].pk, ops[1].pk} and members(slow) == {ops[2].pk}
    for who, body, status in (
            (story.worker, {"opinions": [ops[3].pk], "problem": slow.pk}, 403),
            (story.clerk, {"opinions": [ops[3].pk, stranger.pk], "problem": slow.pk}, 422),
            (story.clerk, {"opinions": [ops[3].pk], "problem": 10**30}, 422),
            (story.clerk, {"opinions": [ops[3].pk], "problem": 999_999}, 404),
            (story.clerk, {"opinions": [], "problem": slow.pk}, 422)):
        assert post(client, who, url, body).status_code == status, body
    assert snapshot(story.org.pk) == before


def test_split_is_one_call(story, client):
    ops = [f.opinion(story.campaign, t).opinion
           for t in ("8号炉漏水严重", "八號爐漏水嚴重", "8号炉维修太慢")]
    url = f"/{story.campaign.pk}/split"
    before = snapshot(story.org.pk)
    for body in ({"group": [o.pk for o in ops], "part": [o.pk for o in ops], "summary": "x"},
                 {"group": [o.pk for o in ops[:2]], "part": [ops[2].pk], "summary": "x"},
                 {"group": [o.pk for o in ops], "part": [ops[0].pk], "summary": " "}):
        r = post(client, story.clerk, url, body)
        assert r.status_code == 422, (body, r.content)
    assert snapshot(story.org.pk) == before and not Problem.objects.exists()
    r = post(client, story.clerk, url, {"group": [o.pk for o in ops],
                                        "part": [ops[0].pk, ops[1].pk],
                                        "summary": "8号炉漏水", "summary_rest": "维修太慢"})
    assert r.status_code == 201, r.content
    leak, slow = (Problem.objects.get(pk=pk) for pk in r.json()["problems"])
    assert (leak.summary, members(leak)) == ("8号炉漏水", {ops[0].pk, ops[1].pk})
    assert (slow.summary, members(slow)) == ("维修太慢", {ops[2].pk})
    assert post(client, story.worker, url, {"group": [ops[0].pk, ops[1].pk],
                                            "part": [ops[0].pk],
                                            "summary": "x"}).status_code == 403
