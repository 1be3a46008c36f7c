"""Random sequences of actions by random people. Whatever happens:
- each problem's stored state equals the replay of its events;
- the figures as of any day equal a recomputation from the events up to that day;
- nothing is lost: every opinion and every accepted action is there, once."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests import factories as f
from zhenggai.errors import DomainError
from zhenggai.figures.reference import differences
from zhenggai.opinions.models import Opinion
from zhenggai.problems import actions as problem_actions
from zhenggai.problems.models import Event, Problem
from zhenggai.problems.state import replay

SEEN: set[str] = set()  # event kinds the runs produced, to show they went deep
PEOPLE = ["worker", "worker2", "clerk", "owner", "owner2", "rep", "rep2", "leader"]
ACTIONS = ["assign", "claim", "verify_ok", "verify_fail", "check_ok", "check_bad",
           "followup_ok", "followup_bad", "decline", "contest", "poster", "split", "add"]
# The main line of the lifecycle comes up more often, so that runs reach its far end.
WEIGHTED = ACTIONS + ["claim"] * 4 + ["verify_ok", "verify_fail", "check_ok", "check_bad"] * 2


class Ledger(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        o = f.org()
        self.org = o
        c = f.campaign(o)
        # No consolidation period, so that runs (whose days rarely pass) reach the re-checks;
        # the period itself is tested in test_lifecycle.
        c.consolidation_days = 0
        c.save()
        self.campaign = c
        u1, u2 = f.unit(o), f.unit(o)
        self.cat = f.category(o)
        self.people = {
            "worker": f.member(o, "w", u1), "worker2": f.member(o, "w2", u2),
            "clerk": f.member(o, "c", u2, "clerk", c=c),
            "owner": f.member(o, "o", u1, "owner", c=c),
            "owner2": f.member(o, "o2", u2, "owner", c=c),
            "rep": f.member(o, "r", u1, "representative", c=c),
            "rep2": f.member(o, "r2", u2, "representative", c=c),
            "leader": f.member(o, "l", u2, "leader", c=c),
        }
        self.units = [u1, u2]
        self.day = dt.date(1957, 7, 1)
        self.opinions = 0
        self.accepted = 0
        self.days_seen = [self.day]

    def at(self):
        return f.at(self.day.year, self.day.month, self.day.day, 10)

    @rule(days=st.integers(0, 20))
    def time_passes(self, days):
        self.day += dt.timedelta(days=days)
        self.days_seen.append(self.day)

    @rule(named=st.booleans(), unit=st.integers(0, 1))
    def opinion(self, named, unit):
        author = self.people["worker"] if named else None
        f.opinion(self.campaign, author=author, anonymous=not named, channel="paper",
                  unit=self.units[unit], day=self.day)
        self.opinions += 1

    @rule(who=st.sampled_from(["clerk"] * 4 + PEOPLE), k=st.integers(1, 3),
          owner=st.booleans(), deadline=st.integers(-5, 40))
    def summarise(self, who, k, owner, deadline):
        """Group the waiting opinions (and a fresh one, so that there is always one)."""
        self.opinion(True, k % 2)
        free = list(Opinion.objects.filter(org=self.org, problem__isnull=True)[:k])
        self.attempt(lambda: problem_actions.create_problem(
            self.campaign, free, actor=self.people[who], summary="问题", category=self.cat,
            owner=self.people["owner"] if owner else None,
            deadline=self.day + dt.timedelta(days=deadline) if owner else None, at=self.at()),
            events=2 if owner else 1)

    @precondition(lambda self: Problem.objects.filter(org=self.org).exists())
    @rule(who=st.sampled_from(["natural"] * 12 + PEOPLE), action=st.sampled_from(WEIGHTED),
          pick=st.integers(0, 50), deadline=st.integers(-5, 40))
    def act(self, who, action, pick, deadline):
        problems = list(Problem.objects.filter(org=self.org).order_by("pk"))
        self._act(problems[pick % len(problems)], who, action, deadline)

    def _act(self, p, who, action, deadline):
        actor, at = self.natural(action, p) if who == "natural" else self.people[who], self.at()
        op = p.opinions.order_by("pk").first()
        do = {
            "assign": lambda: problem_actions.assign(
                p,
                actor=actor,
                owner=self.people["owner2"],
                deadline=self.day + dt.timedelta(days=deadline),
                at=at,
            ),
            "claim": lambda: problem_actions.claim(p, actor=actor, done="改了", at=at),
            "verify_ok": lambda: problem_actions.verify(p, actor=actor, passed=True, at=at),
            "verify_fail": lambda: problem_actions.verify(
                p, actor=actor, passed=False, findings="不", at=at
            ),
            "check_ok": lambda: problem_actions.consolidation_check(
                p, actor=actor, holds=True, at=at
            ),
            "check_bad": lambda: problem_actions.consolidation_check(
                p, actor=actor, holds=False, findings="坏", at=at
            ),
            "followup_ok": lambda: problem_actions.record_followup(
                op, actor=actor, channel="conversation", outcome="satisfied", at=at
            ),
            "followup_bad": lambda: problem_actions.record_followup(
                op, actor=actor, channel="conversation", outcome="not_satisfied", at=at
            ),
            "decline": lambda: problem_actions.decline(p, actor=actor, reason="不管", at=at),
            "contest": lambda: problem_actions.contest(p, actor=actor, reason="要管", at=at),
            "poster": lambda: problem_actions.post_poster(p, actor=actor, text="快改", at=at),
            "split": lambda: problem_actions.remove_opinion(op, actor=actor, at=at),
            "add": lambda: problem_actions.add_opinions(
                p,
                list(Opinion.objects.filter(org=self.org, problem__isnull=True)[:1]),
                actor=actor,
                at=at,
            ),
        }[action]
        if action in ("followup_ok", "followup_bad", "split") and op is None:
            return
        self.attempt(do)

    @precondition(lambda self: Problem.objects.filter(org=self.org).exists())
    @rule(pick=st.integers(0, 50), good=st.booleans())
    def advance(self, pick, good):
        """The next step of the main line for one problem, by the person whose job it is."""
        problems = list(Problem.objects.filter(org=self.org).order_by("pk"))
        p = problems[pick % len(problems)]
        nxt = {"open": "assign" if good else "decline", "assigned": "claim", "reopened": "claim",
               "claimed": "verify_ok" if good else "verify_fail",
               "verified": "check_ok" if good else "check_bad",
               "closed": "check_ok" if good else "check_bad",
               "declined": "contest"}[p.state]
        self._act(p, "natural", nxt, 20)

    @precondition(lambda self: Problem.objects.filter(
        org=self.org, state__in=["verified", "closed"]).exists())
    @rule(pick=st.integers(0, 50), good=st.booleans())
    def consolidate(self, pick, good):
        """A consolidation check of a verified or closed problem, by another representative."""
        problems = list(Problem.objects.filter(org=self.org, state__in=["verified", "closed"])
                        .order_by("pk"))
        self._act(problems[pick % len(problems)], "natural", "check_ok" if good else "check_bad",
                  20)

    def natural(self, action, p):
        """Mostly the person whose job it is, so that runs go deep into the lifecycle."""
        ppl = self.people
        if action == "claim":
            return p.owner or ppl["owner"]
        if action.startswith("verify"):
            return ppl["rep2"] if p.last_claim_by_id == ppl["rep"].pk else ppl["rep"]
        if action.startswith("check"):  # never whoever verified
            busy = {p.last_claim_by_id, p.verified_by_id}
            return ppl["rep2"] if ppl["rep"].pk in busy else ppl["rep"]
        return {"assign": ppl["clerk"], "split": ppl["clerk"], "add": ppl["clerk"],
                "decline": ppl["leader"], "followup_ok": ppl["leader"],
                "followup_bad": ppl["leader"]}.get(action, ppl["worker"])

    def attempt(self, fn, events=1):
        before = Event.objects.filter(problem__org=self.org).count()
        try:
            fn()
        except DomainError:
            after = Event.objects.filter(problem__org=self.org).count()
            assert after == before, "a refused action wrote an event"
            return
        self.accepted += events

    @invariant()
    def state_is_the_replay_of_the_events(self):
        if not hasattr(self, "org"):
            return
        for p in Problem.objects.filter(org=self.org):
            events = list(Event.objects.filter(problem=p).order_by("seq"))
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert problem_actions.row_fields(replay(events)) == problem_actions.row_fields(
                problem_actions.stored_state(p)
            )

    @invariant()
    def nothing_is_lost(self):
        if not hasattr(self, "org"):
            return
        assert Opinion.objects.filter(org=self.org).count() == self.opinions
        assert Event.objects.filter(problem__org=self.org).count() == self.accepted
        grouped = Opinion.objects.filter(org=self.org, problem__isnull=False).count()
        assert sum(Problem.objects.filter(org=self.org).values_list("n_opinions", flat=True)) \
            == grouped

    def teardown(self):
        if not hasattr(self, "org"):
            return
        kinds = list(Event.objects.filter(problem__org=self.org).values_list("kind", flat=True))
        SEEN.update(kinds)
        # Figures as of every day the story passed through, and the day after each.
        for day in sorted(set(self.days_seen)):
            for d in (day, day + dt.timedelta(days=1)):
                assert differences(self.org.pk, d) == [], d


@pytest.mark.django_db
def test_random_sequences_keep_the_ledger_honest():
    run_state_machine_as_test(Ledger, settings=settings(
        max_examples=40, stateful_step_count=60, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
    # The runs reached deep into the lifecycle, not only its first steps.
    assert {"create", "assign", "claim", "verify_passed", "verify_not_thorough", "check_holds",
            "check_deteriorated", "followup", "decline"} <= SEEN
