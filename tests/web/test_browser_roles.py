"""Each role's work page in Chromium (issue 16), in Chinese and in English, at 360 px and
1920 px: every member signs in, lands on their own work and does its main job, counted in
clicks from the landing page (typing is not a click):

- a worker without opinions lands on the form and submits (1 click), and is told where to
  follow it;
- the owner lands on "my problems", sees what needs them with its days overdue, opens one
  and claims it (2 clicks);
- the representative lands on the queue and passes the claim beside what was promised
  (1 click), the buttons within reach on a phone;
- the leader lands on the decisions first and approves a decline (1 click);
- the proposer lands on their opinions and answers "satisfied" (1 click), after which the
  question is gone and the case says what they answered;
- the clerk lands on the desk.

Every page fails on sideways scroll, a raw key (verify_passed …), a bare decimal, a CSP
violation or text below WCAG AA contrast. Screenshots: screenshots/roles/<lang>-<page>-<width>.png
(kept out of git)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from tests import factories as f
from tests.web import pagecheck
from tests.web.test_browser import (  # noqa: F401  (the browser fixture)
    SHOTS,
    Walk,
    browser,
    pytestmark,
)
from zhenggai.org.models import Organisation
from zhenggai.problems import actions, lifecycle
from zhenggai.problems.models import Problem

ROLE_SHOTS = SHOTS / "roles"
TODAY = dt.date(1957, 10, 20)  # the plant's clock: problems are days, not decades, overdue
CLICKS: dict[str, dict[str, int]] = {}  # lang → role's main job → clicks, for the report

WORDS = {
    "en": {"overdue": "19 days overdue", "answered": "You answered: satisfied.",
           "received": "Received", "claimed": "Claimed", "recorded": "recorded"},
    "zh-hans": {"overdue": "超期19天", "answered": "您的回答：满意。", "received": "收到",
                "claimed": "已报告", "recorded": "已记录"},
}


def check(page, name: str, lang: str) -> None:
    pagecheck.check(page, name, lang, shots=ROLE_SHOTS, prefix=f"{lang}-")


def _problem(s, summary, opinions, *, deadline, measures="", owner=True):
    ops = [f.opinion(s.campaign, t, author=a).opinion for t, a in opinions]
    return actions.create_problem(
        s.campaign, ops, actor=s.clerk, summary=summary, category=s.category,
        owner=s.owner if owner else None, unit=s.furnace if owner else None,
        measures=measures, deadline=deadline if owner else None,
        at=f.at(1957, 9, 1, 10))


@pytest.fixture
def plant(story):
    """A campaign as the demo has it, on 1957-10-20: an owner with an overdue and a due
    problem, a claim waiting with its opinions, a decline to approve."""
    s = story
    Organisation.objects.filter(pk=s.org.pk).update(clock_day=TODAY)
    late = _problem(s, "三号炉前温度太高", [("三号炉前温度太高，夏天工人中暑", s.worker2)],
                    deadline=dt.date(1957, 10, 1), measures="装两台轴流风机")
    due = _problem(s, "更衣室没有暖气", [("更衣室冬天没有暖气，换衣服冻得发抖", s.worker2)],
                   deadline=dt.date(1957, 11, 30), measures="接通暖气管道")
    texts = ["浴室水不热，冬天洗澡冻得直哆嗦", "浴室的热水不够热，洗澡水是温的",
             "浴室水温太低，洗不了热水澡", "洗澡水忽冷忽热", "浴室龙头坏了一半", "浴室排队太久"]
    bath = _problem(s, "浴室水不热", [(t, s.worker if i == 0 else None)
                                     for i, t in enumerate(texts)],
                    deadline=dt.date(1957, 10, 15), measures="换一台锅炉，加装保温水箱")
    actions.claim(bath, actor=s.owner, done="换了锅炉，水箱加了保温层",
                  at=f.at(1957, 10, 10, 10))
    canteen = _problem(s, "食堂的菜太咸", [("食堂的菜太咸，工人吃不消", s.worker2)],
                       deadline=None, owner=False)
    actions.propose_decline(canteen, actor=s.clerk, reason="属于后勤公司，不归本厂管",
                            at=f.at(1957, 9, 2, 10))
    return s, late, due, bath, canteen


def land(walk, member, path: str):
    page = walk.page(member)
    assert page.url == walk.base + path, f"{member.name} landed on {page.url}, not {path}"
    return page


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_each_role_lands_on_its_work_and_does_it(live_server, browser, plant,  # noqa: F811
                                                  tmp_path, lang):
    s, late, _due, bath, canteen = plant
    walk = Walk(browser, live_server.url, lang, tmp_path)
    w = WORDS[lang]
    clicks = CLICKS.setdefault(lang, {})

    # The worker without an opinion of their own lands on the form; one click submits.
    worker = land(walk, f.member(s.org, "钱师傅", s.furnace), "/submit/")
    check(worker, "worker-submit", lang)
    worker.fill("textarea[name=text]", "八号炉的行车刹车不灵，吊钢水包时很危险")
    worker.click("main form button")
    clicks["worker submits"] = 1
    worker.wait_for_selector("main h1")
    assert w["received"] in worker.inner_text("main h1")
    assert worker.locator("main a[href='/mine/']").count() >= 1
    check(worker, "worker-received", lang)

    # The owner lands on their problems: the overdue one first, in days overdue.
    owner = land(walk, s.owner, "/owner/")
    needs = owner.inner_text("table.owner-list >> nth=0")
    assert w["overdue"] in needs and "-" not in re.sub(r"\d{4}-\d\d-\d\d", "", needs)
    assert needs.index("三号炉前") < needs.index("更衣室")
    assert "浴室水不热" in owner.inner_text("table.owner-list >> nth=1")
    check(owner, "owner-my-problems", lang)
    owner.fill("#f-q", "更衣室")
    owner.click(".filters .search button")
    owner.wait_for_url(re.compile(r"q="))
    assert "三号炉前" not in owner.inner_text("main")
    check(owner, "owner-searched", lang)
    owner.goto(live_server.url + "/owner/")
    owner.click(f"a[href='/problems/{late.pk}/']")
    owner.fill("#claim-done", "装了两台轴流风机，炉前温度降到三十度")
    owner.click("button[name=do][value=claim]")
    clicks["owner claims"] = 2
    owner.wait_for_selector(".done")
    assert w["claimed"] in owner.inner_text(".done")
    assert Problem.objects.get(pk=late.pk).state == lifecycle.CLAIMED

    # The representative lands on the queue: the promise beside the claim, the decision
    # within reach on a phone, three opinions and the rest folded.
    rep = land(walk, s.rep, "/verify/")
    assert "三号炉前" in rep.inner_text("#case h2")
    assert "装两台轴流风机" in rep.inner_text(".promised") and "1957-10-01" in rep.inner_text(
        ".promised")
    assert "炉前温度降到三十度" in rep.inner_text(".claim")
    check(rep, "rep-verify", lang)
    rep.click("button[name=do][value=verify_passed]")
    clicks["representative verifies"] = 1
    rep.wait_for_selector(".done")
    assert Problem.objects.get(pk=late.pk).state == lifecycle.VERIFIED
    # The next one comes by itself: six opinions, three shown and the rest folded below
    # the decision, which stays within reach on a phone.
    assert "浴室水不热" in rep.inner_text("#case h2")
    assert "换一台锅炉" in rep.inner_text(".promised")
    assert rep.locator("#case > section .card:visible").count() == 3
    top = rep.eval_on_selector("button[value=verify_passed]",
                               "b => b.getBoundingClientRect().top + window.scrollY")
    assert top < 1500, f"the pass button is {top} px down a phone's page"
    CLICKS.setdefault("pass button at 360 px (px from top)", {})[lang] = round(top)
    check(rep, "rep-next", lang)
    # Any problem of the queue opens from its list.
    rep.click(f"table.queue a[href*='problem={bath.pk}']")
    rep.click("button[name=do][value=verify_passed]")
    rep.wait_for_selector(".done")
    assert Problem.objects.get(pk=bath.pk).state == lifecycle.VERIFIED

    # The leader lands on the decisions, before the figures; one click approves a decline.
    leader = land(walk, s.leader, "/leader/")
    assert leader.eval_on_selector("#decisions", "d => d.getBoundingClientRect().top") < \
        leader.eval_on_selector(".tiles", "t => t.getBoundingClientRect().top")
    leader.wait_for_function("document.querySelector('#trend') && "
                             "Chart.getChart(document.querySelector('#trend'))")
    check(leader, "leader", lang)
    leader.click("button[name=do][value=decline]")
    clicks["leader decides"] = 1
    leader.wait_for_selector(".messages .done")
    assert Problem.objects.get(pk=canteen.pk).state == lifecycle.DECLINED

    # The proposer lands on their opinions and answers; the question goes, the answer stays.
    proposer = land(walk, s.worker, "/mine/")
    assert "换一台锅炉" in proposer.inner_text("main")
    assert "水箱加了保温层" in proposer.inner_text("main")
    check(proposer, "proposer-mine", lang)
    proposer.click("button[name=do][value=satisfied]")
    clicks["proposer answers"] = 1
    proposer.wait_for_selector(".done")
    assert proposer.locator("button[name=do][value=satisfied]").count() == 0
    assert w["answered"] in proposer.inner_text("main")
    check(proposer, "proposer-answered", lang)

    # The clerk lands on the desk (the desk's own walk is tests/web/test_browser.py).
    clerk = land(walk, s.clerk, "/desk/")
    assert clerk.locator("header nav a[href^='/exchange/ledger/']").count() == 1
    clerk.screenshot(path=str(ROLE_SHOTS / f"{lang}-clerk-desk-360.png"), full_page=True)
    # The counts, for the report (the walk asserts each step, so they are what it took).
    (ROLE_SHOTS / f"{lang}-clicks.json").write_text(json.dumps(
        {"clicks": clicks, "pass_button_px": CLICKS["pass button at 360 px (px from top)"]
         [lang]}, ensure_ascii=False))
