"""A worker's pages: submit an opinion (named or anonymous), see the receipt once, follow
one's opinions, and check a case by receipt: answer "is it fixed?", write a poster,
contest a decline."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zhenggai.campaigns.access import member_of
from zhenggai.errors import DomainError, InvalidInput
from zhenggai.opinions import intake, receipts
from zhenggai.opinions import photos as opinion_photos
from zhenggai.opinions.models import Channel, Opinion
from zhenggai.org import clock
from zhenggai.org.models import Category, Unit
from zhenggai.problems import actions as problem_actions
from zhenggai.problems import lifecycle, queries
from zhenggai.problems.models import Problem
from zhenggai.problems.photos import MAX_BYTES, MAX_PHOTOS
from zhenggai.security.address import client_address

from ..pages import campaign_for, home_org, posted_id, status_of
from ..widgets import QuickSelect


class OpinionForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Your opinion"), max_length=intake.MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 5}))
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False,
                                  widget=QuickSelect,
                                  label=gettext_lazy("Which unit is it about? (optional)"))
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False,
                                      widget=QuickSelect,
                                      label=gettext_lazy("What kind of matter? (optional)"))
    anonymous = forms.BooleanField(required=False,
                                   label=gettext_lazy("Submit anonymously (无名提案)"))

    def __init__(self, *args, org_id: int, **kw):
        super().__init__(*args, **kw)
        self.fields["unit"].queryset = Unit.objects.filter(org_id=org_id)
        self.fields["category"].queryset = Category.objects.filter(org_id=org_id)

    def clean_text(self) -> str:
        # Intake's own rule for the text (cleaned by zhenggai/text.py; invisible-only text
        # is empty), shown beside the field.
        try:
            return intake.text_of(self.cleaned_data["text"])
        except DomainError as e:
            raise forms.ValidationError(str(e)) from None


@never_cache
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    """Anyone inside may submit; without signing in, the opinion can only be anonymous."""
    org = home_org(request)
    campaign = campaign_for(request, org.pk if org else None)
    member = member_of(request.user)
    if campaign is None:
        return render(request, "web/submit.html", {"campaign": None}, status=404)
    form = OpinionForm(request.POST or None, org_id=campaign.org_id)
    max_photos = MAX_PHOTOS
    error, status = None, 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        anonymous = d["anonymous"] or member is None
        # "Me too" (附议) on a suggested problem: the same opinion, joined to that problem.
        me_too = None
        if "me_too" in request.POST:
            me_too = Problem(pk=posted_id(request, "me_too"))  # intake reads it afresh
        try:
            done = intake.submit_opinion(
                campaign, text=d["text"], channel=Channel.WEB, anonymous=anonymous,
                author=None if anonymous else member, unit=d["unit"], category=d["category"],
                at=clock.now(campaign.org_id),  # the organisation's clock
                photos=_photos(request), me_too=me_too)
        except DomainError as e:
            error, status = str(e), status_of(e)  # the rule's own status, as in the API
        else:
            # Named and anonymous alike answer 200 in place (no redirect to follow): nothing
            # in the exchange tells one from the other. The receipt is shown in this response
            # and nowhere else: never stored, never in a URL, not cached.
            ctx = {"receipt": done.receipt, "opinion": done.opinion, "campaign": campaign,
                   "me_too": done.me_too}
            resp = render(request, "web/receipt_once.html" if done.receipt
                          else "web/submitted.html", ctx)
            resp["Cache-Control"] = "no-store"
            return resp
    if form.errors:
        status = 400
    return render(request, "web/submit.html",
                  {"form": form, "campaign": campaign, "error": error,
                   "signed_in": member is not None, "max_photos": max_photos,
                   "max_mb": MAX_BYTES // (1024 * 1024)}, status=status)


def _photos(request: HttpRequest) -> list[bytes]:
    """The uploaded photos' bytes, for photos.clean to check (size, format, pixels): no more
    than one byte past the limit is read of each, enough for clean to refuse a big one."""
    files = request.FILES.getlist("photos")
    if len(files) > MAX_PHOTOS:  # before reading any of them
        raise InvalidInput(_("At most %(n)s photos with one opinion."), n=MAX_PHOTOS)
    return [f.read(MAX_BYTES + 1) for f in files]


def _case_context(opinion: Opinion, *, inline: bool = False) -> dict:
    p = opinion.problem
    if not hasattr(opinion, "shown_photos"):
        opinion_photos.attach([opinion], inline=inline)
    facts = queries.case_facts(p, opinion)
    return {
        "opinion": opinion, "inline": inline, "problem": p, "story": queries.story(p, opinion),
        **facts,
        # Asked until answered: the answer then shows in the case, not the question again.
        "questionnaire": queries.asks_satisfaction(p) and not facts["answer"],
        # The lifecycle says when a proposer may contest (a declined problem).
        "declined": p is not None and "contest" in lifecycle.allowed_actions(p.state),
    }


@login_required
@require_http_methods(["GET", "POST"])
def my_opinions(request: HttpRequest) -> HttpResponse:
    member = member_of(request.user)
    if member is None:
        raise PermissionDenied
    error = done = None
    status = 200
    if request.method == "POST":
        opinion = get_object_or_404(Opinion, pk=posted_id(request, "opinion"),
                                    author=member)
        try:
            done = _answer(request, opinion, member)
        except DomainError as e:
            error, status = str(e), status_of(e)
    cases = [_case_context(o) for o in
             opinion_photos.attach(queries.my_opinions(member)[:queries.PAGE])]
    return render(request, "web/my_opinions.html",
                  {"cases": cases, "error": error, "done": done}, status=status)


def _answer(request: HttpRequest, opinion: Opinion, actor) -> str:
    """The proposer's three acts on their case, by member or by receipt holder."""
    what = request.POST.get("do")
    if what not in ("satisfied", "not_satisfied", "poster", "contest"):
        raise DomainError(_("Unknown action."))
    problem = problem_actions.proposers_problem(opinion)
    if what in ("satisfied", "not_satisfied"):
        problem_actions.proposer_answer(opinion, actor=actor, outcome=what)
        return (_("Thank you: you are satisfied.") if what == "satisfied" else
                _("Thank you. It goes back to the worker representatives to be checked."))
    if what == "poster":
        problem_actions.post_poster(problem, actor=actor, text=request.POST.get("text", ""),
                                    signed=request.POST.get("signed") == "1"
                                    and not opinion.anonymous)
        return _("Your poster is on the board.")
    problem_actions.contest(problem, actor=actor, reason=request.POST.get("text", ""))
    return _("You contested the decision. The problem is open again.")


@never_cache
@require_http_methods(["GET", "POST"])
def check_receipt(request: HttpRequest) -> HttpResponse:
    """The anonymous proposer's view of their case. The code travels only in POST bodies."""
    code = request.POST.get("receipt", "")
    ctx: dict = {"receipt": code}
    status, retry_after = 200, None
    if request.method == "POST":
        holder = None
        try:
            holder = receipts.redeem(code, address=client_address(request))
            if request.POST.get("do"):
                ctx["done"] = _answer(request, holder.opinion, holder)
        except DomainError as e:
            ctx["error"], status = str(e), status_of(e)
            retry_after = getattr(e, "retry_after", None)
        if holder is not None:
            opinion = Opinion.objects.select_related("problem").get(pk=holder.opinion.pk)
            ctx["case"] = _case_context(opinion, inline=True)
            ctx["receipt"] = receipts.pretty(receipts.normalise(code))
    resp = render(request, "web/check_receipt.html", ctx, status=status)
    resp["Cache-Control"] = "no-store"
    if retry_after:  # throttled or busy
        resp["Retry-After"] = str(retry_after)
    return resp
