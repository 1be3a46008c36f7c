"""Drift: a stored problem row that its events do not support.

The pages, the API and the ledger read the `Problem` row, the projection of its events.
Nothing in the application writes that row except an action, which folds the new event in the
same transaction; a row that differs from the fold of its events was changed behind the
actions' back (a raw UPDATE, an admin with a database shell). `zhenggai figures --verify`
and the worker's daily sweep both run `drift` and report every difference.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from .actions import row_fields
from .models import Event, Problem
from .state import ProblemState, apply

log = logging.getLogger("zhenggai.audit")

# What the fold decides; `updated_at` is the time of the last write, not a fold of events.
_FIELDS = None


def _fields() -> list[str]:
    global _FIELDS
    if _FIELDS is None:
        _FIELDS = sorted(row_fields(ProblemState()))
    return _FIELDS


def drift(org_id: int | None = None, chunk: int = 2000) -> list[str]:
    """One line per field of a problem row that differs from the fold of its events, and per
    problem without events. Reads every event once, a chunk of problems at a time."""
    fields = _fields()
    problems = Problem.objects.order_by("pk")
    if org_id is not None:
        problems = problems.filter(org_id=org_id)
    out: list[str] = []
    last = 0
    while True:
        rows = list(problems.filter(pk__gt=last).values("pk", *fields)[:chunk])
        if not rows:
            return out
        last = rows[-1]["pk"]
        events = defaultdict(list)
        for e in (Event.objects.filter(problem_id__in=[r["pk"] for r in rows])
                  .order_by("problem_id", "seq")):
            events[e.problem_id].append(e)
        for row in rows:
            evs = events.get(row["pk"], [])
            if not evs:
                out.append(f"problem {row['pk']}: no events")
                continue
            s = ProblemState()
            for e in evs:
                s = apply(s, e)
            folded = row_fields(s)
            for f in fields:
                if row[f] != folded[f]:
                    out.append(f"problem {row['pk']}: {f} is {row[f]!r} in the row, "
                               f"{folded[f]!r} by its events")


def report_drift() -> int:
    """For the daily sweep: log every difference as an error (the error log and stderr) and
    return how many there are."""
    found = drift()
    for line in found[:200]:
        log.error("The stored problems disagree with their events: %s", line)
    if len(found) > 200:
        log.error("…and %s more differences.", len(found) - 200)
    return len(found)
