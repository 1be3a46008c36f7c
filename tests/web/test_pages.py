"""The role pages over real HTTP requests: receipts, photos, the board's network rule,
the member's language, and the leader board's figures."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image

from tests import factories as f
from tests.factories import user_for
from tests.helpers import bring_to, snapshot
from zhenggai.figures.counters import DIMS
from zhenggai.figures.queries import figures, series, sums
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions, lifecycle, queries
from zhenggai.problems.models import ClaimPhoto, Problem

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _jpeg_with_gps() -> bytes:
    im = Image.new("RGB", (300, 200), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (41.0, 7.0, 0.0)}  # GPS: latitude
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_anonymous_submission_shows_the_receipt_once_and_stores_no_trace(client, story):
    r = client.post("/submit/", {"text": "澡堂热水不够", "campaign": story.campaign.pk}, **EN)
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    code = r.context["receipt"]
    body = r.content.decode()
    assert code in body and "cannot be recovered" in body
    o = Opinion.objects.get(text="澡堂热水不够")
    assert o.anonymous and o.author_id is None and o.received_at is None
    assert code.replace("-", "") not in o.receipt.code_hash
    # Checked later with the code, in lower case and without dashes.
    r = client.post("/receipt/", {"receipt": code.lower().replace("-", "")}, **EN)
    assert r.status_code == 200 and "Not yet summarised" in r.content.decode()
    r = client.post("/receipt/", {"receipt": "0000-0000-0000-0000"}, **EN)
    assert r.status_code == 404 and "cannot be recovered" in r.content.decode()


def test_a_named_opinion_from_a_signed_in_member_lands_in_my_opinions(client, story):
    client.force_login(user_for(story.worker))
    r = client.post("/submit/", {"text": "食堂饭菜太凉", "campaign": story.campaign.pk})
    # 200 in place, as for an anonymous one: no redirect tells them apart
    assert r.status_code == 200 and 'href="/mine/"' in r.content.decode()
    o = Opinion.objects.get(text="食堂饭菜太凉")
    assert o.author_id == story.worker.pk and not o.anonymous
    assert "食堂饭菜太凉" in client.get("/mine/").content.decode()


def test_bad_submissions_change_nothing(client, story):
    before = Opinion.objects.count()
    r = client.post("/submit/", {"text": "   ", "campaign": story.campaign.pk}, **EN)
    assert r.status_code == 400
    assert Opinion.objects.count() == before


def test_the_proposer_answers_posts_and_contests_from_my_opinions(client, story):
    p = bring_to(story, lifecycle.VERIFIED)  # worker2 proposed it
    client.force_login(user_for(story.worker2))
    o = p.opinions.get()
    r = client.post("/mine/", {"opinion": o.pk, "do": "not_satisfied"}, **EN)
    assert r.status_code == 200 and "goes back" in r.content.decode()
    assert Problem.objects.get(pk=p.pk).state == lifecycle.CLAIMED
    client.post("/mine/", {"opinion": o.pk, "do": "poster", "text": "风扇是坏的"})
    assert Problem.objects.get(pk=p.pk).posters.get().signed_by_id is None
    # Someone else's opinion is not theirs to answer.
    client.force_login(user_for(story.worker))
    assert client.post("/mine/", {"opinion": o.pk, "do": "satisfied"}).status_code == 404


def test_claim_photos_lose_their_metadata_and_bad_files_change_nothing(client, story):
    p = bring_to(story, lifecycle.ASSIGNED)
    client.force_login(user_for(story.owner))
    before = snapshot(story.org.pk)
    bad = io.BytesIO(b"not an image at all")
    bad.name = "x.jpg"
    r = client.post(f"/problems/{p.pk}/", {"do": "claim", "text": "装了风扇",
                                           "version": p.version, "photos": [bad]}, **EN)
    assert r.status_code == 422 and "not a readable image" in r.content.decode()
    assert snapshot(story.org.pk) == before and not ClaimPhoto.objects.exists()
    good = io.BytesIO(_jpeg_with_gps())
    good.name = "fan.jpg"
    r = client.post(f"/problems/{p.pk}/", {"do": "claim", "text": "装了风扇",
                                           "version": p.version, "photos": [good]})
    assert r.status_code == 302
    ph = ClaimPhoto.objects.get()
    data = client.get(f"/photos/{ph.pk}/")
    raw = b"".join(data.streaming_content)
    assert data["Content-Type"] == "image/jpeg" and b"SecretCam" not in raw
    with Image.open(io.BytesIO(raw)) as im:
        assert not im.getexif() and im.size == (300, 200)
    # Photos are for members of the organisation only.
    client.logout()
    assert client.get(f"/photos/{ph.pk}/").status_code == 302


def test_a_claim_whose_second_photo_cannot_be_stored_leaves_no_files(story, settings,
                                                                    tmp_path, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    settings.MEDIA_ROOT = tmp_path
    p = bring_to(story, lifecycle.ASSIGNED)
    before = snapshot(story.org.pk)
    real, calls = FileSystemStorage._save, []

    def disk_full_on_the_second(self, name, content):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full_on_the_second)
    with pytest.raises(OSError):
        actions.claim(Problem.objects.get(pk=p.pk), actor=story.owner, done="装了风扇",
                photos=[_jpeg_with_gps(), _jpeg_with_gps()])
    assert len(calls) == 2  # the first file was written, then taken back
    assert snapshot(story.org.pk) == before and not ClaimPhoto.objects.exists()
    assert not [f for f in tmp_path.rglob("*") if f.is_file()]


def test_the_board_is_open_inside_the_network_only_and_names_no_anonymous_proposer(
        client, story, settings):
    p = bring_to(story, lifecycle.REOPENED)
    actions.post_poster(p, actor=story.worker, text="快改！", signed=False)
    actions.post_poster(p, actor=story.worker2, text="我签名", signed=True)
    actions.add_opinions(p, [f.opinion(story.campaign, "匿名：炉前太热").opinion],
                         actor=story.clerk)
    anon = Opinion.objects.filter(anonymous=True, problem=p)
    body = client.get("/board/", REMOTE_ADDR="10.1.2.3", **EN).content.decode()
    assert "快改！" in body and story.worker2.name in body and story.worker.name not in body
    assert story.owner.name in body and "not thorough" in body  # who answers for it, and why
    assert anon.count() == 1 and anon.get().text not in body
    assert client.get("/board/", REMOTE_ADDR="8.8.8.8").status_code == 403
    assert client.get(f"/board/problems/{p.pk}/", REMOTE_ADDR="8.8.8.8").status_code == 403
    # A member signed in may see it from anywhere.
    client.force_login(user_for(story.worker))
    assert client.get("/board/", REMOTE_ADDR="8.8.8.8").status_code == 200
    settings.BOARD_NETWORKS = ["192.168.7.0/24"]
    client.logout()
    assert client.get("/board/", REMOTE_ADDR="10.1.2.3").status_code == 403
    assert client.get("/board/?kiosk=1", REMOTE_ADDR="192.168.7.9").status_code == 200


def test_overdue_problems_show_days_overdue_on_the_board(client, story):
    p = bring_to(story, lifecycle.ASSIGNED)  # deadline 1957-10-01
    rows = queries.overdue(story.org.pk, dt.date(1957, 10, 11))
    assert [(r["problem"].pk, r["days"]) for r in rows] == [(p.pk, 10)]
    r = client.get(f"/board/problems/{p.pk}/", **EN)
    assert r.status_code == 200 and "web/poster.css" in r.content.decode()
    # The A3 layout is a static style sheet (the Content-Security-Policy allows no inline one).
    from django.contrib.staticfiles import finders

    css = Path(finders.find("web/poster.css")).read_text(encoding="utf-8")
    assert "@page { size: A3" in css


def test_a_member_s_language_wins_over_the_browser(client, story):
    client.force_login(user_for(story.clerk))
    r = client.post("/language/", {"language": "en", "next": "/desk/"},
                    HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert r.status_code == 302
    story.clerk.refresh_from_db()
    assert story.clerk.language == "en"
    client.cookies.clear()
    client.force_login(user_for(story.clerk))
    body = client.get("/desk/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "Summarising desk" in body
    story.clerk.language = "zh-hans"
    story.clerk.save(update_fields=["language"])
    body = client.get("/desk/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "归纳台" in body


def test_the_trend_series_ties_out_with_the_figures_of_each_day(story):
    bring_to(story, lifecycle.REOPENED)
    bring_to(story, lifecycle.CLOSED)
    start, end = dt.date(1957, 8, 25), dt.date(1957, 9, 10)
    rows = series(story.org.pk, start, end)
    assert len(rows) == (end - start).days + 1
    for row in rows:
        t = figures(story.org.pk, dt.date.fromisoformat(row["day"]))["total"]
        assert {k: t[k] for k in ("claimed_resolved", "verified_resolved",
                                  "false_figures", "overdue")} == {
            k: row[k] for k in ("claimed_resolved", "verified_resolved",
                                "false_figures", "overdue")}
    assert rows[-1]["false_figures"] == 1


def test_stalled_units_and_long_standing_problems(story):
    p = bring_to(story, lifecycle.ASSIGNED)  # furnace8's, created 1957-09-01
    stalled = queries.stalled_units(story.org.pk, dt.date(1957, 10, 1))
    assert [s["unit_id"] for s in stalled] == [story.furnace.pk]
    actions.claim(p, actor=story.owner, done="装了风扇",
            at=timezone.make_aware(dt.datetime(1957, 9, 25, 9)))
    assert queries.stalled_units(story.org.pk, dt.date(1957, 10, 1)) == []
    long = queries.long_standing(story.campaign, dt.date(1958, 10, 1))
    assert long["still_open"] == 1 and long["open"][0]["problem"].pk == p.pk


def test_the_verification_queue_never_offers_ones_own(story, client):
    p = bring_to(story, lifecycle.CLAIMED)
    Problem.objects.filter(pk=p.pk).update(owner=story.rep)
    assert queries.next_to_verify(story.rep, story.campaign, dt.date(1957, 9, 5)) is None
    assert queries.next_to_verify(story.rep2, story.campaign, dt.date(1957, 9, 5)).pk == p.pk


def test_a_review_round_brings_closed_problems_back_to_the_queue_until_checked(story):
    from zhenggai.problems.models import ReviewItem

    p = bring_to(story, lifecycle.CLOSED)
    day = p.events.order_by("-seq").first().day + dt.timedelta(days=1)
    rnd = actions.start_review_round(story.campaign, actor=story.leader, name="复查",
                               starts_on=day, ends_on=day + dt.timedelta(days=5))
    item = rnd.items.get()
    rep = item.assignee
    assert rep is not None
    assert queries.next_to_verify(rep, story.campaign, day).pk == p.pk
    assert queries.queue_size(rep, story.campaign, day) == 1
    actions.consolidation_check(Problem.objects.get(pk=p.pk), actor=rep, holds=True,
                          at=timezone.make_aware(dt.datetime(day.year, day.month, day.day, 9)))
    assert rnd.items.get().outcome == ReviewItem.Outcome.PASSED
    assert queries.next_to_verify(rep, story.campaign, day) is None
    assert queries.queue_size(rep, story.campaign, day) == 0


def test_the_campaign_stalled_warning(story, as_member):
    bring_to(story, lifecycle.ASSIGNED)  # created and assigned 1957-09-01, then nothing
    assert not queries.campaign_stalled(story.org.pk, dt.date(1957, 9, 10))
    assert queries.campaign_stalled(story.org.pk, dt.date(1957, 9, 20))
    # The leader board hands over its split by unit, read already: the same warning.
    for day in (dt.date(1957, 9, 10), dt.date(1957, 9, 20)):
        by_unit = sums(story.org.pk, day, DIMS["unit"])
        assert by_unit
        assert (queries.campaign_stalled(story.org.pk, day, now=by_unit)
                == queries.campaign_stalled(story.org.pk, day))
    body = as_member(story.leader).get("/leader/?as_of=1957-09-20", **EN).content.decode()
    assert "The campaign has stalled" in body
