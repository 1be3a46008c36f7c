"""Pages of grouping: the intake suggestion partial and the clerk's proposed groups.

Both are htmx partials: the submit form loads ``grouping:suggest`` into ``#similar`` and the
clerk desk loads ``grouping:proposals``. Every decision is one domain act (problems.actions,
or grouping.moves for a move or a split), so it is events; no opinion is ever destroyed.
"""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhenggai.campaigns.access import may_view, member_of
from zhenggai.campaigns.models import Campaign
from zhenggai.errors import DomainError, InvalidInput
from zhenggai.ids import parse, parse_all
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions
from zhenggai.problems.models import Problem

from . import moves, service


@require_POST
def suggest(request, pk: int):
    """Likely existing problems for the text being typed, sent in the POST body: typed text
    never goes into a URL, which access logs and proxies keep."""
    campaign = get_object_or_404(Campaign, pk=pk)
    member = member_of(request.user) if request.user.is_authenticated else None
    found = None
    if member is not None and may_view(member, campaign, "submit"):
        found = service.suggest(campaign, request.POST.get("text", "")[:2000], k=5)
    return render(request, "grouping/suggest.html", {"campaign": campaign, "found": found})


def _clerk(request, campaign):
    member = member_of(request.user)
    if member is None or not may_view(member, campaign, "summarising_desk"):
        raise PermissionDenied
    return member


def _ids(request) -> list[int]:
    return parse_all(request.POST.getlist("opinion"))


def _opinions(campaign, ids) -> list[Opinion]:
    return list(Opinion.objects.filter(campaign=campaign, pk__in=ids))


@login_required
@require_http_methods(["GET", "POST"])
def proposals(request, pk: int):
    """Proposed groups; POST action=accept|split|move."""
    campaign = get_object_or_404(Campaign, pk=pk)
    clerk = _clerk(request, campaign)
    error = done = None
    if request.method == "POST":
        try:
            done = _decide(request, campaign, clerk)
        except DomainError as e:
            error = str(e)
    groups = service.propose_groups(campaign)
    problems = Problem.objects.filter(campaign=campaign).order_by("-pk")[:200]
    status = 400 if error else 200
    return render(request, "grouping/proposals.html",
                  {"campaign": campaign, "groups": groups, "problems": problems,
                   "error": error, "done": done}, status=status)


def _decide(request, campaign, clerk) -> str:
    """One domain act per decision (grouping/moves.py for move and split): each is all or
    nothing on its own."""
    action = request.POST.get("action")
    summary = request.POST.get("summary", "")
    if action == "accept":
        ops = _opinions(campaign, _ids(request))
        if not ops:
            raise InvalidInput(_("Choose at least one opinion."))
        actions.create_problem(campaign, ops, actor=clerk, summary=summary)
        return _("The group is now a problem.")
    if action == "split":
        group = _opinions(campaign, parse_all(request.POST.getlist("group")))
        moves.split_group(campaign, group, _ids(request), actor=clerk, summary=summary,
                          summary_rest=request.POST.get("summary_rest", ""))
        return _("The group is split into two problems.")
    if action == "move":
        ops = _opinions(campaign, _ids(request))
        target = parse(request.POST.get("problem", ""))
        if not ops or target is None:
            raise InvalidInput(_("Choose an opinion and a problem."))
        moves.move_opinions(ops, get_object_or_404(Problem, pk=target, campaign=campaign),
                            actor=clerk)
        return _("The opinion is moved.")
    raise InvalidInput(_("Unknown action."))
