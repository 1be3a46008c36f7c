"""Each way an insider (the whole database, every log) could date or name an anonymous
opinion, closed one by one. The end-to-end proof over real HTTP is test_anonymity_audit.py."""

import datetime as dt
import json
import logging

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests import factories as f
from tests.helpers import bring_to
from zhenggai.api import idempotency
from zhenggai.api.models import ApiToken, IdempotencyKey
from zhenggai.exchange.exporter import ledger_rows
from zhenggai.figures.queries import figures, hide_complement
from zhenggai.grouping.models import IndexLog
from zhenggai.opinions import receipts
from zhenggai.opinions import shuffle as S
from zhenggai.opinions.intake import submit_opinion
from zhenggai.opinions.models import Opinion, Receipt
from zhenggai.problems import actions
from zhenggai.problems.models import Event
from zhenggai.problems.rules import ReceiptHolder


def post(client, body, key=None, token=None):
    extra = {"HTTP_ACCEPT_LANGUAGE": "en"}
    if key:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    if token:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post("/api/v1/opinions", data=json.dumps(body),
                       content_type="application/json", **extra)


# -- 1. the idempotency store ------------------------------------------------------------

def test_a_replayed_anonymous_submission_never_hands_the_receipt_out_again(story, client):
    _, token = ApiToken.issue(story.worker)
    body = {"campaign": story.campaign.pk, "text": "澡堂热水不够", "anonymous": True}
    first = post(client, body, key="k-1", token=token)
    assert first.status_code == 201 and first.json()["receipt"]
    code = first.json()["receipt"]
    again = post(client, body, key="k-1", token=token)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["receipt"] is None and again.json()["receipt_withheld"] is True
    assert again.json()["opinion"] == first.json()["opinion"]
    assert Opinion.objects.filter(text="澡堂热水不够").count() == 1
    # nothing at rest names the receipt, the member (their token's hash) or the raw key
    row = IdempotencyKey.objects.get()
    at_rest = json.dumps([row.scope, row.key, row.request_hash, bytes(row.body).decode()])
    assert code not in at_rest and code.replace("-", "") not in at_rest
    assert ApiToken.objects.get().key_hash not in at_rest and "k-1" not in at_rest
    assert row.scope == "anonymous" and row.created_on == timezone.localdate()
    assert not hasattr(row, "created_at")
    # the token was not even looked at: its last use says nothing
    assert ApiToken.objects.get().last_used_at is None


def test_a_named_replay_is_unchanged_and_keyed_by_its_token(story, client):
    _, token = ApiToken.issue(story.worker)
    body = {"campaign": story.campaign.pk, "text": "食堂饭菜太凉"}
    first = post(client, body, key="k-2", token=token)
    again = post(client, body, key="k-2", token=token)
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().scope == ApiToken.objects.get().key_hash


def test_a_tokens_last_use_is_kept_to_the_day(story, client):
    _, token = ApiToken.issue(story.worker)
    post(client, {"campaign": story.campaign.pk, "text": "食堂饭菜太凉"}, token=token)
    used = timezone.localtime(ApiToken.objects.get().last_used_at)
    assert (used.hour, used.minute, used.second, used.microsecond) == (0, 0, 0, 0)
    assert used.date() == timezone.localdate()


def test_stored_replies_are_purged_after_a_short_window(story, client):
    post(client, {"campaign": story.campaign.pk, "text": "澡堂热水不够", "anonymous": True},
         key="k-3")
    assert idempotency.purge(timezone.localdate() + dt.timedelta(days=1)) == 0
    assert idempotency.purge(timezone.localdate() + dt.timedelta(days=2)) == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_argon2_runs_outside_any_transaction(story, monkeypatch):
    seen = []
    real = receipts.hash_code

    def spy(code, **kw):
        seen.append(connection.in_atomic_block)
        return real(code, **kw)

    monkeypatch.setattr(receipts, "hash_code", spy)
    r = post(Client(), {"campaign": story.campaign.pk, "text": "澡堂热水不够",
                        "anonymous": True}, key="k-4")
    assert r.status_code == 201 and seen == [False]
    assert IdempotencyKey.objects.get().status == 201


# -- 3. arrival order ----------------------------------------------------------------------

def test_rows_made_for_anonymous_acts_have_random_ids(story):
    s = story
    p = bring_to(s, "verified")
    sub = f.opinion(s.campaign, "澡堂热水不够")
    actions.add_opinions(p, [sub.opinion], actor=s.clerk)
    assert Receipt.objects.get(opinion=sub.opinion).pk == sub.opinion.pk
    holder = ReceiptHolder(Opinion.objects.get(pk=sub.opinion.pk))
    answer = actions.proposer_answer(holder.opinion, actor=holder, outcome="satisfied")
    poster = actions.post_poster(p, actor=holder, text="快修好", signed=False)
    ids = list(Event.objects.filter(problem=p).order_by("seq").values_list("pk", flat=True))
    assert ids != sorted(ids) or min(ids) > 2**40  # not a counter
    assert min(ids) > 2**20 and answer.pk > 2**20 and poster.pk > 2**20
    for e in (answer.event, poster.event):
        local = timezone.localtime(e.recorded_at)
        assert (local.hour, local.minute, local.second) == (0, 0, 0) and e.actor_id is None


def test_the_index_log_is_renumbered_in_random_order(story):
    for i in range(40):
        f.opinion(story.campaign, f"意见 {i}", author=story.worker if i % 2 else None)
    before = list(IndexLog.objects.order_by("seq").values_list("seq", "opinion_id"))
    S.mark_day(now=True)
    S.shuffle()
    after = list(IndexLog.objects.order_by("seq").values_list("seq", "opinion_id"))
    assert sorted(o for _s, o in after) == sorted(o for _s, o in before)
    assert min(s for s, _o in after) > max(s for s, _o in before)
    assert [o for _s, o in after] != [o for _s, o in before]


