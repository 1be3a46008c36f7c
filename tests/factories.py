"""Factories for the people and things of a campaign. Plain functions over the real models."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from django.conf import settings

from zhenggai.campaigns.models import Campaign
from zhenggai.campaigns.roles import grant
from zhenggai.opinions.intake import submit_opinion
from zhenggai.org.models import Category, Member, Organisation, Unit

_seq = itertools.count(1)
TZ = ZoneInfo(settings.TIME_ZONE)


def at(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


def org(name: str = "第一炼钢厂") -> Organisation:
    return Organisation.objects.create(name=name, name_en="First Steel Plant")


def unit(o: Organisation, code: str | None = None, parent: Unit | None = None) -> Unit:
    code = code or f"u{next(_seq)}"
    u = Unit(org=o, code=code, name=f"车间{code}", name_en=f"Workshop {code}", parent=parent)
    u.save()
    return u


def category(o: Organisation, code: str | None = None) -> Category:
    code = code or f"c{next(_seq)}"
    return Category.objects.create(org=o, code=code, name=f"类别{code}", name_en=f"Cat {code}")


def campaign(o: Organisation, name: str = "1957 整风整改", start=dt.date(1957, 6, 1),
             ends_on=None, previous=None) -> Campaign:
    return Campaign.objects.create(
        org=o, name=name, airing_from=start, rectification_from=start + dt.timedelta(days=60),
        review_from=start + dt.timedelta(days=200), ends_on=ends_on, previous=previous,
    )


def member(o: Organisation, name: str, u: Unit | None = None, *roles: str,
           c: Campaign | None = None) -> Member:
    m = Member.objects.create(org=o, name=name, unit=u)
    if roles:
        grant(m, c, *roles)
    return m


def opinion(c: Campaign, text: str = "炉前温度太高，需要通风", *, author=None, anonymous=None,
            day=dt.date(1957, 7, 1), **kw):
    """An opinion: named when an author is given, otherwise anonymous with a receipt."""
    if anonymous is None:
        anonymous = author is None
    return submit_opinion(c, text=text, author=author, anonymous=anonymous, received_on=day,
                          at=at(day.year, day.month, day.day), **kw)
