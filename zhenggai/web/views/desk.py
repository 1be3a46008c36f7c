"""The clerk's summarising desk (归纳): unsummarised opinions, grouped into a new or an
existing problem, with the owner, measures and deadline. Proposed groups (the grouping
app) load into their own place on the page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from zhenggai.campaigns.access import may_view
from zhenggai.campaigns.models import CampaignRole, Role
from zhenggai.errors import DomainError, InvalidInput
from zhenggai.grouping import service
from zhenggai.grouping.views import closeness
from zhenggai.ids import parse as parse_id
from zhenggai.ids import parse_all
from zhenggai.opinions import photos as opinion_photos
from zhenggai.opinions.models import Opinion
from zhenggai.org.models import Category, Member, Unit
from zhenggai.problems import actions, queries
from zhenggai.problems.models import Problem, Scope

from ..pages import posted_id, query_id, role_page, status_of


class PlanForm(forms.Form):
    """Owner, owning unit, measures and deadline: used by the desk and the problem page."""

    scope = forms.ChoiceField(choices=Scope.choices, initial=Scope.COMMON,
                              label=gettext_lazy("scope"))
    owner = forms.ModelChoiceField(queryset=Member.objects.none(), required=False,
                                   label=gettext_lazy("owner (person)"))
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False,
                                  label=gettext_lazy("owning unit"))
    measures = forms.CharField(required=False, label=gettext_lazy("measures (整改措施)"),
                               widget=forms.Textarea(attrs={"rows": 2}))
    # A date input takes and shows ISO days (YYYY-MM-DD) whatever the page's language: a
    # localised value ("1957/11/19") would come back empty and lose the deadline.
    deadline = forms.DateField(required=False, label=gettext_lazy("deadline"),
                               widget=forms.DateInput(attrs={"type": "date"},
                                                      format="%Y-%m-%d"))

    def __init__(self, *args, campaign, **kw):
        super().__init__(*args, **kw)
        self.fields["owner"].queryset = Member.objects.filter(
            pk__in=CampaignRole.objects.filter(campaign=campaign, role=Role.OWNER)
            .values("member_id")).order_by("name")
        self.fields["unit"].queryset = Unit.objects.filter(org_id=campaign.org_id)
        if campaign.uses_capa:  # corrective and preventive action (ISO 9001 §10.2)
            self.fields["root_cause"] = forms.CharField(
                required=False, label=gettext_lazy("root cause"),
                widget=forms.Textarea(attrs={"rows": 2}))
            self.fields["preventive"] = forms.CharField(
                required=False, label=gettext_lazy("preventive measure (so it does not recur)"),
                widget=forms.Textarea(attrs={"rows": 2}))

    def capa(self) -> dict:
        """The root cause and preventive measure, where the campaign records them."""
        d = self.cleaned_data
        return {k: d[k] for k in ("root_cause", "preventive") if k in self.fields}


class NewProblemForm(PlanForm):
    summary = forms.CharField(max_length=500, label=gettext_lazy("summary of the problem"))
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False,
                                      label=gettext_lazy("category"))
    field_order = ["summary", "category", "scope", "owner", "unit", "measures", "deadline"]

    def __init__(self, *args, campaign, **kw):
        super().__init__(*args, campaign=campaign, **kw)
        self.fields["category"].queryset = Category.objects.filter(org_id=campaign.org_id)


def _chosen(request, campaign) -> list[Opinion]:
    ids = parse_all(request.POST.getlist("opinion"))
    if not ids:
        raise InvalidInput(_("Tick at least one opinion."))
    return list(Opinion.objects.filter(campaign=campaign, pk__in=ids))


@role_page("summarising_desk")
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest) -> HttpResponse:
    campaign, clerk = request.campaign, request.member
    form = NewProblemForm(request.POST or None, campaign=campaign)
    error, status = None, 200
    if request.method == "POST":
        try:
            opinions = _chosen(request, campaign)
            if request.POST.get("action") == "add":
                problem = Problem.objects.filter(pk=posted_id(request, "problem"),
                                                 campaign=campaign).first()
                if problem is None:
                    raise InvalidInput(_("Choose the problem to add them to."))
                actions.add_opinions(problem, opinions, actor=clerk)
                messages.success(request, _("Added to problem #%(id)s.") % {"id": problem.pk})
                return redirect(request.get_full_path())
            if not form.is_valid():
                raise InvalidInput(_("Check the fields marked below."))
            d = form.cleaned_data
            p = actions.create_problem(
                campaign, opinions, actor=clerk, summary=d["summary"], category=d["category"],
                scope=d["scope"], owner=d["owner"], unit=d["unit"], measures=d["measures"],
                deadline=d["deadline"], **form.capa())
            messages.success(request, _("Problem #%(id)s created.") % {"id": p.pk})
            return redirect(request.get_full_path())
        except DomainError as e:
            error, status = str(e), status_of(e)
    rows = list(queries.unsummarised(campaign, after=query_id(request, "after"))[:queries.PAGE + 1])
    more = (
        rows[queries.PAGE - 1].pk if len(rows) > queries.PAGE else None
    )  # continue after the last shown
    return render(request, "web/desk.html", {
        "campaign": campaign, "opinions": opinion_photos.attach(rows[:queries.PAGE]),
        "more": more, "form": form,
        "error": error, "targets": _targets(campaign, [], ""),
        "show_authors": may_view(clerk, campaign, "opinion_authors"),
    }, status=status)


#: How many problems the merge target offers at once.
TARGETS = 12


def _targets(campaign, ticked: list[Opinion], q: str) -> dict:
    """The problems offered as the merge target: those most like the ticked opinions (the
    grouping engine's ranking, grouping/service.py), or those a search finds (its number,
    words of its summary, or problems like the words), else the most recently changed.
    Only problems still open to grouping (not resolved, not declined)."""
    open_ = queries.open_problems(campaign)
    q = (q or "").strip()[:200]
    found: list = []
    if q:
        number = parse_id(q.lstrip("#"))
        if number is not None:
            found += [service.ProblemSuggestion(p, 1.0, 0)
                      for p in open_.filter(pk=number)]
        found += service.problems_like(campaign, [q], k=TARGETS, among=open_)
        seen = {s.problem.pk for s in found}
        found += [service.ProblemSuggestion(p, 0.0, 0)
                  for p in queries.open_problems(campaign, q).exclude(pk__in=seen)[:TARGETS]]
        how = "search"
    elif ticked:
        found = service.problems_like(campaign, [o.text for o in ticked[:20]], k=TARGETS,
                                      among=open_)
        how = "similar"
    else:
        found = [service.ProblemSuggestion(p, 0.0, 0) for p in open_[:TARGETS]]
        how = "recent"
    seen, items = set(), []
    for s in found:
        if s.problem.pk in seen:
            continue
        seen.add(s.problem.pk)
        items.append({"problem": s.problem, "similar": s.opinions,
                      "closeness": closeness(s.score) if s.score > 0 else ""})
    owners = {p.pk: p for p in Problem.objects.filter(pk__in=seen)
              .select_related("owner", "unit")}
    for it in items:
        it["problem"] = owners.get(it["problem"].pk, it["problem"])
    return {"items": items[:TARGETS], "how": how, "q": q}


@role_page("summarising_desk")
@require_POST
def targets(request: HttpRequest) -> HttpResponse:
    """The merge target, ranked for the opinions ticked now or found by the clerk's search
    (htmx: the desk posts its form here when a tick or the search box changes)."""
    campaign = request.campaign
    ids = parse_all(request.POST.getlist("opinion"))[:200]
    ticked = list(Opinion.objects.filter(campaign=campaign, pk__in=ids)) if ids else []
    return render(request, "web/_desk_targets.html",
                  {"targets": _targets(campaign, ticked, request.POST.get("q", ""))})
