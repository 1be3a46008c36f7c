"""Production: furnaces, heats, records, competition and targets (M13–M16).

The heat log is the fact; every change to a heat is a HeatEvent. Records are derived from
verified heats and can be recomputed from them at any time (records.recompute).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhenggai.org.models import Member, Organisation, Unit


class FurnaceKind(models.TextChoices):
    OPEN_HEARTH = "open_hearth", _("open-hearth furnace")
    ELECTRIC_ARC = "electric_arc", _("electric arc furnace")
    CONVERTER = "converter", _("converter")


class Furnace(models.Model):
    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="furnaces")
    number = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("type"), max_length=15, choices=FurnaceKind.choices,
                            default=FurnaceKind.OPEN_HEARTH)
    capacity_t = models.FloatField(_("nominal capacity (t)"))
    hearth_m2 = models.FloatField(_("hearth area (m²)"))
    commissioned = models.PositiveIntegerField(_("year commissioned"))
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("crew unit"))

    class Meta:
        verbose_name = _("furnace")
        ordering = ["org", "number"]
        constraints = [models.UniqueConstraint(fields=["org", "number"], name="furnace_number")]

    def __str__(self) -> str:
        return _("No. %(n)s") % {"n": self.number}


class GradeNorm(models.Model):
    """The furnace's norm heat time (charge to tap) for one steel grade."""

    furnace = models.ForeignKey(Furnace, on_delete=models.CASCADE, related_name="norms")
    grade = models.CharField(_("steel grade"), max_length=30)
    minutes = models.PositiveIntegerField(_("norm heat time (min)"))

    class Meta:
        verbose_name = _("norm heat time")
        constraints = [models.UniqueConstraint(fields=["furnace", "grade"], name="norm_grade")]


class ProductionRole(models.Model):
    class Role(models.TextChoices):
        RECORDER = "recorder", _("recorder")
        VERIFIER = "verifier", _("verifier")
        PLANNER = "planner", _("planner")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="production_roles")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = _("production role")
        constraints = [models.UniqueConstraint(fields=["member", "role"], name="production_role")]


class Shift(models.TextChoices):
    """The plant's shifts. Plants that run four shifts in three turns (四班三运转, like
    Anshan's 甲乙丙丁) use all four; three-shift plants never pick D."""

    A = "A", _("shift A (甲)")
    B = "B", _("shift B (乙)")
    C = "C", _("shift C (丙)")
    D = "D", _("shift D (丁)")


class ShiftPlan(models.Model):
    """Which shifts a plant runs: three (甲乙丙) unless set, four (甲乙丙丁) where it works
    four shifts in three turns. The entry and correction forms offer these, and a heat is
    refused a shift the plant does not run."""

    org = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="+")
    shifts = models.CharField(_("shifts"), max_length=4, default="ABC",
                              help_text=_("The letters of the shifts the plant runs: ABC "
                                          "(甲乙丙) or ABCD (甲乙丙丁)."))

    class Meta:
        verbose_name = _("shift plan")

    def __str__(self) -> str:
        return "".join(Shift(c).label for c in self.shifts if c in Shift.values)


def shifts_of(org_id: int) -> list[str]:
    """The shift codes the plant runs, in order."""
    plan = ShiftPlan.objects.filter(org_id=org_id).values_list("shifts", flat=True).first()
    return [c for c in (plan or "ABC") if c in Shift.values]


class DelayCode(models.TextChoices):
    CRANE = "crane", _("crane")
    HOT_METAL = "hot_metal", _("waiting for hot metal")
    SCRAP = "scrap", _("waiting for scrap")
    REPAIR = "repair", _("furnace repair")
    POWER = "power", _("power or fuel")
    LADLE = "ladle", _("ladle or moulds")
    OTHER = "other", _("other")


