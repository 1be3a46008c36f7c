"""The clerk's desk in the browser (issue 19): a few hundred opinions like the Anshan
replay's (its themes, worded as its people word them) summarised from the keyboard, the
groups taken whole, biggest first; the keystrokes and clicks per opinion summarised are
counted and printed. A second clerk at the same time never gets the same group, and one
taken by the first is a clear conflict for the second. At 1920 and 360 px, in both
languages; screenshots under screenshots/desk/ (kept out of git)."""

from __future__ import annotations

import random

import pytest

from tests import factories as f
from tests.web.test_browser import CONTRAST_JS, SHOTS, browser, pytestmark  # noqa: F401
from zhenggai.demo import texts
from zhenggai.grouping import proposals as P
from zhenggai.grouping.models import Proposal
from zhenggai.grouping.service import service
from zhenggai.opinions.intake import OpinionRow, new_id, store_many
from zhenggai.opinions.models import Opinion
from zhenggai.problems.models import Problem

N = 300  # opinions waiting on the desk
GOAL = 200  # the clerk summarises at least this many from the keyboard
DESK = SHOTS / "desk"


def replay_like(s, n: int, seed: int = 1958) -> None:
    """``n`` opinions as the replay's people write them: a theme's ways, with its furnace
    and shift, a prefix and a suffix; posted like a paper batch, left unsummarised."""
    rng = random.Random(seed)
    themes = [t for t in texts.THEMES if t[4]][:24]
    day = s.campaign.starts_on if hasattr(s.campaign, "starts_on") else None
    day = Opinion.objects.filter(campaign=s.campaign).values_list(
        "received_on", flat=True).first() or day
    rows = []
    for _i in range(n):
        theme = rng.choice(themes)
        body = rng.choice(theme[4]).format(f=rng.choice([3, 8]),
                                           s=rng.choice(texts.SHIFTS[:2]))
        text = rng.choice(texts.PREFIXES) + body + rng.choice(texts.SUFFIXES)
        unit = s.furnace if theme[1] in ("openhearth", "furnace") else s.office
        rows.append(OpinionRow(new_id(), s.org.pk, s.campaign.pk, text, "paper", day, None,
                               True, None, unit.pk, None))
    store_many(rows)


@pytest.fixture
def plant(story):
    s = story
    service.forget()
    f.opinion(s.campaign, "炉前温度太高，需要通风")  # dates the campaign's day
    replay_like(s, N)
    s.clerk2 = f.member(s.org, "吴文书", s.office, "clerk", c=s.campaign)
    P.refresh(s.campaign)  # what the worker does after intake
    yield s
    service.forget()


