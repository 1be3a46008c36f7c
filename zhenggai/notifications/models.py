"""What the scheduled work leaves behind: notifications (in the app and by mail), the
overdue problems it put on the public board, and the consolidation re-checks it handed out.
Each carries a unique key, so running a day's sweep twice sends nothing twice."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign
from zhenggai.org.models import Member, Organisation, Unit
from zhenggai.problems.models import Event, Problem


class Notification(models.Model):
    class Kind(models.TextChoices):
        DEADLINE = "deadline", _("deadline reminder")
        RECHECK = "recheck", _("consolidation re-check")
        QUESTIONNAIRE = "questionnaire", _("follow-up questionnaire")
        STALL = "stall", _("campaign stalled")
        EVENT = "event", _("a change to a problem")
        ROUND = "round", _("review round started")
        LONG_OVERDUE = "long_overdue", _("long overdue")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    key = models.CharField(max_length=120, unique=True)
    problem = models.ForeignKey(Problem, null=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["member", "read_at"], name="notification_unread")]


class BoardEntry(models.Model):
    """An overdue problem put on the public board (大字报) by the daily sweep, once for each
    time it falls overdue."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=120, unique=True)
    day = models.DateField(db_index=True)
    deadline = models.DateField()

    class Meta:
        ordering = ["-day"]


class Recheck(models.Model):
    """A consolidation re-check (巩固复查) handed to a representative."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="+")
    due = models.DateField()
    assignee = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["problem", "due"], name="recheck_once")]


class SweepRun(models.Model):
    """The day's sweep was enqueued: the worker's scheduler does it once a day."""

    day = models.DateField(unique=True)
    enqueued_at = models.DateTimeField(default=timezone.now)


class Outbox(models.Model):
    """A named event not yet told (events.py): written in the event's own transaction by
    problems.actions, read and deleted by the worker. Its key is the event's random id, and
    it has no time of its own. Anonymous acts never come here: the daily sweep tells of
    them the next day (events.tell_anonymous), so that no message's time dates them."""

    event = models.OneToOneField(Event, primary_key=True, on_delete=models.CASCADE,
                                 related_name="+")


class Follow(models.Model):
    """A member who follows a problem and is told of its changes."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="follows")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="followers")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["problem", "member"],
                                               name="follow_once")]


class Preference(models.Model):
    """How a member is told: a message per event (default) or one daily summary by mail."""

    member = models.OneToOneField(Member, primary_key=True, on_delete=models.CASCADE,
                                  related_name="notification_preference")
    digest = models.BooleanField(_("daily summary instead of a message per event"),
                                 default=False)


class Webhook(models.Model):
    """A group robot (群机器人) of WeCom, DingTalk or Feishu that is told of the problems of
    a unit (and the units under it), of a campaign, or of the whole organisation. The URL
    and the secret are credentials: never shown in lists or logs."""

    class Provider(models.TextChoices):
        WECOM = "wecom", _("WeCom (企业微信)")
        DINGTALK = "dingtalk", _("DingTalk (钉钉)")
        FEISHU = "feishu", _("Feishu (飞书)")

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+",
                            verbose_name=_("organisation"))
    name = models.CharField(_("name"), max_length=100)
    provider = models.CharField(_("provider"), max_length=10, choices=Provider.choices)
    url = models.URLField(_("webhook URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True,
                              help_text=_("DingTalk and Feishu: the robot's signing secret "
                                          "(加签 / 签名校验). Empty: unsigned."))
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("unit"),
                             help_text=_("Problems of this unit and the units under it."))
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="+", verbose_name=_("campaign"))
    language = models.CharField(_("language"), max_length=10, blank=True,
                                choices=settings.LANGUAGES,
                                help_text=_("Empty: the site's language."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("group robot")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"


class Delivery(models.Model):
    """One message to send by mail or to a group robot. The worker claims it (state
    SENDING, committed) before sending and marks it SENT after: a worker that dies between
    the two leaves it SENDING, and it is never sent again (at most once: a message lost is
    better than a message twice). A failed send is tried again with back-off."""

    class Channel(models.TextChoices):
        MAIL = "mail", _("mail")
        WEBHOOK = "webhook", _("group robot")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    key = models.CharField(max_length=160, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="deliveries")
    notification = models.ForeignKey(Notification, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["state", "next_try"], name="delivery_due")]
