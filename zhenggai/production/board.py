"""Production figures for the situation boards (M13): progress to the year's target, the
forecast band, the latest records and the leaders of the last four weeks."""

from __future__ import annotations

import datetime as dt

from zhenggai.errors import NotFound

from . import competition, targets
from .models import Furnace, Record


def production_summary(org, day: dt.date) -> dict | None:
    """None when the organisation has no furnaces."""
    if not Furnace.objects.filter(org=org).exists():
        return None
    try:
        progress = targets.progress(org.pk, day)
    except NotFound:
        progress = None
    recent = (Record.objects.filter(org=org, day__lte=day).select_related("furnace", "heat")
              .order_by("-day", "-streak")[:6])
    leaders = competition.leaderboard(org.pk, day - dt.timedelta(days=27), day)[:3]
    return {"day": day, "progress": progress, "records": list(recent), "leaders": leaders,
            "chart": chart(progress)}


def chart(progress: targets.Progress | None) -> dict | None:
    """The weekly run rates against the rate still needed, for the vendored Chart.js."""
    if not progress or not progress.weeks:
        return None
    return {"labels": [str(d) for d, _ in progress.weeks],
            "rates": [round(r, 1) for _, r in progress.weeks],
            "needed": progress.needed_per_furnace_day}
