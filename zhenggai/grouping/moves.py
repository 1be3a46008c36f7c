"""The clerk's regrouping acts: moving opinions into another problem, and splitting a
proposed group in two. Each is one act, all or nothing, for the grouping page and the API
alike.

An act is events on every problem it touches, taken by the problems' own actions (an
opinion leaves a problem by `remove_opinion` and joins one by `add_opinions`; a split
creates two problems), in one transaction: if any of them is refused, none is kept."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import InvalidInput
from zhenggai.problems import actions
from zhenggai.problems.models import Problem


def _in_campaign(opinions, campaign_id: int) -> list:
    opinions = list(opinions)
    if len({o.pk for o in opinions}) != len(opinions):
        raise InvalidInput(_("The same opinion is listed twice."))
    for o in opinions:
        if o.campaign_id != campaign_id:
            raise InvalidInput(_("Opinion %(id)s is not in this campaign."), id=o.pk)
    return opinions


@transaction.atomic
def move_opinions(opinions, to: Problem, *, actor, at=None,
                  expected_version: int | None = None) -> Problem:
    """Move opinions of `to`'s campaign into problem `to`, each out of the problem it is in
    (if any); the ones already in `to` stay. `expected_version`: the version of `to` the
    caller read (a Conflict if it changed meanwhile)."""
    opinions = _in_campaign(opinions, to.campaign_id)
    if not opinions:
        raise InvalidInput(_("Choose an opinion and a problem."))
    moving = [o for o in opinions if o.problem_id != to.pk]
    if not moving:
        return to
    for o in moving:
        if o.problem_id is not None:
            actions.remove_opinion(o, actor=actor, at=at)
    return actions.add_opinions(to, moving, actor=actor, at=at,
                                expected_version=expected_version)


@transaction.atomic
def split_group(campaign, group, chosen, *, actor, summary: str, summary_rest: str = "",
                at=None) -> tuple[Problem, Problem]:
    """Summarise a proposed group of opinions as two problems: the `chosen` ones (ids, of
    the group) and the rest (under `summary_rest`, or `summary` if it is empty)."""
    group = _in_campaign(group, campaign.pk)
    chosen = set(chosen)
    part = [o for o in group if o.pk in chosen]
    rest = [o for o in group if o.pk not in chosen]
    if not part or not rest or len(part) != len(chosen):
        raise InvalidInput(_("Choose some, but not all, opinions of the group."))
    first = actions.create_problem(campaign, part, actor=actor, summary=summary, at=at)
    second = actions.create_problem(campaign, rest, actor=actor,
                                    summary=summary_rest or summary, at=at)
    return first, second
