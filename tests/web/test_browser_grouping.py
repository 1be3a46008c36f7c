"""Grouping in the browser, as people meet it (issue 17): a worker types Chinese through an
input method into /submit/ (composition events, as an IME sends them), sees the likely
existing problems, and says "me too" (附议), named and anonymous; a clerk on the desk sees
the problems most like the ticked opinions, searches, adds them, and accepts a proposed
group, which takes them to the new problem's assign form.

Screenshots go to screenshots/<lang>/ (kept out of git), like tests/web/test_browser.py."""

from __future__ import annotations

import re
import time

import pytest

from tests import factories as f
from tests.web.test_browser import Walk, browser, pytestmark  # noqa: F401  (the fixture)
from zhenggai.grouping.service import service
from zhenggai.opinions.models import Opinion, PendingMeToo
from zhenggai.problems import actions
from zhenggai.problems.models import Problem

# An input method's composition: pinyin while composing, the characters when chosen.
COMPOSE_START = """
([sel, steps]) => {
  const el = document.querySelector(sel);
  el.focus();
  el.dataset.base = el.value;
  el.dispatchEvent(new CompositionEvent("compositionstart", {bubbles: true, data: ""}));
  for (const s of steps) {
    el.value = el.dataset.base + s;
    el.dispatchEvent(new CompositionEvent("compositionupdate", {bubbles: true, data: s}));
    el.dispatchEvent(new InputEvent("input", {bubbles: true, isComposing: true, data: s,
                                              inputType: "insertCompositionText"}));
  }
}
"""
COMPOSE_END = """
([sel, chosen]) => {
  const el = document.querySelector(sel);
  el.value = el.dataset.base + chosen;
  el.dispatchEvent(new InputEvent("input", {bubbles: true, isComposing: true, data: chosen,
                                            inputType: "insertCompositionText"}));
  el.dispatchEvent(new CompositionEvent("compositionend", {bubbles: true, data: chosen}));
}
"""


def type_chinese(page, sel: str, words: list[tuple[list[str], str]], sent) -> None:
    """Each word composed from pinyin; nothing is asked while a word is being composed."""
    for steps, chosen in words:
        before = len([s for s in sent if "suggest" in s[1] or "targets" in s[1]])
        page.evaluate(COMPOSE_START, [sel, steps])
        time.sleep(0.8)  # longer than the pause after which a suggestion is asked
        after = len([s for s in sent if "suggest" in s[1] or "targets" in s[1]])
        assert after == before, "asked in the middle of a composition"
        page.evaluate(COMPOSE_END, [sel, chosen])


BATH = ["浴室水不热，冬天洗澡冻得直哆嗦", "浴室的热水不够热，洗澡水是温的",
        "浴室水温太低，洗不了热水澡"]