# -- 4. small counts -----------------------------------------------------------------------

def test_a_hidden_count_cannot_be_found_by_subtracting_from_the_total():
    # 7, 2 and 9 with a total of 18: "<5" for the 2 alone would be 18 - 7 - 9
    groups = [{"anonymous_opinions": n if n >= 5 else "<5"} for n in (7, 2, 9)]
    hide_complement(groups, [7, 2, 9])
    assert [g["anonymous_opinions"] for g in groups] == ["<5", "<5", 9]
    groups = [{"anonymous_opinions": n if n >= 5 else "<5"} for n in (7, 0, 9)]
    hide_complement(groups, [7, 0, 9])
    assert [g["anonymous_opinions"] for g in groups] == [7, "<5", 9]


def test_figures_by_unit_never_let_a_small_count_be_subtracted(story):
    s = story
    for i in range(7):
        f.opinion(s.campaign, f"炉子 {i}", unit=s.furnace, channel="paper")
    for i in range(2):
        f.opinion(s.campaign, f"办公室 {i}", unit=s.office, channel="paper")
    out = figures(s.org.pk, dt.date(1957, 8, 1), "unit")
    assert out["total"]["anonymous_opinions"] == 9
    shown = [g["anonymous_opinions"] for g in out["groups"]]
    rest = 9 - sum(n for n in shown if isinstance(n, int))
    assert rest == 0 or rest >= 5, shown


def test_the_ledger_never_counts_fewer_than_five_anonymous_opinions(story):
    s = story
    p = bring_to(s, "assigned")
    few = [f.opinion(s.campaign, f"匿名 {i}", channel="paper").opinion for i in range(3)]
    actions.add_opinions(p, few, actor=s.clerk)
    rows = list(ledger_rows(s.org, english=True))[1:]
    assert all("anonymous" not in r[2] for r in rows), rows
    more = [f.opinion(s.campaign, f"匿名 {i}", channel="paper").opinion for i in range(3, 6)]
    actions.add_opinions(p, more, actor=s.clerk)
    rows = list(ledger_rows(s.org, english=True))[1:]
    assert any("6 anonymous" in r[2] for r in rows), rows


# -- 2. logs -------------------------------------------------------------------------------

class _Req:
    headers = []


class _Resp:
    status = "201 Created"
    headers = []
    sent = 321


@pytest.fixture
def glog(tmp_path):
    """zhenggai serve's gunicorn logger, writing to files in tmp_path."""
    from gunicorn.config import Config

    from zhenggai.serving import Logger, configure

    cfg = Config()
    configure(cfg, bind="127.0.0.1:0", workers=1)
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    assert cfg.logger_class is Logger
    yield Logger(cfg)
    for name in ("gunicorn.access", "gunicorn.error"):
        for h in list(logging.getLogger(name).handlers):
            h.close()
            logging.getLogger(name).removeHandler(h)


def _environ(method, path, query=""):
    return {"REQUEST_METHOD": method, "RAW_URI": path + ("?" + query if query else ""),
            "PATH_INFO": path, "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "10.9.8.7", "HTTP_USER_AGENT": "Distinctive/1.0"}


def test_the_access_log_dates_no_anonymous_act_and_names_nobody(glog, tmp_path):
    log = glog
    for method, path in [("POST", "/submit/"), ("GET", "/submit/"), ("POST", "/receipt/"),
                         ("POST", "/api/v1/opinions"), ("POST", "/api/v1/receipts/case"),
                         ("POST", "/grouping/3/suggest/"), ("GET", "/static/app.css"),
                         ("POST", "/api/v1/grouping/3/suggest")]:
        log.access(_Resp(), _Req(), _environ(method, path), dt.timedelta(seconds=1.6))
    log.access(_Resp(), _Req(), _environ("GET", "/board/", "kiosk=1"), dt.timedelta(0, 0, 4))
    for h in logging.getLogger("gunicorn.access").handlers:
        h.flush()
    text = (tmp_path / "access.log").read_text()
    assert text.strip() == '"GET /board/" 201'


def test_a_refused_request_is_logged_without_the_address(glog, tmp_path):
    log = glog
    log.warning("Invalid request from ip=10.9.8.7: Request Line is too large (9000 > 4094)")
    log.info("Booting worker")
    for h in logging.getLogger("gunicorn.error").handlers:
        h.flush()
    text = (tmp_path / "error.log").read_text()
    assert "10.9.8.7" not in text and "Invalid request refused" in text
    day = timezone.now().astimezone().strftime("%Y-%m-%d")
    assert f"[{day}]" in text and ":" not in text.split("]")[0]


def test_intake_adds_no_work_that_grows_with_the_day(story, django_assert_max_num_queries):
    # anonymous intake: the same statements as before the shuffle design
    f.opinion(story.campaign, "先来一条")
    with django_assert_max_num_queries(6 if connection.vendor == "postgresql" else 8):
        submit_opinion(story.campaign, text="再来一条", anonymous=True)


def test_the_daily_sweep_shuffles_and_forgets_old_replies(story, client):
    from zhenggai.notifications.schedules import sweep

    post(client, {"campaign": story.campaign.pk, "text": "澡堂热水不够", "anonymous": True},
         key="k-9")
    IdempotencyKey.objects.update(created_on=timezone.localdate() - dt.timedelta(days=3))
    for i in range(5):
        f.opinion(story.campaign, f"意见 {i}", author=story.worker if i % 2 else None)
    before = max(IndexLog.objects.values_list("seq", flat=True))
    sweep()
    assert not IdempotencyKey.objects.exists()
    assert min(IndexLog.objects.values_list("seq", flat=True)) > before
