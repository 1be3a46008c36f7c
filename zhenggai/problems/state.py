"""A problem's state, folded from its events. Pure Python: no database.

`apply`, with the fold that the registry names for the event's kind (the `fold_*` below),
is the only code that turns an event into state. The actions use it to compute
the new projection they store; `replay` uses it to rebuild a problem from its events, and
the figures ledger uses both states of a transition to book its deltas.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

from . import lifecycle
from .lifecycle import Kind

# The Opinion columns an OpinionRef is made of, in its fields' order (for values_list).
OPINION_REF_COLUMNS = ("id", "received_on", "anonymous", "campaign_id", "unit_id",
                       "category_id")


@dataclass(frozen=True)
class OpinionRef:
    """What a problem's events record of each opinion: enough to recompute every figure."""

    id: int
    day: dt.date
    anonymous: bool
    campaign: int
    unit: int | None
    category: int | None

    def as_list(self) -> list:
        return [self.id, self.day.isoformat(), self.anonymous, self.campaign, self.unit,
                self.category]

    @classmethod
    def from_list(cls, v: list) -> OpinionRef:
        return cls(v[0], dt.date.fromisoformat(v[1]), bool(v[2]), v[3], v[4], v[5])


@dataclass(frozen=True)
class ProblemState:
    state: str = ""
    org: int = 0
    campaign: int = 0
    summary: str = ""
    scope: str = "common"
    category: int | None = None
    unit: int | None = None
    owner: int | None = None
    measures: str = ""
    # Corrective and preventive action (ISO 9001 §10.2), where the campaign records them.
    root_cause: str = ""
    preventive: str = ""
    deadline: dt.date | None = None
    created_on: dt.date | None = None
    base_first_raised: dt.date | None = None
    opinions: dict[int, OpinionRef] = field(default_factory=dict)
    reopen_reason: str = ""
    last_claim_by: int | None = None
    ever_verified: bool = False
    verified_on: dt.date | None = None
    verified_by: int | None = None  # who passed the latest verification
    recheck_due: dt.date | None = None
    decline_requested: bool = False
    version: int = 0
    # Each proposer's latest answer (satisfied / not satisfied) to the current claim, by
    # proposer key (actions.proposer_key); not stored on the problem's row.
    answers: dict[str, str] = field(default_factory=dict)

    @property
    def first_raised(self) -> dt.date | None:
        days = [o.day for o in self.opinions.values()]
        if self.base_first_raised:
            days.append(self.base_first_raised)
        return min(days) if days else self.created_on

    @property
    def n_opinions(self) -> int:
        return len(self.opinions)

    @property
    def n_anonymous(self) -> int:
        return sum(1 for o in self.opinions.values() if o.anonymous)


@dataclass(frozen=True)
class EventData:
    """The part of an event the fold needs; a stored `problems.Event` satisfies it too."""

    kind: str
    day: dt.date
    from_state: str
    to_state: str
    reason: str = ""
    actor_id: int | None = None
    data: dict = field(default_factory=dict)


def _date(v):
    return dt.date.fromisoformat(v) if isinstance(v, str) and v else (v or None)


ANSWERS = ("satisfied", "not_satisfied")  # a follow-up outcome that is an answer


def fold_answers(answers: dict[str, str], kind: str, data: dict) -> dict[str, str]:
    """One answer per proposer per claim: a claim starts afresh, a later answer replaces
    the earlier one ("no answer" changes nothing)."""
    if kind == Kind.CLAIM:
        return {}
    if kind == Kind.FOLLOWUP and data.get("outcome") in ANSWERS and data.get("proposer"):
        return {**answers, data["proposer"]: data["outcome"]}
    return answers


# -- the folds: what each kind of event changes (registry.py names each kind's fold) ------
# Each takes the state before, the event and its data, and returns the fields that change.

def fold_create(s: ProblemState, e, d: dict) -> dict:
    return dict(
        org=d["org"], campaign=d["campaign"], summary=d.get("summary", ""),
        scope=d.get("scope", "common"), category=d.get("category"), unit=d.get("unit"),
        owner=d.get("owner"), created_on=e.day, base_first_raised=_date(d.get("first_raised")),
        opinions={o[0]: OpinionRef.from_list(o) for o in d.get("opinions", [])},
    )


