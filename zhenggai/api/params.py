"""Small helpers for query parameters that every router shares."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from zhenggai.errors import InvalidInput


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A time from a query string, in UTC: databases refuse offsets beyond ±15 h."""
    if value is None:
        return None
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(_("A value is out of range.")) from None
