"""Normalisation and tokens: width, script, case, numbers and codes."""

from zhenggai.grouping.text import display, normalise, tokens


def test_full_width_and_case_fold_to_the_same_tokens():
    assert tokens("ＨＤＦＳ－１２３４ ＮａｍｅＮｏｄｅ") == tokens("HDFS-1234 NameNode")
    assert normalise("８号炉，漏水！") == "8号炉,漏水!"


def test_traditional_maps_to_simplified():
    assert normalise("八號爐漏水嚴重，請儘快維修") == "8号炉漏水严重,请尽快维修"
    assert tokens("食堂飯菜價格太貴") == tokens("食堂饭菜价格太贵")


def test_chinese_gives_characters_and_bigrams():
    assert tokens("漏水严重") == ["漏", "水", "严", "重", "漏水", "水严", "严重"]


def test_numbers_and_identifiers_match_across_languages_and_numerals():
    for text in ("8号炉", "八号炉", "No. 8 furnace", "no.08 furnace", "8# 炉", "第八号炉"):
        assert "№8" in tokens(text), text
        assert "#8" in tokens(text), text
    assert "№3" not in tokens("8号炉")
    assert "#12" in tokens("第十二车间") and "#23" in tokens("二十三号")


def test_codes_keep_the_whole_and_the_parts():
    t = tokens("See HDFS-1234 and FSDownload.java")
    assert {"hdfs-1234", "hdfs", "#1234", "fsdownload.java", "download", "java"} <= set(t)


def test_english_light_stemming_and_stop_words():
    assert tokens("The pumps are leaking, crashes and boxes") == [
        "pump", "leaking", "crash", "box"]
    assert tokens("status class analysis") == ["status", "class", "analysis"]


def test_display_drops_number_markers():
    assert display("#8") == "8" and display("№8") == "8" and display("漏水") == "漏水"
