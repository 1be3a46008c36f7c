"""A first organisation from a members sheet: units, members, sign-in names and roles, from
Excel or CSV, in Chinese or English headers; all or nothing; safe to run again."""

import csv

import pytest
from click.testing import CliRunner
from django.contrib.auth import authenticate
from openpyxl import Workbook

from tests import factories as f
from zhenggai.campaigns.models import CampaignRole
from zhenggai.campaigns.roles import has_role
from zhenggai.cli import main
from zhenggai.errors import InvalidInput
from zhenggai.exchange.members import import_members
from zhenggai.org.models import Member, Unit

ZH = ["姓名", "单位", "单位名称", "上级单位", "用户名", "角色", "语言"]
EN = ["name", "unit", "unit_name", "parent", "username", "roles", "language"]
BODY = [
    ["陈厂长", "plant", "第一炼钢厂", "", "chen", "领导、管理员", ""],
    ["王秀英", "furnace8", "8号平炉", "plant", "wang", "职工", "zh-hans"],
    ["刘代表", "furnace8", "", "", "liu", "representative, worker", "en"],
    ["李文书", "office", "厂办", "plant", "li", "文书", ""],
    ["赵铁柱", "furnace8", "", "", "", "worker", ""],
]


def write(path, header, body):
    if path.suffix == ".xlsx":
        wb = Workbook()
        wb.active.append(header)
        for r in body:
            wb.active.append(r)
        wb.save(path)
    else:
        with path.open("w", newline="", encoding="utf-8-sig") as fh:
            csv.writer(fh).writerows([header, *body])
    return path


@pytest.mark.parametrize("name,header", [("m.xlsx", ZH), ("m.csv", EN)])
@pytest.mark.django_db
def test_members_sheet_makes_units_members_logins_and_roles(tmp_path, name, header):
    org = f.org()
    c = f.campaign(org)
    report = import_members(write(tmp_path / name, header, BODY), org=org, campaign=c)
    assert not report.errors
    assert (report.rows, report.members_new, report.units_new) == (5, 5, 3)
    assert Unit.objects.get(org=org, code="furnace8").path == "/plant/furnace8"
    wang = Member.objects.get(user__username="wang")
    assert wang.unit.code == "furnace8" and wang.language == "zh-hans"
    assert has_role(Member.objects.get(user__username="liu"), c, "representative")
    assert set(CampaignRole.objects.filter(member__user__username="chen")
               .values_list("role", flat=True)) == {"leader", "admin"}
    assert Member.objects.get(name="赵铁柱").user is None
    logins = dict(report.logins)
    assert set(logins) == {"chen", "wang", "liu", "li"}
    assert authenticate(username="wang", password=logins["wang"]) is not None
    # Again: nothing new, no password shown again.
    again = import_members(tmp_path / name, org=org, campaign=c)
    assert (again.members_new, again.units_new, again.roles_new, again.logins) == (0, 0, 0, [])
    assert Member.objects.filter(org=org).count() == 5


@pytest.mark.django_db
def test_bad_rows_are_reported_and_nothing_goes_in(tmp_path):
    org = f.org()
    c = f.campaign(org)
    body = [*BODY, ["", "x", "", "", "", "", ""], ["某人", "bad code!", "", "", "", "", ""],
            ["某人", "u9", "", "nowhere", "", "", ""], ["某人", "", "", "", "", "boss", ""],
            ["某人", "", "", "", "", "", "fr"]]
    report = import_members(write(tmp_path / "m.csv", EN, body), org=org, campaign=c)
    assert [n for n, _ in report.errors] == [7, 8, 9, 10, 11]
    assert "no name" in report.errors[0][1] and "unknown role boss" in report.errors[3][1]
    assert not Member.objects.filter(org=org).exists() and not report.logins
    with pytest.raises(InvalidInput, match="姓名"):
        import_members(write(tmp_path / "n.csv", ["who"], [["x"]]), org=org)


@pytest.mark.django_db
def test_import_members_cli_and_first_setup(tmp_path):
    r = CliRunner().invoke(main, ["org", "create", "--name", "鞍钢第一炼钢厂", "--name-en",
                                  "Anshan First Steel Plant"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["org", "campaign", "--name", "2027 整改", "--airing-from",
                                  "2027-01-04", "--rectification-from", "2027-02-01",
                                  "--review-from", "2027-05-01"])
    assert r.exit_code == 0, r.output
    campaign_id = r.output.strip()
    path = write(tmp_path / "m.xlsx", ZH, BODY)
    r = CliRunner().invoke(main, ["import", "members", str(path), "--campaign", campaign_id,
                                  "--dry-run"])
    assert r.exit_code == 0 and not Member.objects.exists(), r.output
    r = CliRunner().invoke(main, ["import", "members", str(path), "--campaign", campaign_id])
    assert r.exit_code == 0, r.output
    assert r.stdout.count("\t") == 4 and Member.objects.count() == 5
    r = CliRunner().invoke(main, ["import", "members", str(path)])
    assert r.exit_code != 0 and "roles need a campaign" in r.output
