"""The public board (大字报栏): overdue and reopened problems with who answers for them,
recent posters and the figures. No login inside the organisation's network; a kiosk mode
that refreshes itself; a problem printed as a big-character poster on A3."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from zhenggai.campaigns import bulletins
from zhenggai.figures.queries import figures
from zhenggai.problems import queries
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import Event, Problem
from zhenggai.problems.registry import ACTIONS

from ..pages import home_org, public_page, today

KIOSK_REFRESH_S = 60  # the board's own page, left on a screen
# The kiosk shows one 1920×1080 screen at a time and moves on to the next by itself (a
# meta refresh: no script): the figures and the bulletin, then every overdue problem, every
# reopened one and the recent posters, a screenful each, round and round.
KIOSK_SLIDE_S = 20
KIOSK_ROWS = 14
KIOSK_POSTERS = 3
KIOSK_POSTERS_MAX = 24


def _kiosk_plan(org_id: int, day) -> list[tuple[str, int]]:
    """The kiosk's screens in order: (what, offset)."""
    def screens(kind: str, n: int, per: int) -> list[tuple[str, int]]:
        return [(kind, i) for i in range(0, n, per)]
    n_posters = len(queries.recent_posters(org_id, KIOSK_POSTERS_MAX))
    return [("figures", 0),
            *screens("overdue", queries.overdue_count(org_id, day), KIOSK_ROWS),
            *screens("reopened", queries.reopened_count(org_id), KIOSK_ROWS),
            *screens("posters", n_posters, KIOSK_POSTERS)]


def _kiosk(request: HttpRequest, org, day) -> HttpResponse:
    plan = _kiosk_plan(org.pk, day)
    try:
        at = int(request.GET.get("screen", "0")) % len(plan)
    except ValueError:
        at = 0
    kind, offset = plan[at]
    ctx = {"org": org, "as_of": day, "kiosk": True, "refresh": KIOSK_SLIDE_S,
           "screen": kind, "at": at + 1, "screens": len(plan), "next": (at + 1) % len(plan),
           "offset": offset}
    if kind == "figures":
        ctx.update(figures=figures(org.pk, day)["total"], bulletin=bulletins.latest(org.pk, day),
                   n_overdue=queries.overdue_count(org.pk, day),
                   n_reopened=queries.reopened_count(org.pk))
    elif kind == "overdue":
        ctx["rows"] = queries.overdue(org.pk, day, KIOSK_ROWS, offset)
        ctx["total"] = queries.overdue_count(org.pk, day)
    elif kind == "reopened":
        ctx["rows"] = queries.reopened(org.pk, day, KIOSK_ROWS, offset)
        ctx["total"] = queries.reopened_count(org.pk)
    else:
        ctx["posters"] = queries.recent_posters(org.pk, KIOSK_POSTERS_MAX)[
            offset:offset + KIOSK_POSTERS]
    ctx["last"] = offset + len(ctx.get("rows") or ctx.get("posters") or [])
    response = render(request, "web/board_kiosk.html", ctx)
    # The kiosk may be framed by the organisation's own screens (security/headers).
    response.frame_ancestors = settings.KIOSK_FRAME_ANCESTORS
    return response


@public_page
def public_board(request: HttpRequest) -> HttpResponse:
    org = home_org(request)
    if org is None:
        return render(request, "web/board.html", {"org": None})
    day = today(org)
    if request.GET.get("kiosk") == "1":
        return _kiosk(request, org, day)
    return render(request, "web/board.html", {
        "org": org, "as_of": day, "kiosk": False, "refresh": KIOSK_REFRESH_S,
        "figures": figures(org.pk, day)["total"],
        "overdue": queries.overdue(org.pk, day), "reopened": queries.reopened(org.pk, day),
        "posters": queries.recent_posters(org.pk),
        "bulletin": bulletins.latest(org.pk, day),
    })


_CJK = "\u3400-\u9fff\uf900-\ufaff"
_HALF = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？"}
_GROUP = re.compile(r"([（(][^()（）]{1,20}[)）])")


def full_width(text: str) -> str:
    """Chinese text as a printed poster sets it: full-width punctuation after a Chinese
    character, and full-width brackets in a text that has Chinese in it. "10:30", "3.5"
    and English text stay as they are."""
    if not re.search(f"[{_CJK}]", text):
        return text
    text = re.sub(r"\s*\)", "）", re.sub(r"\(\s*", "（", text))
    # After a Chinese character or a full-width mark (）, 。 …).
    return re.sub(f"(?<=[{_CJK}\u3000-\u303f\uff00-\uffef]) ?([,:;!?]) ?",
                  lambda m: _HALF[m[1]], text)


def unbroken_groups(text: str) -> list[tuple[str, bool]]:
    """The text in parts, each bracketed group (丙班) one part that is never broken across
    lines (True), so that no title wraps as "(丙 / 班)"."""
    return [(part, i % 2 == 1) for i, part in enumerate(_GROUP.split(text)) if part]


FINDINGS = (Kind.VERIFY_PASSED, Kind.VERIFY_NOT_THOROUGH, Kind.CHECK_HOLDS,
            Kind.CHECK_DETERIORATED)


@public_page
def poster_print(request: HttpRequest, pk: int) -> HttpResponse:
    """One problem as a big-character poster, laid out to fill an A3 page: the problem, the
    measures promised, the deadline and days overdue, the representative's latest finding,
    how many opinions, who answers for it and where to respond."""
    org = home_org(request)
    p = get_object_or_404(Problem.objects.select_related("owner", "unit"), pk=pk,
                          org_id=org.pk if org else 0)
    day = today(org)
    finding = (Event.objects.filter(problem=p, kind__in=[str(k) for k in FINDINGS])
               .select_related("actor").order_by("-seq").first())
    if finding is not None:
        finding.label = ACTIONS[finding.kind].label
        finding.text = full_width(finding.note)
    return render(request, "web/poster_print.html", {
        "problem": p, "who": queries.responsible(p), "as_of": day,
        "days_overdue": p.days_overdue(day),
        "title": unbroken_groups(full_width(p.summary)),
        "measures": full_width(p.measures),
        "finding": finding,
        "submit_url": request.build_absolute_uri(reverse("web:submit")),
        "problem_url": request.build_absolute_uri(reverse("web:problem", args=[p.pk])),
        "posters": p.posters.select_related("signed_by").order_by("-day", "-pk")[:2],
    })
