"""A notification arriving, in the real browser: a clerk assigns a problem on its page,
the worker runs once, the owner signs in and sees the unread count in the header and the
message on the notifications page; a worker follows a problem with its button."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.helpers import new_problem
from tests.web.test_browser import CHROMIUM, Walk, browser, pytestmark  # noqa: F401
from zhenggai.notifications.models import Follow, Notification

WORDS = {"en": {"assigned": "Made responsible", "follow": "Follow", "unfollow": "Unfollow"},
         "zh-hans": {"assigned": "已指定责任人", "follow": "关注", "unfollow": "取消关注"}}


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_an_assignment_reaches_its_owner(live_server, browser, story, tmp_path, lang):  # noqa: F811
    from zhenggai.cli import main

    walk = Walk(browser, live_server.url, lang, tmp_path)
    w = WORDS[lang]
    problem = new_problem(story, owner=False)  # open: nobody is responsible yet
    story.owner.language = lang  # messages are written in the member's language
    story.owner.save()

    clerk = walk.page(story.clerk)
    clerk.goto(f"{live_server.url}/problems/{problem.pk}/")
    clerk.select_option("select[name=owner]", str(story.owner.pk))
    clerk.fill("textarea[name=measures]", "装两台轴流风机")
    clerk.fill("input[name=deadline]", "2030-06-30")
    clerk.click("button[name=do][value=assign]")
    clerk.wait_for_selector(".done")
    assert not Notification.objects.filter(member=story.owner).exists()  # the worker tells

    r = CliRunner().invoke(main, ["worker", "--once"])
    assert r.exit_code == 0, r.output

    owner = walk.page(story.owner)
    badge = owner.locator("[data-testid=unread]")
    assert badge.inner_text().strip() == "1"
    walk.shot(owner, "unread-count")
    owner.click("a.notices")
    owner.wait_for_url(live_server.url + "/notifications/")
    body = owner.inner_text("main")
    assert w["assigned"] in body and "装两台轴流风机" in body and "2030-06-30" in body
    walk.shot(owner, "notifications")
    owner.click("main form button")  # mark all as read
    owner.wait_for_selector("[data-testid=unread]", state="detached")

    # A worker follows the problem from its page, and unfollows.
    worker = walk.page(story.worker)
    worker.goto(f"{live_server.url}/problems/{problem.pk}/")
    worker.click(f"main form.inline button:text-is('{w['follow']}')")
    worker.wait_for_selector(".done")
    assert Follow.objects.filter(member=story.worker, problem=problem).exists()
    walk.shot(worker, "problem-following")
    worker.click(f"main form.inline button:text-is('{w['unfollow']}')")
    worker.wait_for_selector(".done")
    assert not Follow.objects.filter(member=story.worker, problem=problem).exists()
