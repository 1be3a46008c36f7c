"""The pages cost a fixed number of SQL queries, however many opinions, problems, claims,
events and posters are behind them: each is read with some rows and again with three times
as many (flat_queries in tests/conftest.py)."""

import io
import itertools

import pytest
from PIL import Image

from tests import factories as f
from tests.helpers import bring_to, one_more_round, when
from zhenggai.problems import actions as problem_actions
from zhenggai.problems import lifecycle

# Every state of the lifecycle, a proposed decline among them (the leader decides it).
STATES = (lifecycle.OPEN, lifecycle.ASSIGNED, lifecycle.CLAIMED, lifecycle.REOPENED,
          lifecycle.VERIFIED, lifecycle.CLOSED, lifecycle.DECLINED)


@pytest.fixture
def grow(story):
    """grow(n): n more of everything the pages list, all through the real actions: a problem
    in each state with worker2's opinion, a proposed decline, a poster, a follow-up, and
    opinions nobody has summarised yet (named and anonymous)."""
    days = itertools.count(41)

    def more(n: int):
        for _ in range(n):
            made = [bring_to(story, state) for state in STATES]
            assigned, claimed = made[1], made[2]
            problem_actions.propose_decline(assigned, actor=story.clerk, reason="超出权限",
                                            at=when(next(days)))
            problem_actions.post_poster(claimed, actor=story.worker2, text="请迅速整改！",
                                        at=when(next(days)))
            problem_actions.record_followup(claimed.opinions.first(), actor=story.clerk,
                                            channel="conversation", outcome="satisfied",
                                            at=when(next(days)))
            f.opinion(story.campaign, "食堂饭菜太贵", author=story.worker2)
            f.opinion(story.campaign, "宿舍漏雨")
    return more


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def page(client, url: str):
    def read():
        r = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert r.status_code == 200, url
    return read


def test_the_proposers_own_cases(story, as_member, grow, flat_queries):
    flat_queries(page(as_member(story.worker2), "/mine/"), grow)


def test_the_summarising_desk(story, as_member, grow, flat_queries):
    flat_queries(page(as_member(story.clerk), "/desk/"), grow)


def test_the_owners_problems(story, as_member, grow, flat_queries):
    flat_queries(page(as_member(story.owner), "/owner/"), grow)


def test_the_verification_queue(story, as_member, grow, flat_queries):
    flat_queries(page(as_member(story.rep2), "/verify/"), grow)


def test_the_leader_board(story, as_member, grow, flat_queries):
    flat_queries(page(as_member(story.leader), "/leader/"), grow)


def test_the_public_board(story, as_member, grow, flat_queries):
    flat_queries(page(as_member(story.worker), "/board/"), grow)


def test_a_problems_case_file(story, as_member, flat_queries):
    """One problem with ever more opinions, claims (with a photo), failed verifications,
    posters and follow-ups behind it."""
    p = bring_to(story, lifecycle.CLAIMED)
    days = itertools.count(41)

    def grow(n: int):
        for _ in range(n):
            one_more_round(story, p, days, photos=[_jpeg()])
            problem_actions.post_poster(p, actor=story.worker2, text="请迅速整改！",
                                        at=when(next(days)))
            problem_actions.record_followup(p.opinions.first(), actor=story.clerk,
                                            channel="conversation", outcome="satisfied",
                                            at=when(next(days)))
            p.refresh_from_db()

    for member in (story.clerk, story.owner, story.rep2, story.worker2):
        flat_queries(page(as_member(member), f"/problems/{p.pk}/"), grow, n=1)
