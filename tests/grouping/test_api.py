"""The grouping endpoints of the JSON API (/api/v1/grouping/)."""


from tests import factories as f
from zhenggai.api.models import ApiToken
from zhenggai.problems import actions


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