def fold_assign(s: ProblemState, e, d: dict) -> dict:
    return dict(owner=d.get("owner"), unit=d.get("unit"), deadline=_date(d.get("deadline")),
                measures=d.get("measures", ""), scope=d.get("scope", s.scope),
                root_cause=d.get("root_cause", s.root_cause),
                preventive=d.get("preventive", s.preventive), reopen_reason="")


def fold_update(s: ProblemState, e, d: dict) -> dict:
    return {name: d[name] for name in ("summary", "scope", "category", "root_cause",
                                        "preventive") if name in d}


def fold_add_opinions(s: ProblemState, e, d: dict) -> dict:
    return {"opinions": {**s.opinions,
                         **{o[0]: OpinionRef.from_list(o) for o in d["opinions"]}}}


def fold_remove_opinion(s: ProblemState, e, d: dict) -> dict:
    ops = dict(s.opinions)
    ops.pop(d["opinion"][0], None)
    return {"opinions": ops}


def fold_claim(s: ProblemState, e, d: dict) -> dict:
    return dict(last_claim_by=e.actor_id, reopen_reason="", answers={})


def fold_verify_passed(s: ProblemState, e, d: dict) -> dict:
    return dict(ever_verified=True, verified_on=e.day, verified_by=e.actor_id,
                recheck_due=_date(d.get("recheck_due")))


def fold_reopen(s: ProblemState, e, d: dict) -> dict:
    """Verification not thorough, or a consolidation check found it deteriorated."""
    return dict(reopen_reason=e.reason, recheck_due=None)


def fold_check_holds(s: ProblemState, e, d: dict) -> dict:
    return dict(recheck_due=None)


def fold_followup(s: ProblemState, e, d: dict) -> dict:
    ch: dict = {"answers": fold_answers(s.answers, e.kind, d)}
    # Not satisfied with a resolved problem: back to verification. An answer given while a
    # claim still waits moves nothing, whatever it says (to_state is then the same state).
    if e.to_state == lifecycle.CLAIMED and e.from_state != lifecycle.CLAIMED:
        ch.update(reopen_reason=lifecycle.DISSATISFIED, recheck_due=None)
    return ch


def fold_decline_proposed(s: ProblemState, e, d: dict) -> dict:
    return dict(decline_requested=True)


def fold_decline_decided(s: ProblemState, e, d: dict) -> dict:
    """A decline approved, rejected or contested: no proposal is pending any more."""
    return dict(decline_requested=False)


def fold_carry_over(s: ProblemState, e, d: dict) -> dict:
    return dict(campaign=d["campaign"])


def fold_hand_over(s: ProblemState, e, d: dict) -> dict:
    """A successor takes over: a person (the owning unit stays) or a unit (no person)."""
    return dict(owner=d.get("owner"), unit=d.get("unit", s.unit))


def fold_nothing(s: ProblemState, e, d: dict) -> dict:
    """An event that changes only the version (and the state, if it moves)."""
    return {}


def apply(s: ProblemState, e) -> ProblemState:
    """The state after event `e`. Assumes `e` was allowed (the actions check that first)."""
    ch: dict = {"version": s.version + 1}
    if e.to_state:
        ch["state"] = e.to_state
    action = registry.ACTIONS.get(e.kind)
    if action is not None:
        ch.update(action.fold(s, e, e.data or {}))
    return _replace(s, ch)


_FIELDS = frozenset(f.name for f in fields(ProblemState))


def _replace(s: ProblemState, ch: dict) -> ProblemState:
    """`dataclasses.replace(s, **ch)`: a copy of `s` with the fields of `ch`. Copied field by
    field in one step (ProblemState has no __post_init__ and no field outside __init__),
    where replace reads and passes each field through __init__, one by one: that was a
    quarter of folding a history in bulk (problems.bulk)."""
    unknown = ch.keys() - _FIELDS
    if unknown:
        raise TypeError(f"ProblemState has no field {sorted(unknown)[0]!r}")
    new = object.__new__(ProblemState)
    new.__dict__.update(s.__dict__)
    new.__dict__.update(ch)
    return new


def replay(events) -> ProblemState:
    s = ProblemState()
    for e in events:
        s = apply(s, e)
    return s


# Last: the registry names the folds above (and so imports this module).
from . import registry  # noqa: E402
