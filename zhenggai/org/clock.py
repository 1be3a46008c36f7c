"""The organisation's clock (domain.md): "today" is real time, or a fixed day for a demo or a
training copy (`Organisation.clock_day`, edited in the admin).

Every page, figure, deadline, schedule, export and API call of an organisation asks this
module for its day. Only the recording time of an event (`recorded_at`) stays real time.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def fixed_day(org) -> dt.date | None:
    """The organisation's fixed day, or None for real time. `org`: an Organisation, its id,
    or None (no organisation: real time)."""
    if org is None:
        return None
    if isinstance(org, int):
        from .models import Organisation

        return (Organisation.objects.filter(pk=org).values_list("clock_day", flat=True)
                .first())
    return org.clock_day


def today(org) -> dt.date:
    """The organisation's today."""
    return fixed_day(org) or timezone.localdate()


def now(org) -> dt.datetime:
    """The organisation's now: real time, or the fixed day at the real time of day."""
    real = timezone.localtime()
    day = fixed_day(org)
    if day is None:
        return real
    return real.replace(year=day.year, month=day.month, day=day.day)


def now_of_day(day: dt.date) -> dt.datetime:
    """`now` on a known fixed day (or real time when `day` is None), without a query."""
    real = timezone.localtime()
    return real if day is None else real.replace(year=day.year, month=day.month, day=day.day)
