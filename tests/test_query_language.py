"""The question's language, and the dense leg's share when every result is in another language."""

from __future__ import annotations

from search_api.filters import build_filters
from search_api.query_language import cross_lingual, query_language
from search_api.searcher import SearchRequest


def test_a_query_is_told_by_its_script_or_by_lingua_and_a_short_latin_one_is_left_untold():
    assert query_language("การค้ามนุษย์") == "th"
    assert query_language("拐卖妇女、儿童") == "zh"
    assert query_language("মানব পাচার") == "bn"
    assert query_language("What is the punishment for human trafficking in Bangladesh?") == "en"
    assert query_language("insan ticareti mağduru") == "tr"
    assert query_language("trafficking") is None  # one word: no language is clearly ahead


def test_a_search_is_cross_lingual_only_when_its_language_filter_excludes_the_question_s_language():
    question = "restitution for trafficking victims"
    assert cross_lingual(question, ("ms",))
    assert not cross_lingual(question, ("en", "ms"))
    assert not cross_lingual(question, ())
    assert not cross_lingual("trafficking", ("th",))  # untold: the default weights stay


def test_an_english_section_searched_in_malay_finds_its_malay_counterpart(searcher):
    """The parallel check of kb eval --parallel, on one section: the 2007 bill's English section 12 (offence of
    trafficking in persons), its own text as the question, language filter ms, default hybrid search."""
    _, sections = searcher.document("my-atip-bill-2007-en")
    english = next(s for s in sections if s.section_id.endswith(".s-12"))
    out = searcher.search(SearchRequest(english.text.replace('"', " "), filters=build_filters(languages=["ms"]), top_k=5))
    ids = [r["section_id"] for r in out["results"]]
    assert english.section_id.replace("-en:", "-ms:") in ids, ids
