"""The lists that grow: every problem of a campaign, and every opinion, searched, filtered
and sorted for the /problems/ and /opinions/ pages. `Filters` is the one filter of every
searchable list: the owner's problems and the verification queue (queries.py) are narrowed
by it too (`narrow`), and every list's filter form offers `filter_choices`.

Reads only; who may open which list is campaigns/access.py. Each filter is a column the
indexes cover (a unit's subtree is read as its unit ids first, by the `path` index), each
sort ends on the key so that pages never overlap and is read along an index (campaign,
sort field, id), and a page is found first by its keys alone, then read with what it
shows (owner, unit, category) in one more query: the database never joins and sorts a
whole campaign to show fifty rows.

An anonymous opinion is dated to its day and its id is random: sorted by (day, id) it
shows no order finer than the day, and nothing here reads a named opinion's time either,
so the anonymous ones cannot be placed between named ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from zhenggai.campaigns.models import Campaign, CampaignRole, Role
from zhenggai.ids import parse as parse_id
from zhenggai.opinions.models import Opinion
from zhenggai.org.models import Category, Member, Unit

from . import lifecycle
from .models import Problem

PER_PAGE = 50
MAX_SEARCH = 200  # characters of a search that are used
MAX_OWNERS = 200  # owners a filter offers when they are those of a list's problems

# Problems: the sorts a page offers, each ending on the key.
PROBLEM_SORTS = {
    "updated": (_("recently changed"), (F("updated_at").desc(), F("pk").desc())),
    "deadline": (_("deadline, soonest first"), (F("deadline").asc(nulls_last=True), F("pk").asc())),
    "opinions": (_("most opinions"), (F("n_opinions").desc(), F("pk").desc())),
    "number": (_("number"), (F("pk").asc(),)),
}
# Opinions: by their day only (see the module's note).
OPINION_SORTS = {
    "newest": (_("newest day first"), (F("received_on").desc(), F("pk").desc())),
    "oldest": (_("oldest day first"), (F("received_on").asc(), F("pk").asc())),
}
UNSUMMARISED = "unsummarised"  # an opinion's "state" while it is in no problem
UNSUMMARISED_LABEL = _("not yet in a problem")
ALL_STATES = (*lifecycle.STATES, UNSUMMARISED)


@dataclass
class Filters:
    """What a list is asked for: a search text, a unit (and the units under it), a
    category, an owner, a state, only the overdue ones, a sort."""

    q: str = ""
    unit: int | None = None
    category: int | None = None
    owner: int | None = None
    state: str = ""
    overdue: bool = False
    sort: str = ""
    number: int | None = field(default=None, repr=False)  # "#123" or "123" in the search

    @classmethod
    def from_query(cls, get, sorts: dict | None = None, states=None) -> Filters:
        """From a page's query string; anything unknown is ignored, never an error. `sorts`:
        the list's sorts (none: the list has one order); `states`: the states it may be
        narrowed to (by default every state, and "not yet in a problem")."""
        q = " ".join((get.get("q") or "").split())[:MAX_SEARCH]
        state = get.get("state") or ""
        if state not in (ALL_STATES if states is None else states):
            state = ""
        sort = get.get("sort") or ""
        if sorts:
            sort = sort if sort in sorts else next(iter(sorts))
        f = cls(q=q, unit=parse_id(get.get("unit") or ""),
                category=parse_id(get.get("category") or ""),
                owner=parse_id(get.get("owner") or ""), state=state,
                overdue=get.get("overdue") == "1",
                sort=sort if sorts else "")
        digits = q.lstrip("#")
        if digits.isdigit() and len(digits) <= 18:
            f.number = int(digits)
        return f

    def active(self) -> bool:
        return bool(self.q or self.unit or self.category or self.owner or self.state
                    or self.overdue)

    def query(self) -> str:
        """What is asked, as a query string (without `?`): for links that keep the filters
        and set something else (a page, a problem to open)."""
        pairs = [("q", self.q), ("unit", self.unit or ""), ("category", self.category or ""),
                 ("owner", self.owner or ""), ("state", self.state),
                 ("overdue", "1" if self.overdue else ""), ("sort", self.sort)]
        return urlencode([(k, v) for k, v in pairs if v])


def filter_choices(campaign: Campaign, owners_of: QuerySet | None = None, *,
                   owners: bool = True) -> dict[str, list[tuple[int, str]]]:
    """The options of a list's filter form (`Filters`), as (id, label) in the user's
    language: the organisation's units in tree order, indented by depth (U+3000 a level),
    its categories by code, and the people responsible by name: the campaign's owners, or
    with `owners_of` (a list's problems) the owners of those problems, the first
    MAX_OWNERS; none with `owners=False` (a list of one's own problems)."""
    units = [(u.pk, "\u3000" * (u.path.count("/") - 1) + u.label())
             for u in Unit.objects.filter(org_id=campaign.org_id).order_by("path")]
    categories = [(c.pk, c.label())
                  for c in Category.objects.filter(org_id=campaign.org_id).order_by("code")]
    people: list[tuple[int, str]] = []
    if owners:
        who = (owners_of.order_by().values("owner_id") if owners_of is not None else
               CampaignRole.objects.filter(campaign=campaign, role=Role.OWNER)
               .values("member_id"))
        named = Member.objects.filter(pk__in=who).order_by("name", "pk").values_list("pk", "name")
        people = list(named if owners_of is None else named[:MAX_OWNERS])
    return {"units": units, "categories": categories, "owners": people}


def _like(q: str) -> str:
    """Chinese has no case: a search without Latin letters is a plain LIKE (PostgreSQL
    would otherwise upper-case every row's text to compare)."""
    return "icontains" if any(c.isascii() and c.isalpha() for c in q) else "contains"


def subtree(org_id: int, unit_id: int) -> list[int]:
    """The unit and every unit under it (by the `path` index)."""
    u = Unit.objects.filter(org_id=org_id, pk=unit_id).values_list("path", flat=True).first()
    if u is None:
        return []
    return list(Unit.objects.filter(Q(path=u) | Q(path__startswith=u + "/"), org_id=org_id)
                .values_list("pk", flat=True))


def overdue_q(day: dt.date, prefix: str = "") -> Q:
    """Past the deadline and not yet claimed: the figures' overdue rule (Problem.days_overdue)."""
    return Q(**{f"{prefix}deadline__lt": day, f"{prefix}state__in": sorted(lifecycle.UNCLAIMED)})


def narrow(qs: QuerySet, f: Filters, org_id: int, day: dt.date) -> QuerySet:
    """Problems of `qs` that match `f`: words in the summary or the measures (or the
    problem's number), a unit with the units under it, a category, an owner, a state, past
    the deadline and not yet claimed as of `day`. Every list of problems is narrowed here:
    /problems/, the owner's problems, the verification queue."""
    if f.q:
        like = _like(f.q)
        text = Q(**{f"summary__{like}": f.q}) | Q(**{f"measures__{like}": f.q})
        qs = qs.filter(text | Q(pk=f.number) if f.number else text)
    if f.unit:
        qs = qs.filter(unit_id__in=subtree(org_id, f.unit))
    if f.category:
        qs = qs.filter(category_id=f.category)
    if f.owner:
        qs = qs.filter(owner_id=f.owner)
    if f.state in lifecycle.STATES:
        qs = qs.filter(state=f.state)
    if f.overdue:
        qs = qs.filter(overdue_q(day))
    return qs


def problems(campaign: Campaign, f: Filters, day: dt.date) -> QuerySet:
    """The campaign's problems that match `f`, in its sort, with owner, unit and category."""
    qs = narrow(Problem.objects.filter(campaign=campaign), f, campaign.org_id, day)
    return qs.order_by(*PROBLEM_SORTS[f.sort or "updated"][1])


def opinions(campaign: Campaign, f: Filters, day: dt.date) -> QuerySet:
    """The campaign's opinions that match `f`: the unit and category they were given, and
    the owner, state and deadline of the problem they are in; by day, then by their random
    id. Never a time: `received_at` is not even read."""
    qs = Opinion.objects.filter(campaign=campaign)
    if f.q:
        text = Q(**{f"text__{_like(f.q)}": f.q})
        qs = qs.filter(text | Q(problem_id=f.number) if f.number else text)
    if f.unit:
        qs = qs.filter(unit_id__in=subtree(campaign.org_id, f.unit))
    if f.category:
        qs = qs.filter(category_id=f.category)
    # What is asked of their problem: the problems first (by the problem indexes), then
    # their opinions (by the (problem, campaign) index), not a join of every opinion.
    problem = Q()
    if f.owner:
        problem &= Q(owner_id=f.owner)
    if f.state in lifecycle.STATES:
        problem &= Q(state=f.state)
    if f.overdue:
        problem &= overdue_q(day)
    if problem:
        qs = qs.filter(problem_id__in=Problem.objects.filter(problem, campaign=campaign)
                       .values("pk"))
    if f.state == UNSUMMARISED:
        qs = qs.filter(problem__isnull=True)
    return qs.order_by(*OPINION_SORTS[f.sort or "newest"][1])


def rows(page_qs: QuerySet) -> list:
    """The rows of one page (a slice of `problems` or `opinions`): their keys first, by the
    list's index, then the rows with what they show, in the list's order."""
    keys = list(page_qs.values_list("pk", flat=True))
    model = page_qs.model
    if model is Problem:
        found = Problem.objects.select_related("owner", "unit", "category")
    else:
        found = (Opinion.objects.select_related("unit", "category", "author", "problem")
                 .defer("received_at", "source_ref"))
    by_key = {r.pk: r for r in found.filter(pk__in=keys)}
    return [by_key[k] for k in keys if k in by_key]
