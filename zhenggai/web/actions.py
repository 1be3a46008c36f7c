"""From a posted form to a domain action: one place for every page that acts on a problem
(the problem page, the verification queue, the leader board). The rules are the domain's:
problems/actions.py and problems/rules.py refuse what is not allowed."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from zhenggai.errors import InvalidInput
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions as problem_actions
from zhenggai.problems.models import Problem
from zhenggai.problems.photos import MAX_BYTES, MAX_PHOTOS

from .pages import posted_id
from .views.desk import PlanForm


def _version(request) -> int:
    """The version of the problem the form was made from: a stale form is a conflict."""
    v = request.POST.get("version", "")
    if not v.isdigit() or len(v) > 9:
        raise InvalidInput(_("This form is incomplete. Reload the page and try again."))
    return int(v)


def _photos(request) -> list[bytes]:
    """The uploaded photos' bytes, for photos.clean to check (size, format, pixels). No more
    than one byte past the limit is read of each: enough for clean to refuse a big one."""
    files = request.FILES.getlist("photos")
    if len(files) > MAX_PHOTOS:  # before reading any of them
        raise InvalidInput(_("At most %(n)s photos with one claim."), n=MAX_PHOTOS)
    return [f.read(MAX_BYTES + 1) for f in files]


def take(request: HttpRequest, problem: Problem, member, allowed=None) -> str:
    """Take the action a form posted (`do`) on `problem`, as `member`; the message to show.
    A page may accept only some actions (`allowed`). The domain checks who may."""
    do = request.POST.get("do", "")
    if allowed is not None and do not in allowed:
        raise InvalidInput(_("Unknown action."))
    text = request.POST.get("text", "")
    if do == "assign":
        form = PlanForm(request.POST, campaign=problem.campaign)
        if not form.is_valid():
            raise InvalidInput(_("Check the owner, unit and deadline."))
        d = form.cleaned_data
        problem_actions.assign(problem, actor=member, owner=d["owner"], unit=d["unit"],
                 measures=d["measures"], deadline=d["deadline"], scope=d["scope"],
                 expected_version=_version(request))
        return _("Assigned.")
    if do == "split":
        o = get_object_or_404(Opinion, pk=posted_id(request, "opinion"), problem=problem)
        problem_actions.remove_opinion(o, actor=member, expected_version=_version(request))
        return _("The opinion is split out; it waits at the summarising desk again.")
    if do == "claim":
        problem_actions.claim(
            problem,
            actor=member,
            done=text,
            evidence=request.POST.get("evidence", ""),
            photos=_photos(request),
            expected_version=_version(request),
        )
        return _("Claimed. A worker representative will verify it.")
    if do in ("verify_passed", "verify_not_thorough"):
        problem_actions.verify(problem, actor=member, passed=do == "verify_passed", findings=text,
                 expected_version=_version(request))
        return _("Verification recorded.")
    if do in ("check_holds", "check_deteriorated"):
        problem_actions.consolidation_check(problem, actor=member, holds=do == "check_holds",
                              findings=text, expected_version=_version(request))
        return _("Consolidation check recorded.")
    if do == "followup":
        o = get_object_or_404(Opinion, pk=posted_id(request, "opinion"), problem=problem,
                              anonymous=False)
        problem_actions.record_followup(o, actor=member, channel=request.POST.get("channel", ""),
                          outcome=request.POST.get("outcome", ""), note=text)
        return _("Follow-up recorded.")
    if do == "poster":
        problem_actions.post_poster(problem, actor=member, text=text,
                      signed=request.POST.get("signed") == "1")
        return _("Your poster is on the board.")
    if do == "propose_decline":
        problem_actions.propose_decline(
            problem, actor=member, reason=text, expected_version=_version(request)
        )
        return _("Proposed to decline; a leader decides.")
    if do == "decline":
        problem_actions.decline(
            problem, actor=member, reason=text, expected_version=_version(request)
        )
        return _("Declined. The reason is shown to its proposers.")
    if do == "reject_decline":
        problem_actions.reject_decline(
            problem, actor=member, note=text, expected_version=_version(request)
        )
        return _("The proposal to decline is rejected.")
    raise InvalidInput(_("Unknown action."))
