"""The forms that act on a problem: from a posted form to a domain action, for every page
that acts on one (the problem page, the verification queue, the leader board).

Which action a form takes, its message and its card are the registry's
(problems/registry.py: `Form`); here are only the parsers that read the posted fields into
the domain call's arguments. The rules are the domain's: problems/actions.py and
problems/rules.py refuse what is not allowed."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from zhenggai.errors import InvalidInput
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions as problem_actions
from zhenggai.problems.models import Problem
from zhenggai.problems.photos import MAX_BYTES, MAX_PHOTOS
from zhenggai.problems.registry import BY_FORM

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


# -- the parsers a registry `Form` names: (what the call acts on, its arguments) ---------

def plan(request, problem):
    form = PlanForm(request.POST, campaign=problem.campaign)
    if not form.is_valid():
        raise InvalidInput(_("Check the owner, unit and deadline."))
    d = form.cleaned_data
    return problem, dict(owner=d["owner"], unit=d["unit"], measures=d["measures"],
                         deadline=d["deadline"], scope=d["scope"],
                         expected_version=_version(request), **form.capa())


def split(request, problem):
    o = get_object_or_404(Opinion, pk=posted_id(request, "opinion"), problem=problem)
    return o, dict(expected_version=_version(request))


def claim(request, problem):
    return problem, dict(done=request.POST.get("text", ""),
                         evidence=request.POST.get("evidence", ""), photos=_photos(request),
                         expected_version=_version(request))


def findings(request, problem):
    return problem, dict(findings=request.POST.get("text", ""),
                         expected_version=_version(request))


def followup(request, problem):
    # Follow-up visits are with named proposers; anonymous ones answer by receipt.
    o = get_object_or_404(Opinion, pk=posted_id(request, "opinion"), problem=problem,
                          anonymous=False)
    return o, dict(channel=request.POST.get("channel", ""),
                   outcome=request.POST.get("outcome", ""), note=request.POST.get("text", ""))


def poster(request, problem):
    return problem, dict(text=request.POST.get("text", ""),
                         signed=request.POST.get("signed") == "1")


def reason(request, problem):
    return problem, dict(reason=request.POST.get("text", ""),
                         expected_version=_version(request))


def note(request, problem):
    return problem, dict(note=request.POST.get("text", ""),
                         expected_version=_version(request))


# What a refused form keeps, by its card: the fields typed into it (never the photos, which
# a browser does not let a page put back).
_KEPT_FIELDS = ("text", "evidence", "signed", "opinion", "channel", "outcome")


def kept(request: HttpRequest) -> dict:
    """What was typed into the form that was refused, to show it again: `form` names its
    card ("claim", "verify", "assign" …) and the other keys are its fields."""
    a = BY_FORM.get(request.POST.get("do", ""))
    if a is None or not a.form.card:
        return {}
    out = {k: request.POST.get(k, "") for k in _KEPT_FIELDS}
    out["form"] = a.form.card.rsplit("/", 1)[-1].removesuffix(".html")
    return out


def take(request: HttpRequest, problem: Problem, member, allowed=None) -> str:
    """Take the action a form posted (`do`) on `problem`, as `member`; the message to show.
    A page may accept only some actions (`allowed`: kinds). The domain checks who may."""
    a = BY_FORM.get(request.POST.get("do", ""))
    if a is None or (allowed is not None and a.kind not in allowed):
        raise InvalidInput(_("Unknown action."))
    target, kwargs = globals()[a.form.fields](request, problem)
    getattr(problem_actions, a.call.fn)(target, actor=member, **a.call.fixed, **kwargs)
    return str(a.form.done)
