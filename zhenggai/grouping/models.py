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


class ProposalRun(models.Model):
    """The worker's last computation of a campaign's proposals (proposals.refresh): the
    index log position it saw, and the progress figures it counted (opinions per unit,
    total and summarised), so that the desk reads them instead of counting a million rows.
    One row per campaign; no opinion's time or order is in it."""

    campaign = models.OneToOneField("campaigns.Campaign", on_delete=models.CASCADE,
                                    related_name="+", primary_key=True)
    log_seq = models.BigIntegerField(default=0)
    # {unit id or "0": [opinions, of them not yet summarised]} when counted
    units = models.JSONField(default=dict)
    made_at = models.DateTimeField(null=True)  # the day (midnight UTC) a run was last made


class Proposal(models.Model):
    """A group of a campaign's unsummarised opinions that the clerk may take whole.

    Computed ahead by the worker (proposals.refresh), read by the desk. ``state``: open,
    taken (into ``problem``), stale (its opinions were summarised some other way) or
    replaced (a later run proposes them differently). A clerk who sees an open proposal
    holds it for a few minutes (``held_by``, ``held_until``), so that two clerks never work
    on the same one; ``skips`` puts a skipped proposal behind the others."""

    OPEN, TAKEN, STALE, REPLACED = "open", "taken", "stale", "replaced"

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE,
                                 related_name="+", db_index=False)
    state = models.CharField(max_length=10, default=OPEN)
    size = models.IntegerField()
    opinions = models.JSONField()  # opinion ids, the lead first
    shared = models.JSONField(default=list)  # words the group shares, to highlight
    targets = models.JSONField(default=list)  # ids of existing problems most like it
    skips = models.IntegerField(default=0)
    held_by = models.ForeignKey("org.Member", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", db_index=False)
    held_until = models.DateTimeField(null=True, blank=True)
    problem = models.ForeignKey("problems.Problem", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["campaign", "state", "skips", "-size"],
                                name="proposal_queue"),
                   models.Index(fields=["held_by"], name="proposal_held_by")]