def sign_in(chromium, base: str, member, lang: str, width: int):
    ctx = chromium.new_context(
        locale="zh-CN" if lang == "zh-hans" else "en-US",
        extra_http_headers={"Accept-Language": "zh-CN" if lang == "zh-hans" else "en"},
        viewport={"width": width, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text
            and page.csp_violations.append(f"{m.text} at {m.location}"))
    user = f.user_for(member)
    page.goto(base + "/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "pw-zhenggai")
    page.click("main button")
    page.wait_for_url(lambda url: "/login/" not in url)  # wherever the role lands
    page.goto(base + "/desk/")
    page.wait_for_selector("#proposals [data-proposal].current")
    return page


def shot(page, lang: str, name: str) -> None:
    assert page.csp_violations == [], f"{name}: {page.csp_violations[:3]}"
    bad = page.evaluate(CONTRAST_JS)
    assert bad == [], f"{name}: text below WCAG AA contrast: {bad[:5]}"
    DESK.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width in (360, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= width, f"{name}: scrolls sideways at {width} px ({wide} px)"
        page.screenshot(path=str(DESK / f"{lang}-{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


def current(page) -> tuple[int, int]:
    """The current group's proposal id and how many opinions it shows."""
    card = page.locator("#proposals [data-proposal].current")
    return int(card.get_attribute("data-proposal")), card.locator("li[data-opinion]").count()


def press(page, key: str, counts: dict) -> None:
    page.keyboard.press(key)
    counts["keys"] += 1


def decide(page, key: str, counts: dict) -> None:
    """A key that posts the current group's decision; wait until the group is gone."""
    pid, _n = current(page)
    with page.expect_response(lambda r: f"/desk/proposals/{pid}/" in r.url):
        press(page, key, counts)
    page.wait_for_selector(f'#proposals [data-proposal="{pid}"]', state="detached")


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_clerk_summarises_hundreds_from_the_keyboard(live_server, browser, plant, lang):  # noqa: F811
    s = plant
    zh = lang == "zh-hans"
    page = sign_in(browser, live_server.url, s.clerk, lang, 1920)
    head = page.inner_text("#progress")
    assert (f"已归纳 0 条，共 {N + 1} 条意见" if zh else f"0 of {N + 1} opinions summarised") \
        in head
    shot(page, lang, "start")

    # A second clerk at the same time: never the same groups.
    other = sign_in(browser, live_server.url, s.clerk2, lang, 360)
    mine = set(page.locator("#proposals [data-proposal]").evaluate_all(
        "els => els.map(e => e.dataset.proposal)"))
    theirs = set(other.locator("#proposals [data-proposal]").evaluate_all(
        "els => els.map(e => e.dataset.proposal)"))
    assert mine and theirs and not mine & theirs
    shot(other, lang, "second-clerk")

    counts = {"keys": 0, "clicks": 0}
    # Split one opinion off the first group (mark it with 1, split with X), skip the next
    # one, then accept group after group: J moves on, A accepts the summary as written.
    pid, _n = current(page)
    size = Proposal.objects.get(pk=pid).size
    if size > 2:
        press(page, "1", counts)
        with page.expect_response(lambda r: f"/desk/proposals/{pid}/" in r.url):
            press(page, "x", counts)
        page.wait_for_selector("#proposals .done")
        assert Proposal.objects.get(pk=pid).size == size - 1
        shot(page, lang, "split")
    decide(page, "s", counts)  # skip: behind the others
    assert Proposal.objects.get(pk=pid).skips == 1
    page.set_viewport_size({"width": 360, "height": 740})  # half of it on a phone
    rounds = 0
    while True:
        done = Opinion.objects.filter(campaign=s.campaign, problem__isnull=False).count()
        if done >= GOAL or not page.locator("#proposals [data-proposal]").count():
            break
        if rounds == 3:
            shot(page, lang, "accepted")
        if rounds == 12:
            page.set_viewport_size({"width": 1920, "height": 900})
        decide(page, "a", counts)
        rounds += 1
    done = Opinion.objects.filter(campaign=s.campaign, problem__isnull=False).count()
    assert done >= GOAL, f"only {done} summarised"
    made = Problem.objects.filter(campaign=s.campaign).order_by("-pk").first()
    assert f"#{made.pk}" in page.inner_text("#proposals .done")
    assert (f"已归纳 {done:,} 条" if zh else f"{done:,} of {N + 1:,} opinions summarised") \
        in page.inner_text("#progress")
    # every opinion in at most one problem; none lost
    assert Opinion.objects.filter(campaign=s.campaign).count() == N + 1
    per = (counts["keys"] + counts["clicks"]) / done
    print(f"\n[{lang}] {done} opinions summarised into {Problem.objects.count()} problems with "
          f"{counts['keys']} keystrokes and {counts['clicks']} clicks: "
          f"{per:.3f} per opinion summarised")
    assert per < 0.5  # groups taken whole: far fewer than one action per opinion

    # The second clerk presses on a group the first one took meanwhile: a clear conflict.
    taken = Proposal.objects.filter(campaign=s.campaign, state=Proposal.TAKEN).first()
    other.goto(live_server.url + "/desk/")
    other.evaluate(
        """([pid, url]) => {
             const f = document.querySelector('#proposals form');
             f.setAttribute('hx-post', url); f.setAttribute('action', url);
             htmx.process(f);
             f.querySelector('button[value=accept]').click();
           }""",
        [taken.pk, f"/desk/proposals/{taken.pk}/"])
    other.wait_for_selector("#proposals .error[role=alert]")
    assert f"#{taken.problem_id}" in other.inner_text("#proposals .error")
    shot(other, lang, "conflict")
    assert Problem.objects.count() == Proposal.objects.filter(state=Proposal.TAKEN).count()
