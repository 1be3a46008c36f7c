"""Every message exists in Simplified Chinese, and refusals speak the user's language."""

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


def test_a_refusal_reads_in_chinese_and_in_english(story):
    s = story
    p = bring_to(s, lifecycle.CLAIMED)
    for lang, words in (("zh-hans", "只有职工代表才能"), ("en", "Only a representative may")):
        with translation.override(lang), pytest.raises(Forbidden) as e:
            actions.verify(p, actor=s.worker, passed=True, at=when(5))
        with translation.override(lang):
            assert words in str(e.value)
