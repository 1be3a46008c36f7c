"""The JSON API end to end: the Anshan story over HTTP, tokens, idempotency, pagination,
the one error shape in both languages, and role refusals that mirror the domain."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from tests.helpers import bring_to
from zhenggai.api.models import ApiToken, IdempotencyKey
from zhenggai.problems.models import Event, Problem


class Api:
    def __init__(self, client, member=None, lang="en"):
        self.client = client
        self.headers = {"HTTP_ACCEPT_LANGUAGE": lang}
        if member is not None:
            _, token = ApiToken.issue(member)
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def get(self, path, **kw):
        return self.client.get("/api/v1" + path, **self.headers, **kw)

    def post(self, path, body=None, key=None):
        extra = dict(self.headers)
        if key:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        return self.client.post("/api/v1" + path, data=json.dumps(body or {}),
                                content_type="application/json", **extra)


@pytest.fixture
def api(client):
    return lambda member=None, lang="en": Api(client, member, lang)


def test_a_named_opinion_over_the_api_costs_a_fixed_number_of_queries(
        story, api, django_assert_max_num_queries):
    worker = api(story.worker)
    body = {"campaign": story.campaign.pk, "text": "炉前太热，没有风扇"}
    assert worker.post("/opinions", body).status_code == 201  # stamps the token's use
    # token, campaign, and the write: on PostgreSQL one statement (here inside the test's
    # transaction, so with a savepoint and its release); on SQLite BEGIN, the opinion, its
    # index log row, its place in the figures' queue, COMMIT
    with django_assert_max_num_queries(5 if connection.vendor == "postgresql" else 7):
        assert worker.post("/opinions", body).status_code == 201


def test_errors_the_framework_answers_come_in_the_one_shape_too(story, api, client):
    zh = api(story.worker, "zh-hans")
    r = zh.get("/no-such-address")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert "地址" in r.json()["error"]["message"]
    r = client.delete("/api/v1/opinions", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in r["Allow"] and "method" in r.json()["error"]["message"]
    r = client.post("/api/v1/opinions", "{not json", content_type="application/json",
                    HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 400 and r.json()["error"]["code"] == "http_400"
    assert "JSON" in r.json()["error"]["message"] and "无法" in r.json()["error"]["message"]
    # Outside the API, pages keep their own error pages.
    assert "application/json" not in client.get("/no-such-page/")["Content-Type"]


def test_the_story_over_the_api(story, api):
    # an anonymous worker submits without a token and gets a receipt once
    r = api().post("/opinions", {"campaign": story.campaign.pk, "text": "炉前太热，没有风扇",
                                 "anonymous": True})
    assert r.status_code == 201, r.content
    receipt, op = r.json()["receipt"], r.json()["opinion"]
    assert receipt and op["anonymous"]
    clerk = api(story.clerk)
    r = clerk.get(f"/opinions?campaign={story.campaign.pk}&unsummarised=true")
    assert [o["id"] for o in r.json()] == [op["id"]]
    r = clerk.post("/problems", {"campaign": story.campaign.pk, "opinions": [op["id"]],
                                 "summary": "炉前高温", "owner": story.owner.pk,
                                 "unit": story.furnace.pk, "deadline": "2999-01-01",
                                 "measures": "装风扇"})
    assert r.status_code == 201, r.content
    pid = r.json()["problem"]["id"]
    assert r.json()["problem"]["state"] == "assigned"  # an owner and a deadline: assigned
    assert clerk.post(f"/problems/{pid}/assign", {"owner": story.owner.pk,
                                                  "deadline": "2999-01-01"}).status_code == 200
    owner, rep = api(story.owner), api(story.rep)
    assert owner.post(f"/problems/{pid}/claims", {"done": "装了一台风扇"}).json()[
        "problem"]["state"] == "claimed"
    r = rep.post(f"/problems/{pid}/verifications", {"passed": False, "findings": "还是很热"})
    assert r.json()["problem"]["state"] == "reopened"
    assert r.json()["event"]["reason"] == "not_thorough"
    owner.post(f"/problems/{pid}/claims", {"done": "装了两台风扇和挡热板"})
    assert rep.post(f"/problems/{pid}/verifications", {"passed": True}).json()[
        "problem"]["state"] == "verified"
    # the proposer answers with the receipt
    r = api().post("/receipts/answer", {"receipt": receipt, "outcome": "satisfied"})
    assert r.status_code == 200 and r.json()["state"] == "verified"
    kinds = [e["kind"] for e in r.json()["events"]]
    assert kinds[0] == "create" and kinds[-1] == "followup"
    figures = api(story.leader).get("/figures").json()["total"]
    assert figures["false_figures"] == 1 and figures["satisfied"] == 1
    r = api(story.leader).get(f"/problems/{pid}/events")
    assert [e["to_state"] for e in r.json()][-2:] == ["verified", "verified"]


def test_role_refusals_mirror_the_domain(story, api):
    p = bring_to(story, "claimed")
    before = Event.objects.count()
    for member in (story.worker, story.clerk, story.owner, story.leader):
        r = api(member).post(f"/problems/{p.pk}/verifications", {"passed": True})
        assert r.status_code == 403, member
        assert r.json()["error"]["code"] == "forbidden"
    r = api(story.rep).post(f"/problems/{p.pk}/claims", {"done": "x"})
    assert r.status_code in (403, 409)
    assert Event.objects.count() == before
    r = api(story.worker).get(f"/opinions?campaign={story.campaign.pk}")
    assert r.status_code == 403


def test_one_error_shape_in_the_callers_language(story, api):
    p = bring_to(story, "claimed")
    r = api(story.rep).post(f"/problems/{p.pk}/verifications", {"passed": False})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid" and "Findings" in r.json()["error"]["message"]
    r = api(story.rep, "zh-hans").post(f"/problems/{p.pk}/verifications", {"passed": False})
    assert (r.json()["error"]["code"] == "invalid" and "核查" in r.json()["error"]["message"]) \
        or "不能为空" in r.json()["error"]["message"]
    r = api(story.rep).post(f"/problems/{p.pk}/verifications", {"passed": "maybe"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation"
    r = api(story.rep).post(f"/problems/{p.pk}/verifications", {"passed": True,
                                                                "version": 1})
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    r = api(story.rep, "zh-hans").get("/problems/999999")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert "组织" in r.json()["error"]["message"]
    r = api(story.rep).post("/opinions", {"campaign": 999999, "text": "x", "anonymous": True})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api().get("/problems")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = api().post("/receipts/case", {"receipt": "AAAA-BBBB-CCCC-DDDD"})
    assert r.status_code == 404 and "cannot be recovered" in r.json()["error"]["message"]


def test_pagination_and_filters(story, api):
    made = [bring_to(story, s) for s in ("open", "assigned", "claimed", "verified",
                                         "reopened", "assigned")]
    leader = api(story.leader)
    seen, cursor = [], ""
    while True:
        r = leader.get(f"/problems?limit=2&cursor={cursor}")
        seen += [p["id"] for p in r.json()["items"]]
        cursor = r.json()["next"]
        if not cursor:
            break
    assert sorted(seen) == sorted(p.pk for p in made) and len(seen) == len(set(seen))
    r = leader.get("/problems?status=assigned")
    assert {p["state"] for p in r.json()["items"]} == {"assigned"}
    assert len(r.json()["items"]) == 2
    r = leader.get("/problems?overdue=true")  # deadlines in 1957, unclaimed
    assert {p["state"] for p in r.json()["items"]} <= {"assigned", "reopened"}
    assert all(p["overdue"] for p in r.json()["items"]) and r.json()["items"]
    r = leader.get(f"/problems?owner={story.owner.pk}&unit={story.furnace.pk}")
    assert len(r.json()["items"]) == 5
    assert leader.get("/problems?status=nonsense").status_code == 422
    assert leader.get("/problems?cursor=nonsense").status_code == 422


def test_idempotency_key(story, api):
    p = bring_to(story, "assigned")
    owner = api(story.owner)
    first = owner.post(f"/problems/{p.pk}/claims", {"done": "装了风扇"}, key="k-1")
    assert first.status_code == 200
    n = Event.objects.count()
    again = owner.post(f"/problems/{p.pk}/claims", {"done": "装了风扇"}, key="k-1")
    assert again.status_code == 200 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.count() == n
    other = owner.post(f"/problems/{p.pk}/claims", {"done": "别的"}, key="k-1")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_mismatch"
    assert Event.objects.count() == n
    # an error is remembered too: the same refused request gives the same refusal
    r1 = owner.post(f"/problems/{p.pk}/claims", {"done": "又一次"}, key="k-2")
    r2 = owner.post(f"/problems/{p.pk}/claims", {"done": "又一次"}, key="k-2")
    assert r1.status_code == r2.status_code != 200 and r1.content == r2.content


@pytest.mark.django_db(transaction=True)
def test_idempotency_key_under_concurrency(story):
    p = bring_to(story, "assigned")
    _, token = ApiToken.issue(story.owner)
    results = []
    barrier = threading.Barrier(2)

    def claim():
        c = Client()
        barrier.wait()
        r = c.post(f"/api/v1/problems/{p.pk}/claims", data=json.dumps({"done": "装了风扇"}),
                   content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
                   HTTP_IDEMPOTENCY_KEY="race", HTTP_ACCEPT_LANGUAGE="en")
        results.append((r.status_code, r.content))
        connection.close()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s, _ in results] == [200, 200]
    assert results[0][1] == results[1][1]
    assert Problem.objects.get(pk=p.pk).events.filter(kind="claim").count() == 1
    assert IdempotencyKey.objects.filter(key="race").count() == 1


def test_values_the_database_cannot_hold_are_bad_requests(story, api):
    leader = api(story.leader)
    # PostgreSQL refuses a +20:31 offset: the API converts to UTC first
    r = leader.get("/problems?updated_since=8954-06-16T23:18:23%2B20:31")
    assert r.status_code == 200 and r.json()["items"] == []
    r = leader.get("/production/heats?before=8954-06-16T23:18:23%2B20:31")
    assert r.status_code == 200
    r = leader.get("/problems?updated_since=0001-01-01T00:00:00%2B10:00")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"


def test_token_prefixes_never_read_as_command_line_options(story):
    from zhenggai.api.models import ApiToken

    for _ in range(300):  # a leading "-" would come once in 64 draws
        row, plain = ApiToken.issue(story.clerk)
        assert not row.prefix.startswith("-") and plain.startswith("zg_" + row.prefix)
