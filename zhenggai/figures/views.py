"""The figures page: claimed against verified against false, as of any day."""

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhenggai.campaigns import bulletins
from zhenggai.org import clock
from zhenggai.org.models import Organisation
from zhenggai.production.board import production_summary
from zhenggai.web.pages import public_page

from .queries import figures


@public_page
def situation(request: HttpRequest) -> HttpResponse:
    """The situation page: public like the board (web/pages.py `public_page`)."""
    org = Organisation.objects.order_by("pk").first()
    by = request.GET.get("by") or "unit"
    if by not in ("unit", "category", "campaign"):
        by = "unit"
    error = ""
    day = clock.today(org)
    if request.GET.get("as_of"):
        try:
            day = dt.date.fromisoformat(request.GET["as_of"])
        except ValueError:
            error = "bad_date"
    result = figures(org.pk, day, by) if org else None
    # M13: the production figures beside the rectification figures, on one board.
    summary = production_summary(org, day) if org else None
    return render(request, "figures/situation.html", {
        "org": org, "result": result, "as_of": day, "by": by, "error": error,
        "summary": summary, "bulletin": bulletins.latest(org.pk, day) if org else None,
    }, status=400 if error else 200)
