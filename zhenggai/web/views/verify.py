"""The representative's verification queue (逐条核对): one problem at a time, its opinions,
the claim and the history side by side; and the review rounds' progress."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zhenggai.errors import DomainError
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions, lifecycle, lists, queries, rules
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.models import Problem

from ..pages import posted_id, query_id, role_page, status_of, today
from ..problem_forms import take
from .lists import page_of

VERIFY = (Kind.VERIFY_PASSED, Kind.VERIFY_NOT_THOROUGH, Kind.CHECK_HOLDS,
          Kind.CHECK_DETERIORATED)


REP_STATES = (lifecycle.CLAIMED, lifecycle.VERIFIED, lifecycle.CLOSED)  # in a rep's queue
SHOWN_OPINIONS = 3  # beside the decision; the rest folded, so the buttons stay in reach


@role_page("verification_queue")
@require_http_methods(["GET", "POST"])
def queue(request: HttpRequest) -> HttpResponse:
    rep, campaign = request.member, request.campaign
    day = today(campaign.org_id)
    error, status = None, 200
    if request.method == "POST":
        p = get_object_or_404(Problem, pk=posted_id(request, "problem"), campaign=campaign)
        try:
            take(request, p, rep, allowed=VERIFY)
        except DomainError as e:
            error, status = str(e), status_of(e)
        else:
            messages.success(request, _("#%(id)s: recorded. Next one.") % {"id": p.pk})
            return redirect("web:verify")
    f = lists.Filters.from_query(request.GET, states=REP_STATES)
    listing = queries.verify_queue(rep, campaign, day, f)
    # The whole queue, unfiltered: a problem opened by number must be in it, and the
    # filter offers the owners of its problems.
    queue = queries.verify_queue(rep, campaign, day)
    asked, after = query_id(request, "problem"), query_id(request, "after")
    if asked is not None:  # opened from the queue's list: only a problem in the queue
        problem = get_object_or_404(queue, pk=asked)
    elif f.active():
        problem = (listing.filter(pk__gt=after) if after else listing).first()
    else:
        problem = queries.next_to_verify(rep, campaign, day, after=after)
    page = page_of(listing, request.GET.get("page"), queries.LIST_PAGE)
    ctx = {
        "campaign": campaign, "problem": problem, "error": error,
        "counts": queries.queue_counts(rep, campaign, day),
        "rounds": queries.rounds(campaign, limit=1),
        "f": f, "page": page, "today": day,
        "states": [(s, lifecycle.STATE_LABELS[s]) for s in REP_STATES],
        **lists.filter_choices(campaign, owners_of=queue),
    }
    if problem is not None:
        opinions = list(Opinion.objects.filter(problem=problem).order_by("received_on", "pk")
                        [:100])
        ctx.update(
            opinions=opinions[:SHOWN_OPINIONS], more_opinions=opinions[SHOWN_OPINIONS:],
            n_opinions=len(opinions),
            claim=problem.claims.select_related("by").prefetch_related("photos")
            .order_by("-event__seq").first(), overdue=problem.days_overdue(day),
            events=queries.events_of(problem), recheck=problem.state != lifecycle.CLAIMED)
    return render(request, "web/verify.html", ctx, status=status)


@role_page("review_rounds")
@require_http_methods(["GET", "POST"])
def review_rounds(request: HttpRequest) -> HttpResponse:
    campaign, member = request.campaign, request.member
    error, status = None, 200
    can_start = rules.may_start_review_round(member, campaign)
    if request.method == "POST":
        try:
            starts = dt.date.fromisoformat(request.POST.get("starts_on", ""))
            ends = dt.date.fromisoformat(request.POST.get("ends_on", ""))
        except ValueError:
            error, status = _("Give the days as YYYY-MM-DD."), 400
        else:
            try:
                actions.start_review_round(
                    campaign,
                    actor=member,
                    name=request.POST.get("name", ""),
                    starts_on=starts,
                    ends_on=ends,
                )
            except DomainError as e:
                error, status = str(e), status_of(e)
            else:
                messages.success(request, _("The review round has started."))
                return redirect("web:rounds")
    return render(request, "web/rounds.html", {
        "campaign": campaign, "rounds": queries.rounds(campaign), "can_start": can_start,
        "error": error, "today": today(campaign.org_id)}, status=status)
