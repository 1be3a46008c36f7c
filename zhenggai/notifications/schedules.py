"""The scheduled work, as plain functions of the day (tests pass `today`, the worker passes
the real one). Each schedule is idempotent: what it did for a day is keyed, so a second run
of the same day's sweep does nothing.

- deadline reminders to owners, three days before and on the day;
- overdue problems put on the public board, once per overdue spell;
- consolidation re-checks handed to a representative N days after verification (N per
  campaign), never to the problem's owner or to whoever verified it;
- follow-up questionnaires to named proposers after verification; anonymous proposers get
  theirs at their next receipt check-in (`pending_questionnaire`);
- a warning to the leaders of the current campaign when it has stalled (figures/stall.py),
  once a week while it lasts;
- the anonymous acts of the days before, told to whom they concern (events.py), the
  representatives of a review round that runs, the leaders of problems long overdue;
- last, the daily summary by mail to the members who chose it (channels.digests).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from zhenggai.campaigns.models import CampaignRole, Role
from zhenggai.opinions.models import Opinion
from zhenggai.problems import lifecycle
from zhenggai.problems.models import Event, FollowUp, Problem

from . import channels, events
from .models import BoardEntry, Notification, Recheck

# A verification older than this is not asked about any more (a worker that was down for a
# while catches up within it).
QUESTIONNAIRE_WINDOW = 30


notify = channels.notify  # one notification, in the app and by mail; False if sent before


def _problems(org_id: int | None):
    qs = Problem.objects.all()
    return qs if org_id is None else qs.filter(org_id=org_id)


def deadline_reminders(today: dt.date, org_id: int | None = None) -> int:
    sent = 0
    for days_left in (3, 0):
        due = today + dt.timedelta(days=days_left)
        for p in _problems(org_id).filter(deadline=due, state__in=lifecycle.UNCLAIMED,
                                        owner__isnull=False).select_related("owner__user"):
            def subject(p=p, d=days_left):
                return (_("Due today: %(s)s") if d == 0 else
                        _("Due in 3 days: %(s)s")) % {"s": p.summary[:80]}

            def body(p=p):
                return _("Problem %(id)s is due on %(d)s and is not yet claimed as rectified."
                         ) % {"id": p.pk, "d": p.deadline.isoformat()}

            sent += notify(p.owner, Notification.Kind.DEADLINE,
                           f"deadline:{p.pk}:{due}:{days_left}", p, subject, body)
    return sent


def post_overdue(today: dt.date, org_id: int | None = None) -> int:
    """Put each newly overdue problem on the public board, once per deadline missed."""
    posted = 0
    for p in _problems(org_id).filter(deadline__lt=today, state__in=lifecycle.UNCLAIMED):
        try:
            with transaction.atomic():
                BoardEntry.objects.create(problem=p, key=f"overdue:{p.pk}:{p.deadline}",
                                          day=today, deadline=p.deadline)
                posted += 1
        except IntegrityError:
            pass
    return posted


def _verifier(p: Problem) -> int | None:
    e = (Event.objects.filter(problem=p, kind="verify_passed").order_by("-seq")
         .values_list("actor_id", flat=True).first())
    return e


def consolidation_rechecks(today: dt.date, org_id: int | None = None) -> int:
    made = 0
    for p in _problems(org_id).filter(state=lifecycle.VERIFIED, recheck_due__lte=today) \
            .select_related("campaign"):
        if Recheck.objects.filter(problem=p, due=p.recheck_due).exists():
            continue
        avoid = {p.owner_id, _verifier(p), p.last_claim_by_id} - {None}
        reps = (CampaignRole.objects.filter(campaign=p.campaign, role=Role.REPRESENTATIVE)
                .exclude(member_id__in=avoid).values_list("member_id", flat=True))
        if not reps:
            continue
        load = dict(Recheck.objects.filter(assignee_id__in=list(reps))
                    .values("assignee_id").annotate(n=Count("id"))
                    .values_list("assignee_id", "n"))
        rep_id = min(reps, key=lambda m: (load.get(m, 0), m))  # the least loaded
        try:
            with transaction.atomic():
                r = Recheck.objects.create(problem=p, due=p.recheck_due, assignee_id=rep_id)
        except IntegrityError:
            continue
        made += 1

        def subject(p=p):
            return _("Re-check due: %(s)s") % {"s": p.summary[:80]}

        def body(p=p):
            return _("Problem %(id)s was verified on %(v)s. Check that the fix still holds."
                     ) % {"id": p.pk, "v": p.verified_on.isoformat() if p.verified_on else "?"}

        notify(r.assignee, Notification.Kind.RECHECK, f"recheck:{p.pk}:{p.recheck_due}", p,
               subject, body)
    return made


def questionnaires(today: dt.date, org_id: int | None = None) -> int:
    """Named proposers of problems verified up to today are asked whether they are
    satisfied, once per verification."""
    sent = 0
    recent = today - dt.timedelta(days=QUESTIONNAIRE_WINDOW)
    for p in _problems(org_id).filter(state__in=lifecycle.VERIFIED_RESOLVED, verified_on__lte=today,
                                    verified_on__gte=recent):
        for o in Opinion.objects.filter(problem=p, anonymous=False, author__isnull=False) \
                .select_related("author__user"):
            def subject(p=p):
                return _("Is it fixed to your satisfaction? %(s)s") % {"s": p.summary[:80]}

            def body(p=p):
                return _("Your opinion was summarised into problem %(id)s, which representatives "
                         "verified as rectified on %(v)s. Tell us if you are satisfied."
                         ) % {"id": p.pk, "v": p.verified_on.isoformat()}

            sent += notify(o.author, Notification.Kind.QUESTIONNAIRE,
                           f"questionnaire:{p.pk}:{p.verified_on}:{o.pk}", p, subject, body)
    return sent


def pending_questionnaire(opinion: Opinion) -> bool:
    """Whether an anonymous proposer should be asked, at their receipt check-in, if they are
    satisfied: their problem was verified and they have not answered since."""
    p = opinion.problem
    if p is None or p.state not in lifecycle.VERIFIED_RESOLVED or p.verified_on is None:
        return False
    return not FollowUp.objects.filter(opinion=opinion, event__day__gte=p.verified_on).exists()


def stall_warnings(today: dt.date, org_id: int) -> int:
    """Warn the leaders of the organisation's current campaign that it has stalled
    (figures/stall.py: the one definition the leader's page shows too). Once per campaign
    and week while the stall lasts: a stall is news, not a daily alarm."""
    from zhenggai.campaigns.models import current_campaign
    from zhenggai.figures.stall import campaign_stall

    stall = campaign_stall(org_id, today)
    campaign = current_campaign(org_id, today) if stall else None
    if campaign is None:
        return 0
    year, week, _d = today.isocalendar()
    sent = 0
    leaders = (CampaignRole.objects.filter(campaign=campaign, role=Role.LEADER)
               .select_related("member__user").order_by("member_id"))
    for role in leaders:
        def subject(c=campaign):
            return _("The campaign has stalled: %(c)s") % {"c": c.name}

        def body(s=stall):
            if s.reason == "verification":
                return _("%(w)s claims are waiting for verification (%(b)s %(n)s days ago), "
                         "and in the last %(n)s days only %(c)s were checked. Organise the "
                         "worker representatives to verify them one by one."
                         ) % {"w": s.waiting, "b": s.waiting_before, "n": s.days,
                              "c": s.checked}
            return _("%(u)s problems are unresolved, and in the last %(n)s days nobody "
                     "claimed or checked any.") % {"u": s.unresolved, "n": s.days}

        sent += notify(role.member, Notification.Kind.STALL,
                       f"stall:{campaign.pk}:{year}-W{week:02d}:{role.member_id}", None,
                       subject, body)
    return sent


def sweep(today: dt.date | None = None) -> dict:
    """The day's sweep. Each organisation's schedules run on its own today (its clock,
    org/clock.py); `today` (for tests) makes it the same day for all of them."""
    from zhenggai.api.idempotency import purge
    from zhenggai.grouping.service import prune_log
    from zhenggai.opinions.intake import link_me_toos
    from zhenggai.opinions.shuffle import shuffle
    from zhenggai.org import clock
    from zhenggai.org.models import Organisation
    from zhenggai.problems.audit import report_drift

    prune_log()  # the grouping index's arrival log: keep anonymous arrival order briefly
    # Real time, not an organisation's clock: these are about when rows were written.
    shuffle()  # the days that are over: no order at rest dates an anonymous act
    link_me_toos()  # the finished days' anonymous "me too"s join their problems
    purge(today)  # stored replies of idempotent writes: a short window only
    out = dict.fromkeys(("deadline_reminders", "overdue_posted", "rechecks",
                         "questionnaires", "stall_warnings", "anonymous_acts_told",
                         "review_rounds", "long_overdue", "digests"), 0)
    # Stored problems that their events do not support: logged as errors (never fixed
    # silently: somebody changed the record behind the actions' back).
    out["drift"] = report_drift()
    for org in Organisation.objects.order_by("pk"):
        day = today or clock.today(org)
        for name, n in sweep_org(org.pk, day).items():
            out[name] += n
    return out


def sweep_org(org_id: int, today: dt.date) -> dict:
    return {
        "deadline_reminders": deadline_reminders(today, org_id),
        "overdue_posted": post_overdue(today, org_id),
        "rechecks": consolidation_rechecks(today, org_id),
        "questionnaires": questionnaires(today, org_id),
        "stall_warnings": stall_warnings(today, org_id),
        "anonymous_acts_told": events.tell_anonymous(today, org_id),
        "review_rounds": events.review_rounds(today, org_id),
        "long_overdue": events.long_overdue(today, org_id),
        # Last: the day's summary holds what the schedules above told.
        "digests": channels.digests(today, org_id),
    }
