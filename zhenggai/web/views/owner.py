"""The owner's problems, soonest deadline first; the claim form is on each problem's page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from zhenggai.problems import queries

from ..pages import role_page, today


@role_page("my_problems")
def my_problems(request: HttpRequest) -> HttpResponse:
    day = today(request.campaign.org_id)
    rows = [{"problem": p, "days_left": (p.deadline - day).days if p.deadline else None}
            for p in queries.my_problems(request.member, request.campaign)[:queries.PAGE * 2]]
    return render(request, "web/my_problems.html",
                  {"campaign": request.campaign, "rows": rows})
