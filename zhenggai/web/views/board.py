"""The public board (大字报栏): overdue and reopened problems with who answers for them,
recent posters and the figures. No login inside the organisation's network; a kiosk mode
that refreshes itself; a problem printed as a big-character poster on A3."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from zhenggai.campaigns import bulletins
from zhenggai.figures.queries import figures
from zhenggai.problems import queries
from zhenggai.problems.models import Problem

from ..pages import home_org, public_page, today

KIOSK_REFRESH_S = 60


@public_page
def public_board(request: HttpRequest) -> HttpResponse:
    org = home_org(request)
    if org is None:
        return render(request, "web/board.html", {"org": None})
    day = today(org)
    kiosk = request.GET.get("kiosk") == "1"
    response = render(request, "web/board.html", {
        "org": org, "as_of": day, "kiosk": kiosk, "refresh": KIOSK_REFRESH_S,
        "figures": figures(org.pk, day)["total"],
        "overdue": queries.overdue(org.pk, day), "reopened": queries.reopened(org.pk, day),
        "posters": queries.recent_posters(org.pk),
        "bulletin": bulletins.latest(org.pk, day),
    })
    if kiosk:  # the kiosk may be framed by the organisation's own screens (security/headers)
        response.frame_ancestors = settings.KIOSK_FRAME_ANCESTORS
    return response


@public_page
def poster_print(request: HttpRequest, pk: int) -> HttpResponse:
    """One problem as a big-character poster, laid out for A3 paper."""
    org = home_org(request)
    p = get_object_or_404(Problem.objects.select_related("owner", "unit"), pk=pk,
                          org_id=org.pk if org else 0)
    day = today(org)
    return render(request, "web/poster_print.html", {
        "problem": p, "who": queries.responsible(p), "as_of": day,
        "days_overdue": p.days_overdue(day),
        "posters": p.posters.select_related("signed_by").order_by("-day", "-pk")[:3],
    })
