"""`zhenggai worker`: the django-tasks database worker, and beside it a small scheduler
that enqueues the daily sweep once a day (SweepRun makes it once, even with two workers)
and books newly taken opinions into the figures every minute; every minute too it tells
the queued events (events.drain) and sends the mail and group-robot messages that are due
(channels.deliver_due), retrying failed ones with back-off; and it enqueues the computing of
the summarising desk's proposals of the campaigns with new opinions (grouping/tasks.py), a job
the db worker runs beside the sweep, so that a long grouping never delays a tick."""

from __future__ import annotations

import logging
import threading
import time

from django.core.management import call_command
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from zhenggai.figures.ledger import book_pending
from zhenggai.grouping.proposals import due
from zhenggai.grouping.tasks import refresh_proposals
from zhenggai.grouping.vectors import embed_pending
from zhenggai.opinions.shuffle import mark_day

from .events import drain
from .models import SweepRun
from .recovery import requeue_abandoned
from .tasks import daily_sweep

log = logging.getLogger(__name__)


def enqueue_today() -> bool:
    """Enqueue today's sweep unless it was (once a real day); True if this call did. The
    sweep runs each organisation's schedules on the organisation's own today (its clock)."""
    today = timezone.localdate()
    try:
        with transaction.atomic():
            SweepRun.objects.create(day=today)
            daily_sweep.enqueue()
    except IntegrityError:
        return False
    return True


def _scheduler(stop: threading.Event, every: float) -> None:
    while not stop.is_set():
        mark_day()  # where today begins, for the nightly shuffle (opinions/shuffle.py)
        requeue_abandoned()  # jobs of a worker that was killed
        enqueue_today()
        # The only booker of new opinions: figure reads add the queue in memory, and a
        # short queue keeps them fast.
        book_pending()
        tell_and_send()
        # Sentence vectors of new opinions, after their commit (grouping/vectors.py).
        embed_pending(limit=64)  # a few seconds at most: the tick also tells and sends
        propose()
        close_old_connections()
        stop.wait(every)


def tell_and_send() -> int:
    """Tell the queued events and send what is due; a failure is logged, never fatal."""
    from zhenggai.org import clock
    from zhenggai.org.models import Organisation

    from .events import review_rounds

    try:
        told = drain()
        # A review round that starts today is told to its representatives within the minute.
        for org in Organisation.objects.order_by("pk"):
            told += review_rounds(clock.today(org), org.pk)
        return told
    except Exception:
        log.exception("telling the queued events failed")
        return 0


def propose() -> bool:
    """Enqueue the computing of the desk's proposals (grouping/proposals.py) for the
    campaigns with new opinions, as a job of its own that the db worker runs: grouping a
    large campaign takes up to a minute, and the tick must tell and send on time. Not while
    one such job waits or runs (a second would find nothing new). True if enqueued; a
    failure is logged, never fatal."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    try:
        if not due():
            return False
        if DBTaskResult.objects.filter(
                task_path=refresh_proposals.module_path,
                status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).exists():
            return False
        refresh_proposals.enqueue()
        return True
    except Exception:
        log.exception("enqueueing the desk's proposals failed")
        return False


def run(once: bool = False, every: float = 60.0) -> None:
    if once:
        mark_day()
        requeue_abandoned()
        tell_and_send()
        enqueue_today()
        embed_pending(limit=64)  # a few seconds at most: the tick also tells and sends
        propose()
        call_command("db_worker", "--batch", "--no-startup-delay")
        tell_and_send()
        return
    stop = threading.Event()
    t = threading.Thread(target=_scheduler, args=(stop, every), daemon=True)
    t.start()
    try:
        call_command("db_worker")
    finally:
        stop.set()
        time.sleep(0)
