"""A problem's case file: its opinions, claims, history and posters, and the forms of the
actions this member may take on it now (the lifecycle decides which)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zhenggai.campaigns.access import may_view, member_of
from zhenggai.errors import DomainError, InvalidInput
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions as A
from zhenggai.problems import lifecycle as lc
from zhenggai.problems import queries as Q
from zhenggai.problems import rules
from zhenggai.problems.models import ClaimPhoto, FollowUp, Problem
from zhenggai.problems.photos import MAX_BYTES

from ..pages import posted_id, status_of
from .desk import PlanForm


def _version(request) -> int:
    """The version of the problem the form was made from: a stale form is a conflict."""
    v = request.POST.get("version", "")
    if not v.isdigit() or len(v) > 9:
        raise InvalidInput(_("This form is incomplete. Reload the page and try again."))
    return int(v)


def _photos(request) -> list[bytes]:
    out = []
    for f in request.FILES.getlist("photos"):
        if f.size > MAX_BYTES:
            raise InvalidInput(_("A photo may be at most %(n)s MB."), n=MAX_BYTES // 2**20)
        out.append(f.read())
    return out


def _act(request, problem: Problem, member) -> str:
    do = request.POST.get("do", "")
    text = request.POST.get("text", "")
    if do == "assign":
        form = PlanForm(request.POST, campaign=problem.campaign)
        if not form.is_valid():
            raise InvalidInput(_("Check the owner, unit and deadline."))
        d = form.cleaned_data
        A.assign(problem, actor=member, owner=d["owner"], unit=d["unit"],
                 measures=d["measures"], deadline=d["deadline"], scope=d["scope"],
                 expected_version=_version(request))
        return _("Assigned.")
    if do == "split":
        o = get_object_or_404(Opinion, pk=posted_id(request, "opinion"), problem=problem)
        A.remove_opinion(o, actor=member, expected_version=_version(request))
        return _("The opinion is split out; it waits at the summarising desk again.")
    if do == "claim":
        A.claim(problem, actor=member, done=text, evidence=request.POST.get("evidence", ""),
                photos=_photos(request), expected_version=_version(request))
        return _("Claimed. A worker representative will verify it.")
    if do in ("verify_passed", "verify_not_thorough"):
        A.verify(problem, actor=member, passed=do == "verify_passed", findings=text,
                 expected_version=_version(request))
        return _("Verification recorded.")
    if do in ("check_holds", "check_deteriorated"):
        A.consolidation_check(problem, actor=member, holds=do == "check_holds",
                              findings=text, expected_version=_version(request))
        return _("Consolidation check recorded.")
    if do == "followup":
        o = get_object_or_404(Opinion, pk=posted_id(request, "opinion"), problem=problem,
                              anonymous=False)
        A.record_followup(o, actor=member, channel=request.POST.get("channel", ""),
                          outcome=request.POST.get("outcome", ""), note=text)
        return _("Follow-up recorded.")
    if do == "poster":
        A.post_poster(problem, actor=member, text=text,
                      signed=request.POST.get("signed") == "1")
        return _("Your poster is on the board.")
    if do == "propose_decline":
        A.propose_decline(problem, actor=member, reason=text, expected_version=_version(request))
        return _("Proposed to decline; a leader decides.")
    if do == "decline":
        A.decline(problem, actor=member, reason=text, expected_version=_version(request))
        return _("Declined. The reason is shown to its proposers.")
    if do == "reject_decline":
        A.reject_decline(problem, actor=member, note=text, expected_version=_version(request))
        return _("The proposal to decline is rejected.")
    raise InvalidInput(_("Unknown action."))


@login_required
@require_http_methods(["GET", "POST"])
def problem_page(request: HttpRequest, pk: int) -> HttpResponse:
    member = member_of(request.user)
    problem = get_object_or_404(Problem.objects.select_related("owner", "unit", "campaign",
                                                               "category"), pk=pk)
    if member is None or member.org_id != problem.org_id:
        raise PermissionDenied
    error, status = None, 200
    if request.method == "POST":
        try:
            msg = _act(request, problem, member)
        except DomainError as e:
            error, status = str(e), status_of(e)
        else:
            messages.success(request, msg)
            return redirect(request.path)  # never a posted address: no open redirect
        problem.refresh_from_db()
    campaign = problem.campaign
    offers = rules.offered(lc.allowed_actions(problem.state), A.state_of(problem), campaign,
                           member, problem.pk)
    opinions = list(Opinion.objects.filter(problem=problem).select_related("author")
                    .order_by("received_on", "pk")[:200])
    claims = list(problem.claims.select_related("by", "event").prefetch_related("photos")
                  .order_by("-event__seq"))
    return render(request, "web/problem.html", {
        "problem": problem, "offers": offers, "opinions": opinions, "claims": claims,
        # Follow-up visits are with named proposers; anonymous ones answer by receipt.
        "named": [o for o in opinions if not o.anonymous],
        "events": Q.events_of(problem), "posters": problem.posters.order_by("-day", "-pk"),
        "show_authors": may_view(member, campaign, "opinion_authors"),
        "plan": PlanForm(initial={"owner": problem.owner_id, "unit": problem.unit_id,
                                  "measures": problem.measures, "deadline": problem.deadline,
                                  "scope": problem.scope}, campaign=campaign),
        "decline_reason": Q.decline_reason(problem) if problem.decline_requested else "",
        "channels": [c for c in FollowUp.Channel.choices
                     if c[0] in (FollowUp.Channel.CONVERSATION, FollowUp.Channel.HOME_VISIT)],
        "outcomes": FollowUp.Outcome.choices, "error": error,
        "reopen_reason": lc.REOPEN_REASONS.get(problem.reopen_reason, ""),
    }, status=status)


@login_required
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence photo, to members of the problem's organisation."""
    ph = get_object_or_404(ClaimPhoto.objects.select_related("claim__problem"), pk=pk)
    member = member_of(request.user)
    if member is None or member.org_id != ph.claim.problem.org_id:
        raise PermissionDenied
    return FileResponse(ph.image.open("rb"), content_type=ph.content_type)
