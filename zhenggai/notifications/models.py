"""What the scheduled work leaves behind: notifications (in the app and by mail), the
overdue problems it put on the public board, and the consolidation re-checks it handed out.
Each carries a unique key, so running a day's sweep twice sends nothing twice."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.org.models import Member
from zhenggai.problems.models import Problem


class Notification(models.Model):
    class Kind(models.TextChoices):
        DEADLINE = "deadline", _("deadline reminder")
        RECHECK = "recheck", _("consolidation re-check")
        QUESTIONNAIRE = "questionnaire", _("follow-up questionnaire")
        STALL = "stall", _("campaign stalled")

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
