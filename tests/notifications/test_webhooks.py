"""Group robots: a real HTTP server on loopback receives the WeCom, DingTalk and Feishu
calls; their formats and signatures are checked as the platforms check them. Sending is
retried with back-off, never twice, and no message names a proposer."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from django.utils import timezone

from tests import factories as f
from tests.helpers import bring_to, when
from zhenggai.notifications import channels, events
from zhenggai.notifications.models import Delivery, Webhook
from zhenggai.problems import actions


class Robot:
    """What the platforms' servers check, done here: the JSON shape and the signature."""

    def __init__(self):
        self.calls: list[dict] = []
        self.fail = 0  # answer this many calls with an error first
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                call = {"path": self.path, "body": json.loads(raw),
                        "type": self.headers["Content-Type"]}
                server.calls.append(call)
                if server.fail:
                    server.fail -= 1
                    answer, status = {"errcode": 45009, "errmsg": "busy"}, 200
                else:
                    answer, status = {"errcode": 0, "errmsg": "ok"}, 200
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.stop()


def hooks(story, robot):
    return {
        "wecom": Webhook.objects.create(org=story.org, name="炉前群", provider="wecom",
                                        url=f"{robot.url}/cgi-bin/webhook/send?key=K1",
                                        unit=story.furnace),
        "dingtalk": Webhook.objects.create(org=story.org, name="车间群", provider="dingtalk",
                                           url=f"{robot.url}/robot/send?access_token=T2",
                                           secret="SECdingtalk", campaign=story.campaign),
        "feishu": Webhook.objects.create(org=story.org, name="Feishu", provider="feishu",
                                         url=f"{robot.url}/open-apis/bot/v2/hook/H3",
                                         secret="feishu-secret", language="en"),
        # another unit's robot hears nothing of the furnace's problems
        "office": Webhook.objects.create(org=story.org, name="科室群", provider="wecom",
                                         url=f"{robot.url}/cgi-bin/webhook/send?key=K4",
                                         unit=story.office),
    }


def check_dingtalk(call, secret):
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(call["path"]).query)
    ts, sign = q["timestamp"][0], q["sign"][0]
    assert abs(int(ts) / 1000 - time.time()) < 3600
    want = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(),
                                     hashlib.sha256).digest()).decode()
    assert sign == want and q["access_token"] == ["T2"]
    assert call["body"]["msgtype"] == "text" and call["body"]["text"]["content"]


def check_feishu(call, secret):
    b = call["body"]
    ts = b["timestamp"]
    assert isinstance(ts, str) and abs(int(ts) - time.time()) < 3600
    want = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"",
                                     hashlib.sha256).digest()).decode()
    assert b["sign"] == want and b["msg_type"] == "text" and b["content"]["text"]


def test_the_three_robots_receive_signed_messages_in_their_formats(story, robot):
    hooks(story, robot)
    p = bring_to(story, "assigned")  # of the furnace; its proposer is worker2, named
    events.drain()
    by_path = {c["path"].split("?")[0]: c for c in robot.calls}
    assert set(by_path) == {"/cgi-bin/webhook/send", "/robot/send", "/open-apis/bot/v2/hook/H3"}
    assert len(robot.calls) == 3  # not the office's robot
    wecom = by_path["/cgi-bin/webhook/send"]
    assert wecom["path"].endswith("key=K1") and wecom["type"].startswith("application/json")
    assert wecom["body"] == {"msgtype": "text", "text": {"content": wecom["body"]["text"]
                                                         ["content"]}}
    assert f"#{p.pk}" in wecom["body"]["text"]["content"]
    assert "已指定责任人" in wecom["body"]["text"]["content"]  # the site's language
    check_dingtalk(by_path["/robot/send"], "SECdingtalk")
    check_feishu(by_path["/open-apis/bot/v2/hook/H3"], "feishu-secret")
    assert "Made responsible" in by_path["/open-apis/bot/v2/hook/H3"]["body"]["content"]["text"]
    # a group hears no person's name: not the proposer's, not the owner's, not the clerk's
    for c in robot.calls:
        text = json.dumps(c["body"], ensure_ascii=False)
        for m in (story.worker2, story.owner, story.clerk):
            assert m.name not in text
    assert Delivery.objects.filter(state="sent").count() == 3
    events.drain()
    channels.deliver_due()
    assert len(robot.calls) == 3  # never twice


def test_an_anonymous_proposer_is_never_named_to_a_group(story, robot):
    hooks(story, robot)
    op = f.opinion(story.campaign, "澡堂没有热水", anonymous=True).opinion
    p = actions.create_problem(story.campaign, [op], actor=story.clerk, summary="澡堂没有热水",
                               owner=story.owner, unit=story.furnace,
                               deadline=dt.date(1957, 10, 1), at=when(0))
    actions.claim(p, actor=story.owner, done="修好了锅炉", at=when(1))
    events.drain()
    assert robot.calls
    for c in robot.calls:
        text = json.dumps(c["body"], ensure_ascii=False)
        assert "匿名" not in text and op.pk.__str__() not in text


