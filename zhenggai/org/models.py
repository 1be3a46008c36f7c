"""The organisation: its unit tree, its members and its categories of opinion."""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    # The organisation's clock (domain.md): real time, or a fixed day. See org/clock.py.
    clock_day = models.DateField(
        _("clock: fixed day"), null=True, blank=True,
        help_text=_("Empty: real time. A day here is “today” for every page, figure, "
                    "deadline, schedule, export and API call of the organisation (a demo or "
                    "a training copy)."),
    )

    class Meta:
        verbose_name = _("organisation")

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A workshop, department or furnace crew. Units form a tree; `path` makes subtrees cheap."""

    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    path = models.CharField(max_length=500, editable=False, db_index=True)

    class Meta:
        verbose_name = _("unit")
        constraints = [models.UniqueConstraint(fields=["org", "code"], name="unit_code_unique")]
        ordering = ["path"]

    def __str__(self) -> str:
        return self.label()

    def save(self, *args, **kwargs):
        # Configuration, not workflow: the admin edits units directly.
        self.path = (self.parent.path if self.parent else "") + "/" + self.code
        super().save(*args, **kwargs)

    def label(self, lang: str | None = None) -> str:
        lang = lang or get_language() or ""
        return self.name_en if lang.startswith("en") and self.name_en else self.name


class Category(models.Model):
    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="categories")
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [models.UniqueConstraint(fields=["org", "code"], name="category_code_unique")]

    def __str__(self) -> str:
        return self.label()

    def label(self, lang: str | None = None) -> str:
        lang = lang or get_language() or ""
        return self.name_en if lang.startswith("en") and self.name_en else self.name


class Member(models.Model):
    """A person of the organisation. Roles are given per campaign (campaigns.CampaignRole)."""

    org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="member",
    )
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="members")
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES,
        help_text=_("Empty: take the browser's language."),
    )

    class Meta:
        verbose_name = _("member")

    def __str__(self) -> str:
        return self.name
