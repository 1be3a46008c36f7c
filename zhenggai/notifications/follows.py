"""Following a problem, and how a member wants to be told: the domain rules the page and
the API both call."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhenggai.errors import Forbidden
from zhenggai.org.models import Member
from zhenggai.problems.models import Problem

from .models import Follow, Notification, Preference


def _same_org(member: Member, problem: Problem) -> None:
    if member.org_id != problem.org_id:
        raise Forbidden(_("Only members of its organisation may follow a problem."))


def follow(member: Member, problem: Problem) -> bool:
    """Follow a problem: told of its changes from now on. False if already following."""
    _same_org(member, problem)
    try:
        with transaction.atomic():
            Follow.objects.create(member=member, problem=problem)
    except IntegrityError:
        return False
    return True


def unfollow(member: Member, problem: Problem) -> bool:
    """Stop following; False if not following."""
    _same_org(member, problem)
    return Follow.objects.filter(member=member, problem=problem).delete()[0] > 0


def follows(member: Member, problem: Problem) -> bool:
    return Follow.objects.filter(member=member, problem=problem).exists()


def set_digest(member: Member, digest: bool) -> None:
    """A daily summary by mail instead of a mail per event (in the app it is told at once)."""
    Preference.objects.update_or_create(member=member, defaults={"digest": bool(digest)})


def digest(member: Member) -> bool:
    """Whether the member chose one daily summary by mail."""
    pref = getattr(member, "notification_preference", None)  # None: never chose
    return bool(pref and pref.digest)


def mark_read(member: Member, ids: list[int] | None = None) -> int:
    """Mark the member's notifications read (these ids only, or all); how many."""
    qs = Notification.objects.filter(member=member, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
