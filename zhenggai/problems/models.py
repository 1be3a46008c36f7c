"""Problems (问题) and their events.

`Event` is the ledger: append-only, never changed, never deleted. `Problem` is the
projection of its events (see state.py) that the pages read; `version` is the number of
events, and writers update the row only where the version is still the one they read.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign
from zhenggai.opinions.models import KeyField, random_id
from zhenggai.org.models import Category, Member, Organisation, Unit

from . import lifecycle


class Scope(models.TextChoices):
    INDIVIDUAL = "individual", _("individual (个人的问题个人改)")
    COMMON = "common", _("common (大家的问题大家改)")


class Problem(models.Model):
    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="problems")
    summary = models.TextField(_("summary"))
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices,
                             default=Scope.COMMON)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="problems", verbose_name=_("owning unit"))
    owner = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="owned_problems", verbose_name=_("owner"))
    measures = models.TextField(_("measures (整改措施)"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True, default="")
    preventive = models.TextField(_("preventive measure"), blank=True, default="")
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, db_index=True,
                             choices=[(s, lifecycle.STATE_LABELS[s]) for s in lifecycle.STATES])
    reopen_reason = models.CharField(max_length=20, blank=True)
    created_on = models.DateField()
    first_raised = models.DateField(_("first raised"), null=True)
    # A first-raised date the clerk knows from before the opinions here (paper, years back).
    first_raised_given = models.DateField(null=True, blank=True)
    n_opinions = models.PositiveIntegerField(default=0)
    n_anonymous = models.PositiveIntegerField(default=0)
    last_claim_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    ever_verified = models.BooleanField(default=False)
    verified_on = models.DateField(null=True, blank=True)
    verified_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    recheck_due = models.DateField(null=True, blank=True, db_index=True)
    decline_requested = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("problem")
        indexes = [
            models.Index(fields=["campaign", "state"]),
            models.Index(fields=["owner", "state"]),
            models.Index(fields=["unit", "state"]),
            models.Index(fields=["state", "deadline"]),
            models.Index(fields=["org", "state", "first_raised"]),  # long-standing problems
            models.Index(fields=["state", "updated_at"]),  # the board's reopened problems
            models.Index(fields=["campaign", "state", "recheck_due"]),  # the verification queue
            # The problem list's sorts (web /problems/, problems/lists.py).
            models.Index(fields=["campaign", "updated_at", "id"], name="problem_list_updated"),
            models.Index(fields=["campaign", "deadline", "id"], name="problem_list_deadline"),
            models.Index(fields=["campaign", "n_opinions", "id"], name="problem_list_opinions"),
            models.Index(fields=["campaign", "state", "deadline"], name="problem_list_overdue"),
            # Proposed declines waiting for a leader: few among many. In the order the
            # leader's page lists them (updated_at, id): without the id SQLite read the
            # list's index instead, every problem of the campaign (366 ms at 200,000).
            models.Index(fields=["campaign", "updated_at", "id"],
                         condition=Q(decline_requested=True), name="problem_decline_waiting"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary[:60]}"

    def days_overdue(self, day) -> int:
        """Days past the deadline on `day` while not yet claimed (the figures' overdue
        rule); 0 otherwise."""
        if self.deadline and self.state in lifecycle.UNCLAIMED and self.deadline < day:
            return (day - self.deadline).days
        return 0

    @property
    def state_label(self):
        return lifecycle.STATE_LABELS.get(self.state, self.state)

    @property
    def reopen_label(self):
        """Why it is open again, while that is current: a reopened problem, or a claim sent
        back to verification by a dissatisfied proposer (a new claim clears the reason;
        once verified or closed it is history). Otherwise ""."""
        if self.state in (lifecycle.REOPENED, lifecycle.CLAIMED):
            return lifecycle.REOPEN_REASONS.get(self.reopen_reason, "")
        return ""


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Events are never changed.")

    def delete(self):
        raise TypeError("Events are never deleted.")


class Event(models.Model):
    """One state change: who, when, from, to, why. Immutable.

    Its id is random, like an opinion's: a sequential id would place an anonymous act (a
    poster, a contest, an answer through a receipt) between named events and their times.
    The order of a problem's events is `seq`."""

    id = KeyField(primary_key=True, default=random_id, editable=False)
    # (problem) is covered by the unique (problem, seq); figures never scan events.
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="events",
                                db_index=False)
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=30)
    actor = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", db_index=False)
    at = models.DateTimeField()
    day = models.DateField()
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    reason = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField()

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        constraints = [
            models.UniqueConstraint(fields=["problem", "seq"], name="event_seq_unique"),
        ]
        indexes = [models.Index(fields=["kind", "day"])]
        ordering = ["problem_id", "seq"]

    def __str__(self) -> str:
        return f"{self.problem_id}#{self.seq} {self.kind} {self.from_state}→{self.to_state}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Events are never deleted.")


class Claim(models.Model):
    """An owner's report that the problem is rectified: a claim until it is verified."""

    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="claims")
    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="claim")
    by = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    done = models.TextField(_("what was done"))
    evidence = models.TextField(_("evidence"), blank=True)


class FollowUp(models.Model):
    class Channel(models.TextChoices):
        CONVERSATION = "conversation", _("conversation (个别谈话)")
        HOME_VISIT = "home_visit", _("home visit (登门拜访)")
        QUESTIONNAIRE = "questionnaire", _("questionnaire")
        RECEIPT = "receipt", _("receipt check-in")

    # How staff record a visit; the receipt is the anonymous proposer's own channel.
    STAFF_CHANNELS = (Channel.CONVERSATION, Channel.HOME_VISIT, Channel.QUESTIONNAIRE)

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("satisfied")
        NOT_SATISFIED = "not_satisfied", _("not satisfied")
        NO_ANSWER = "no_answer", _("no answer")

    # Random, as the event's: a sequential id would date an answer through a receipt.
    id = KeyField(primary_key=True, default=random_id, editable=False)
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="followups")
    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="followup")
    opinion = models.ForeignKey("opinions.Opinion", on_delete=models.PROTECT,
                                related_name="followups")
    channel = models.CharField(max_length=15, choices=Channel.choices)
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    recorded_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    note = models.TextField(blank=True)


class Poster(models.Model):
    """A big-character poster (大字报) on a problem, signed or anonymous."""

    # Random, as the event's: a sequential id would date an anonymous poster.
    id = KeyField(primary_key=True, default=random_id, editable=False)
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="posters")
    event = models.OneToOneField(Event, on_delete=models.PROTECT, related_name="poster")
    text = models.TextField(_("text"))
    # Empty for an anonymous poster; the event keeps no actor then either.
    signed_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    day = models.DateField(db_index=True)


class ReviewRound(models.Model):
    """A time-boxed sweep (复查): every problem counted as resolved is verified again."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="rounds")
    name = models.CharField(max_length=200)
    starts_on = models.DateField()
    ends_on = models.DateField()
    started_by = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return self.name


class ReviewItem(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", _("pending")
        PASSED = "passed", _("passed")
        FAILED = "failed", _("failed")

    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="items")
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="review_items")
    assignee = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="review_items")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "problem"], name="review_item_unique"),
        ]


def _photo_path(instance, filename: str) -> str:
    return f"claims/{instance.claim_id}/{filename}"


class ClaimPhoto(models.Model):
    """A photo given as evidence with a claim. Stored re-encoded, without its metadata
    (no camera, no place, no time): see photos.py."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="photos")
    image = models.FileField(upload_to=_photo_path)
    content_type = models.CharField(max_length=30)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
