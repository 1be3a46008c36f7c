"""`{% load poster %}`: text set as a Chinese poster sets it (views/board.py `full_width`)."""

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def full_width(text):
    """Full-width punctuation in Chinese text, on a Chinese page; unchanged otherwise."""
    from ..views.board import full_width as fw

    if not text or not (get_language() or "").startswith("zh"):
        return text
    return fw(str(text))
