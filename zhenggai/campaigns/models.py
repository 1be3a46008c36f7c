"""Campaigns, their phases, and the roles members hold in each."""

import datetime as dt

from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from zhenggai.org.models import Member, Organisation


class Role(models.TextChoices):
    WORKER = "worker", _("worker")
    CLERK = "clerk", _("clerk")
    OWNER = "owner", _("owner")
    REPRESENTATIVE = "representative", _("representative")
    LEADER = "leader", _("leader")
    ADMIN = "admin", _("admin")


class Phase(models.TextChoices):
    AIRING = "airing", _("airing (鸣放)")
    RECTIFICATION = "rectification", _("rectification (整改)")
    REVIEW = "review", _("review (复查)")
    ENDED = "ended", _("ended")


class Campaign(models.Model):
    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    airing_from = models.DateField(_("airing from"))
    rectification_from = models.DateField(_("rectification from"))
    review_from = models.DateField(_("review from"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_campaigns",
        help_text=_("The campaign before this one. Nothing carries over by itself: a leader "
                    "of this campaign picks which unresolved problems carry over (the "
                    "carry-over page, the API or `zhenggai campaign carry-over`)."),
    )
    consolidation_days = models.PositiveIntegerField(
        _("days from verification to the consolidation check"), default=30
    )
    uses_capa = models.BooleanField(
        _("records root cause and preventive measure"), default=False,
        help_text=_("Corrective and preventive action (ISO 9001 §10.2): each problem "
                    "records its root cause and a preventive measure beside the corrective "
                    "one, and the ledger has both columns."),
    )

    class Meta:
        verbose_name = _("campaign")
        ordering = ["airing_from"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def by_id(cls, pk: int) -> "Campaign | None":
        """One plain query: every intake asks it, and the ORM's query building cost more
        than the row. It also reads the organisation's clock (`org_clock_day`: its fixed
        day, or None for real time; org/clock.py), so that intake dates by it for free."""
        if not -(2**63) <= pk < 2**63:
            return None
        fields = cls._meta.concrete_fields
        with connection.cursor() as cur:
            cur.execute(f"SELECT {', '.join('c.' + f.column for f in fields)}, o.clock_day "
                        f"FROM {cls._meta.db_table} c JOIN {Organisation._meta.db_table} o "
                        "ON o.id = c.org_id WHERE c.id = %s", [pk])
            row = cur.fetchone()
        if row is None:
            return None
        c = cls.from_db(connection.alias, [f.attname for f in fields], row[:-1])
        day = row[-1]
        c.org_clock_day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        return c

    def phase_on(self, day: dt.date) -> str:
        if self.ends_on and day > self.ends_on:
            return Phase.ENDED
        if day >= self.review_from:
            return Phase.REVIEW
        if day >= self.rectification_from:
            return Phase.RECTIFICATION
        return Phase.AIRING


class CampaignRole(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="roles")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="campaign_roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("campaign role")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member", "role"], name="role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.get_role_display()} · {self.campaign}"


def current_campaign(org_id: int, day: dt.date) -> Campaign | None:
    """The campaign a member works in by default: the latest one that has started."""
    qs = Campaign.objects.filter(org_id=org_id, airing_from__lte=day)
    running = models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=day)
    live = qs.filter(running).order_by("-airing_from")
    return live.first() or qs.order_by("-airing_from").first()


class Bulletin(models.Model):
    """The situation and the tasks (形势和任务): a short message from a leader that the board,
    the kiosk and the situation page show, in the language it was written. Never edited:
    a new message is a new row, and the newest as of a day is the one shown (the rows are
    the history: who wrote what, when)."""

    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="bulletins")
    text = models.TextField(_("message"))
    language = models.CharField(_("language written in"), max_length=10)
    day = models.DateField(_("day"))
    written_by = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("written by"))
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("situation bulletin")
        indexes = [models.Index(fields=["org", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.text[:40]}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("A bulletin is never changed: write a new one.")
        super().save(*args, **kwargs)
