"""Import from paper forms (CSV and XLSX, Chinese and English headers, dry run, bad rows,
kill and resume), the ledger export opened by LibreOffice, and the events round trip."""

import csv
import datetime as dt
import json
import subprocess

import pytest
from click.testing import CliRunner
from django.core.management import call_command
from openpyxl import Workbook

from tests.helpers import bring_to, need_program
from zhenggai.cli import main
from zhenggai.errors import Forbidden, InvalidInput
from zhenggai.exchange import exporter, importer, reimport
from zhenggai.figures.queries import figures
from zhenggai.opinions.models import Opinion, Receipt
from zhenggai.problems.models import Event

ZH = ["序号", "意见内容", "提出人", "匿名", "单位", "类别", "日期"]
EN = ["No.", "Text", "Author", "Anonymous", "Unit", "Category", "Date"]


def rows(story, n=6):
    out = []
    for i in range(1, n + 1):
        named = i % 2 == 0
        out.append([i, f"第{i}条：炉前温度太高", "王秀英" if named else "", "否" if named else "是",
                    "furnace8", "safety", f"1957-07-0{1 + i % 9}"])
    return out


def write_csv(path, header, body):
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(body)
    return path


def write_xlsx(path, header, body):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in body:
        ws.append(r)
    wb.save(path)
    return path


@pytest.mark.parametrize("fmt, header", [("csv", ZH), ("xlsx", EN), ("xlsx", ZH), ("csv", EN)])
def test_import_by_header_in_either_language(story, tmp_path, fmt, header):
    path = (write_csv if fmt == "csv" else write_xlsx)(tmp_path / f"p.{fmt}", header,
                                                         rows(story))
    before = figures(story.org.pk)["total"]["opinions"]
    report = importer.import_opinions(path, campaign=story.campaign, actor=story.clerk)
    assert (report.rows, report.imported, report.errors) == (6, 6, [])
    ops = Opinion.objects.filter(source_ref__startswith="import:").order_by("received_on")
    assert ops.count() == 6
    assert ops.filter(anonymous=True, author__isnull=True).count() == 3
    assert ops.filter(author=story.worker).count() == 3
    assert not Receipt.objects.exists()  # paper: no receipts
    assert {o.channel for o in ops} == {"paper"}
    assert figures(story.org.pk)["total"]["opinions"] == before + 6


def test_dry_run_reports_and_writes_nothing_and_bad_rows_are_reported(story, tmp_path):
    body = rows(story)
    body[1][1] = ""  # row 3: no text
    body[2][4] = "nowhere"  # row 4: unknown unit
    body[3][6] = "2999-01-01"  # row 5: in the future
    body[5][2] = "无名氏"  # row 7: a named opinion by nobody we know
    path = write_csv(tmp_path / "p.csv", ZH, body)
    report = importer.import_opinions(path, campaign=story.campaign, actor=story.clerk,
                                      dry_run=True)
    assert not Opinion.objects.filter(source_ref__startswith="import:").exists()
    assert [(r.row, r.status) for r in report.results] == [
        (2, "import"), (3, "error"), (4, "error"), (5, "error"), (6, "import"), (7, "error")]
    reasons = {r.row: r.reason for r in report.errors}
    assert "say something" in reasons[3] and "nowhere" in reasons[4] and "future" in reasons[5]
    assert "无名氏" in reasons[7]
    report = importer.import_opinions(path, campaign=story.campaign, actor=story.clerk)
    assert report.imported == 2 and len(report.errors) == 4


def test_import_twice_or_killed_and_resumed_gives_each_row_once(story, tmp_path):
    path = write_csv(tmp_path / "p.csv", ZH, rows(story, 25))
    part = importer.import_opinions(path, campaign=story.campaign, actor=story.clerk,
                                    batch=10, stop_after=1)  # killed after one batch
    assert part.imported == 10
    rest = importer.import_opinions(path, campaign=story.campaign, actor=story.clerk, batch=10)
    assert (rest.imported, rest.existing) == (15, 10)
    again = importer.import_opinions(path, campaign=story.campaign, actor=story.clerk)
    assert (again.imported, again.existing) == (0, 25)
    assert Opinion.objects.filter(source_ref__startswith="import:").count() == 25
    assert figures(story.org.pk)["total"]["opinions"] == Opinion.objects.count()


def test_import_refusals(story, tmp_path):
    path = write_csv(tmp_path / "p.csv", ["foo", "bar"], [[1, 2]])
    with pytest.raises(InvalidInput, match="No column of opinion text"):
        importer.import_opinions(path, campaign=story.campaign, actor=story.clerk)
    with pytest.raises(Forbidden):
        importer.import_opinions(path, campaign=story.campaign, actor=story.worker)
    (tmp_path / "p.txt").write_text("text\nx\n")
    with pytest.raises(InvalidInput, match=r"xlsx or a \.csv"):
        importer.import_opinions(tmp_path / "p.txt", campaign=story.campaign, actor=story.clerk)
    with pytest.raises(InvalidInput, match="No file"):
        importer.import_opinions(tmp_path / "gone.csv", campaign=story.campaign,
                                 actor=story.clerk)


