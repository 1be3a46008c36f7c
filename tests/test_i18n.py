"""Every message exists in Simplified Chinese, and refusals speak the user's language."""

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

from tests.helpers import bring_to, when
from zhenggai.errors import Forbidden
from zhenggai.problems import actions, lifecycle

ROOT = Path(__file__).resolve().parents[1] / "zhenggai"
CATALOGUES = sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_there_is_a_catalogue_per_app_with_pages():
    assert {p.relative_to(ROOT).parts[0] for p in CATALOGUES} >= {"locale", "web", "production"}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_is_translated_and_compiled(po):
    text = po.read_text()
    entries = text.split("\n\n")
    untranslated = [e for e in entries[1:] if e.rstrip().endswith('msgstr ""')
                    or e.rstrip().endswith('msgstr[0] ""') or "#, fuzzy" in e]
    assert untranslated == []
    assert "#, fuzzy" not in entries[0], "a fuzzy header drops the plural forms"
    assert po.with_suffix(".mo").stat().st_mtime >= po.stat().st_mtime - 1


def _literals():
    """Every message marked in the code (`_("…")`, `gettext("…")`) and in the templates
    (`{% translate "…" %}`), with where it is."""
    for path in sorted(ROOT.glob("**/*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and node.args
                    and getattr(node.func, "id", "") in ("_", "gettext", "gettext_lazy")
                    and isinstance(node.args[0], ast.Constant)):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0].value
    tag = re.compile(r"""{%\s*translate\s+(?:"([^"]+)"|'([^']+)')""")
    for path in sorted(ROOT.glob("**/templates/**/*.html")):
        for m in tag.finditer(path.read_text()):
            yield str(path.relative_to(ROOT)), m[1] or m[2]


def test_every_message_the_code_and_templates_show_is_in_chinese():
    # A catalogue can be complete and still miss a message: one added or reworded in the
    # code (an API error, a link on the error page) that no catalogue has yet.
    with translation.override("zh-hans"):
        missing = [(where, s) for where, s in _literals()
                   if re.search("[A-Za-z]", s) and translation.gettext(s) == s]
    assert missing == []


def test_a_refusal_reads_in_chinese_and_in_english(story):
    s = story
    p = bring_to(s, lifecycle.CLAIMED)
    for lang, words in (("zh-hans", "只有职工代表才能"), ("en", "Only a representative may")):
        with translation.override(lang), pytest.raises(Forbidden) as e:
            actions.verify(p, actor=s.worker, passed=True, at=when(5))
        with translation.override(lang):
            assert words in str(e.value)
