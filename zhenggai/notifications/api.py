"""A member's notifications, their preference and the problems they follow, over the JSON
API (under /api/v1/). The rules are in follows.py, as for the pages."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from zhenggai.api.types import Id
from zhenggai.problems.models import Problem

from . import follows
from .models import Follow, Notification

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    problem: int | None = Field(None, alias="problem_id")
    subject: str
    body: str
    created_at: dt.datetime
    read: bool

    @staticmethod
    def resolve_read(obj) -> bool:
        return obj.read_at is not None


class Inbox(Schema):
    unread: int
    items: list[NotificationOut]


class ReadIn(Schema):
    ids: list[Id] | None = Field(None, description="these only; omitted: all")


class Marked(Schema):
    marked: int


class PreferenceIO(Schema):
    digest: bool = Field(description="one daily summary by mail instead of a mail per event")


class FollowOut(Schema):
    problem: int
    following: bool


@router.get("/notifications", response=Inbox)
def inbox(request, unread: bool = False, limit: int = 50):
    """My notifications, newest first (`unread=true`: only the unread), with the unread count."""
    qs = Notification.objects.filter(member=request.auth)
    items = qs.filter(read_at__isnull=True) if unread else qs
    return {"unread": qs.filter(read_at__isnull=True).count(),
            "items": list(items[:max(1, min(limit, 200))])}


@router.post("/notifications/read", response=Marked)
def mark_read(request, body: ReadIn):
    """Mark my notifications read: the ones listed in `ids`, or all of them."""
    return {"marked": follows.mark_read(request.auth, body.ids)}


@router.get("/notifications/preference", response=PreferenceIO)
def get_preference(request):
    """How I am told by mail: a message per event, or one daily summary (`digest`)."""
    return {"digest": follows.digest(request.auth)}


@router.put("/notifications/preference", response=PreferenceIO)
def set_preference(request, body: PreferenceIO):
    """Choose a message per event by mail, or one daily summary (`digest: true`)."""
    follows.set_digest(request.auth, body.digest)
    return {"digest": body.digest}


def _problem(request, problem_id: int) -> Problem:
    return get_object_or_404(Problem, pk=problem_id, org_id=request.auth.org_id)


@router.get("/problems/{problem_id}/follow", response=FollowOut)
def following(request, problem_id: Id):
    """Whether I follow this problem (a follower is told of its changes)."""
    p = _problem(request, problem_id)
    return {"problem": p.pk, "following": follows.follows(request.auth, p)}


@router.put("/problems/{problem_id}/follow", response=FollowOut)
def follow(request, problem_id: Id):
    """Follow a problem of my organisation: I am told of its changes from now on."""
    p = _problem(request, problem_id)
    follows.follow(request.auth, p)
    return {"problem": p.pk, "following": True}


@router.delete("/problems/{problem_id}/follow", response=FollowOut)
def unfollow(request, problem_id: Id):
    """Stop following a problem."""
    p = _problem(request, problem_id)
    follows.unfollow(request.auth, p)
    return {"problem": p.pk, "following": False}


@router.get("/following", response=list[int])
def followed(request):
    """The ids of the problems I follow."""
    return list(Follow.objects.filter(member=request.auth).order_by("problem_id")
                .values_list("problem_id", flat=True))
