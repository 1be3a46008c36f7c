"""Figure buckets: the event log's deltas, summed per day, month and year.

Each event adds its deltas (a problem entering a state, a claim made, a claim found false)
to the buckets of its split keys: the prefix sums in two levels of its month's days and its
year's months, and its year (figures.ledger). A figure as of day D is then the sum of the
whole years before D's year and at most two month and two day buckets: a few rows per key,
however long the history. Buckets are only ever incremented, in the transaction that writes
the event; a newly taken opinion is queued (`UnbookedOpinion`), booked by the worker and,
until then, added in memory by every figure read.
`zhenggai figures --verify` recomputes them from the events and the opinions.
"""

from django.db import models

from zhenggai.opinions.models import KeyField

from .counters import COUNTERS, WIDE


class FigureBucket(models.Model):
    org = models.BigIntegerField()
    dim = models.SmallIntegerField()  # see counters.DIMS
    gkey = models.BigIntegerField()  # id of the campaign/unit/category/owner; 0: none
    grain = models.CharField(max_length=1)  # d, w (days), m, q (months), y: see ledger
    period = models.DateField()  # first day of the bucket

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "dim", "grain", "period", "gkey"],
                                    name="figure_bucket_key"),
        ]


# One integer column per counter, declared from the single list in counters.py.
for _name in COUNTERS:
    FigureBucket.add_to_class(
        _name, (models.BigIntegerField if _name in WIDE else models.IntegerField)(default=0))


class UnbookedOpinion(models.Model):
    """An opinion taken in whose count is not in the buckets yet.

    Intake writes this row instead of the buckets, and `ledger.book_pending` (the worker)
    moves such opinions into the buckets in batches. A figure read adds the ones still here
    in memory (`ledger.Queued`), so figures stay exact and reads write nothing. Why not book
    at intake: every opinion of a day adds to the same fifteen bucket
    rows, so on PostgreSQL concurrent intakes queued on those rows' locks."""

    opinion_id = KeyField(primary_key=True)  # on SQLite the rowid: no order of arrival
