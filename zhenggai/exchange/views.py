"""The clerk's upload page for opinions typed in from paper forms, and the ledger download."""

import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from zhenggai.campaigns.access import may_view, member_of
from zhenggai.campaigns.models import Campaign, CampaignRole, Role
from zhenggai.errors import DomainError

from . import exporter, importer

MAX_UPLOAD = 50 * 1024 * 1024


def _clerk_campaigns(member):
    return [c for c in Campaign.objects.filter(org_id=member.org_id).order_by("-airing_from")
            if may_view(member, c, "summarising_desk")]


@login_required
def upload(request):
    member = member_of(request.user)
    campaigns = _clerk_campaigns(member) if member else []
    if not campaigns:
        raise PermissionDenied
    report, error = None, ""
    if request.method == "POST":
        campaign = next((c for c in campaigns if str(c.pk) == request.POST.get("campaign")),
                        None)
        f = request.FILES.get("file")
        suffix = Path(f.name).suffix.lower() if f else ""
        if campaign is None or f is None:
            error = _("Choose a campaign and a file.")
        elif f.size > MAX_UPLOAD:
            error = _("The file is larger than 50 MB.")
        else:
            # The import keys rows by the file's content, so the temporary name is irrelevant.
            with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
                for chunk in f.chunks():
                    tmp.write(chunk)
                tmp.flush()
                try:
                    report = importer.import_opinions(
                        tmp.name, campaign=campaign, actor=member,
                        dry_run=bool(request.POST.get("dry_run")))
                except DomainError as e:
                    error = str(e)
    return render(request, "exchange/upload.html", {
        "campaigns": campaigns, "report": report, "error": error,
        "dry_run": bool(request.POST.get("dry_run")),
    }, status=400 if error else 200)


def ledger_campaigns(member) -> list[Campaign]:
    """The campaigns whose ledger a member may download: where they are clerk or leader; an
    administrator (in any campaign, or a superuser), all of the organisation's."""
    if member is None:
        return []
    every = list(Campaign.objects.filter(org_id=member.org_id))
    if (member.user_id and member.user.is_superuser) or CampaignRole.objects.filter(
            member=member, role=Role.ADMIN).exists():
        return every
    return [c for c in every if may_view(member, c, "ledger")]


@login_required
def ledger(request):
    member = member_of(request.user)
    campaigns = ledger_campaigns(member)
    if not campaigns:
        raise PermissionDenied
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    english = request.GET.get("lang") == "en"
    tmp = tempfile.NamedTemporaryFile(suffix=f".{fmt}", delete=False)
    tmp.close()
    # Only the campaigns where the member is a clerk or a leader (an admin: all of them).
    exporter.export_ledger(member.org, tmp.name, english, campaigns=campaigns)
    name = f"{'ledger' if english else 'zhenggai-taizhang'}.{fmt}"
    response = FileResponse(open(tmp.name, "rb"), as_attachment=True, filename=name)
    Path(tmp.name).unlink()  # the open handle keeps the data until the response is sent
    return response
