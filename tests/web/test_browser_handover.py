"""A hand-over through the real pages, in Chromium, in Chinese and in English (issue 18): the
leader picks the member who leaves, sees how many problems will move, hands them to a
successor with the reason, and the successor finds them on their own page; the leader's
situation bulletin then shows on the board, as written."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.helpers import bring_to
from tests.web.test_browser import Walk, browser, pytestmark  # noqa: F401
from zhenggai.problems import lifecycle
from zhenggai.problems.models import Problem

WORDS = {
    "en": {"moves": "2 problems will move", "done": "2 problems of 张主任 handed over to 吴新来",
           "board": "The situation and the tasks"},
    "zh-hans": {"moves": "将移交 2 个问题", "done": "张主任的 2 个问题已移交给吴新来",
                "board": "形势和任务"},
}


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_a_leader_hands_over_and_the_successor_sees_the_problems(live_server, browser,  # noqa: F811
                                                                 story, tmp_path, lang):
    s = story
    w = WORDS[lang]
    walk = Walk(browser, live_server.url, lang, tmp_path)
    assigned, reopened = bring_to(s, lifecycle.ASSIGNED), bring_to(s, lifecycle.REOPENED)
    closed = bring_to(s, lifecycle.CLOSED)
    heir = f.member(s.org, "吴新来", s.furnace)  # no role yet: the hand-over makes them owner

    leader = walk.page(s.leader)
    leader.goto(live_server.url + "/leader/")
    leader.click("a[href^='/leader/handover/']")
    member = leader.locator("select[name=member] option", has_text="张主任")
    assert w["moves"] in member.inner_text()
    leader.select_option("select[name=member]", str(s.owner.pk))
    leader.select_option("select[name=to]", str(heir.pk))
    leader.fill("textarea[name=reason]", "张主任下放到车间劳动")
    walk.shot(leader, "handover")
    leader.click("#handover button")
    leader.wait_for_selector(".messages")
    assert w["done"] in leader.inner_text(".messages")
    walk.shot(leader, "handover-done")
    assert {p.owner_id for p in Problem.objects.filter(pk__in=[assigned.pk, reopened.pk])} \
        == {heir.pk}
    assert Problem.objects.get(pk=closed.pk).owner_id == s.owner.pk

    successor = walk.page(heir)
    successor.goto(live_server.url + "/owner/")
    text = successor.inner_text("main")
    assert successor.locator(f"a[href='/problems/{assigned.pk}/']").count() == 1
    assert successor.locator(f"a[href='/problems/{reopened.pk}/']").count() == 1
    assert "炉前温度太高" in text
    walk.shot(successor, "owner-after-handover")

    # The leader's word on the board, in the language it was written.
    leader.goto(live_server.url + "/leader/")
    leader.fill("#bl-text", "形势大好：整改要见实效" + lang)
    leader.select_option("#bl-lang", "zh-hans")
    leader.click("#bulletin-form button")
    leader.wait_for_selector(".messages")
    board = walk.page()
    board.goto(live_server.url + "/board/?kiosk=1")
    bulletin = board.locator(".bulletin")
    assert w["board"] in bulletin.inner_text()
    assert bulletin.locator("p[lang=zh-hans]").inner_text() == "形势大好：整改要见实效" + lang
    walk.shot(board, "board-bulletin")
