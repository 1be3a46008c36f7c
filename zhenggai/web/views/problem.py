"""A problem's case file: its opinions, claims, history and posters, and the forms of the
actions this member may take on it now (the lifecycle decides which)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from zhenggai.campaigns.access import may_view, member_of
from zhenggai.errors import DomainError
from zhenggai.notifications import follows
from zhenggai.opinions import photos as opinion_photos
from zhenggai.opinions.models import Opinion, OpinionPhoto
from zhenggai.problems import actions as problem_actions
from zhenggai.problems import lifecycle, queries, registry, rules
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import ClaimPhoto, FollowUp, Problem
from zhenggai.problems.photos import MAX_BYTES, MAX_PHOTOS

from ..pages import status_of
from ..problem_forms import kept, take
from .desk import PlanForm


@login_required
@require_http_methods(["GET", "POST"])
def problem_page(request: HttpRequest, pk: int) -> HttpResponse:
    member = member_of(request.user)
    problem = get_object_or_404(Problem.objects.select_related("owner", "unit", "campaign",
                                                               "category"), pk=pk)
    if member is None or member.org_id != problem.org_id:
        raise PermissionDenied
    error, status, typed = None, 200, {}
    if request.method == "POST":
        try:
            msg = take(request, problem, member)
        except DomainError as e:
            # The refused form shows again with what was typed into it.
            error, status, typed = str(e), status_of(e), kept(request)
        else:
            messages.success(request, msg)
            return redirect(request.path)  # never a posted address: no open redirect
        problem.refresh_from_db()
    campaign = problem.campaign
    offers = rules.offered(
        lifecycle.allowed_actions(problem.state),
        problem_actions.stored_state(problem),
        campaign,
        member,
        problem.pk,
    )
    opinions = opinion_photos.attach(
        Opinion.objects.filter(problem=problem).select_related("author")
        .order_by("received_on", "pk")[:200])
    claims = list(problem.claims.select_related("by", "event").prefetch_related("photos")
                  .order_by("-event__seq"))
    return render(request, "web/problem.html", {
        "problem": problem, "offers": offers, "opinions": opinions, "claims": claims,
        # The forms of the offered actions, as the registry declares them.
        "cards": registry.cards(offers),
        # Follow-up visits are with named proposers; anonymous ones answer by receipt.
        "named": [o for o in opinions if not o.anonymous],
        "events": queries.events_of(problem),
        "posters": problem.posters.select_related("signed_by").order_by("-day", "-pk"),
        "show_authors": may_view(member, campaign, "opinion_authors"),
        "plan": (PlanForm(request.POST, campaign=campaign) if typed.get("form") == "assign"
                 else PlanForm(initial={"owner": problem.owner_id, "unit": problem.unit_id,
                                        "measures": problem.measures,
                                        "deadline": problem.deadline, "scope": problem.scope,
                                        "root_cause": problem.root_cause,
                                        "preventive": problem.preventive}, campaign=campaign))
        if Kind.ASSIGN in offers else None,
        "kept": typed, "max_photo_bytes": MAX_BYTES, "max_photo_mb": MAX_BYTES // 2**20,
        "max_photos": MAX_PHOTOS,
        "decline_reason": queries.decline_reason(problem) if problem.decline_requested else "",
        # A visit or a talk is recorded by staff only (rules.check_followup_channel).
        "channels": [(c, FollowUp.Channel(c).label)
                     for c in rules.followup_channels(campaign, member)],
        "outcomes": FollowUp.Outcome.choices, "error": error,
        "following": follows.follows(member, problem),
    }, status=status)


@login_required
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence photo, to members of the problem's organisation."""
    ph = get_object_or_404(ClaimPhoto.objects.select_related("claim__problem"), pk=pk)
    member = member_of(request.user)
    if member is None or member.org_id != ph.claim.problem.org_id:
        raise PermissionDenied
    return FileResponse(ph.image.open("rb"), content_type=ph.content_type)


@login_required
def opinion_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A photo sent with an opinion, to members of the opinion's organisation (its receipt
    holder sees it inline on the receipt page)."""
    ph = get_object_or_404(OpinionPhoto.objects.select_related("opinion"), pk=pk)
    member = member_of(request.user)
    if member is None or member.org_id != ph.opinion.org_id:
        raise PermissionDenied
    resp = HttpResponse(bytes(ph.data), content_type=ph.content_type)
    resp["Cache-Control"] = "private, max-age=3600"
    return resp
