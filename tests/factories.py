"""Factories for the people and things of a campaign. Plain functions over the real models."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model

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


# The people of the story, named once: (field of Story, name, unit, role, sign-in name).
# tests/conftest.py's `story` makes them in the test database; tests/deploy makes the ones
# with a sign-in name in a real instance through `zhenggai import members`.
PEOPLE = (
    ("worker", "王秀英", "furnace8", "worker", "worker"),
    ("worker2", "赵铁柱", "furnace8", "worker", None),
    ("clerk", "李文书", "office", "clerk", "clerk"),
    ("owner", "张主任", "furnace8", "owner", "owner"),
    ("owner2", "孙科长", "office", "owner", None),
    ("rep", "刘代表", "furnace8", "representative", "rep"),
    ("rep2", "周代表", "office", "representative", "rep2"),
    ("leader", "陈厂长", "office", "leader", "leader"),
    ("admin", "管理员", "office", "admin", None),
)


@dataclass
class Story:
    """A worker, a clerk, an owner, two representatives and a leader of one campaign in one
    plant, with a second of most (see PEOPLE)."""

    org: Organisation
    campaign: Campaign
    furnace: Unit
    office: Unit  # another unit
    category: Category | None
    worker: Member
    worker2: Member
    clerk: Member
    owner: Member
    owner2: Member
    rep: Member
    rep2: Member
    leader: Member
    admin: Member


def story() -> Story:
    o = org()
    c = campaign(o)
    units = {"furnace8": unit(o, "furnace8"), "office": unit(o, "office")}
    safety = category(o, "safety")
    people = {field: member(o, name, units[u], role, c=c) for field, name, u, role, _ in PEOPLE}
    return Story(org=o, campaign=c, furnace=units["furnace8"], office=units["office"],
                 category=safety, **people)


def user_for(m: Member, password: str = "pw-zhenggai"):
    """A login for a member of the story (made once)."""
    if m.user_id:
        return m.user
    m.user = get_user_model().objects.create_user(f"u{m.pk}", password=password)
    m.save(update_fields=["user"])
    return m.user
