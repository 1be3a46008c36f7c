"""Figures recomputed straight from the ledger, by their definitions in domain.md.

This is the slow, obvious way: fold every event up to the day into each problem's state,
then count. It shares nothing with the buckets but the fold itself (problems.state.apply),
so comparing the two (`zhenggai figures --verify`) audits the fast figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from zhenggai.opinions.models import Opinion
from zhenggai.problems import lifecycle
from zhenggai.problems.models import Event
from zhenggai.problems.state import ProblemState, apply

from .counters import COUNTERS, DIMS, INDEX, TOTAL, N
from .ledger import flows_of


def _keys(campaign, unit, category, owner) -> dict[int, int]:
    return {TOTAL: 0, DIMS["campaign"]: campaign, DIMS["unit"]: unit or 0,
            DIMS["category"]: category or 0, DIMS["owner"]: owner or 0}


def recompute(org_id: int, day: dt.date) -> dict[int, dict[int, list[int]]]:
    """{dim: {gkey: counters}} as of the end of `day`, like queries.sums for every dim."""
    out: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * N))

    def add(keys: dict[int, int], counter: str, v: int = 1) -> None:
        for dim, gkey in keys.items():
            out[dim][gkey][INDEX[counter]] += v

    states: dict[int, ProblemState] = {}
    events = (Event.objects.filter(problem__org_id=org_id, day__lte=day)
              .order_by("problem_id", "seq").iterator(chunk_size=5000))
    for e in events:
        before = states.get(e.problem_id, ProblemState())
        after = apply(before, e)
        states[e.problem_id] = after
        keys = _keys(after.campaign, after.unit, after.category, after.owner)
        for f, v in flows_of(e.kind, before, after, e.data):
            add(keys, f, v)

    grouped: dict[int, dict[int, int]] = {}
    for s in states.values():
        keys = _keys(s.campaign, s.unit, s.category, s.owner)
        add(keys, "problems")
        add(keys, f"st_{s.state}")
        if s.state in lifecycle.UNRESOLVED:
            add(keys, "unresolved")
            if s.first_raised:
                add(keys, "age_sum", s.first_raised.toordinal())
        if s.state in lifecycle.UNCLAIMED and s.deadline is not None and s.deadline < day:
            add(keys, "overdue")
        for oid in s.opinions:
            grouped[oid] = keys
        if s.state in lifecycle.CLAIMED_RESOLVED:
            add(keys, "opinions_claimed", s.n_opinions)
        if s.state in lifecycle.VERIFIED_RESOLVED:
            add(keys, "opinions_verified", s.n_opinions)

    ops = Opinion.objects.filter(org_id=org_id, received_on__lte=day).values_list(
        "id", "anonymous", "campaign_id", "unit_id", "category_id")
    for oid, anon, campaign, unit, category in ops.iterator(chunk_size=5000):
        keys = grouped.get(oid) or _keys(campaign, unit, category, None)
        add(keys, "opinions")
        if anon:
            add(keys, "anonymous_opinions")
    return {dim: {k: v for k, v in rows.items() if any(v)} for dim, rows in out.items()}


def differences(org_id: int, day: dt.date) -> list[str]:
    """Where the stored figures disagree with the recomputation; empty when they agree."""
    from .queries import sums

    expected = recompute(org_id, day)
    problems = []
    for dim in [TOTAL, *DIMS.values()]:
        stored = {k: v for k, v in sums(org_id, day, dim).items() if any(v)}
        want = expected.get(dim, {})
        for gkey in sorted(set(stored) | set(want)):
            a, b = stored.get(gkey, [0] * N), want.get(gkey, [0] * N)
            for i, name in enumerate(COUNTERS):
                if a[i] != b[i]:
                    problems.append(
                        f"as of {day}, dim {dim} key {gkey}: {name} "
                        f"stored {a[i]}, events say {b[i]}"
                    )
    return problems
