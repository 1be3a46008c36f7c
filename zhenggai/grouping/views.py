"""Pages of grouping: the intake suggestion partial and the clerk's proposed groups.

Both are htmx partials: the submit form loads ``grouping:suggest`` into ``#similar`` and the
clerk desk loads ``grouping:proposals``, which shows the groups the worker stored
(grouping/proposals.py) and groups nothing itself. Every decision is one domain act
(problems.actions, or grouping.moves for a move or a split), so it is events; no opinion is
ever destroyed.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhenggai.campaigns.access import may_view, member_of
from zhenggai.campaigns.models import Campaign
from zhenggai.errors import DomainError, InvalidInput
from zhenggai.ids import parse, parse_all
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions
from zhenggai.problems.lifecycle import STATE_LABELS, Kind
from zhenggai.problems.models import Problem
from zhenggai.problems.registry import ACTIONS
from zhenggai.security.address import in_networks

from . import moves, service
from . import proposals as stored_proposals


def closeness(score: float) -> str:
    """A suggestion's similarity in words a person reads, not a number."""
    if score >= 0.6:
        return _("very similar")
    if score >= 0.35:
        return _("similar")
    return _("somewhat similar")


def _may_suggest(request, campaign) -> bool:
    """Whoever may submit here sees the likely existing problems: a member with the submit
    page in this campaign, or a visitor inside the organisation's network (the submit page
    takes their anonymous opinion; the board shows them problems already)."""
    if request.user.is_authenticated:
        member = member_of(request.user)
        if member is not None:
            return member.org_id == campaign.org_id and may_view(member, campaign, "submit")
    return in_networks(request, settings.BOARD_NETWORKS)


@require_POST
def suggest(request, pk: int):
    """Likely existing problems for the text being typed, sent in the POST body: typed text
    never goes into a URL, which access logs and proxies keep. Each is a button of the
    submit form: "me too" (附议) on it, where the problem still takes one."""
    campaign = get_object_or_404(Campaign, pk=pk)
    items = []
    if _may_suggest(request, campaign):
        found = service.suggest(campaign, request.POST.get("text", "")[:2000], k=5)
        open_to = ACTIONS[Kind.ME_TOO].sources
        items = [{"problem": s.problem, "similar": s.opinions, "closeness": closeness(s.score),
                  "state": STATE_LABELS.get(s.problem.state, s.problem.state),
                  "me_too": s.problem.state in open_to} for s in found.problems]
    return render(request, "grouping/suggest.html", {"campaign": campaign, "items": items})


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
        else:
            if isinstance(done, Problem):
                # A new problem needs an owner, measures and a deadline: to its assign form.
                messages.success(request, _(
                    "Problem #%(id)s is made from the group. Now give it an owner, measures "
                    "and a deadline.") % {"id": done.pk})
                to = reverse("web:problem", args=[done.pk]) + "#assign"
                if request.htmx:
                    return HttpResponse("", headers={"HX-Redirect": to})
                return redirect(to)
    # The groups the worker computed and stored (proposals.refresh), with the existing
    # problems most like each: a page of rows, however many opinions wait; nothing is
    # grouped on a request.
    groups = stored_proposals.stored(campaign)
    status = 400 if error else 200
    resp = render(request, "grouping/proposals.html",
                  {"campaign": campaign, "groups": groups, "error": error, "done": done,
                   "computed": stored_proposals.computed(campaign)},
                  status=status)
    if done:
        resp["HX-Trigger"] = "desk-changed"  # the desk's list of opinions, read again
    return resp


def _decide(request, campaign, clerk):
    """One domain act per decision (grouping/moves.py for move and split): each is all or
    nothing on its own. Accepting answers the new problem; the others, what was done."""
    action = request.POST.get("action")
    summary = request.POST.get("summary", "")
    if action == "accept":
        ops = _opinions(campaign, _ids(request))
        if not ops:
            raise InvalidInput(_("Choose at least one opinion."))
        return actions.create_problem(campaign, ops, actor=clerk, summary=summary)
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
