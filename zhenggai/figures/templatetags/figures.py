"""`{% share figures "false_share" %}`: a share as a percentage with its denominator named
(figures/shares.py), the same on every page."""

from django import template

from zhenggai.figures import shares

register = template.Library()


@register.simple_tag
def share(figures: dict, name: str) -> str:
    return shares.describe(figures, name)
