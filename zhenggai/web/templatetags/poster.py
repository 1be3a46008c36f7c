"""`{% load poster %}`: text set as a Chinese poster sets it (views/board.py `full_width`)."""

from django import template

register = template.Library()


@register.filter
def full_width(text):
    """Full-width punctuation in Chinese text (in either language's page: it is the text's
    own setting); other text unchanged."""
    from ..views.board import full_width as fw

    return fw(str(text)) if text else text
