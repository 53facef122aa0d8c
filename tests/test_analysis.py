"""The analyzers of each language family, on real corpus sentences, and properties that hold for any text.

English must cut exactly as it did (the ObliQA and bali_dev figures were measured so); Thai and Chinese are
segmented (ICU word breaks, Han bigrams); Bengali keeps its vowel signs and joiners inside words; Turkish lower
case follows Turkish rules; a query is cut as the text of its language was.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.analysis import (
    ANALYZER_VERSION,
    ANALYZERS,
    CHINESE,
    analyze,
    analyzer_for,
    query_terms,
    script_of,
    tokenize_for_bm25,
)
from search_api.highlight import highlight_spans
from search_api.phrases import PhraseMatcher, query_phrases

# มาตรา ๖ of the Thai Anti-Trafficking in Persons Act 2008 (its opening clause, as the Gazette prints it)
THAI_S6 = "ผู้ใดกระทำการอย่างหนึ่งอย่างใดดังต่อไปนี้ เพื่อแสวงหาประโยชน์โดยมิชอบ ผู้นั้นกระทำความผิดฐานค้ามนุษย์"
# 刑法 第二百四十条 (abducting and trafficking women and children)
CHINESE_ART_240 = "拐卖妇女、儿童的，处五年以上十年以下有期徒刑，并处罚金"
# Bangladesh Human Trafficking Act 2012: তদ্‌সংশ্লিষ্ট (related thereto) is spelt with a ZWNJ after the virama
BENGALI = "মানব পাচার প্রতিরোধ ও দমন আইন এবং তদ্\u200cসংশ্লিষ্ট বিষয়াদি"
# Law 6458, Madde 3: İçişleri Bakanlığını (the Ministry of the Interior), IRAK-style capitals
TURKISH = "İçişleri Bakanlığını, Göç İdaresi Genel Müdürlüğünü ve ILGILI KURUMLARI"


def test_english_terms_are_the_ones_obliqa_was_measured_with():
    text = "Smuggling of migrants by sea is an offence under Rule \u200e3.2.1 on cross-border AML/TFS controls"
    assert analyze(text) == analyze(text, "en") == [
        "smuggl", "migrant", "sea", "offenc", "under", "rule", "cross", "border", "aml", "tfs", "control",
        "3.2.1", "cross-border", "aml/tfs",
        "smuggl migrant", "migrant sea", "sea offenc", "offenc under", "under rule", "rule cross", "cross border",
        "border aml", "aml tfs", "tfs control",
    ]
    # an English query names no language: its English terms come first and whole, then other languages' extras
    q = "trafficking of persons"
    assert query_terms(q)[: len(analyze(q))] == analyze(q) and "of" not in query_terms(q)
    assert query_terms(q, ["en"]) == analyze(q)
    assert ANALYZER_VERSION >= 2


def test_thai_is_segmented_and_a_query_word_matches_the_texts_terms():
    terms = analyze(THAI_S6, "th")
    assert "ค้า" in terms and "มนุษย์" in terms and "ค้า มนุษย์" in terms  # a pair term, as English has
    assert all(len(t) < 20 for t in terms)  # not one token per sentence, as \w\w+ made it
    # the query word การค้ามนุษย์ (written without spaces) shares its words and its pair with the text
    q = query_terms("การค้ามนุษย์")
    assert {"ค้า", "มนุษย์", "ค้า มนุษย์"} <= set(q) & set(terms)
    assert query_terms("การค้ามนุษย์", ["th"]) == analyze("การค้ามนุษย์", "th")


def test_thai_vowel_signs_stay_inside_their_words():
    for w in analyzer_for("th").words(THAI_S6):
        assert not unicodedata.category(w[0]).startswith("M"), w  # no word starts with a stray vowel sign


def test_chinese_is_indexed_as_bigrams_of_every_han_run():
    terms = analyze(CHINESE_ART_240, "zh")
    assert {"拐卖", "卖妇", "妇女", "儿童", "有期", "期徒", "徒刑"} <= set(terms)
    # ICU may cut the query as 拐|卖|妇女 and the text otherwise: the bigrams match all the same
    assert {"拐卖", "卖妇", "妇女"} <= set(query_terms("拐卖妇女")) <= set(terms) | {"拐卖妇女"}
    # full-width digits fold to ASCII (NFKC), and a line break inside a run keeps the run's bigrams
    assert "240" in analyze("第２４０条", "zh") and "卖妇" in analyze("拐卖\n妇女", "zh")


def test_a_quoted_chinese_phrase_is_compared_character_for_character():
    m = PhraseMatcher(["拐卖妇女、儿童"])
    assert m.matches("以出卖为目的，拐卖妇女、\n儿童的") and not m.matches("拐卖妇女儿童")
    # its required terms are bigrams every text holding it has, whatever ICU made of it
    assert m.required_term_sets() == [["儿童", "卖妇", "妇女", "拐卖"]]
    assert set(m.required_terms()) <= set(analyze("为依法惩治拐卖妇女、儿童犯罪", "zh"))
    assert query_phrases('"拐卖妇女、儿童"') == (["拐卖妇女、儿童"], True)


def test_bengali_keeps_vowel_signs_and_the_zwnj_inside_words():
    terms = analyze(BENGALI, "bn")
    assert "তদ্\u200cসংশ্লিষ্ট" in terms and "প্রতিরোধ" in terms and "মানব পাচার" in terms
    assert analyze(BENGALI, "en") == terms  # Bengali runs are cut by their script's analyzer in any text


def test_turkish_lower_case_follows_turkish_rules():
    terms = analyze(TURKISH, "tr")
    assert "içişler" in terms or any(t.startswith("içiş") for t in terms)
    assert not any("\u0307" in t for t in terms)  # İ is i, not i + combining dot
    assert any(t.startswith("ılgıl") for t in terms)  # ILGILI is ılgılı in Turkish
    import icu

    assert analyzer_for("tr").normalize(TURKISH) == str(icu.UnicodeString(TURKISH).toLower(icu.Locale("tr")))


def test_malay_forms_of_perdagangan_share_a_stem():
    ms = analyzer_for("ms")
    assert ms.stem("memperdagangkan") == ms.stem("diperdagangkan") == ms.stem("perdagangan")
    # the union of the query's Latin analyzers reaches Malay text without a language filter
    assert "dagang" in query_terms("diperdagangkan")


def test_mixed_scripts_are_cut_by_each_scripts_analyzer():
    q = "trafficking การค้ามนุษย์ 拐卖 মানব পাচার"
    terms = query_terms(q)
    assert {"traffick", "ค้า", "拐卖", "মানব পাচার"} <= set(terms)
    assert script_of(q) == "zh" and script_of("การค้า") == "th" and script_of("trafficking") is None


def test_highlights_mark_thai_and_chinese_words():
    spans = highlight_spans(CHINESE_ART_240, "拐卖妇女")
    assert [CHINESE_ART_240[a:b] for a, b in spans] == ["拐卖妇女"]
    spans = highlight_spans(THAI_S6, "การค้ามนุษย์")
    assert "ค้ามนุษย์" in [THAI_S6[a:b] for a, b in spans]


def test_every_language_code_of_the_corpus_has_an_analyzer():
    assert {"en", "ms", "id", "th", "zh", "bn", "tr", "nl"} <= set(ANALYZERS)
    assert analyzer_for("und") is analyzer_for(None) is analyzer_for("en")


def test_index_side_takes_each_texts_language():
    texts = [THAI_S6, CHINESE_ART_240, TURKISH]
    assert tokenize_for_bm25(texts, ["th", "zh", "tr"]) == [analyze(THAI_S6, "th"), analyze(CHINESE_ART_240, "zh"),
                                                            analyze(TURKISH, "tr")]


# -- properties ----------------------------------------------------------------------------------------

MARKS = "\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2060\ufeff\u0301\u0e31\u09cd"
SCRIPTS = "abcİIı çğ 拐卖妇女儿童、第二条 การค้ามนุษย์ মানব পাচার ১২ ๖ 3.2.1-/\n"
mixed_text = st.text(alphabet=st.sampled_from(list(SCRIPTS + MARKS)), max_size=60) | st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(mixed_text, st.sampled_from([None, "en", "ms", "tr", "nl", "th", "zh", "bn", "und"]))
def test_analysis_never_fails_on_any_text(text, language):
    terms = analyze(text, language)
    assert all(t and t.strip() == t and "  " not in t for t in terms)
    query_terms(text, [language] if language else None)
    PhraseMatcher([text]).matches(text)
    highlight_spans(text, text)


han = st.text(alphabet=st.sampled_from(list("拐卖妇女儿童的处五年以上十有期徒刑罚金、，") + [" ", "\n"]), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(han, st.integers(0, 40), st.integers(0, 40))
def test_a_chinese_phrase_s_required_bigrams_are_in_every_text_that_holds_it(text, i, j):
    phrase = text[min(i, j) : max(i, j)]
    m = PhraseMatcher([phrase])
    if phrase.strip() and m.matches(text):
        assert set(m.required_terms()) <= set(analyze(text, "zh")) | set(analyze(text, "en"))
    # and the query terms of a substring are bigrams of the text, bar ICU's own words and lone characters
    extra = set(query_terms(phrase, ["zh"])) - set(analyze(text, "zh"))
    assert all(len(t) == 1 or len(t) >= 3 for t in extra)


words = st.lists(st.sampled_from("smuggling of migrants by sea the offence İçişleri pemerdagangan orang".split()), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(words, st.integers(0, 8), st.integers(0, 8), st.sampled_from(["en", "ms", "tr", "nl", "th", "zh", "bn"]))
def test_a_phrases_required_terms_hold_in_every_text_of_any_language_that_holds_it(ws, i, j, language):
    text = " ".join(ws)
    phrase = " ".join(ws[min(i, j) : max(i, j)])
    if not phrase:
        return
    m = PhraseMatcher([phrase])
    if m.matches(text):
        have = set(analyze(text, language))
        assert any(set(terms) <= have for terms in m.required_term_sets())
