"""Bringing a problem into any state of the lifecycle, and taking every action on it."""

from __future__ import annotations

import datetime as dt
import inspect
import os
import shutil
from pathlib import Path

import pytest
from django.db import connection

from tests import factories as f
from zhenggai.figures.counters import COUNTERS
from zhenggai.figures.ledger import book_pending
from zhenggai.problems import actions as problem_actions
from zhenggai.problems import lifecycle
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import Event, Problem
from zhenggai.problems.registry import ACTIONS, Rule

DAY = dt.date(1957, 9, 1)


def when(n: int = 0):
    d = DAY + dt.timedelta(days=n)
    return f.at(d.year, d.month, d.day, 10)


def new_problem(s, *, owner=True, author=None):
    op = f.opinion(s.campaign, author=author or s.worker2).opinion
    return problem_actions.create_problem(
        s.campaign, [op], actor=s.clerk, summary="炉前温度太高", category=s.category,
        owner=s.owner if owner else None, unit=s.furnace if owner else None,
        deadline=dt.date(1957, 10, 1) if owner else None, at=when(0),
    )


def bring_to(s, state: str) -> Problem:
    """A problem in `state`, reached through the real actions. Its proposer is worker2."""
    if state == lifecycle.OPEN:
        return new_problem(s, owner=False)
    if state == lifecycle.DECLINED:
        p = new_problem(s, owner=False)
        problem_actions.decline(p, actor=s.leader, reason="不归本厂管", at=when(1))
        return Problem.objects.get(pk=p.pk)
    p = new_problem(s)
    if state == lifecycle.ASSIGNED:
        return p
    problem_actions.claim(p, actor=s.owner, done="装了风扇", at=when(2))
    if state == lifecycle.CLAIMED:
        return Problem.objects.get(pk=p.pk)
    if state == lifecycle.REOPENED:
        problem_actions.verify(p, actor=s.rep, passed=False, findings="还是热", at=when(3))
        return Problem.objects.get(pk=p.pk)
    problem_actions.verify(p, actor=s.rep, passed=True, at=when(3))
    if state == lifecycle.VERIFIED:
        return Problem.objects.get(pk=p.pk)
    # A consolidation check comes 30 days after verification, by another representative.
    problem_actions.consolidation_check(p, actor=s.rep2, holds=True, at=when(33))
    assert state == lifecycle.CLOSED
    return Problem.objects.get(pk=p.pk)


# Plausible input for each argument a domain action takes, by the argument's name (a
# callable: made afresh for each call). An action with a new argument needs one here.
def _sample(s, other_campaign) -> dict:
    return {
        "opinions": lambda: [f.opinion(s.campaign).opinion],
        "summary": "新问题", "owner": s.owner, "deadline": dt.date(1957, 12, 1),
        "done": "整改完了", "findings": "不彻底", "channel": "conversation",
        "outcome": "satisfied", "reason": "超出权限", "text": "请迅速整改！",
        "to": other_campaign,
    }


def one_more_round(s, p: Problem, days, *, photos=()) -> None:
    """One more opinion grouped into the claimed problem `p`, a failed verification and a
    new claim: a case file that grows (`days`: an iterator of day offsets for `when`)."""
    op = f.opinion(s.campaign, author=s.worker).opinion
    problem_actions.add_opinions(p, [op], actor=s.clerk, at=when(next(days)))
    problem_actions.verify(p, actor=s.rep, passed=False, findings="还是热", at=when(next(days)))
    problem_actions.claim(p, actor=s.owner, done="又装了风扇", photos=list(photos),
                          at=when(next(days)))


def take(action: str, s, p: Problem, actor, *, other_campaign=None):
    """Take `action` on `p` as `actor` through the domain call the registry names, with
    plausible input (after any consolidation period of bring_to's problems)."""
    a = ACTIONS[Kind(action)]
    if Rule.DECLINE_PENDING in a.rules:
        p.refresh_from_db()  # an earlier try may have left a proposal rolled back
        if not p.decline_requested:  # something to decide on first
            problem_actions.propose_decline(p, actor=s.clerk, reason="超出权限", at=when(9))
            p.refresh_from_db()
    fn = getattr(problem_actions, a.call.fn)
    target = {"campaign": lambda: s.campaign, "problem": lambda: p,
              "opinion": lambda: p.opinions.first()}[a.call.target]()
    params = inspect.signature(fn).parameters
    kwargs = {name: v() if callable(v) else v
              for name, v in _sample(s, other_campaign).items() if name in params}
    if "opinion" in params and a.call.target != "opinion":  # "me too": the actor's own new one
        kwargs["opinion"] = f.opinion(s.campaign, author=actor).opinion
    return fn(target, actor=actor, at=when(40), **a.call.fixed, **kwargs)


def snapshot(org_id: int) -> tuple:
    """Everything an action could write, to show that a refused one wrote nothing."""
    book_pending()  # the figures as any reader sees them
    with connection.cursor() as cur:
        cur.execute(
            "SELECT " + ", ".join(f"COALESCE(SUM({c}), 0)" for c in COUNTERS)
            + " FROM figures_figurebucket WHERE org = %s", [org_id])
        buckets = tuple(cur.fetchone())
    rows = tuple(Problem.objects.filter(org_id=org_id).order_by("pk").values_list(
        "pk", "state", "version", "owner_id", "n_opinions", "decline_requested"))
    return buckets, rows, Event.objects.filter(problem__org_id=org_id).count()


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def need_program(*names: str, package: str) -> str:
    """The path of a system program a test needs (the first of `names` found). Without it the
    test skips and says why, so the README's test command passes on a machine with only
    Python; under CI=true, where .ci/run installs it, it fails instead."""
    for name in names:
        found = shutil.which(name) or next(
            (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if Path(p).exists()), None)
        if found:
            return found
    why = f"{names[0]} is not installed (apt-get install {package}; .ci/run installs it)"
    if in_ci():
        pytest.fail(why)
    pytest.skip(why)
