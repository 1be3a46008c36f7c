"""Background work of grouping (django-tasks, run by `zhenggai worker`'s db_worker)."""

from django_tasks import task

from . import proposals


@task()
def refresh_proposals() -> int:
    """The desk's proposals of every campaign with new opinions (proposals.refresh_due), as
    a job of its own: grouping a large campaign takes seconds to a minute, which must not
    hold up the scheduler's minute of notifications. Returns how many campaigns."""
    return proposals.refresh_due()