def test_import_cli(story, tmp_path):
    from django.contrib.auth import get_user_model

    story.clerk.user = get_user_model().objects.create_user("clerk", password="pw")
    story.clerk.save()
    path = write_csv(tmp_path / "p.csv", ZH, rows(story, 3))
    args = ["import", "opinions", str(path), "--campaign", str(story.campaign.pk), "--as",
            "clerk"]
    r = CliRunner().invoke(main, [*args, "--dry-run"])
    assert r.exit_code == 0 and "row 2: would import" in r.output and "would import 3" in r.output
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0 and "imported 3" in r.output


def _ledger_story(story):
    for state in ("open", "assigned", "claimed", "verified", "reopened", "closed"):
        bring_to(story, state)


def test_ledger_export_csv_and_xlsx_agree_and_libreoffice_opens_it(story, tmp_path):
    _ledger_story(story)
    n = exporter.export_ledger(story.org, tmp_path / "l.csv")
    assert n == 6
    exporter.export_ledger(story.org, tmp_path / "l.xlsx")
    with (tmp_path / "l.csv").open(encoding="utf-8-sig") as fh:
        ours = list(csv.reader(fh))
    assert ours[0] == [zh for zh, _ in exporter.LEDGER_COLUMNS]
    verified = [r for r in ours if r[9] == "通过"]
    assert verified and all(r[8] == "刘代表" for r in verified)
    assert any(r[10] for r in ours[1:])  # 销号日期 of the closed/verified ones
    soffice = need_program("soffice", "libreoffice", package="libreoffice-calc-nogui")
    out = tmp_path / "lo"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir",
                    str(out), str(tmp_path / "l.xlsx")], check=True, capture_output=True,
                   timeout=180)
    with (out / "l.csv").open(encoding="utf-8") as fh:
        theirs = list(csv.reader(fh))
    # the sheet's first row is its title: the organisation, the campaign, the day
    assert theirs[0][0].startswith(f"{story.org.name} · {story.campaign.name} · 整改台账")
    assert [r[:len(ours[0])] for r in theirs[1:]] == ours
    exporter.export_ledger(story.org, tmp_path / "en.csv", english=True)
    with (tmp_path / "en.csv").open(encoding="utf-8-sig") as fh:
        assert next(csv.reader(fh))[0:2] == ["No.", "Problem"]


@pytest.mark.django_db(transaction=True)
def test_events_export_reimported_into_an_empty_instance_gives_the_same_figures(story,
                                                                                  tmp_path):
    _ledger_story(story)
    from tests import factories as f

    f.opinion(story.campaign, "还没有归纳的意见")  # an opinion in no problem
    days = [dt.date(1957, 7, 1), dt.date(1957, 9, 3), dt.date(1957, 9, 20), None]
    before = {d: figures(story.org.pk, d, by) for d in days for by in (None, "unit")
              for d in [d]}
    path = tmp_path / "events.jsonl"
    n = exporter.export_events(story.org, path)
    assert n == Event.objects.count()
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert {"problem", "at", "kind", "from_state", "to_state", "reason"} <= set(first)
    dt.datetime.fromisoformat(first["at"])
    assert "code_hash" not in (tmp_path / "events.org.json").read_text()
    org_id = story.org.pk
    call_command("flush", interactive=False, verbosity=0)
    info = reimport.import_events(path)
    assert info["org"] == org_id and info["events"] == n
    after = {d: figures(org_id, d, by) for d in days for by in (None, "unit") for d in [d]}
    assert after == before
    with pytest.raises(InvalidInput, match="exists already"):
        reimport.import_events(path)


def test_upload_page_for_clerks(story, client, tmp_path):
    from django.contrib.auth import get_user_model

    def login(member, name):
        member.user = get_user_model().objects.create_user(name, password="pw")
        member.save()
        client.force_login(member.user)

    login(story.worker, "w")
    assert client.get("/exchange/import/").status_code == 403
    login(story.clerk, "c")
    path = write_csv(tmp_path / "p.csv", ZH, rows(story, 3))
    with path.open("rb") as fh:
        r = client.post("/exchange/import/", {"campaign": story.campaign.pk, "file": fh,
                                              "dry_run": "1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200 and "3 rows: 0 imported" in r.content.decode()
    with path.open("rb") as fh:
        r = client.post("/exchange/import/", {"campaign": story.campaign.pk, "file": fh},
                        HTTP_ACCEPT_LANGUAGE="en")
    assert "3 rows: 3 imported" in r.content.decode()
    r = client.get("/exchange/ledger/?format=csv")
    assert r.status_code == 200 and b"".join(r.streaming_content).decode("utf-8-sig") \
        .startswith("序号,问题描述")
