"""The index log: one row per opinion to index, written in the opinion's own transaction.

Every process keeps its own in-memory engine per campaign and catches up by reading the
rows with ``seq`` above the last one it has seen. ``seq`` is an internal counter: it is never
shown, never leaves the server, and rows are pruned (``service.prune_log``) once every
process can rebuild from the opinions table, so that the log does not keep, for long, the
order in which anonymous opinions arrived.
"""
from django.db import models


class IndexLog(models.Model):
    seq = models.BigAutoField(primary_key=True)
    opinion_id = models.BigIntegerField()
    campaign_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["campaign_id", "seq"])]


class LogHorizon(models.Model):
    """A single row: log rows with ``seq <= pruned_to`` have been deleted."""
    pruned_to = models.BigIntegerField(default=0)


class OpinionVector(models.Model):
    """An opinion's sentence embedding, computed after commit by the worker (vectors.py).

    Keyed by the opinion's own (random) id, with no time of any kind: a row tells nothing
    about when its opinion arrived, and the nightly shuffle (opinions/shuffle.py) rewrites
    the day's rows, these too, in random order. ``vector`` is float16, little-endian."""

    opinion = models.OneToOneField("opinions.Opinion", primary_key=True,
                                   on_delete=models.CASCADE, related_name="vector")
    model = models.CharField(max_length=40)
    vector = models.BinaryField()
