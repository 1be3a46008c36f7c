"""The clerk's summarising desk (归纳): unsummarised opinions, grouped into a new or an
existing problem, with the owner, measures and deadline. Proposed groups (the grouping
app) load into their own place on the page."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from zhenggai.campaigns.access import may_view
from zhenggai.campaigns.models import CampaignRole, Role
from zhenggai.errors import Conflict, DomainError, InvalidInput
from zhenggai.grouping import proposals, service
from zhenggai.grouping.views import closeness
from zhenggai.ids import parse as parse_id
from zhenggai.ids import parse_all
from zhenggai.opinions import photos as opinion_photos
from zhenggai.opinions.models import Opinion
from zhenggai.org.models import Category, Member, Unit
from zhenggai.problems import actions, queries
from zhenggai.problems.models import Problem, Scope

from ..pages import posted_id, query_id, role_page, status_of
from ..widgets import QuickSelect


class PlanForm(forms.Form):
    """Owner, owning unit, measures and deadline: used by the desk and the problem page."""

    scope = forms.ChoiceField(choices=Scope.choices, initial=Scope.COMMON,
                              label=gettext_lazy("scope"))
    owner = forms.ModelChoiceField(queryset=Member.objects.none(), required=False,
                                   widget=QuickSelect,
                                   label=gettext_lazy("owner (person)"))
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False,
                                  widget=QuickSelect,
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
        owner = self.fields["owner"]
        owner.queryset = Member.objects.filter(
            pk__in=CampaignRole.objects.filter(campaign=campaign, role=Role.OWNER)
            .values("member_id")).order_by("name")
        # Shown from (id, name) rows: a city campaign's owners are a thousand model objects
        # otherwise. What is posted is still checked against the queryset.
        owner.widget.choices = [("", owner.empty_label),
                                *owner.queryset.values_list("pk", "name")]
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
                                      widget=QuickSelect,
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


#: Opinions per page of the desk's own list (the proposals come first; the list is paged).
LIST_PAGE = 25


def _opinion_list(request, campaign) -> dict:
    """The desk's own list of unsummarised opinions: searched by words, filtered by unit
    and category, paged (keyset, after the last shown)."""
    qs = queries.unsummarised(campaign, after=query_id(request, "after"))
    q = (request.GET.get("q") or "").strip()[:200]
    unit, category = query_id(request, "unit"), query_id(request, "category")
    if q:
        qs = qs.filter(text__icontains=q)
    if unit:
        qs = qs.filter(unit_id=unit)
    if category:
        qs = qs.filter(category_id=category)
    rows = list(qs[:LIST_PAGE + 1])
    more = rows[LIST_PAGE - 1].pk if len(rows) > LIST_PAGE else None
    keep = {k: v for k, v in (("q", q), ("unit", unit), ("category", category)) if v}
    return {"opinions": opinion_photos.attach(rows[:LIST_PAGE]), "more": more,
            "filters": keep, "filter_query": urlencode(keep),
            "more_query": urlencode({**keep, "after": more or ""})}


def _progress(campaign) -> dict:
    prog = proposals.progress(campaign)
    top = [u for u in prog.units if u.total > u.done][:8] or prog.units[:8]
    names = Unit.objects.in_bulk([u.unit_id for u in top if u.unit_id])
    return {"total": f"{prog.total:,}", "done": f"{prog.done:,}", "n_total": prog.total,
            "n_done": prog.done,
            "percent": round(100 * prog.done / prog.total) if prog.total else 100,
            "units": [{"name": names.get(u.unit_id, "—") if u.unit_id else "—",
                       "total": f"{u.total:,}", "done": f"{u.done:,}",
                       "left": f"{u.total - u.done:,}"}
                      for u in top],
            "more_units": max(0, len(prog.units) - len(top))}


def _proposals(request, campaign, clerk, number: int | None = None) -> dict:
    """A page of the stored proposals for this clerk (grouping/proposals.py holds them)."""
    if number is None:
        number = query_id(request, "p") or 0
    shown = proposals.page(campaign, clerk, number)
    if not shown and number:  # past the end (taken meanwhile): the first page
        number, shown = 0, proposals.page(campaign, clerk, 0)
    left = proposals.available(campaign, clerk).count()
    return {"shown": shown, "number": number, "left": left,
            "next": number + 1 if left > (number + 1) * proposals.PER_PAGE else None,
            "prev": number - 1 if number else None,
            "computed": proposals.ProposalRun.objects.filter(
                campaign=campaign, made_at__isnull=False).exists(),
            "progress": _progress(campaign), "campaign": campaign}


@role_page("summarising_desk")
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest) -> HttpResponse:
    campaign, clerk = request.campaign, request.member
    if request.method == "GET" and request.GET.get("part") == "list":
        # the list alone, read again after a decision (htmx: desk-changed)
        return render(request, "web/_desk_list.html", {
            **_opinion_list(request, campaign),
            "show_authors": may_view(clerk, campaign, "opinion_authors")})
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
    return render(request, "web/desk.html", {
        "campaign": campaign, **_opinion_list(request, campaign), "form": form,
        "error": error, "targets": _targets(campaign, [], ""),
        "show_authors": may_view(clerk, campaign, "opinion_authors"),
        "units": Unit.objects.filter(org_id=campaign.org_id).order_by("name"),
        "categories": Category.objects.filter(org_id=campaign.org_id).order_by("name"),
        "prop": _proposals(request, campaign, clerk),
    }, status=status)


@role_page("summarising_desk")
@require_http_methods(["GET"])
def desk_proposals(request: HttpRequest) -> HttpResponse:
    """A page of proposals (htmx: the pager of the desk)."""
    return render(request, "web/_desk_proposals.html",
                  {"prop": _proposals(request, request.campaign, request.member)})


@role_page("summarising_desk")
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """One decision on a proposal: accept (a new problem), into (an existing problem),
    skip, or split (one opinion off). Answers the proposals afresh (htmx) or the desk; a
    proposal taken or held by another clerk is a 409 with its message."""
    campaign, clerk = request.campaign, request.member
    action = "split" if "split" in request.POST else request.POST.get("action")
    error, status, done = None, 200, None
    try:
        if action == "accept":
            p = proposals.take(campaign, pk, clerk, summary=request.POST.get("summary", ""))
            done = (_("Problem #%(id)s is made from %(n)s opinions.")
                    % {"id": p.pk, "n": p.n_opinions}, p)
        elif action == "into":
            into = queries.open_problems(campaign).filter(
                pk=posted_id(request, "problem")).first()
            if into is None:
                raise InvalidInput(_("Choose the problem to add them to."))
            p = proposals.take(campaign, pk, clerk, into=into)
            done = (_("Added to problem #%(id)s.") % {"id": p.pk}, p)
        elif action == "skip":
            proposals.skip(campaign, pk, clerk)
        elif action == "split":
            oid = parse_id(request.POST.get("split", ""))
            if oid is None:
                raise InvalidInput(_("Mark the opinion to split off (keys 1–9)."))
            proposals.split_off(campaign, pk, oid, clerk)
            done = (_("The opinion is split off: it waits on its own."), None)
        else:
            raise InvalidInput(_("Unknown action."))
    except Conflict as e:
        proposals.mark_stale_if_changed(campaign, pk)
        error, status = str(e), 409
    except DomainError as e:
        error, status = str(e), status_of(e)
    number = query_id(request, "p") or 0
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif done:
            messages.success(request, done[0])
        return redirect(reverse("web:desk") + (f"?p={number}" if number else ""))
    resp = render(request, "web/_desk_proposals.html", {
        "prop": _proposals(request, campaign, clerk, number), "error": error,
        "done": done[0] if done else None, "made": done[1] if done else None},
        status=status)
    if done and done[1] is not None:
        resp["HX-Trigger"] = "desk-changed"  # the desk's list of opinions, read again
    return resp


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
