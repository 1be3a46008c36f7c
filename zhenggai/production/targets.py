"""Targets: progress, the rate still needed, and a forecast with its uncertainty (M14).

The forecast takes the median of the recent weeks' run rate (good tons per working
furnace-day) over the furnace-days left (net of planned repairs). It reads complete days
only: on the organisation's today, whose heats are still coming in, it starts from the end
of yesterday (one early heat must not pass for a whole day's work). The band comes from
resampling those weeks; the probability of meeting the target is the share of resampled
years that reach it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import NotFound

from .models import Furnace, Heat, PlantDay, Repair, Target

RECENT_WEEKS = 8
SIMULATIONS = 4000
SEED = 1958


@dataclass
class Progress:
    year: int
    day: dt.date
    goal_t: float
    plan_t: float
    increase_t: float
    done_t: float
    remaining_t: float
    remaining_furnace_days: int
    needed_per_furnace_day: float | None
    run_rate: float | None  # recent median, t per working furnace-day
    forecast_t: float | None
    p10_t: float | None
    p90_t: float | None
    probability: float | None
    weeks: list  # [(week end, rate)] the forecast is based on
    complete_through: dt.date | None = None  # the last complete day the forecast reads

    @property
    def share_done(self) -> float:
        return self.done_t / self.goal_t if self.goal_t else 0.0


def working_days(furnaces, start: dt.date, end: dt.date) -> np.ndarray:
    """For each day from start to end, how many furnaces can make steel (not in repair)."""
    n = (end - start).days + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    counts = np.full(n, len(furnaces), dtype=np.int64)
    for r in Repair.objects.filter(furnace__in=furnaces, ends__gte=start, starts__lte=end):
        lo = max((r.starts - start).days, 0)
        hi = min((r.ends - start).days, n - 1)
        counts[lo:hi + 1] -= 1
    return np.maximum(counts, 0)


def daily_tons(furnaces, start: dt.date, end: dt.date, org_id: int | None = None) -> np.ndarray:
    """Verified good tons per day; for the whole plant (org_id given) from its day ledger."""
    n = (end - start).days + 1
    out = np.zeros(max(n, 0))
    if org_id is not None:
        rows = PlantDay.objects.filter(org_id=org_id, day__gte=start, day__lte=end) \
            .values_list("day", "good_tons")
    else:
        rows = (Heat.objects.filter(furnace__in=furnaces, status=Heat.Status.VERIFIED,
                                    day__gte=start, day__lte=end)
                .values("day").annotate(t=Sum("good_tons")).order_by().values_list("day", "t"))
    for day, tons in rows:
        out[(day - start).days] = tons
    return out


def weekly_rates(furnaces, day: dt.date, weeks: int = RECENT_WEEKS, org_id: int | None = None):
    """Good tons per working furnace-day in each of the last full weeks up to `day`."""
    start = day - dt.timedelta(days=7 * weeks - 1)
    tons = daily_tons(furnaces, start, day, org_id)
    work = working_days(furnaces, start, day)
    out = []
    for w in range(weeks):
        sl = slice(7 * w, 7 * w + 7)
        if work[sl].sum() > 0 and tons[sl].sum() > 0:
            rate = float(tons[sl].sum() / work[sl].sum())
            out.append((start + dt.timedelta(days=7 * w + 6), rate))
    return out


def forecast(done: float, rates: list[float], remaining_work: np.ndarray,
             sims: int = SIMULATIONS, seed: int = SEED):
    """The point forecast runs the rest of the year at the median of the recent weekly rates.
    The band asks how sure that median is: resample the recent weeks with replacement, take
    each resample's median, and run the year out at it. Returns (point, p10, p90, totals)."""
    if not rates:
        return None, None, None, None
    rates_a = np.asarray(rates, dtype=float)
    work = float(np.asarray(remaining_work).sum())
    point = done + float(np.median(rates_a)) * work
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(rates_a, size=(sims, len(rates_a)), replace=True), axis=1)
    totals = done + medians * work
    return point, float(np.percentile(totals, 10)), float(np.percentile(totals, 90)), totals


def last_complete_day(org_id: int, day: dt.date) -> dt.date:
    """The last complete day up to `day`: the day before, when `day` is the organisation's
    today (or later); else `day` itself."""
    from zhenggai.org import clock

    return day - dt.timedelta(days=1) if day >= clock.today(org_id) else day


def progress(org_id: int, day: dt.date, furnace: Furnace | None = None) -> Progress:
    target = Target.objects.filter(org_id=org_id, year=day.year,
                                   furnace=furnace).first()
    if target is None:
        raise NotFound(_("No target is set for %(y)s."), y=day.year)
    furnaces = [furnace] if furnace else list(Furnace.objects.filter(org_id=org_id))
    jan1 = dt.date(day.year, 1, 1)
    plant = None if furnace else org_id
    tons = daily_tons(furnaces, jan1, day, plant)
    done = float(tons.sum())
    rest = working_days(furnaces, day + dt.timedelta(days=1), dt.date(day.year, 12, 31))
    remaining_days = int(rest.sum())
    remaining = max(target.goal_t - done, 0.0)
    # The forecast: complete days only, then the rest of the year from the first one that
    # is not (today's heats so far are not a day's rate).
    complete = last_complete_day(org_id, day)
    weeks = weekly_rates(furnaces, complete, org_id=plant)
    done_complete = float(tons[:max((complete - jan1).days + 1, 0)].sum())
    rest_forecast = working_days(furnaces, complete + dt.timedelta(days=1),
                                 dt.date(day.year, 12, 31))
    point, p10, p90, totals = forecast(done_complete, [r for _, r in weeks], rest_forecast)
    return Progress(
        year=day.year, day=day, goal_t=target.goal_t, plan_t=target.plan_t,
        increase_t=target.increase_t, done_t=round(done, 1), remaining_t=round(remaining, 1),
        remaining_furnace_days=remaining_days,
        needed_per_furnace_day=round(remaining / remaining_days, 2) if remaining_days else None,
        run_rate=round(float(np.median([r for _, r in weeks])), 2) if weeks else None,
        forecast_t=round(point, 1) if point is not None else None,
        p10_t=round(p10, 1) if p10 is not None else None,
        p90_t=round(p90, 1) if p90 is not None else None,
        probability=round(float((totals >= target.goal_t).mean()), 3)
        if totals is not None else None,
        weeks=weeks, complete_through=complete,
    )
