"""Every action on a problem, declared once: one `Action` per `Kind`.

An entry says from which states the action may be taken and where it leads, who may take
it (campaign roles, `lifecycle.PROPOSER`, and the person rules of `rules.py` it is subject
to), how its event folds into the state (`state.fold_*`), what it counts in the figures,
its labels (history, plain words for the proposer, ledger), the domain call that takes it
(`problems.actions`), its form on the pages (`web/problem_forms.py`) and its API endpoint
(`problems/api.py`). The rules, the fold, the figures, the pages, the API, the CLI
(`zhenggai lifecycle`) and the tests' `take` all read this table; tests/problems/
test_registry.py fails when an entry is incomplete.

To add an action: a `Kind`, an entry here, its fold in state.py, its domain function in
actions.py (through `_commit`), and, if it has them, its form card and API handler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhenggai.campaigns.models import Role

from . import state
from .lifecycle import (
    ALL,
    ASSIGNED,
    CLAIMED,
    CLOSED,
    DECLINED,
    LIVE,
    OPEN,
    PROPOSER,
    REOPENED,
    VERIFIED,
    Kind,
)
from .state import ANSWERS, ProblemState


class Rule(StrEnum):
    """A rule about who the actor is, beyond their role; rules.py implements each once."""

    OWNER_CLAIMS = "owner_claims"  # only the owner (or, without one, the owning unit)
    NOT_OWN = "not_own"  # nobody verifies or checks a problem they own or claimed
    CONSOLIDATION = "consolidation"  # another rep than the verifier, after the period
    DECLINE_ONCE = "decline_once"  # proposed once, by its owner or a clerk
    DECLINE_PENDING = "decline_pending"  # only a proposed decline can be rejected


@dataclass(frozen=True)
class Absent:
    """A decision that an action has no such thing (no form, no API endpoint, no ledger
    result), and why: never left out by accident."""

    why: str


@dataclass(frozen=True)
class Call:
    """The domain function in problems/actions.py that takes the action: its name, what it
    acts on (its first argument), and arguments fixed for this kind."""

    fn: str
    target: str  # "problem", "opinion" or "campaign"
    fixed: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Form:
    """The action's form: the `do` value it posts, the parser in web/problem_forms.py that
    reads the other posted fields into the domain call's arguments, the message shown when
    done, and the card on the problem page that shows it (None: shown elsewhere)."""

    do: str
    fields: str
    done: object
    card: str | None = None


@dataclass(frozen=True)
class Api:
    """The action's endpoint (POST, under /api/v1/): its path, the request body's schema
    and the handler in problems/api.py (both by name; None: no body)."""

    path: str
    schema: str | None
    handler: str
    status: int = 200


Flows = Callable[[ProblemState, ProblemState, dict], list[tuple[str, int]]]


@dataclass(frozen=True)
class Action:
    kind: Kind
    sources: frozenset[str]  # empty: it creates the problem
    target: str | None  # None: the state does not change
    roles: frozenset[str]  # campaign roles, or PROPOSER
    label: object  # in the history and in refusals
    plain: object  # for the proposer's view of their case
    ledger: object  # the ledger's verification result, or Absent
    fold: Callable  # state.fold_*: the fields its event changes
    flows: Flows  # the figure flows its event moves (`counts()` for none)
    call: Call
    form: Form | Absent
    api: Api | Absent
    rules: frozenset[Rule] = frozenset()
    # Where an outcome of the action leads instead: (outcome, from these states, to state).
    otherwise: tuple[tuple[str, frozenset[str], str], ...] = ()
    shows_note: bool = False  # its note is shown to the proposers (a reason, findings)
    review: bool | None = None  # settles a review round's item: passed (True) or failed

    def target_for(self, state_: str, outcome: str = "") -> str:
        """The state after this action from `state_` with `outcome`."""
        for out, sources, to in self.otherwise:
            if out == outcome and state_ in sources:
                return to
        return self.target or state_


# -- the figure flows of an event --------------------------------------------------------

def counts(*pairs: tuple[str, int]) -> Flows:
    """Flows that do not depend on the state: these counters, always."""
    return lambda before, after, data: list(pairs)


def _verified_flows(before: ProblemState, after: ProblemState, data: dict):
    """A first verification counts the problem as ever verified, and its lead time: the days
    from its first opinion (first raised) to this verification."""
    if before.ever_verified:
        return []
    out = [("ever_verified", 1)]
    if after.verified_on is not None and after.first_raised is not None:
        out.append(("lead_days", (after.verified_on - after.first_raised).days))
    return out


def _followup_flows(before: ProblemState, after: ProblemState, data: dict):
    """A proposer's later answer to the same claim replaces the earlier one: the earlier
    answer is taken back (domain.md: the figures count proposers, not posts)."""
    outcome = data.get("outcome")
    out = [("followups", 1)]
    if outcome in ANSWERS:
        earlier = before.answers.get(data.get("proposer") or "")
        if earlier is not None:
            out.append(("followups_answered", -1))
            if earlier == "satisfied":
                out.append(("satisfied", -1))
        out.append(("followups_answered", 1))
        if outcome == "satisfied":
            out.append(("satisfied", 1))
    return out


# -- the table ---------------------------------------------------------------------------

NOT_IN_LEDGER = Absent("not a verification result")
AT_THE_DESK = Absent("taken at the summarising desk (web/views/desk.py)")


def _a(kind, sources, target, roles, **kw) -> Action:
    otherwise = tuple((o, frozenset(s), to) for o, s, to in kw.pop("otherwise", ()))
    return Action(kind, frozenset(sources), target, frozenset(roles), otherwise=otherwise,
                  rules=frozenset(kw.pop("rules", ())), **kw)


def _p(path):
    return "/problems/{problem_id}" + path


ACTIONS: dict[Kind, Action] = {a.kind: a for a in [
    _a(Kind.CREATE, [], OPEN, [Role.CLERK],
       label=_("summarise opinions into a new problem"),
       plain=_("The opinion was summarised into a problem."),
       ledger=NOT_IN_LEDGER, fold=state.fold_create, flows=counts(),
       call=Call("create_problem", "campaign"), form=AT_THE_DESK,
       api=Api("/problems", "CreateIn", "create_problem", status=201)),
    _a(Kind.ASSIGN, [OPEN, ASSIGNED, REOPENED], ASSIGNED, [Role.CLERK],
       label=_("assign an owner, measures and a deadline"),
       plain=_("A person or unit was made responsible, with measures and a deadline."),
       ledger=NOT_IN_LEDGER, fold=state.fold_assign, flows=counts(),
       call=Call("assign", "problem"),
       form=Form("assign", "plan", _("Assigned."), card="web/problem/assign.html"),
       api=Api(_p("/assign"), "AssignIn", "assign")),
    _a(Kind.UPDATE, [OPEN, ASSIGNED, CLAIMED, VERIFIED, REOPENED], None, [Role.CLERK],
       label=_("correct the summary, scope or category"),
       plain=_("The problem's summary or scope was corrected."),
       ledger=NOT_IN_LEDGER, fold=state.fold_update, flows=counts(),
       call=Call("update_problem", "problem"),
       form=Absent("no page corrects a problem yet; the API does"),
       api=Api(_p("/update"), "UpdateIn", "update")),
    _a(Kind.ADD_OPINIONS, ALL, None, [Role.CLERK],
       label=_("group more opinions into the problem"),
       plain=_("More opinions on the same problem were added to it."),
       ledger=NOT_IN_LEDGER, fold=state.fold_add_opinions, flows=counts(),
       call=Call("add_opinions", "problem"), form=AT_THE_DESK,
       api=Api(_p("/opinions"), "OpinionsIn", "add_opinions")),
    _a(Kind.REMOVE_OPINION, ALL, None, [Role.CLERK],
       label=_("split a wrongly grouped opinion out"),
       plain=_("An opinion that was about something else was taken out of it."),
       ledger=NOT_IN_LEDGER, fold=state.fold_remove_opinion, flows=counts(),
       call=Call("remove_opinion", "opinion"),
       # A button beside each opinion on the problem page, not a card of its own.
       form=Form("split", "split", _("The opinion is split out; it waits at the "
                                     "summarising desk again.")),
       api=Api("/opinions/{opinion_id}/split", None, "split_opinion")),
    _a(Kind.CLAIM, [ASSIGNED, REOPENED], CLAIMED, [Role.OWNER],
       label=_("claim it is rectified"),
       plain=_("The responsible person reported it fixed. A worker representative will "
               "check."),
       ledger=NOT_IN_LEDGER, fold=state.fold_claim, flows=counts(("claims", 1)),
       call=Call("claim", "problem"), rules={Rule.OWNER_CLAIMS},
       form=Form("claim", "claim", _("Claimed. A worker representative will verify it."),
                 card="web/problem/claim.html"),
       api=Api(_p("/claims"), "ClaimIn", "claim")),
    _a(Kind.VERIFY_PASSED, [CLAIMED], VERIFIED, [Role.REPRESENTATIVE],
       label=_("verify: passed"),
       plain=_("A worker representative checked the fix and passed it."),
       ledger=pgettext_lazy("ledger result", "passed"),
       fold=state.fold_verify_passed, flows=_verified_flows,
       call=Call("verify", "problem", {"passed": True}), rules={Rule.NOT_OWN}, review=True,
       form=Form("verify_passed", "findings", _("Verification recorded."),
                 card="web/problem/verify.html"),
       api=Api(_p("/verifications"), "VerifyIn", "verify")),
    _a(Kind.VERIFY_NOT_THOROUGH, [CLAIMED], REOPENED, [Role.REPRESENTATIVE],
       label=_("verify: not thorough"),
       plain=_("A worker representative found the fix not thorough. It is open again."),
       ledger=pgettext_lazy("ledger result", "not thorough"),
       fold=state.fold_reopen, flows=counts(("false_figures", 1), ("reopened", 1)),
       call=Call("verify", "problem", {"passed": False}), rules={Rule.NOT_OWN},
       review=False, shows_note=True,
       form=Form("verify_not_thorough", "findings", _("Verification recorded."),
                 card="web/problem/verify.html"),
       api=Api(_p("/verifications"), "VerifyIn", "verify")),
    _a(Kind.CHECK_HOLDS, [VERIFIED, CLOSED], CLOSED, [Role.REPRESENTATIVE],
       label=_("consolidation check: holds"),
       plain=_("Checked again some weeks later: the fix holds."),
       ledger=pgettext_lazy("ledger result", "re-check holds"),
       fold=state.fold_check_holds, flows=counts(),
       call=Call("consolidation_check", "problem", {"holds": True}),
       rules={Rule.NOT_OWN, Rule.CONSOLIDATION}, review=True,
       form=Form("check_holds", "findings", _("Consolidation check recorded."),
                 card="web/problem/check.html"),
       api=Api(_p("/checks"), "CheckIn", "check")),
    _a(Kind.CHECK_DETERIORATED, [VERIFIED, CLOSED], REOPENED, [Role.REPRESENTATIVE],
       label=_("consolidation check: deteriorated"),
       plain=_("Checked again some weeks later: it got worse. It is open again."),
       ledger=pgettext_lazy("ledger result", "re-check: deteriorated"),
       fold=state.fold_reopen,
       flows=counts(("false_figures", 1), ("reopened", 1), ("deteriorated", 1)),
       call=Call("consolidation_check", "problem", {"holds": False}),
       rules={Rule.NOT_OWN, Rule.CONSOLIDATION}, review=False, shows_note=True,
       form=Form("check_deteriorated", "findings", _("Consolidation check recorded."),
                 card="web/problem/check.html"),
       api=Api(_p("/checks"), "CheckIn", "check")),
    # A proposer who is not satisfied sends a resolved problem back to verification.
    _a(Kind.FOLLOWUP, ALL, None, [Role.LEADER, Role.CLERK, PROPOSER],
       otherwise=[("not_satisfied", [VERIFIED, CLOSED], CLAIMED)],
       label=_("record a follow-up"),
       plain=_("A proposer was asked whether it is fixed to their satisfaction."),
       ledger=NOT_IN_LEDGER, fold=state.fold_followup, flows=_followup_flows,
       call=Call("record_followup", "opinion"),
       form=Form("followup", "followup", _("Follow-up recorded."),
                 card="web/problem/followup.html"),
       api=Api(_p("/followups"), "FollowUpIn", "followup")),
    _a(Kind.PROPOSE_DECLINE, [OPEN, ASSIGNED], None, [Role.CLERK, Role.OWNER],
       label=_("propose to decline"),
       plain=_("Someone proposed not to act on it; a leader decides."),
       ledger=NOT_IN_LEDGER, fold=state.fold_decline_proposed, flows=counts(),
       call=Call("propose_decline", "problem"), rules={Rule.DECLINE_ONCE},
       form=Form("propose_decline", "reason", _("Proposed to decline; a leader decides."),
                 card="web/problem/propose_decline.html"),
       api=Api(_p("/decline-proposals"), "ReasonIn", "propose_decline")),
    _a(Kind.DECLINE, [OPEN, ASSIGNED], DECLINED, [Role.LEADER],
       label=_("decline (leader approves)"),
       plain=_("A leader decided not to act on it. You may contest this."),
       ledger=NOT_IN_LEDGER, fold=state.fold_decline_decided, flows=counts(),
       call=Call("decline", "problem"), shows_note=True,
       form=Form("decline", "reason", _("Declined. The reason is shown to its proposers."),
                 card="web/problem/decline.html"),
       api=Api(_p("/declines"), "ReasonIn", "decline")),
    _a(Kind.REJECT_DECLINE, [OPEN, ASSIGNED], None, [Role.LEADER],
       label=_("reject a proposed decline"),
       plain=_("A leader refused to drop it: it goes on."),
       ledger=NOT_IN_LEDGER, fold=state.fold_decline_decided, flows=counts(),
       call=Call("reject_decline", "problem"), rules={Rule.DECLINE_PENDING},
       form=Form("reject_decline", "note", _("The proposal to decline is rejected."),
                 card="web/problem/decline.html"),
       api=Api(_p("/decline-rejections"), "NoteIn", "reject_decline")),
    _a(Kind.CONTEST, [DECLINED], OPEN, [PROPOSER],
       label=_("contest a decline"),
       plain=_("A proposer contested the decision. It is open again."),
       ledger=NOT_IN_LEDGER, fold=state.fold_decline_decided, flows=counts(),
       call=Call("contest", "problem"),
       form=Absent("a proposer contests on their own case (web/views/worker.py)"),
       api=Api(_p("/contests"), "ReasonIn", "contest")),
    _a(Kind.CARRY_OVER, LIVE, None, [Role.LEADER],
       label=_("carry over to another campaign"),
       plain=_("It was carried over into the next campaign."),
       ledger=NOT_IN_LEDGER, fold=state.fold_carry_over, flows=counts(),
       call=Call("carry_over", "problem"),
       form=Absent("a leader picks the problems to carry over on the carry-over page "
                   "(web/views/leader.py), many at once"),
       api=Absent("many problems at once: POST /campaigns/{campaign_id}/carry-over "
                  "(problems/api.py)")),
    _a(Kind.POSTER, ALL, None, [Role.WORKER, PROPOSER],
       label=_("write a poster"),
       plain=_("A poster was written about it."),
       ledger=NOT_IN_LEDGER, fold=state.fold_nothing, flows=counts(("posters", 1)),
       call=Call("post_poster", "problem"),
       form=Form("poster", "poster", _("Your poster is on the board."),
                 card="web/problem/poster.html"),
       api=Api(_p("/posters"), "PosterIn", "poster")),
    # A member leaves or is sent down (下放): a leader hands all their live problems to a
    # successor (a person or a unit) at once, one event each, with the reason. The owner
    # split moves on the day of the event, so figures as of an earlier day are unchanged.
    _a(Kind.HAND_OVER, LIVE, None, [Role.LEADER],
       label=_("hand over to a successor"),
       plain=_("The person responsible changed: it was handed over to a successor."),
       ledger=NOT_IN_LEDGER, fold=state.fold_hand_over, flows=counts(),
       call=Call("hand_over_problem", "problem"),
       form=Absent("all of a member's problems at once, on the leader's hand-over page "
                   "(web/views/leader.py)"),
       api=Absent("all of a member's problems at once: POST /campaigns/{campaign_id}/"
                  "handovers (problems/api.py)")),
    # 附议: a worker's own new opinion joins a problem that is not resolved yet. A verified,
    # closed or declined problem takes none: if it still stands, it is a new opinion (or an
    # answer to the questionnaire, or a contest), which the desk groups.
    _a(Kind.ME_TOO, [OPEN, ASSIGNED, CLAIMED, REOPENED], None, [PROPOSER],
       label=_("say “me too”"),
       plain=_("Another worker said “me too”: the same problem, in an opinion of their own."),
       ledger=NOT_IN_LEDGER, fold=state.fold_add_opinions, flows=counts(),
       call=Call("me_too", "problem"),
       form=Absent("said from the suggestions on the submit page (web/views/worker.py)"),
       api=Absent("an opinion with a `problem` field, POST /opinions (opinions/api.py): "
                  "anonymous ones get their receipt there")),
]}

# `followup` with "not satisfied" moves a verified or closed problem back to `claimed`.
FOLLOWUP_BACK_TO_VERIFICATION = next(
    s for o, s, _to in ACTIONS[Kind.FOLLOWUP].otherwise if o == "not_satisfied")

# The kinds that bring opinions into a problem (their event data lists them): the figures,
# the bulk loader and the events re-import book those opinions into it.
ADDS_OPINIONS: frozenset[str] = frozenset(
    a.kind for a in ACTIONS.values() if a.fold in (state.fold_create, state.fold_add_opinions))

# The actions by the `do` value their form posts.
BY_FORM: dict[str, Action] = {a.form.do: a for a in ACTIONS.values()
                              if isinstance(a.form, Form)}

# The ledger's verification results (整改台账: 核查结果), by kind.
LEDGER_RESULTS: dict[Kind, object] = {k: a.ledger for k, a in ACTIONS.items()
                                      if not isinstance(a.ledger, Absent)}


def cards(offered) -> list[str]:
    """The problem page's form cards for these offered actions, in the table's order."""
    out: list[str] = []
    for a in ACTIONS.values():
        if a.kind in offered and isinstance(a.form, Form) and a.form.card \
                and a.form.card not in out:
            out.append(a.form.card)
    return out


def api_routes() -> list[Api]:
    """Each endpoint once (two kinds may share one, e.g. verify passed / not thorough)."""
    out: dict[str, Api] = {}
    for a in ACTIONS.values():
        if isinstance(a.api, Api):
            out.setdefault(a.api.path, a.api)
    return list(out.values())
