"""Opinions (意见): what a member, or an anonymous proposer, said, as they said it.

An opinion is a fact: staff never edit or delete it. The only column that changes is
`problem`, a projection of the problem events that group it and split it out again.
Anonymous opinions keep no member, no IP address and no time finer than the day, and their
ids are random, so that their order among named opinions cannot date them either.
"""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign
from zhenggai.org.models import Category, Member, Organisation, Unit


def random_id() -> int:
    return secrets.randbits(62) + 1


class KeyField(models.BigIntegerField):
    """A 64-bit primary key that on SQLite is the row's own rowid (INTEGER PRIMARY KEY):
    rows are stored in the order of their key, not in the order they were written, which a
    hidden rowid beside a "bigint" key would keep. With random keys, no order at all."""

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class Channel(models.TextChoices):
    WEB = "web", _("web form")
    PHONE = "phone", _("phone page")
    PAPER = "paper", _("paper form")
    IMPORT = "import", _("bulk import")
    API = "api", _("API")
    MEETING = "meeting", _("meeting")


class OpinionQuerySet(models.QuerySet):
    def delete(self):
        raise TypeError("Opinions are never deleted.")

    def waiting(self, campaign) -> "OpinionQuerySet":
        """The campaign's opinions waiting for a clerk: in no problem, and no anonymous
        "me too" waiting for its day's end to join its problem. NOT EXISTS, not a left
        join: PostgreSQL estimated the join's "IS NULL" at 50 rows of 10,000 and joined
        every waiting opinion's unit before it sorted a page of them."""
        gone = PendingMeToo.objects.filter(opinion_id=models.OuterRef("pk"))
        return self.filter(campaign=campaign, problem__isnull=True).filter(
            ~models.Exists(gone))


class Opinion(models.Model):
    id = KeyField(primary_key=True, default=random_id, editable=False)
    # Indexes are chosen for the queries that run (every index slows a million inserts):
    # by campaign and problem, by author, and the source reference of imports.
    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                            db_index=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="opinions",
                                 db_index=False)
    text = models.TextField(_("text"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    received_on = models.DateField(_("received on"))
    # Only for named opinions; anonymous ones are dated to the day.
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    author = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="opinions")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("unit concerned"), db_index=False)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", db_index=False)
    problem = models.ForeignKey("problems.Problem", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="opinions",
                                db_index=False)  # (problem) is covered by (problem, campaign)
    # Where a bulk import came from, so that importing the same row twice is a no-op.
    source_ref = models.CharField(max_length=200, blank=True)

    objects = OpinionQuerySet.as_manager()

    class Meta:
        verbose_name = _("opinion")
        indexes = [models.Index(fields=["campaign", "problem"]),
                   models.Index(fields=["problem", "campaign"]),
                   # The opinion list (/opinions/): by day, then by the random id.
                   models.Index(fields=["campaign", "received_on", "id"],
                                name="opinion_list_day"),
                   # …of a unit and the units under it.
                   models.Index(fields=["campaign", "unit", "received_on"],
                                name="opinion_list_unit"),
                   # The opinions waiting for a clerk (the desk's list, by id, and its
                   # progress, by unit): only they are in these, however many are grouped.
                   models.Index(fields=["campaign", "id"], name="opinion_waiting",
                                condition=models.Q(problem__isnull=True)),
                   models.Index(fields=["campaign", "unit"], name="opinion_waiting_unit",
                                condition=models.Q(problem__isnull=True))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(anonymous=False) | models.Q(author__isnull=True,
                                                               received_at__isnull=True),
                name="anonymous_opinion_untraceable",
            ),
            models.UniqueConstraint(fields=["org", "source_ref"],
                                    condition=~models.Q(source_ref=""),
                                    name="opinion_source_ref_unique"),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Opinions are never edited; group them through problem actions.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Opinions are never deleted.")


class Receipt(models.Model):
    """An anonymous proposer's key to their case. Only a slow hash of the code is kept.
    Its id is its opinion's (random), so that no counter orders receipts."""

    id = KeyField(primary_key=True, editable=False)
    opinion = models.OneToOneField(Opinion, on_delete=models.PROTECT, related_name="receipt")
    code_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("receipt")


class ShuffleMark(models.Model):
    """A boundary in the database's transaction order: the first transaction of a day, or
    the moment an operator released the day so far. See shuffle.py."""

    day = models.DateField()
    # PostgreSQL: the boundary's transaction id (32 bits, compared by age); SQLite: none.
    xid = models.BigIntegerField(null=True)
    # Set once the rows written from this mark to the next were rewritten in random order.
    shuffled = models.BooleanField(default=False)
    shuffle_xid = models.BigIntegerField(null=True)


class OpinionPhoto(models.Model):
    """A photo sent with an opinion, re-encoded from its pixels (problems/photos.py): no
    camera, place or time is kept. Its bytes live in this row, not in a file, so that no
    file name or file time dates it; the row has a random id and no time at all, and the
    daily shuffle rewrites it with the day's other rows (README, "Security and anonymity")."""

    id = KeyField(primary_key=True, default=random_id, editable=False)
    opinion = models.ForeignKey(Opinion, on_delete=models.PROTECT, related_name="photos")
    place = models.PositiveSmallIntegerField(default=0)  # the order they were sent in
    data = models.BinaryField()
    content_type = models.CharField(max_length=30)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("opinion photo")


class Slip(models.Model):
    """A printed receipt slip for a paper form (opinions/slips.py): a number, printed on the
    form's tab, and the hash of a receipt code, printed on the part the worker keeps. Once a
    clerk types in the form with its number, the hash moves to the opinion's receipt and
    the slip keeps only that it was used: nothing links a slip to its opinion. No time is
    kept, and its id is random."""

    id = KeyField(primary_key=True, default=random_id, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+",
                                 db_index=False)
    number = models.CharField(max_length=8)
    code_hash = models.CharField(max_length=64, blank=True)  # "" once used
    used = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("receipt slip")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="slip_number_unique"),
            models.CheckConstraint(condition=models.Q(used=True, code_hash="")
                                   | models.Q(used=False) & ~models.Q(code_hash=""),
                                   name="slip_hash_until_used"),
        ]
class PendingMeToo(models.Model):
    """An anonymous "me too" (附议) waiting for its day to be over. The event that puts an
    opinion into a problem is numbered among the problem's events; written at once, it would
    place the anonymous proposer between the named acts of that day. So the daily sweep
    links the finished days' anonymous "me too"s, in random order (`intake.link_me_toos`).
    Its id is its opinion's (random); `written_on` is the day only."""

    id = KeyField(primary_key=True, editable=False)
    opinion = models.OneToOneField(Opinion, on_delete=models.PROTECT,
                                   related_name="pending_me_too")
    problem = models.ForeignKey("problems.Problem", on_delete=models.PROTECT, related_name="+")
    written_on = models.DateField()

    class Meta:
        verbose_name = _("anonymous “me too” waiting for the day's end")
