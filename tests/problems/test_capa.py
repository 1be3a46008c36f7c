"""Corrective and preventive action (ISO 9001 §10.2; issue 18): a campaign that uses it
records each problem's root cause and preventive measure beside the corrective one, from
the assign and update forms and the API, and the ledger has both columns."""

import csv
import datetime as dt
import json

import pytest

from tests.helpers import new_problem, snapshot, when
from zhenggai.api.models import ApiToken
from zhenggai.errors import InvalidInput
from zhenggai.exchange import exporter
from zhenggai.problems import actions
from zhenggai.problems.audit import drift
from zhenggai.problems.models import Problem

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def capa(story):
    story.campaign.uses_capa = True
    story.campaign.save()
    return story


def _api(client, member, path, body):
    _, token = ApiToken.issue(member)
    return client.post("/api/v1" + path, json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}", **EN)


def test_a_campaign_without_it_refuses_a_root_cause_and_changes_nothing(story, client):
    s = story
    p = new_problem(s)
    before = snapshot(s.org.pk)
    with pytest.raises(InvalidInput):
        actions.assign(p, actor=s.clerk, owner=s.owner, deadline=dt.date(1957, 12, 1),
                       root_cause="通风设计不足", at=when(5))
    r = _api(client, s.clerk, f"/problems/{p.pk}/update", {"preventive": "定期检查"})
    assert r.status_code == 422 and "does not record" in r.json()["error"]["message"]
    assert snapshot(s.org.pk) == before
    # and its ledger has no such columns
    header = next(exporter.ledger_rows(s.org))
    assert "原因分析" not in header and header == [zh for zh, _ in exporter.LEDGER_COLUMNS]


def test_root_cause_and_preventive_measure_from_the_api_the_form_and_in_the_ledger(
        capa, client, as_member, tmp_path):
    s = capa
    p = new_problem(s)
    actions.assign(p, actor=s.clerk, owner=s.owner, deadline=dt.date(1957, 12, 1),
                   measures="装风扇", root_cause="通风设计不足", at=when(5))
    p.refresh_from_db()
    assert (p.root_cause, p.preventive) == ("通风设计不足", "")
    r = _api(client, s.clerk, f"/problems/{p.pk}/update", {"preventive": "每季度检查风机"})
    assert r.status_code == 200, r.content
    assert r.json()["problem"]["preventive"] == "每季度检查风机"
    assert r.json()["problem"]["root_cause"] == "通风设计不足"  # kept
    # The assign form on the problem page shows both fields and takes them.
    clerk = as_member(s.clerk)
    page = clerk.get(f"/problems/{p.pk}/", **EN).content.decode()
    assert 'name="root_cause"' in page and 'name="preventive"' in page
    p.refresh_from_db()
    r = clerk.post(f"/problems/{p.pk}/", {
        "do": "assign", "version": p.version, "scope": "common", "owner": s.owner.pk,
        "unit": s.furnace.pk, "measures": "装风扇", "deadline": "1957-12-01",
        "root_cause": "风机功率不够", "preventive": "换大功率风机并定期保养"}, **EN)
    assert r.status_code in (200, 302), r.content.decode()[:500]
    p.refresh_from_db()
    assert (p.root_cause, p.preventive) == ("风机功率不够", "换大功率风机并定期保养")
    assert "风机功率不够" in clerk.get(f"/problems/{p.pk}/", **EN).content.decode()
    assert drift(s.org.pk) == []
    # The ledger: both columns after 整改措施, in XLSX and CSV.
    exporter.export_ledger(s.org, tmp_path / "l.csv")
    with (tmp_path / "l.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][3:6] == ["整改措施", "原因分析", "预防措施"]
    assert rows[1][3:6] == ["装风扇", "风机功率不够", "换大功率风机并定期保养"]
    exporter.export_ledger(s.org, tmp_path / "l.xlsx", english=True)
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "l.xlsx").active
    head = [c.value for c in next(ws.iter_rows(min_row=2, max_row=2))]  # after the title
    assert head[3:6] == ["Measures", "Root cause", "Preventive measure"]
    assert Problem.objects.get(pk=p.pk).root_cause == "风机功率不够"
