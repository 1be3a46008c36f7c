"""Every message exists in Simplified Chinese, and refusals speak the user's language."""

from pathlib import Path

import pytest
from django.utils import translation

from zhenggai.errors import Forbidden
from zhenggai.problems import actions as A
from zhenggai.problems import lifecycle as lc

from .helpers import bring_to, when

PO = Path(__file__).resolve().parents[1] / "zhenggai/locale/zh_Hans/LC_MESSAGES/django.po"


def test_every_message_is_translated_and_compiled():
    text = PO.read_text()
    entries = text.split("\n\n")[1:]
    untranslated = [e for e in entries if e.rstrip().endswith('msgstr ""') or "#, fuzzy" in e]
    assert untranslated == []
    assert PO.with_suffix(".mo").stat().st_mtime >= PO.stat().st_mtime - 1


def test_a_refusal_reads_in_chinese_and_in_english(story):
    s = story
    p = bring_to(s, lc.CLAIMED)
    for lang, words in (("zh-hans", "只有职工代表才能"), ("en", "Only a representative may")):
        with translation.override(lang), pytest.raises(Forbidden) as e:
            A.verify(p, actor=s.worker, passed=True, at=when(5))
        with translation.override(lang):
            assert words in str(e.value)
