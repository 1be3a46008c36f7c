"""Every action form a page posts is an entry of the problems registry: a button whose `do`
the registry does not know would be refused by the dispatcher (web/problem_forms.py)."""

import re
from pathlib import Path

from zhenggai.problems.registry import BY_FORM

TEMPLATES = Path(__file__).resolve().parents[2] / "zhenggai"
# The proposer's own answers on their case page (web/views/worker.py), by opinion and
# receipt rather than by problem: the one place that posts actions outside the registry.
PROPOSER_CASE = {"satisfied", "not_satisfied", "contest"}


def test_every_posted_action_is_a_registry_form():
    posted = set()
    for path in TEMPLATES.rglob("*.html"):
        posted |= set(re.findall(r'name="do" value="([a-z_]+)"', path.read_text()))
    assert posted, "no action form found: the pattern no longer matches the templates"
    assert posted - set(BY_FORM) == PROPOSER_CASE
