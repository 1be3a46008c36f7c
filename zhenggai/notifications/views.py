"""A member's notifications in the app, and how they want to be told; following a problem
from its page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhenggai.campaigns.access import member_of
from zhenggai.problems.models import Problem

from . import follows as rules
from .models import Follow, Notification


def _member(request):
    member = member_of(request.user)
    if member is None:
        raise PermissionDenied
    return member


@login_required
def inbox(request):
    member = _member(request)
    mine = Notification.objects.filter(member=member)
    if request.method == "POST":
        if "digest" in request.POST:
            rules.set_digest(member, request.POST["digest"] == "1")
            messages.success(request, _("Saved: how you are told."))
        else:
            rules.mark_read(member)
        return redirect("notifications:inbox")
    return render(request, "notifications/inbox.html", {
        "notifications": mine.select_related("problem")[:100],
        "unread": mine.filter(read_at__isnull=True).count(),
        "digest": rules.digest(member),
        "has_email": bool(member.user_id and member.user.email),
        "following": Follow.objects.filter(member=member).select_related("problem")
        .order_by("-problem_id")[:200],
    })


@login_required
@require_POST
def follow(request, pk: int):
    member = _member(request)
    problem = get_object_or_404(Problem, pk=pk, org_id=member.org_id)
    if request.POST.get("follow") == "0":
        rules.unfollow(member, problem)
        messages.success(request, _("You no longer follow this problem."))
    else:
        rules.follow(member, problem)
        messages.success(request, _("You follow this problem: you will be told of its "
                                    "changes."))
    return redirect("web:problem", pk=problem.pk)
