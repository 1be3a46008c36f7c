"""Photos with opinions (re-encoded, kept in the opinion's own rows) and receipt slips for
anonymous paper forms: the domain, the pages, the API and the import."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from PIL import Image

from tests.factories import user_for
from tests.helpers import snapshot
from zhenggai.api.models import ApiToken, IdempotencyKey
from zhenggai.errors import Forbidden, InvalidInput, NotFound, Refused
from zhenggai.exchange import importer
from zhenggai.opinions import receipts, slips
from zhenggai.opinions.intake import submit_opinion
from zhenggai.opinions.models import Opinion, OpinionPhoto, Receipt, Slip
from zhenggai.problems import actions

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def jpeg(size=(320, 240), color=(200, 40, 40)) -> bytes:
    """A phone's photo: EXIF with the camera, its serial number, the time and the place, and
    an XMP packet."""
    im = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model-X9"  # Model
    exif[0xA431] = "SN-778899"  # BodySerialNumber
    exif[0x0132] = "2026:11:30 10:42:17"  # DateTime
    exif[0x8825] = {1: "N", 2: (41.0, 7.0, 0.0)}  # GPS
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, xmp=b"<x:xmpmeta>Model-X9 2026-11-30T10:42:17</x:xmpmeta>")
    return out.getvalue()


SECRETS = [b"PhoneMaker", b"Model-X9", b"SN-778899", b"2026:11:30", b"xmpmeta", b"Exif"]


def _bare(data: bytes) -> None:
    for s in SECRETS:
        assert s not in data, s
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif() and not im.info.get("icc_profile") and not im.info.get("xmp")


# -- photos: the domain -----------------------------------------------------------------

def test_an_anonymous_opinion_s_photo_keeps_pixels_only_in_a_row_without_time(story, tmp_path,
                                                                             settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    sub = submit_opinion(story.campaign, text="炉前漏水，见照片", anonymous=True,
                         photos=[jpeg(), jpeg((100, 80))])
    rows = list(OpinionPhoto.objects.filter(opinion=sub.opinion).order_by("place"))
    assert [(r.width, r.height, r.content_type) for r in rows] == [
        (320, 240, "image/jpeg"), (100, 80, "image/jpeg")]
    for r in rows:
        _bare(bytes(r.data))
        # every column: no time at all, and a random key
        assert not any(isinstance(v, (dt.date, dt.datetime))
                       for v in OpinionPhoto.objects.filter(pk=r.pk).values().get().values())
    assert rows[0].pk > 2**32 or rows[1].pk > 2**32  # random 62-bit keys, not a counter
    assert not (tmp_path / "media").exists()  # no file, so no file name or time


@pytest.mark.parametrize("photos, message", [
    ([b"not an image at all"], "not a readable image"),
    ([b"GIF89a" + b"\0" * 50], "not a readable image"),
    ([b"\xff" * (10 * 1024 * 1024 + 1)], "at most 10 MB"),
    ([jpeg()] * 7, "At most 6 photos"),
])
def test_refused_photos_store_nothing(story, photos, message):
    before = snapshot(story.org.pk), Opinion.objects.count()
    with pytest.raises(InvalidInput, match=message):
        submit_opinion(story.campaign, text="炉前漏水", anonymous=True, photos=photos)
    assert (snapshot(story.org.pk), Opinion.objects.count()) == before
    assert not OpinionPhoto.objects.exists() and not Receipt.objects.exists()


# -- photos: the pages and the API ----------------------------------------------------------

def _upload(data: bytes, name="IMG_0001.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def test_the_submit_page_takes_photos_and_every_view_of_the_opinion_shows_them(client, story):
    r = client.post("/submit/", {"text": "澡堂地滑", "campaign": story.campaign.pk,
                                 "photos": [_upload(jpeg())]}, **EN)
    assert r.status_code == 200
    code = r.context["receipt"]
    o = Opinion.objects.get(text="澡堂地滑")
    ph = o.photos.get()
    # the receipt holder sees it inline (no session to fetch it with)
    r = client.post("/receipt/", {"receipt": code}, **EN)
    assert 'src="data:image/jpeg;base64,' in r.content.decode()
    inline = r.content.decode().split('src="data:image/jpeg;base64,')[1].split('"')[0]
    _bare(base64.b64decode(inline))
    # members of the organisation see it on the desk and the problem page, by its address
    assert client.get(f"/opinions/photos/{ph.pk}/").status_code == 302  # not signed in
    client.force_login(user_for(story.clerk))
    assert f"/opinions/photos/{ph.pk}/" in client.get("/desk/", **EN).content.decode()
    got = client.get(f"/opinions/photos/{ph.pk}/")
    assert got.status_code == 200 and got["Content-Type"] == "image/jpeg"
    _bare(got.content)
    p = actions.create_problem(story.campaign, [o], actor=story.clerk, summary="澡堂地滑")
    assert f"/opinions/photos/{ph.pk}/" in client.get(f"/problems/{p.pk}/").content.decode()
    # a named opinion's photo on /mine/
    client.force_login(user_for(story.worker))
    client.post("/submit/", {"text": "工具房漏雨", "campaign": story.campaign.pk,
                             "photos": [_upload(jpeg(color=(1, 2, 3)))]}, **EN)
    mine = Opinion.objects.get(text="工具房漏雨")
    assert mine.author_id == story.worker.pk
    assert f"/opinions/photos/{mine.photos.get().pk}/" in client.get("/mine/").content.decode()


def test_the_submit_page_refuses_a_file_that_is_not_an_image_and_stores_nothing(client, story):
    before = Opinion.objects.count()
    r = client.post("/submit/", {"text": "澡堂地滑", "campaign": story.campaign.pk,
                                 "photos": [_upload(b"%PDF-1.4 not an image", "x.pdf")]}, **EN)
    assert r.status_code == 422 and "not a readable image" in r.content.decode()
    assert Opinion.objects.count() == before and not OpinionPhoto.objects.exists()
    r = client.post("/submit/", {"text": "澡堂地滑", "campaign": story.campaign.pk,
                                 "photos": [_upload(jpeg()) for _ in range(7)]},
                    HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 422 and "最多" in r.content.decode()
    assert Opinion.objects.count() == before


def _api(client, path, body, member=None, key=None, lang="en"):
    extra = {"HTTP_ACCEPT_LANGUAGE": lang}
    if member is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {ApiToken.issue(member)[1]}"
    if key:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post("/api/v1" + path, data=json.dumps(body),
                       content_type="application/json", **extra)


def test_the_api_takes_photos_in_base64_and_refuses_bad_ones(client, story):
    photo = base64.b64encode(jpeg()).decode()
    r = _api(client, "/opinions", {"campaign": story.campaign.pk, "text": "吊车刹车不灵",
                                   "anonymous": True,
                                   "photos": [photo, "data:image/jpeg;base64," + photo]})
    assert r.status_code == 201, r.content
    o = Opinion.objects.get(pk=r.json()["opinion"]["id"])
    assert o.photos.count() == 2
    for ph in o.photos.all():
        _bare(bytes(ph.data))
    n = Opinion.objects.count()
    for photos, code, words in [(["!!!"], 422, "base64"),
                                ([base64.b64encode(b"hello").decode()], 422, "readable image"),
                                ([photo] * 7, 422, "At most 6")]:
        r = _api(client, "/opinions", {"campaign": story.campaign.pk, "text": "吊车",
                                       "anonymous": True, "photos": photos})
        assert r.status_code == code and words in r.json()["error"]["message"], r.content
    assert Opinion.objects.count() == n


# -- slips: the domain --------------------------------------------------------------------

def test_slip_numbers_catch_typing_errors():
    number = slips.new_number()
    assert slips.normalise(slips.pretty(number)) == number
    wrong = number[:3] + str((int(number[3]) + 1) % 10) + number[4:]
    with pytest.raises(InvalidInput, match="typing error"):
        slips.normalise(wrong)
    if number[2] != number[3]:
        swapped = number[:2] + number[3] + number[2] + number[4:]
        with pytest.raises(InvalidInput, match="typing error"):
            slips.normalise(swapped)
    with pytest.raises(InvalidInput, match="8 digits"):
        slips.normalise("12ab")


def test_a_printed_slip_becomes_a_receipt_once_and_forgets_which_opinion_it_became(story):
    printed = slips.print_slips(story.campaign, actor=story.clerk, count=3)
    assert len({s.number for s in printed}) == 3
    stored = {s.number: s for s in Slip.objects.all()}
    for s in printed:  # only hashes are stored
        row = stored[s.number.replace(" ", "")]
        assert s.receipt.replace("-", "") not in row.code_hash and not row.used
    one = printed[1]
    sub = slips.submit_paper(story.campaign, actor=story.clerk, slip=one.number,
                             text="更衣室没有暖气", unit=story.furnace)
    o = Opinion.objects.get(pk=sub.opinion.pk)
    assert o.anonymous and o.author_id is None and o.received_at is None
    assert o.channel == "paper" and sub.receipt is None  # the worker holds the code
    # the slip's code is the opinion's receipt, and works like any other
    assert receipts.redeem(one.receipt).opinion.pk == o.pk
    row = Slip.objects.get(number=one.number.replace(" ", ""))
    assert row.used and row.code_hash == ""  # nothing left that links it to the receipt
    assert not any(str(o.pk) in str(v) for v in Slip.objects.values().get(pk=row.pk).values())
    # used, unknown, mistyped: refused, nothing written
    before = snapshot(story.org.pk), Opinion.objects.count()
    with pytest.raises(Refused, match="used already"):
        slips.submit_paper(story.campaign, actor=story.clerk, slip=one.number, text="再来一次")
    unknown = next(n for n in (slips.new_number() for _ in range(50)) if n not in stored)
    with pytest.raises(NotFound, match="No slip numbered"):
        slips.submit_paper(story.campaign, actor=story.clerk, slip=unknown, text="不存在")
    with pytest.raises(InvalidInput, match="8 digits"):
        slips.submit_paper(story.campaign, actor=story.clerk, slip="12", text="不存在")
    assert (snapshot(story.org.pk), Opinion.objects.count()) == before


def test_only_a_clerk_prints_or_types_in_and_within_limits(story):
    with pytest.raises(Forbidden):
        slips.print_slips(story.campaign, actor=story.worker, count=2)
    with pytest.raises(InvalidInput, match="between 1 and 40"):
        slips.print_slips(story.campaign, actor=story.clerk, count=slips.MAX_PRINT + 1)
    s = slips.print_slips(story.campaign, actor=story.clerk, count=1)[0]
    with pytest.raises(Forbidden):
        slips.submit_paper(story.campaign, actor=story.owner, slip=s.number, text="x")
    assert not Slip.objects.get().used


# -- slips: the pages, the API, the import ----------------------------------------------

def test_a_clerk_prints_a_sheet_and_types_a_form_in_on_the_pages(client, story):
    client.force_login(user_for(story.clerk))
    assert client.get("/desk/slips/", **EN).status_code == 200
    r = client.post("/desk/slips/", {"count": "12"}, **EN)
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    page = r.content.decode()
    assert "slips.css" in page  # the A4 print layout
    printed = r.context["slips"]
    assert len(printed) == 12 and all(s.receipt in page and s.number in page for s in printed)
    r = client.post("/desk/slips/", {"count": "0"}, **EN)
    assert r.status_code == 422 and "between 1 and 40" in r.content.decode()
    form = {"slip": printed[0].number, "text": "夜班没有热饭", "received_on": "1957-07-02"}
    r = client.post("/desk/paper/", form, **EN)
    assert r.status_code == 302
    o = Opinion.objects.get(text="夜班没有热饭")
    assert o.anonymous and o.received_on == dt.date(1957, 7, 2) and o.channel == "paper"
    r = client.post("/desk/paper/", form, **EN)
    assert r.status_code == 409 and "used already" in r.content.decode()
    r = client.post("/desk/paper/", dict(form, slip="1234 5678"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code in (404, 422) and "回执条" in r.content.decode()
    # the worker, with the code from the slip
    client.logout()
    r = client.post("/receipt/", {"receipt": printed[0].receipt}, **EN)
    assert r.status_code == 200 and "夜班没有热饭" in r.content.decode()
    # a worker may not print slips
    client.force_login(user_for(story.worker))
    assert client.post("/desk/slips/", {"count": "3"}).status_code == 403


def test_slips_over_the_api_are_shown_once_and_typed_in_with_their_number(client, story):
    r = _api(client, "/slips", {"campaign": story.campaign.pk, "count": 2}, story.clerk,
             key="sheet-1")
    assert r.status_code == 201
    got = r.json()["slips"]
    assert all(s["receipt"] and s["number"] for s in got)
    stored = json.dumps([bytes(k.body).decode() for k in IdempotencyKey.objects.all()])
    for s in got:
        assert s["receipt"] not in stored
    r = _api(client, "/opinions/paper", {"campaign": story.campaign.pk, "slip": got[0]["number"],
                                         "text": "仓库灯坏了"}, story.clerk)
    assert r.status_code == 201 and r.json()["receipt"] is None
    r = _api(client, "/receipts/case", {"receipt": got[0]["receipt"]})
    assert r.status_code == 200 and r.json()["opinion"]["text"] == "仓库灯坏了"
    r = _api(client, "/opinions/paper", {"campaign": story.campaign.pk, "slip": got[0]["number"],
                                         "text": "再来"}, story.clerk, lang="zh-hans")
    assert r.status_code == 409 and "已经用过" in r.json()["error"]["message"]
    r = _api(client, "/slips", {"campaign": story.campaign.pk, "count": 2}, story.worker)
    assert r.status_code == 403


def test_import_with_a_slip_column(story, tmp_path):
    printed = slips.print_slips(story.campaign, actor=story.clerk, count=2)
    path = tmp_path / "forms.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["意见内容", "回执条号", "日期", "提出人"])
        w.writerow(["锅炉房太吵", printed[0].number, "1957-07-02", ""])
        w.writerow(["锅炉房太吵二", printed[0].number, "1957-07-02", ""])  # used above
        w.writerow(["署名意见", "", "1957-07-02", "王秀英"])
        w.writerow(["有名字又有回执", printed[1].number, "1957-07-02", "王秀英"])
        w.writerow(["回执号打错", "1234 5678", "1957-07-02", ""])
    dry = importer.import_opinions(path, campaign=story.campaign, actor=story.clerk,
                                   dry_run=True)
    assert [(r.row, r.status) for r in dry.results] == [
        (2, "import"), (3, "import"), (4, "import"), (5, "error"), (6, "error")]
    assert not Slip.objects.filter(used=True).exists()
    report = importer.import_opinions(path, campaign=story.campaign, actor=story.clerk)
    assert report.imported == 2 and [e.row for e in report.errors] == [3, 5, 6]
    assert "used already" in report.errors[0].reason
    o = Opinion.objects.get(text="锅炉房太吵")
    assert o.anonymous and receipts.redeem(printed[0].receipt).opinion.pk == o.pk
    again = importer.import_opinions(path, campaign=story.campaign, actor=story.clerk)
    assert again.imported == 0 and again.existing == 2  # safe to run again
    assert connection.vendor in ("sqlite", "postgresql")


def test_import_cli_with_a_slip_column_in_xlsx(story, tmp_path):
    from click.testing import CliRunner
    from django.contrib.auth import get_user_model
    from openpyxl import Workbook

    from zhenggai.cli import main

    story.clerk.user = get_user_model().objects.create_user("clerk", password="pw")
    story.clerk.save()
    printed = slips.print_slips(story.campaign, actor=story.clerk, count=1)
    wb = Workbook()
    ws = wb.active
    ws.append(["Opinion", "Slip", "Date"])
    ws.append(["Canteen closes before the night shift ends", printed[0].number, "1957-07-03"])
    path = tmp_path / "forms.xlsx"
    wb.save(path)
    r = CliRunner().invoke(main, ["import", "opinions", str(path), "--campaign",
                                  str(story.campaign.pk), "--as", "clerk"])
    assert r.exit_code == 0 and "imported 1" in r.output, r.output
    o = Opinion.objects.get(text__startswith="Canteen closes")
    assert o.anonymous and receipts.redeem(printed[0].receipt).opinion.pk == o.pk
