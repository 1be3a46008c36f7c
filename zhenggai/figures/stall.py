"""M5: when a campaign, or one unit of it, has stalled ("single-minded" leadership moved on
after the first 85%). One definition, read from the figures (so any past day works), used
by the leader's page and by the daily sweep that warns the leaders.

Stalled, over the last `STALL_DAYS` days, means either
- claims pile up and nobody verifies them: claims were waiting for verification at the
  start of those days and are now, and in those days fewer claims were checked (first
  verifications and claims found false) than `CHECK_SHARE` of those waiting (at that pace
  the waiting claims would take more than eight weeks to check); or
- nothing moves at all: problems are unresolved, then and now, and in those days no claim
  was made and none checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .counters import COUNTERS
from .queries import sums

STALL_DAYS = 14
CHECK_SHARE = 0.25  # checks in the window, against the claims waiting for verification

VERIFICATION = "verification"  # claims pile up, nobody verifies
STANDSTILL = "standstill"  # nothing moves


@dataclass(frozen=True)
class Stall:
    reason: str  # VERIFICATION or STANDSTILL
    waiting: int  # claims waiting for verification on the day
    waiting_before: int  # … STALL_DAYS days before
    checked: int  # claims checked in the window
    claimed: int  # claims made in the window
    unresolved: int
    days: int = STALL_DAYS


def named(vec: list[int] | None) -> dict[str, int]:
    return dict(zip(COUNTERS, vec or [0] * len(COUNTERS), strict=True))


def checked(c: dict[str, int]) -> int:
    """Claims checked up to the day: first verifications and claims found false."""
    return c.get("ever_verified", 0) + c.get("false_figures", 0)


def stall_of(now: dict[str, int], before: dict[str, int], days: int = STALL_DAYS) -> Stall | None:
    """The stall these counters show (as of the day, and `days` days before), or None."""
    waiting, waiting_before = now.get("st_claimed", 0), before.get("st_claimed", 0)
    n_checked = checked(now) - checked(before)
    n_claimed = now.get("claims", 0) - before.get("claims", 0)
    unresolved = now.get("unresolved", 0)
    out = dict(waiting=waiting, waiting_before=waiting_before, checked=n_checked,
               claimed=n_claimed, unresolved=unresolved, days=days)
    if waiting > 0 and waiting_before > 0 and n_checked < CHECK_SHARE * waiting:
        return Stall(VERIFICATION, **out)
    if unresolved > 0 and before.get("unresolved", 0) > 0 and n_claimed <= 0 \
            and n_checked <= 0:
        return Stall(STANDSTILL, **out)
    return None


def campaign_stall(org_id: int, day: dt.date, days: int = STALL_DAYS,
                   now: dict[int, list[int]] | None = None) -> Stall | None:
    """The whole organisation's stall on `day`, or None. `now`: the raw sums of a split as
    of `day`, if the caller has read one (every delta is booked on every dimension, key 0
    for none, so a split's rows add up to the whole organisation's)."""
    total = named([sum(c) for c in zip(*now.values(), strict=True)] if now
                  else sums(org_id, day).get(0))
    before = named(sums(org_id, day - dt.timedelta(days=days)).get(0))
    return stall_of(total, before, days)
