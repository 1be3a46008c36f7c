"""The index log: one row per opinion to index, written in the opinion's own transaction.

Every process keeps its own in-memory engine per campaign and catches up by reading the
rows with ``seq`` above the last one it has seen. ``seq`` is an internal counter: it is never
shown, never leaves the server, and rows are pruned (``service.prune_log``) once every
process can rebuild from the opinions table, so that the log does not keep, for long, the
order in which anonymous opinions arrived.
"""
from django.db import connection, models


class IndexLog(models.Model):
    seq = models.BigAutoField(primary_key=True)
    opinion_id = models.BigIntegerField()
    campaign_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["campaign_id", "seq"])]

    @classmethod
    def append(cls, opinion_id: int, campaign_id: int) -> None:
        """Log one opinion, in the caller's transaction. A plain INSERT: every intake
        writes one, and the ORM's save would cost more than the rest of the row."""
        with connection.cursor() as cur:
            cur.execute(f"INSERT INTO {cls._meta.db_table} (opinion_id, campaign_id) "
                        "VALUES (%s, %s)", [opinion_id, campaign_id])


class LogHorizon(models.Model):
    """A single row: log rows with ``seq <= pruned_to`` have been deleted."""
    pruned_to = models.BigIntegerField(default=0)
