"""The situation bulletin (形势和任务): a leader's word on the board, the kiosk and the
situation page. One domain write (`post`) for the page and the API; `latest` for the
pages that show it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import Forbidden, InvalidInput
from zhenggai.org import clock
from zhenggai.text import clean as clean_text

from .models import Bulletin, Campaign, Role
from .roles import has_role

MAX_CHARS = 500
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)


def post(campaign: Campaign, *, actor, text: str, language: str) -> Bulletin:
    """A new bulletin, dated the organisation's today; the text is kept as written."""
    if actor is None or actor.org_id != campaign.org_id or not has_role(
            actor, campaign, Role.LEADER):
        raise Forbidden(_("Only a leader of campaign “%(c)s” writes the situation bulletin."),
                        c=campaign.name)
    text = clean_text(text)
    if not text:
        raise InvalidInput(_("%(field)s must not be empty."), field=_("Message"))
    if len(text) > MAX_CHARS:
        raise InvalidInput(_("%(field)s is longer than %(n)s characters."),
                           field=_("Message"), n=MAX_CHARS)
    if language not in LANGUAGES:
        raise InvalidInput(_("Unknown language “%(lang)s”."), lang=language)
    return Bulletin.objects.create(
        org_id=campaign.org_id, campaign=campaign, text=text, language=language,
        day=clock.today(campaign.org_id), written_by=actor, recorded_at=timezone.now())


def latest(org_id: int, day: dt.date | None = None) -> Bulletin | None:
    """The newest bulletin written on or before `day` (the organisation's today)."""
    day = day or clock.today(org_id)
    return (Bulletin.objects.filter(org_id=org_id, day__lte=day).select_related("written_by")
            .order_by("-day", "-recorded_at", "-pk").first())


def history(campaign: Campaign, limit: int = 10):
    return (Bulletin.objects.filter(campaign=campaign).select_related("written_by")
            .order_by("-day", "-recorded_at", "-pk")[:limit])
