"""The published shares, each with its denominator named once (domain.md: false figures are
a share of all claims ever made, not of the problems claimed now). The pages, the API
(`denominators` in the figures object) and the CLI all read this table."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# share: (numerator, denominator, the denominator in words; %(n)s is its count)
SHARES = {
    "claimed_share": ("claimed_resolved", "problems", gettext_lazy("%(n)s problems")),
    "verified_share": ("verified_resolved", "problems", gettext_lazy("%(n)s problems")),
    "false_share": ("false_figures", "claims", gettext_lazy("%(n)s claims ever made")),
    "regression_rate": ("deteriorated", "ever_verified",
                        gettext_lazy("%(n)s problems ever verified")),
    "satisfaction": ("satisfied", "followups_answered",
                     gettext_lazy("%(n)s proposers who answered")),
}
DENOMINATORS = {name: den for name, (_num, den, _words) in SHARES.items()}


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal: 0.1007 → "10.1%"; None → "—"."""
    return "—" if value is None else f"{value * 100:.1f}%"


def of_what(figures: dict, name: str) -> str:
    """The denominator in words: "1,023 claims ever made"."""
    _num, den, words = SHARES[name]
    return str(words) % {"n": f"{figures.get(den) or 0:,}"}


def describe(figures: dict, name: str) -> str:
    """A share with its denominator: "10.1% of 1,023 claims ever made"; "—" without one."""
    value = figures.get(name)
    if value is None:
        return "—"
    return _("%(p)s of %(what)s") % {"p": percent(value), "what": of_what(figures, name)}