class Heat(models.Model):
    """One heat (炉次). Times are the charge start and the tap; phases are minutes."""

    class Status(models.TextChoices):
        RECORDED = "recorded", _("recorded, awaiting verification")
        VERIFIED = "verified", _("verified")

    # The furnace's organisation, kept on the heat so that a period's heats are one index
    # range (org, status, day) at a million heats.
    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    furnace = models.ForeignKey(Furnace, on_delete=models.PROTECT, related_name="heats")
    year = models.PositiveIntegerField()
    number = models.PositiveIntegerField(_("heat number"))
    shift = models.CharField(_("shift"), max_length=1, choices=Shift.choices)
    crew = models.CharField(_("crew"), max_length=50)
    recorder = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    charge_at = models.DateTimeField(_("charging starts"))
    tap_at = models.DateTimeField(_("tap"))
    day = models.DateField()  # the local day of the tap: the day the steel counts for
    fettling_min = models.PositiveIntegerField(_("fettling (min)"))
    charging_min = models.PositiveIntegerField(_("charging (min)"))
    hot_metal_min = models.PositiveIntegerField(_("hot-metal addition (min)"))
    meltdown_min = models.PositiveIntegerField(_("melt-down (min)"))
    refining_min = models.PositiveIntegerField(_("refining (min)"))
    tapping_min = models.PositiveIntegerField(_("tap (min)"))
    heat_min = models.PositiveIntegerField(_("heat time (min)"))  # charge to tap
    tap_to_tap_min = models.PositiveIntegerField(_("tap to tap (min)"), null=True)
    tons = models.FloatField(_("tons tapped"))
    good_tons = models.FloatField(_("good tons"))
    grade = models.CharField(_("steel grade"), max_length=30)
    fuel_kg_t = models.FloatField(_("fuel per ton (kg)"))
    delays = models.JSONField(_("delays"), default=list, blank=True)  # [{"code", "minutes"}]
    outlier_score = models.FloatField(null=True)  # robust z within furnace and grade
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECORDED,
                              db_index=True)
    verified_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("heat")
        ordering = ["furnace", "tap_at"]
        constraints = [
            models.UniqueConstraint(fields=["furnace", "year", "number"], name="heat_number"),
        ]
        indexes = [
            models.Index(fields=["furnace", "tap_at"], name="heat_furnace_tap"),
            models.Index(fields=["org", "status", "day"], name="heat_org_day"),
        ]

    def __str__(self) -> str:
        return f"{self.furnace} {self.year}-{self.number}"

    @property
    def delays_shown(self) -> list[dict]:
        """The delays with their reasons in words ("waiting for hot metal"), not their codes."""
        words = dict(DelayCode.choices)
        return [{"reason": words.get(d.get("code"), d.get("code")), "minutes": d.get("minutes")}
                for d in self.delays or []]

    @property
    def outlier(self) -> bool:
        return self.outlier_score is not None and abs(self.outlier_score) > 3.5


class HeatEvent(models.Model):
    """An immutable change to a heat: recorded, verified, corrected (with the reason)."""

    heat = models.ForeignKey(Heat, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=12)
    actor = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict)  # for a correction: {"field": [before, after]}

    class Meta:
        ordering = ["heat", "seq"]
        constraints = [models.UniqueConstraint(fields=["heat", "seq"], name="heat_event_seq")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("heat events are immutable")
        super().save(*args, **kwargs)


class PlantDay(models.Model):
    """Verified good tons of the whole plant per day: a ledger kept with every verification
    and correction, so that plant-wide weeks and targets never sum a million heats."""

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    good_tons = models.FloatField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "day"], name="plant_day")]


class RecordKind(models.TextChoices):
    FASTEST = "fastest", _("fastest heat")
    HEAVIEST = "heaviest", _("most tons in a heat")
    BEST_WEEK = "best_week", _("best week (t per m² of hearth per day)")


class Record(models.Model):
    """A record as it was set. Derived from verified heats; rebuilt by records.recompute.

    furnace is None for a plant-wide record. For single-heat records `heat` is the heat;
    for the best week, `day` is the last day of the seven."""

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    furnace = models.ForeignKey(Furnace, null=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=RecordKind.choices)
    value = models.FloatField()
    previous = models.FloatField(null=True)
    heat = models.ForeignKey(Heat, null=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    streak = models.PositiveIntegerField(default=1)  # consecutive records up to this one
    vs_norm = models.FloatField(null=True)  # norm minutes / heat minutes − 1, fastest only

    class Meta:
        ordering = ["org", "furnace", "kind", "day"]
        indexes = [models.Index(fields=["org", "kind", "day"], name="record_kind_day")]

    @property
    def hours(self) -> int:
        return int(self.value) // 60

    @property
    def minutes_part(self) -> int:
        return int(self.value) % 60


class Target(models.Model):
    """The year's plan and the increase on it, for the plant (furnace empty) or a furnace."""

    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    furnace = models.ForeignKey(Furnace, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="targets")
    year = models.PositiveIntegerField(_("year"))
    plan_t = models.FloatField(_("annual plan (t)"))
    increase_t = models.FloatField(_("increase target (t)"), default=0)

    class Meta:
        verbose_name = _("production target")
        constraints = [
            models.UniqueConstraint(fields=["org", "furnace", "year"], name="target_year"),
        ]

    @property
    def goal_t(self) -> float:
        return self.plan_t + self.increase_t


class Repair(models.Model):
    """A planned repair: the furnace makes no steel from `starts` to `ends`, both included."""

    furnace = models.ForeignKey(Furnace, on_delete=models.PROTECT, related_name="repairs")
    starts = models.DateField(_("starts"))
    ends = models.DateField(_("ends"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("planned repair")
