"""Background work on the database (django-tasks): `zhenggai worker` runs it."""

import datetime as dt

from django_tasks import task

from . import schedules


@task()
def daily_sweep(day: str | None = None) -> dict:
    return schedules.sweep(dt.date.fromisoformat(day) if day else None)
