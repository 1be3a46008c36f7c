"""Roles and scopes: declines are proposed by the problem's owner (or a clerk), the ledger is
the member's campaigns only, the public pages share one network rule that reads the client
behind a trusted proxy only; exports write text as text; an imported formula says so."""

import csv
import datetime as dt

import pytest
from openpyxl import Workbook, load_workbook

from tests import factories as f
from tests.factories import user_for
from tests.helpers import bring_to, when
from zhenggai.exchange import exporter, importer
from zhenggai.problems import actions, lifecycle
from zhenggai.problems.models import Problem

from ..api.test_api import Api


def test_only_the_problems_owner_or_a_clerk_may_propose_to_decline_it(story, client):
    p = bring_to(story, lifecycle.ASSIGNED)  # owned by story.owner
    r = Api(client, story.owner2).post(f"/problems/{p.pk}/decline-proposals",
                                       {"reason": "不归我管"})
    assert r.status_code == 403 and "owner" in r.json()["error"]["message"]
    client.force_login(user_for(story.owner2))
    r = client.post(f"/problems/{p.pk}/", {"do": "propose_decline", "text": "不归我管"},
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code in (403, 422)  # refused; the page does not even offer it
    assert not Problem.objects.get(pk=p.pk).decline_requested
    actions.propose_decline(p, actor=story.owner, reason="超出权限", at=when(5))
    assert Problem.objects.get(pk=p.pk).decline_requested


def test_the_ledger_download_covers_only_the_members_campaigns(story, client):
    other = f.campaign(story.org, name="1958 第二期")
    clerk2 = f.member(story.org, "钱书记", story.office, "clerk", c=other)
    mine = bring_to(story, lifecycle.ASSIGNED)
    theirs = actions.create_problem(other, [f.opinion(other, author=story.worker).opinion],
                              actor=clerk2, summary="别的运动的问题", at=when(1))
    client.force_login(user_for(clerk2))
    body = b"".join(client.get("/exchange/ledger/?format=csv").streaming_content)
    text = body.decode("utf-8-sig")
    assert theirs.summary in text and mine.summary not in text
    client.force_login(user_for(story.admin))
    text = b"".join(client.get("/exchange/ledger/?format=csv").streaming_content
                    ).decode("utf-8-sig")
    assert theirs.summary in text and mine.summary in text


def test_the_situation_page_has_the_boards_network_rule(story, client, settings):
    settings.BOARD_NETWORKS = ["10.0.0.0/8"]
    for url in ("/", "/board/"):
        assert client.get(url, REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get(url, REMOTE_ADDR="8.8.8.8").status_code == 403
    client.force_login(user_for(story.worker))
    assert client.get("/", REMOTE_ADDR="8.8.8.8").status_code == 200


def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_address(story, client,
                                                                             settings):
    settings.BOARD_NETWORKS = ["10.0.0.0/8"]
    # Without a trusted proxy, X-Forwarded-For is ignored: the proxy's own address counts.
    assert client.get("/board/", REMOTE_ADDR="203.0.113.5",
                      HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 403
    settings.TRUSTED_PROXIES = ["192.168.100.0/24"]
    ok = client.get("/board/", REMOTE_ADDR="192.168.100.2", HTTP_X_FORWARDED_FOR="10.1.1.1")
    assert ok.status_code == 200
    # Behind the proxy, an outsider: refused, even if they write an inside address first.
    spoof = client.get("/board/", REMOTE_ADDR="192.168.100.2",
                       HTTP_X_FORWARDED_FOR="10.1.1.1, 8.8.8.8")
    assert spoof.status_code == 403
    two_proxies = client.get("/board/", REMOTE_ADDR="192.168.100.2",
                             HTTP_X_FORWARDED_FOR="10.1.1.1, 192.168.100.9")
    assert two_proxies.status_code == 200
    # An untrusted peer cannot claim to be inside.
    assert client.get("/board/", REMOTE_ADDR="8.8.4.4",
                      HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 403


INJECTIONS = ["=HYPERLINK(\"http://evil.example\",\"点我\")", "=cmd|' /C calc'!A0",
              "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exported_text_is_never_a_formula(story, tmp_path, fmt):
    for i, bad in enumerate(INJECTIONS):
        op = f.opinion(story.campaign, author=story.worker).opinion
        actions.create_problem(story.campaign, [op], actor=story.clerk, summary=f"问题{i}",
                         owner=story.owner, measures=bad.strip() or bad,
                         deadline=dt.date(1957, 10, 1), at=when(0))
    Problem.objects.update(summary="=1+1")  # as if typed so: the cleaner keeps '='
    path = tmp_path / f"l.{fmt}"
    exporter.export_ledger(story.org, path)
    if fmt == "csv":
        with path.open(encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))[1:]
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert rows[0][1] == "'=1+1"
    else:
        ws = load_workbook(path).worksheets[0]
        cells = [c for row in ws.iter_rows(min_row=2) for c in row]
        assert all(c.data_type != "f" for c in cells)
        assert "=1+1" in [c.value for c in cells]
        assert any(str(c.value).startswith("=cmd") for c in cells)


def test_an_imported_formula_is_reported_as_a_formula(story, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["意见内容", "是否匿名"])
    ws.append(["=A1&\"x\"", "是"])
    ws.append(["炉前太热", "是"])
    wb.save(tmp_path / "in.xlsx")
    report = importer.import_opinions(tmp_path / "in.xlsx", campaign=story.campaign,
                                      actor=story.clerk, dry_run=True)
    assert len(report.errors) == 1
    assert "formula" in report.errors[0].reason and "=A1" in report.errors[0].reason
