"""The lifecycle of a problem, declared once as data.

The actions, the docs (`zhenggai lifecycle`) and the tests all read this table. An action
is allowed when the problem's state is in `sources` and the actor holds one of `roles`
in the problem's campaign (`PROPOSER` means: a proposer of one of the problem's opinions,
named or holding the receipt). Further rules that depend on who the actor is (an owner
never verifies their own claim) live beside the actions, in `rules.py`.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

OPEN = "open"
ASSIGNED = "assigned"
CLAIMED = "claimed"
VERIFIED = "verified"
CLOSED = "closed"
REOPENED = "reopened"
DECLINED = "declined"

STATES = [OPEN, ASSIGNED, CLAIMED, VERIFIED, CLOSED, REOPENED, DECLINED]
STATE_LABELS = {
    OPEN: _("open"),
    ASSIGNED: _("assigned"),
    CLAIMED: _("claimed (awaiting verification)"),
    VERIFIED: _("verified"),
    CLOSED: _("closed"),
    REOPENED: _("reopened"),
    DECLINED: _("declined"),
}

# Reasons a problem is reopened.
NOT_THOROUGH = "not_thorough"
DETERIORATED = "deteriorated"
DISSATISFIED = "dissatisfied"
REOPEN_REASONS = {
    NOT_THOROUGH: _("not thorough"),
    DETERIORATED: _("deteriorated"),
    DISSATISFIED: _("proposer not satisfied"),
}

# Groups of states the figures use.
CLAIMED_RESOLVED = frozenset({CLAIMED, VERIFIED, CLOSED})
VERIFIED_RESOLVED = frozenset({VERIFIED, CLOSED})
UNCLAIMED = frozenset({OPEN, ASSIGNED, REOPENED})  # can be overdue
UNRESOLVED = frozenset({OPEN, ASSIGNED, REOPENED, CLAIMED})  # has an age

PROPOSER = "proposer"
CLERK, OWNER, REPRESENTATIVE, LEADER = "clerk", "owner", "representative", "leader"
ANYONE = "worker"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change
    roles: frozenset[str]
    label: object
    # Where an outcome of the action leads instead: (outcome, from these states, to state).
    otherwise: tuple[tuple[str, frozenset[str], str], ...] = ()

    def target_for(self, state: str, outcome: str = "") -> str:
        """The state after this action from `state` with `outcome`."""
        for out, sources, to in self.otherwise:
            if out == outcome and state in sources:
                return to
        return self.target or state


def _t(action, sources, target, roles, label, otherwise=()):
    return Transition(action, frozenset(sources), target, frozenset(roles), label,
                      tuple((o, frozenset(s), to) for o, s, to in otherwise))


ALL = STATES
LIVE = [OPEN, ASSIGNED, CLAIMED, VERIFIED, REOPENED]

TABLE: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("create", [], OPEN, [CLERK], _("summarise opinions into a new problem")),
        _t("assign", [OPEN, ASSIGNED, REOPENED], ASSIGNED, [CLERK],
           _("assign an owner, measures and a deadline")),
        _t("update", [OPEN, ASSIGNED, CLAIMED, VERIFIED, REOPENED], None, [CLERK],
           _("correct the summary, scope or category")),
        _t("add_opinions", ALL, None, [CLERK], _("group more opinions into the problem")),
        _t("remove_opinion", ALL, None, [CLERK], _("split a wrongly grouped opinion out")),
        _t("claim", [ASSIGNED, REOPENED], CLAIMED, [OWNER], _("claim it is rectified")),
        _t("verify_passed", [CLAIMED], VERIFIED, [REPRESENTATIVE], _("verify: passed")),
        _t("verify_not_thorough", [CLAIMED], REOPENED, [REPRESENTATIVE],
           _("verify: not thorough")),
        _t("check_holds", [VERIFIED, CLOSED], CLOSED, [REPRESENTATIVE],
           _("consolidation check: holds")),
        _t("check_deteriorated", [VERIFIED, CLOSED], REOPENED, [REPRESENTATIVE],
           _("consolidation check: deteriorated")),
        # A proposer who is not satisfied sends a resolved problem back to verification.
        _t("followup", ALL, None, [LEADER, CLERK, PROPOSER], _("record a follow-up"),
           otherwise=[("not_satisfied", [VERIFIED, CLOSED], CLAIMED)]),
        _t("propose_decline", [OPEN, ASSIGNED], None, [CLERK, OWNER],
           _("propose to decline")),
        _t("decline", [OPEN, ASSIGNED], DECLINED, [LEADER], _("decline (leader approves)")),
        _t("reject_decline", [OPEN, ASSIGNED], None, [LEADER], _("reject a proposed decline")),
        _t("contest", [DECLINED], OPEN, [PROPOSER], _("contest a decline")),
        _t("carry_over", LIVE, None, [LEADER], _("carry over to another campaign")),
        _t("poster", ALL, None, [ANYONE, PROPOSER], _("write a poster")),
    ]
}

# `followup` with "not satisfied" moves a verified or closed problem back to `claimed`.
FOLLOWUP_BACK_TO_VERIFICATION = next(
    s for o, s, _to in TABLE["followup"].otherwise if o == "not_satisfied")


def allowed_actions(state: str) -> list[str]:
    return [a for a, t in TABLE.items() if state in t.sources]
