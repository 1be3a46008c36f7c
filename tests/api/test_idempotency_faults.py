"""A request that dies half way (its app server SIGKILLed) and is sent again with the same
Idempotency-Key: its write is made exactly once, and the client gets its answer.

A dead run is what the middleware leaves behind when its process is killed: the key's row
still "running" under the dead run's owner token, or already "written" (its write committed)
without an answer. The rows are made here as the middleware makes them."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.test import Client

from tests.helpers import bring_to
from zhenggai.api import idempotency
from zhenggai.api.idempotency import RUNNING, WRITTEN, AlreadyWritten, Run, TakenOver
from zhenggai.api.models import ApiToken, IdempotencyKey, hash_token
from zhenggai.opinions.intake import submit_opinion
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions
from zhenggai.problems.models import Event

PATH = "/api/v1/opinions"


@pytest.fixture(autouse=True)
def short_waits(monkeypatch):
    # Twins take a run for dead after a fraction of a second here, not 40 s.
    monkeypatch.setattr(idempotency, "LEASE_S", 0.3)
    monkeypatch.setattr(idempotency, "STALL_S", 0.2)


def send(body: dict, key: str, token: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key, "HTTP_ACCEPT_LANGUAGE": "en"}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client().post(PATH, data=json.dumps(body), content_type="application/json",
                         **headers)


def dead_run(body: dict, key: str, token: str | None, status: int, ref: str = ""):
    """The row a killed request leaves: as the middleware claimed it."""
    text = json.dumps(body)
    if body.get("anonymous"):
        scope = "anonymous"
        key = idempotency._keyed("key", token or "", key)
        request_hash = idempotency._keyed("request", token or "", "POST", PATH, text)
    else:
        scope = hash_token(token)
        request_hash = hashlib.sha256(json.dumps(["POST", PATH, text]).encode()).hexdigest()
    return IdempotencyKey.objects.create(
        scope=scope, key=key, request_hash=request_hash, status=status, body=b"",
        content_type="", created_on=idempotency.timezone.localdate(), owner="dead0000",
        ref=ref)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("anonymous", [False, True])
def test_a_run_killed_before_its_write_is_run_again_by_the_repeat(story, anonymous):
    _, token = ApiToken.issue(story.worker)
    body = {"campaign": story.campaign.pk, "text": "平炉前通风不好", "anonymous": anonymous}
    row = dead_run(body, "k-dead", token, RUNNING)
    r = send(body, "k-dead", token)
    assert r.status_code == 201, r.content
    assert Opinion.objects.filter(text="平炉前通风不好").count() == 1
    assert bool(r.json()["receipt"]) is anonymous  # the code is shown, this once
    row.refresh_from_db()
    assert row.status == 201 and row.owner == "" and row.waited_ms == 0
    # and now it replays like any other key
    again = send(body, "k-dead", token)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["opinion"] == r.json()["opinion"]
    assert Opinion.objects.filter(text="平炉前通风不好").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("anonymous", [False, True])
def test_a_run_killed_after_its_write_answers_with_what_it_stored(story, anonymous):
    _, token = ApiToken.issue(story.worker)
    body = {"campaign": story.campaign.pk, "text": "钢包修理太慢", "anonymous": anonymous}
    stored = submit_opinion(story.campaign, text="钢包修理太慢", anonymous=anonymous,
                            author=None if anonymous else story.worker).opinion
    dead_run(body, "k-written", token, WRITTEN, ref=str(stored.pk))
    r = send(body, "k-written", token)
    assert r.status_code == 201, r.content
    assert r.json()["opinion"]["id"] == stored.pk
    assert r.json()["receipt"] is None  # a code is never stored, so it cannot come back
    assert Opinion.objects.filter(text="钢包修理太慢").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_live_run_is_waited_for_not_taken_over(story, monkeypatch):
    monkeypatch.setattr(idempotency, "LEASE_S", 60)
    monkeypatch.setattr(idempotency, "WAIT_S", 0.3)
    _, token = ApiToken.issue(story.worker)
    body = {"campaign": story.campaign.pk, "text": "平炉前通风不好", "anonymous": False}
    row = dead_run(body, "k-slow", token, RUNNING)
    r = send(body, "k-slow", token)
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_in_progress"
    assert r["Retry-After"]
    assert not Opinion.objects.filter(text="平炉前通风不好").exists()
    row.refresh_from_db()
    assert row.owner == "dead0000" and 200 <= row.waited_ms < 60_000  # a wait, not a time


def test_a_slow_run_that_was_taken_over_keeps_nothing(story):
    p = bring_to(story, "assigned")
    n = Event.objects.count()
    row = IdempotencyKey.objects.create(scope="s", key="k", request_hash="h", status=RUNNING,
                                        body=b"", content_type="", owner="twin0000",
                                        created_on=idempotency.timezone.localdate())
    reset = idempotency._RUN.set(Run(row.pk, "slow0000"))
    try:
        with pytest.raises(TakenOver):
            submit_opinion(story.campaign, text="食堂饭菜太凉", author=story.worker)
        with pytest.raises(TakenOver):
            actions.claim(p, actor=story.owner, done="装了风扇")
    finally:
        idempotency._RUN.reset(reset)
    assert not Opinion.objects.filter(text="食堂饭菜太凉").exists()
    assert Event.objects.count() == n


def test_a_written_run_is_never_written_twice(story):
    p = bring_to(story, "assigned")
    row = IdempotencyKey.objects.create(scope="s", key="k", request_hash="h", status=WRITTEN,
                                        body=b"", content_type="", owner="twin0000",
                                        created_on=idempotency.timezone.localdate())
    n = Event.objects.count()
    reset = idempotency._RUN.set(Run(row.pk, "twin0000", ref="?"))
    try:
        with pytest.raises(AlreadyWritten):
            actions.claim(p, actor=story.owner, done="装了风扇")
    finally:
        idempotency._RUN.reset(reset)
    assert Event.objects.count() == n
