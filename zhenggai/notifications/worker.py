"""`zhenggai worker`: the django-tasks database worker, and beside it a small scheduler
that enqueues the daily sweep once a day (SweepRun makes it once, even with two workers)
and books newly taken opinions into the figures every minute; every minute too it tells
the queued events (events.drain) and sends the mail and group-robot messages that are due
(channels.deliver_due), retrying failed ones with back-off; and it starts the computing of
the summarising desk's proposals of the campaigns with new opinions (grouping/proposals.py)
in a thread of its own, so that a long grouping never delays a tick."""

from __future__ import annotations

import logging
import threading
import time

from django.core.management import call_command
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.utils import timezone

from zhenggai.figures.ledger import book_pending
from zhenggai.grouping.proposals import due, refresh_due
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


# One refresh at a time in this process (a second would find nothing new).
_refreshing = threading.Lock()


def _refresh() -> None:
    try:
        refresh_due()
    except Exception:
        log.exception("computing the desk's proposals failed")
    finally:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()  # the thread's own connection, which nobody else closes
        _refreshing.release()


def propose(wait: bool = False) -> bool:
    """Compute the desk's proposals (grouping/proposals.py) of the campaigns with new
    opinions, in a thread of this process: grouping a large campaign takes up to a minute,
    and the tick must tell and send on time. Not a db job: its row would keep, to the
    microsecond, the minute after each arrival of new opinions, which beside the day's
    order of opinions would date an anonymous one. Not while one runs. `wait`: in this
    thread (`worker --once`). True if started; a failure is logged, never fatal."""
    try:
        if not due() or not _refreshing.acquire(blocking=False):
            return False
    except Exception:
        log.exception("looking for new opinions to propose failed")
        return False
    if wait:
        _refresh()
    else:
        threading.Thread(target=_refresh, name="proposals", daemon=True).start()
    return True


def run(once: bool = False, every: float = 60.0) -> None:
    if once:
        mark_day()
        requeue_abandoned()
        tell_and_send()
        enqueue_today()
        embed_pending(limit=64)  # a few seconds at most: the tick also tells and sends
        propose(wait=True)
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