@pytest.fixture
def plant(story):
    s = story
    service.forget()
    bath = actions.create_problem(s.campaign, [f.opinion(s.campaign, t).opinion for t in BATH],
                                  actor=s.clerk, summary="浴室水不热")
    canteen = actions.create_problem(
        s.campaign, [f.opinion(s.campaign, "食堂饭菜太贵，工人吃不起").opinion],
        actor=s.clerk, summary="食堂饭菜太贵")
    for t in ("宿舍漏雨，屋顶要修", "八号炉漏水严重，请尽快维修"):
        actions.create_problem(s.campaign, [f.opinion(s.campaign, t).opinion], actor=s.clerk,
                               summary=t[:6])
    return s, bath, canteen


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_me_too_while_typing_and_grouping_on_the_desk(live_server, browser, plant, lang):  # noqa: F811
    s, bath, canteen = plant
    walk = Walk(browser, live_server.url, lang, None)
    zh = lang == "zh-hans"

    # 1. a signed-in worker types with an input method and says "me too", named
    page = walk.page(s.worker)
    sent: list = []
    page.on("request", lambda r: sent.append((r.method, r.url)))
    page.goto(live_server.url + "/submit/")
    type_chinese(page, "#id_text", [(["y", "yu", "yus", "yushi"], "浴室"),
                                    (["d", "de", "deshui"], "的水"),
                                    (["b", "bu", "bure"], "不热")], sent)
    page.wait_for_selector(f'#similar [data-problem="{bath.pk}"]')
    assert "浴室水不热" in page.inner_text("#similar")
    assert not re.search(r"\b0\.\d\d\b", page.inner_text("#similar"))  # words, not a score
    asked = [m for m, u in sent if "/suggest/" in u]
    assert asked and set(asked) == {"POST"}
    assert all("%E" not in u and "text=" not in u for _m, u in sent)
    walk.shot(page, "submit-suggestions")
    page.click(f'#similar button[name=me_too][value="{bath.pk}"]')
    page.wait_for_selector("main .done")
    assert f"#{bath.pk}" in page.inner_text("main")
    assert ("你已附议" if zh else "You said “me too”") in page.inner_text("main")
    walk.shot(page, "me-too-named")
    bath.refresh_from_db()
    assert bath.n_opinions == 4
    mine = Opinion.objects.get(author=s.worker, problem=bath)
    assert mine.text == "浴室的水不热"

    # 2. a visitor, not signed in: "me too", anonymous, with the receipt shown once
    visitor = walk.page()
    visitor.goto(live_server.url + "/submit/")
    type_chinese(visitor, "#id_text", [(["xi", "xizao"], "洗澡"),
                                       (["s", "shui", "shuitai", "shuitailiang"], "水太凉")],
                 [])
    visitor.wait_for_selector(f'#similar [data-problem="{bath.pk}"]')
    visitor.click(f'#similar button[name=me_too][value="{bath.pk}"]')
    visitor.wait_for_selector("#receipt")
    assert f"#{bath.pk}" in visitor.inner_text("main")
    walk.shot(visitor, "me-too-anonymous")
    pending = PendingMeToo.objects.get(problem=bath)
    assert pending.opinion.anonymous and pending.opinion.author_id is None

    # 3. the clerk: the merge target ranked for the ticked opinion, and a search
    loose = f.opinion(s.campaign, "浴室热水供应不足，洗澡水冰凉").opinion
    f.opinion(s.campaign, "食堂饭菜太贵，吃不起")
    f.opinion(s.campaign, "食堂饭菜太贵了，工人吃不起")
    clerk = walk.page(s.clerk)
    clerk.goto(live_server.url + "/desk/")
    clerk.check(f'input.pick[value="{loose.pk}"]')
    clerk.wait_for_selector('#targets input[name=problem]:checked')
    first = clerk.get_attribute("#targets input[name=problem] >> nth=0", "value")
    assert int(first) == bath.pk
    walk.shot(clerk, "desk-ranked")
    sent.clear()
    clerk.on("request", lambda r: sent.append((r.method, r.url)))
    type_chinese(clerk, "#id_q", [(["s", "shi", "shitang"], "食堂")], sent)
    clerk.wait_for_function(
        "() => document.querySelector('#targets') && "
        "document.querySelector('#targets').textContent.includes('食堂饭菜太贵')")
    assert clerk.get_attribute("#targets input[name=problem] >> nth=0", "value") \
        == str(canteen.pk)
    walk.shot(clerk, "desk-search")
    clerk.fill("#id_q", "")  # back to the ranking for the ticked opinion, and add it there
    clerk.wait_for_selector(f'#targets input[name=problem][value="{bath.pk}"]:checked')
    clerk.click("#merge button[name=action][value=add]")
    clerk.wait_for_selector("main .done")
    assert Opinion.objects.get(pk=loose.pk).problem_id == bath.pk

    # 4. accept a proposed group (computed ahead by the worker: grouping/proposals.py); the
    # desk says the new problem's number and leads to its assign form
    from zhenggai.grouping.proposals import refresh

    refresh(s.campaign)
    clerk.goto(live_server.url + "/desk/")
    clerk.wait_for_selector("#proposals [data-proposal]")
    walk.shot(clerk, "desk-proposals")
    group = clerk.locator("#proposals [data-proposal]").filter(has_text="食堂").first
    group.locator("input[name=summary]").fill("食堂菜价太贵" if zh else "Canteen too dear")
    group.locator("button[name=action][value=accept]").click()
    clerk.wait_for_selector("#proposals .done")
    new = Problem.objects.order_by("-created_on", "-pk").exclude(
        pk__in=[bath.pk, canteen.pk]).filter(summary__in=["食堂菜价太贵", "Canteen too dear"]).get()
    assert f"#{new.pk}" in clerk.inner_text("#proposals .done")
    clerk.click("#proposals .done a")
    clerk.wait_for_url(re.compile(r"/problems/\d+/"))
    assert clerk.url.endswith(f"/problems/{new.pk}/#assign")
    assert clerk.locator("#assign").is_visible()
    walk.shot(clerk, "accepted-assign")
