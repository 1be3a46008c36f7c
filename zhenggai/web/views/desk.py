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
from django.views.decorators.http import require_http_methods

from zhenggai.campaigns.access import may_view
from zhenggai.campaigns.models import CampaignRole, Role
from zhenggai.errors import DomainError, InvalidInput
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
        "error": error, "problems": queries.open_problems(campaign, request.GET.get("q", ""))[:100],
        "show_authors": may_view(clerk, campaign, "opinion_authors"),
    }, status=status)
