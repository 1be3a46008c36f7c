"""The registry declares every action once and completely: a missing or half-declared
entry fails here, not in production."""

import inspect
from pathlib import Path

import pytest
from django.template.loader import get_template
from django.utils import translation
from ninja import Schema

from zhenggai.figures.counters import COUNTERS
from zhenggai.problems import actions, api, lifecycle, state
from zhenggai.problems.lifecycle import Kind
from zhenggai.problems.registry import ACTIONS, BY_FORM, Absent, Action, Api, Form
from zhenggai.problems.state import ProblemState
from zhenggai.web import problem_forms

# The lifecycle as the table in lifecycle.py stood before the registry (issue 14): for each
# action, its source states, target, roles and outcomes. The registry must allow exactly
# these (state, role) pairs and lead to exactly these states.
BEFORE = {
    "create": ([], "open", ["clerk"], []),
    "assign": (["assigned", "open", "reopened"], "assigned", ["clerk"], []),
    "update": (["assigned", "claimed", "open", "reopened", "verified"], None, ["clerk"], []),
    "add_opinions": (["assigned", "claimed", "closed", "declined", "open", "reopened",
                      "verified"], None, ["clerk"], []),
    "remove_opinion": (["assigned", "claimed", "closed", "declined", "open", "reopened",
                        "verified"], None, ["clerk"], []),
    "claim": (["assigned", "reopened"], "claimed", ["owner"], []),
    "verify_passed": (["claimed"], "verified", ["representative"], []),
    "verify_not_thorough": (["claimed"], "reopened", ["representative"], []),
    "check_holds": (["closed", "verified"], "closed", ["representative"], []),
    "check_deteriorated": (["closed", "verified"], "reopened", ["representative"], []),
    "followup": (["assigned", "claimed", "closed", "declined", "open", "reopened",
                  "verified"], None, ["clerk", "leader", "proposer"],
                 [("not_satisfied", ["closed", "verified"], "claimed")]),
    "propose_decline": (["assigned", "open"], None, ["clerk", "owner"], []),
    "decline": (["assigned", "open"], "declined", ["leader"], []),
    "reject_decline": (["assigned", "open"], None, ["leader"], []),
    "contest": (["declined"], "open", ["proposer"], []),
    "carry_over": (["assigned", "claimed", "open", "reopened", "verified"], None, ["leader"],
                   []),
    "poster": (["assigned", "claimed", "closed", "declined", "open", "reopened", "verified"],
               None, ["proposer", "worker"], []),
    # Issue 18: a leader hands a leaving member's live problems to a successor.
    "hand_over": (["assigned", "claimed", "open", "reopened", "verified"], None, ["leader"],
                  []),
    "me_too": (["assigned", "claimed", "open", "reopened"], None, ["proposer"], []),
}


def pairs(sources, roles) -> set[tuple[str, str]]:
    return {(s, r) for s in sources or ["(new)"] for r in roles}


def test_every_kind_has_one_entry_and_the_stored_names_are_unchanged():
    assert list(ACTIONS) == list(Kind)
    assert all(a.kind is k for k, a in ACTIONS.items())
    assert {k.value for k in Kind} == set(BEFORE), "an event kind's stored name changed"


@pytest.mark.parametrize("kind", list(Kind))
def test_the_lifecycle_is_unchanged(kind):
    a = ACTIONS[kind]
    sources, target, roles, otherwise = BEFORE[kind.value]
    assert pairs(a.sources, a.roles) == pairs(sources, roles)
    assert a.target == target
    assert [(o, sorted(s), to) for o, s, to in a.otherwise] == otherwise


@pytest.mark.parametrize("kind", list(Kind))
def test_an_entry_is_complete(kind):
    a: Action = ACTIONS[kind]
    assert a.sources <= set(lifecycle.STATES)
    assert a.target is None or a.target in lifecycle.STATES
    # Roles are the campaign's (campaigns.models.Role) or the proposer: no other vocabulary.
    assert a.roles and a.roles <= lifecycle.ROLES
    assert str(a.label) and str(a.plain)
    assert (a.ledger.why if isinstance(a.ledger, Absent) else str(a.ledger))
    # Its fold is one of state.py's folds; its flows, a decision that names real counters.
    assert callable(a.fold) and getattr(state, a.fold.__name__) is a.fold
    flows = a.flows(ProblemState(state="claimed"), ProblemState(state="claimed"),
                    {"outcome": "satisfied", "proposer": "m1"})
    assert all(name in COUNTERS and isinstance(v, int) for name, v in flows)
    # The domain function that takes it goes through `_commit`.
    fn = getattr(actions, a.call.fn)
    assert a.call.target in ("problem", "opinion", "campaign")
    assert set(a.call.fixed) <= set(inspect.signature(fn).parameters)
    assert "_commit(" in inspect.getsource(fn)


@pytest.mark.parametrize("kind", list(Kind))
def test_its_form_is_declared_and_the_dispatcher_knows_it(kind):
    a = ACTIONS[kind]
    if isinstance(a.form, Absent):
        assert a.form.why, "say why an action has no form"
        return
    assert isinstance(a.form, Form)
    assert BY_FORM[a.form.do] is a
    parser = getattr(problem_forms, a.form.fields)
    assert callable(parser) and list(inspect.signature(parser).parameters) == [
        "request", "problem"]
    assert str(a.form.done)
    if a.form.card:
        get_template(a.form.card)  # the problem page's card exists
        src = Path(get_template(a.form.card).origin.name).read_text()
        assert f'value="{a.form.do}"' in src, "the card posts the form's `do`"


@pytest.mark.parametrize("kind", list(Kind))
def test_its_api_endpoint_is_declared_and_routed(kind):
    a = ACTIONS[kind]
    if isinstance(a.api, Absent):
        assert a.api.why, "say why an action has no endpoint"
        return
    assert isinstance(a.api, Api)
    handler = getattr(api, a.api.handler)
    params = inspect.signature(handler).parameters
    if a.api.schema is None:
        assert "body" not in params
    else:
        schema = getattr(api, a.api.schema)
        assert issubclass(schema, Schema)
        assert params["body"].annotation in (schema, a.api.schema)
    from zhenggai.api.api import api as ninja_api

    paths = ninja_api.get_openapi_schema()["paths"]
    assert "post" in paths["/api/v1" + a.api.path]


@pytest.mark.parametrize("kind", list(Kind))
def test_every_label_has_a_chinese_translation(kind):
    a = ACTIONS[kind]
    labels = [a.label, a.plain] + ([] if isinstance(a.ledger, Absent) else [a.ledger])
    if isinstance(a.form, Form):
        labels.append(a.form.done)
    with translation.override("en"):
        english = [str(x) for x in labels]
    with translation.override("zh-hans"):
        chinese = [str(x) for x in labels]
    for en, zh in zip(english, chinese, strict=True):
        assert en != zh, f"no zh_Hans translation for “{en}”"
