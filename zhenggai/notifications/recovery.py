"""Jobs whose worker died: django-tasks-db marks a job RUNNING when a worker claims it (a
row lock, ``SELECT … FOR UPDATE SKIP LOCKED``, so two workers never claim the same one) and
nothing brings it back if that worker is killed. A job RUNNING for longer than the lease
goes back to READY, by a conditional update, so exactly one worker takes it again. Every
scheduled effect is keyed (schedules.py), so running a job again does nothing twice.

The lease (``ZHENGGAI_TASK_LEASE_S``, default an hour) must be longer than the longest job:
a job still running when its lease ends would run twice at once, which the keys make
harmless but wasteful.
"""

from __future__ import annotations

import datetime as dt
import os

from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=float(os.environ.get("ZHENGGAI_TASK_LEASE_S", "3600")))


def requeue_abandoned(now: dt.datetime | None = None) -> int:
    """Put jobs RUNNING for longer than the lease back in the queue; how many."""
    cutoff = (now or timezone.now()) - lease()
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=cutoff,
    ).update(status=TaskResultStatus.READY, started_at=None)
