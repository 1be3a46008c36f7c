"""Regrouping acts (grouping/moves.py): a move and a split are each all or nothing."""

import pytest

from tests import factories as f
from tests.helpers import snapshot, when
from zhenggai.errors import InvalidInput
from zhenggai.grouping import moves
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions
from zhenggai.problems.models import Problem


@pytest.fixture
def ops(story):
    return [f.opinion(story.campaign, t).opinion
            for t in ("8号炉漏水严重", "八號爐漏水嚴重", "8号炉维修太慢", "炉子又漏水了")]


def test_a_move_refused_after_its_first_event_keeps_none(story, ops):
    """The opinion leaves its problem (an event), then joining the target is refused (the
    target's last event is later than the move's day): the first event is not kept."""
    leak = actions.create_problem(story.campaign, ops[:2], actor=story.clerk, summary="漏水",
                                  at=when(0))
    slow = actions.create_problem(story.campaign, ops[2:3], actor=story.clerk, summary="维修",
                                  at=when(5))
    before = snapshot(story.org.pk)
    moving = list(Opinion.objects.filter(pk__in=[ops[1].pk, ops[3].pk]))
    with pytest.raises(InvalidInput):
        moves.move_opinions(moving, slow, actor=story.clerk, at=when(2))
    assert snapshot(story.org.pk) == before
    assert Opinion.objects.get(pk=ops[1].pk).problem_id == leak.pk
    # Opinions already in the target stay; an empty move is refused.
    assert moves.move_opinions([Opinion.objects.get(pk=ops[2].pk)], slow,
                               actor=story.clerk) == slow
    with pytest.raises(InvalidInput):
        moves.move_opinions([], slow, actor=story.clerk)
    assert snapshot(story.org.pk) == before


def test_a_move_takes_only_opinions_of_the_target_s_campaign(story, ops):
    slow = actions.create_problem(story.campaign, ops[2:3], actor=story.clerk, summary="维修")
    other = f.opinion(f.campaign(story.org, "另一个运动"), "别的意见").opinion
    before = snapshot(story.org.pk)
    with pytest.raises(InvalidInput):
        moves.move_opinions([Opinion.objects.get(pk=ops[3].pk), other], slow, actor=story.clerk)
    assert snapshot(story.org.pk) == before


def test_a_split_refused_on_its_second_problem_keeps_none(story, ops):
    before = snapshot(story.org.pk)
    with pytest.raises(InvalidInput):  # the rest's summary is blank
        moves.split_group(story.campaign, ops, [ops[0].pk], actor=story.clerk,
                          summary="漏水", summary_rest="   ")
    with pytest.raises(InvalidInput):  # a chosen opinion outside the group
        moves.split_group(story.campaign, ops[:2], [ops[0].pk, ops[3].pk], actor=story.clerk,
                          summary="漏水")
    assert snapshot(story.org.pk) == before and not Problem.objects.exists()
    first, second = moves.split_group(story.campaign, ops, [ops[0].pk], actor=story.clerk,
                                      summary="漏水")
    assert first.n_opinions == 1 and second.n_opinions == 3 and second.summary == "漏水"
