"""A member's notifications, in the app."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone

from zhenggai.campaigns.access import member_of

from .models import Notification


@login_required
def inbox(request):
    member = member_of(request.user)
    if member is None:
        raise PermissionDenied
    mine = Notification.objects.filter(member=member)
    if request.method == "POST":
        mine.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("notifications:inbox")
    return render(request, "notifications/inbox.html", {
        "notifications": mine[:100], "unread": mine.filter(read_at__isnull=True).count()})
