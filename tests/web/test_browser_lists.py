"""The lists, the kiosk, the poster and the claim form in Chromium, in both languages, at
360 px and 1920 px: no sideways scroll (document.scrollingElement.scrollWidth), no raw key,
no bare decimal. Screenshots under screenshots/lists/<lang>/.

- /problems/ and /opinions/: a search, a filter and the second page;
- the kiosk: every screen fits 1920×1080, and following its refresh goes round all of them;
- the poster: printed, one A3 page that it fills, its bracketed title group on one line;
- the claim form: refused by the server, it keeps what was typed (sent with a progress
  bar); a photo over the limit is refused in the browser, before anything is sent;
- the situation page, the board and the heat log on a phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests import factories as f
from tests.factories import at
from tests.helpers import bring_to
from tests.production.conftest import plant, run  # noqa: F401  (the plant fixture)
from tests.web import pagecheck
from tests.web.test_browser import SHOTS, Walk, browser  # noqa: F401  (the browser fixture)
from zhenggai.org.models import Organisation
from zhenggai.problems import actions as problem_actions
from zhenggai.problems import lifecycle, queries
from zhenggai.problems.models import Problem
from zhenggai.problems.photos import MAX_BYTES
from zhenggai.web.views.board import KIOSK_ROWS

pytestmark = pytest.mark.slow

LISTS = SHOTS / "lists"


def fits(page, name: str, lang: str, widths=pagecheck.WIDTHS) -> None:
    pagecheck.check(page, name, lang, shots=LISTS / lang, widths=widths)


WORDS = {"en": {"problems": "problems", "overdue": "days overdue", "showing": "showing 51–"},
         "zh-hans": {"problems": "个问题", "overdue": "逾期", "showing": "第 51–"}}


@pytest.fixture
def plant_story(story):
    """The story with a crew unit under the furnace, 60 problems (so that the list has two
    pages), overdue and reopened ones, a poster, and named and anonymous opinions."""
    s = story
    crew = f.unit(s.org, "crew3", parent=s.furnace)
    crew.name, crew.name_en = "丙班", "Crew C"
    crew.save()
    for i in range(55):
        bring_to(s, lifecycle.ASSIGNED if i % 3 else lifecycle.OPEN)
    for _ in range(3):
        bring_to(s, lifecycle.REOPENED)
    poster = problem_actions.create_problem(
        s.campaign, [f.opinion(s.campaign, "丙班炉前风扇坏了三个月没人修").opinion,
                     f.opinion(s.campaign, "风扇坏了", author=s.worker).opinion],
        actor=s.clerk, summary="炉前风扇坏了三个月,没人修(丙班)", category=s.category,
        owner=s.owner, unit=crew, deadline=dt.date(1957, 9, 1),
        measures="更换风扇;每周检查一次", at=at(1957, 8, 1, 10))
    problem_actions.post_poster(poster, actor=s.worker, text="限期修好风扇！",
                                at=at(1957, 8, 20, 10))
    Organisation.objects.filter(pk=s.org.pk).update(clock_day=dt.date(1957, 11, 20))
    s.poster_problem = Problem.objects.get(pk=poster.pk)
    s.crew = crew
    return s


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_lists_kiosk_poster_and_forms(live_server, browser, plant_story, tmp_path,  # noqa: F811
                                      lang):
    s = plant_story
    base = live_server.url
    w = WORDS[lang]
    walk = Walk(browser, base, lang, tmp_path)

    # The problem list: every member's; a search, a unit with the units under it, page 2.
    worker = walk.page(s.worker)
    assert worker.locator("header.site nav a[href='/problems/']").count() == 1
    assert worker.locator("header.site nav a[href='/opinions/']").count() == 0
    worker.goto(base + "/problems/")
    assert w["problems"] in worker.inner_text("[data-testid=count]")
    fits(worker, "problems", lang)
    with worker.expect_navigation():  # a locator's count does not wait for the next page
        worker.click(".pager a[rel=next]")
    assert w["showing"] in worker.inner_text("[data-testid=count]")
    fits(worker, "problems-page2", lang)
    worker.goto(base + "/problems/")
    worker.fill("#f-q", "风扇")
    worker.select_option("#f-unit", str(s.furnace.pk))  # the crew is under the furnace
    worker.check("input[name=overdue]")
    with worker.expect_navigation():
        worker.click("form.filters button")
    rows = worker.locator("table.stack tbody tr")
    assert rows.count() == 1 and f"#{s.poster_problem.pk}" in rows.inner_text()
    assert w["overdue"] in rows.inner_text()
    fits(worker, "problems-filtered", lang)

    # The opinion list: the clerk's (with names), the representative's (without).
    clerk = walk.page(s.clerk)
    clerk.goto(base + "/opinions/?q=风扇")
    assert clerk.locator("table.stack tbody tr").count() == 2
    assert s.worker.name in clerk.inner_text("table.stack")
    fits(clerk, "opinions", lang)
    rep = walk.page(s.rep)
    rep.goto(base + "/opinions/?q=风扇")
    assert s.worker.name not in rep.inner_text("table.stack")
    rep.goto(base + "/opinions/?state=unsummarised")
    fits(rep, "opinions-unsummarised", lang)
    rep.goto(base + "/opinions/?page=2")
    fits(rep, "opinions-page2", lang)

    # The kiosk: each screen fits one 1920×1080 screen; its refresh goes round them all.
    kiosk = walk.page()
    kiosk.set_viewport_size({"width": 1920, "height": 1080})
    url, seen = base + "/board/?kiosk=1", []
    for _ in range(20):
        kiosk.goto(url)
        seen.append(kiosk.inner_text("[data-testid=screen]"))
        height, width = kiosk.evaluate("[document.scrollingElement.scrollHeight, "
                                       "document.scrollingElement.scrollWidth]")
        assert height <= 1080 and width <= 1920, f"kiosk {seen[-1]}: {width}×{height}"
        n = len(seen)
        fits(kiosk, f"kiosk-{n}", lang, widths=((1920, 1080),))
        kiosk.set_viewport_size({"width": 1920, "height": 1080})
        content = kiosk.get_attribute("meta[http-equiv=refresh]", "content")
        url = base + "/board/" + content.split("url=", 1)[1]
        if url.endswith("screen=0"):
            break
    # The figures, a screen for each 12 overdue problems, one of reopened, one of posters.
    overdue = queries.overdue_count(s.org.pk, dt.date(1957, 11, 20))
    assert overdue == 40
    assert len(seen) == 1 + -(-overdue // KIOSK_ROWS) + 1 + 1 == len(set(seen)), seen

    # The poster: printed, it is one A3 page, and fills it; its (丙班) is never broken.
    poster = walk.page()
    poster.goto(base + f"/board/problems/{s.poster_problem.pk}/")
    fits(poster, "poster", lang)
    poster.emulate_media(media="print")
    assert poster.eval_on_selector(".dazibao h1 .nobr", "e => e.getClientRects().length") == 1
    if lang == "zh-hans":
        title = poster.inner_text(".dazibao h1")
        assert "，" in title and "（丙班）" in title and "," not in title
    pdf = poster.pdf(prefer_css_page_size=True, print_background=True)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    assert box and abs(float(box[1]) - 841.9) < 2 and abs(float(box[2]) - 1190.6) < 2
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1, "the poster takes more than a page"
    (LISTS / lang / "poster-a3.pdf").write_bytes(pdf)
    # The page as printed (A3 at 96 px an inch): nothing cut off at the foot of the poster.
    poster.set_viewport_size({"width": 1123, "height": 1587})
    inside = poster.evaluate("""() => {
        const box = document.querySelector('.dazibao').getBoundingClientRect();
        const foot = document.querySelector('.dazibao .respond').getBoundingClientRect();
        return [foot.bottom <= box.bottom, box.height];
    }""")
    assert inside[0] and inside[1] > 1400, inside  # 388 mm: the page's height in its margins
    poster.screenshot(path=str(LISTS / lang / "poster-print-a3.png"))
    poster.emulate_media(media="screen")
    # What it says: who answers, the measures, the days overdue, the finding, the opinions.
    text = poster.inner_text(".dazibao")
    for part in (s.owner.name, "更换风扇", "80", "限期修好风扇"):
        assert part in text, part
    assert base + "/submit/" in text

    # The claim form: a refused claim keeps what was typed; the upload shows progress.
    owner = walk.page(s.owner)
    owner.goto(base + f"/problems/{s.poster_problem.pk}/")
    sent = []
    owner.on("request", lambda r: r.method == "POST" and sent.append(r.resource_type))
    owner.fill("#claim-done", "换了三台新风扇" + lang)
    owner.fill("#claim-evidence", "车间记录第12页")
    owner.set_input_files("#claim-photos", files=[{"name": "fan.jpg", "mimeType": "image/jpeg",
                                                   "buffer": b"this is not a picture"}])
    owner.click("button[name=do][value=claim]")
    owner.wait_for_selector("main > p.error[role=alert]")
    assert sent == ["xhr"]  # sent by upload.js, with its progress bar
    assert owner.input_value("#claim-done") == "换了三台新风扇" + lang
    assert owner.input_value("#claim-evidence") == "车间记录第12页"
    fits(owner, "claim-refused", lang)
    # A photo over the limit is refused before anything is sent.
    sent.clear()
    owner.set_input_files("#claim-photos", files=[{"name": "huge.jpg", "mimeType": "image/jpeg",
                                                   "buffer": b"\xff" * (MAX_BYTES + 1)}])
    owner.wait_for_selector("#claim-photos-error:not([hidden])")
    assert "huge.jpg" in owner.inner_text("#claim-photos-error")
    assert owner.eval_on_selector("#claim-photos", "e => e.files.length") == 0
    fits(owner, "claim-too-big", lang)
    owner.click("button[name=do][value=claim]")  # now without the photo: claimed
    owner.wait_for_selector(".done")
    assert sent == ["document"]
    assert Problem.objects.get(pk=s.poster_problem.pk).state == lifecycle.CLAIMED
    # The submit page refuses a photo over the limit the same way, before anything is sent.
    worker.goto(base + "/submit/")
    worker.set_input_files("#id_photos", files=[{"name": "huge.jpg", "mimeType": "image/jpeg",
                                                 "buffer": b"\xff" * (MAX_BYTES + 1)}])
    worker.wait_for_selector("#id_photos-error:not([hidden])")
    assert "huge.jpg" in worker.inner_text("#id_photos-error")
    assert worker.eval_on_selector("#id_photos", "e => e.files.length") == 0

    # The situation page and the board on a phone: stacked, nothing cut off.
    anon = walk.page()
    for name, path in (("situation", "/"), ("situation-units", "/?by=unit"), ("board", "/board/")):
        anon.goto(base + path)
        fits(anon, name, lang)
    anon.goto(base + "/?by=unit")
    # Each unit's name on one line, and its overdue figure inside the screen.
    cell = anon.locator("table.stack tbody th[scope=row]").first
    assert cell.evaluate("e => e.getClientRects().length") == 1
    assert cell.bounding_box()["height"] < 40
    last = anon.locator("table.stack tbody tr").first.locator("td").last
    box = last.bounding_box()
    assert box["x"] + box["width"] <= 360


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_heat_log_on_a_phone_shows_every_status(live_server, browser, plant,  # noqa: F811
                                                    tmp_path, lang):
    t0 = at(1958, 1, 5, 8)
    run(plant, plant.f8, t0, [560, 570, 565])
    run(plant, plant.f3, t0 + dt.timedelta(days=5), [470], tons=185, first_number=50,
        verify=False)
    Organisation.objects.filter(pk=plant.org.pk).update(clock_day=dt.date(1958, 1, 12))
    walk = Walk(browser, live_server.url, lang, tmp_path)
    page = walk.page(plant.verifier)
    page.goto(live_server.url + "/production/heats/")
    fits(page, "heats", lang)
    for cell in page.locator("table.stack tbody tr td:last-child").all():
        box = cell.bounding_box()
        assert box["x"] + box["width"] <= 360 and cell.inner_text().strip()