def test_a_failed_send_is_tried_again_with_back_off_and_at_most_once(story, robot):
    hook = Webhook.objects.create(org=story.org, name="群", provider="wecom",
                                  url=f"{robot.url}/cgi-bin/webhook/send?key=K1")
    robot.fail = 1
    d = channels.queue_webhook(hook, "test:1", "标题", "正文")
    assert channels.deliver(d.pk) is False
    d.refresh_from_db()
    assert d.state == "pending" and d.attempts == 1 and "45009" in d.last_error
    assert d.next_try > timezone.now() + dt.timedelta(seconds=50)  # one minute's back-off
    assert "K1" not in d.last_error and robot.url not in d.last_error
    assert channels.deliver_due() == 0  # not due yet
    Delivery.objects.filter(pk=d.pk).update(next_try=timezone.now())
    assert channels.deliver_due() == 1
    d.refresh_from_db()
    assert d.state == "sent" and d.attempts == 2 and len(robot.calls) == 2
    assert channels.queue_webhook(hook, "test:1", "标题", "正文") is None  # keyed: once
    # A worker that died after sending and before marking leaves it SENDING: not resent.
    d2 = channels.queue_webhook(hook, "test:2", "标题", "正文")
    Delivery.objects.filter(pk=d2.pk).update(state="sending")
    assert channels.deliver_due() == 0 and channels.deliver(d2.pk) is False
    assert len(robot.calls) == 2
    # an unreachable robot: the error says why, not where
    gone = Webhook.objects.create(org=story.org, name="坏", provider="feishu",
                                  url="http://127.0.0.1:9/open-apis/bot/v2/hook/SECRET")
    d3 = channels.queue_webhook(gone, "test:3", "标题", "正文")
    assert channels.deliver(d3.pk) is False
    d3.refresh_from_db()
    assert d3.last_error and "SECRET" not in d3.last_error and "127.0.0.1" not in d3.last_error
    assert channels.backoff(1) < channels.backoff(3) <= channels.backoff(20) == \
        dt.timedelta(hours=1)


def test_the_cli_adds_lists_tests_and_removes_robots(story, robot):
    from zhenggai.cli import main

    r = CliRunner().invoke(main, ["webhook", "add", "--name", "炉前群", "--provider",
                                  "dingtalk", "--url", f"{robot.url}/robot/send?access_token=T2",
                                  "--unit", "furnace8"],
                           env={"ZHENGGAI_WEBHOOK_SECRET": "SECdingtalk"})
    assert r.exit_code == 0, r.output
    hook = Webhook.objects.get(pk=int(r.output))
    assert hook.secret == "SECdingtalk" and hook.unit == story.furnace
    r = CliRunner().invoke(main, ["webhook", "list"])
    assert "炉前群" in r.output and "T2" not in r.output and "SECdingtalk" not in r.output
    r = CliRunner().invoke(main, ["webhook", "test", str(hook.pk)])
    assert r.exit_code == 0 and r.output.strip() == "sent"
    check_dingtalk(robot.calls[-1], "SECdingtalk")
    r = CliRunner().invoke(main, ["webhook", "add", "--name", "x", "--provider", "wecom",
                                  "--url", "not a url"])
    assert r.exit_code != 0 and "url" in r.output
    r = CliRunner().invoke(main, ["webhook", "remove", str(hook.pk)])
    assert r.exit_code == 0 and not Webhook.objects.exists()


def test_the_admin_configures_robots_without_showing_their_keys(story, admin_client):
    r = admin_client.post("/admin/notifications/webhook/add/", {
        "org": story.org.pk, "name": "炉前群", "provider": "dingtalk",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=TOKEN9", "secret": "SEC9",
        "unit": story.furnace.pk, "campaign": "", "language": "en", "active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    hook = Webhook.objects.get()
    assert hook.secret == "SEC9" and hook.unit == story.furnace
    listing = admin_client.get("/admin/notifications/webhook/").content.decode()
    assert "oapi.dingtalk.com" in listing and "TOKEN9" not in listing and "SEC9" not in listing
    other = f.unit(f.org("别的厂"), "x")
    r = admin_client.post("/admin/notifications/webhook/add/", {
        "org": story.org.pk, "name": "错", "provider": "wecom",
        "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", "unit": other.pk,
        "language": "", "active": "on"})
    assert r.status_code == 200 and Webhook.objects.count() == 1
    assert admin_client.get("/admin/notifications/delivery/").status_code == 200
