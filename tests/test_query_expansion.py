"""Term-bank query expansion in the BM25 leg: a query's concepts add their terms in the other corpus languages.

Checked on the term bank and the analyzers as shipped, and on a real slice of the corpus (the Thai
Anti-Trafficking Act and the Malaysian 2007 bill in English) served by both backends: an English question finds
the Thai provision on compensation through BM25 alone, the same on the embedded engine and OpenSearch.
"""

from __future__ import annotations


import pytest
from opensearch_support import CORPUS, SyncedSlice, ingest_synced, osmem_url, slice_searcher  # noqa: F401 (fixture)

from ingest.analysis import PAIR_WEIGHT, analyze, query_terms
from search_api.filters import build_filters
from search_api.query_terms import EXPANSION_WEIGHT, expansion_terms, term_groups, weighted_query_terms
from search_api.searcher import Searcher, SearchRequest

RESTITUTION = "restitution for trafficking victims"


def test_an_english_query_filtered_to_thai_gets_the_thai_terms_of_its_concepts():
    added = dict(expansion_terms(RESTITUTION, ["th"]))
    # ค่าสินไหมทดแทน (compensation, restitution) and ผู้เสียหายจากการค้ามนุษย์ (trafficking victim), cut as Thai
    for term in analyze("ค่าสินไหมทดแทน", "th") + analyze("ผู้เสียหายจากการค้ามนุษย์", "th"):
        assert 0 < added[term] <= EXPANSION_WEIGHT * (PAIR_WEIGHT if " " in term else 1.0)
    assert all(any("\u0e00" <= ch <= "\u0e7f" for ch in t) for t in added)  # only the filtered language's


def test_a_concepts_words_in_a_language_weigh_no_more_than_the_words_that_named_it():
    # "restitution" is one English word; its Thai term ค่าสินไหมทดแทน is three (ค่า สินไหม ทดแทน): a third each
    added = dict(expansion_terms("restitution", ["th"]))
    words = [t for t in analyze("ค่าสินไหมทดแทน", "th") if " " not in t]
    assert len(words) == 3 and sum(added[t] for t in words) == pytest.approx(EXPANSION_WEIGHT)
    # one Chinese word for one English word: the full weight
    assert dict(expansion_terms("restitution", ["zh"])) == {"赔偿": EXPANSION_WEIGHT}


def test_unfiltered_the_terms_of_every_other_language_are_added_and_the_query_keeps_its_own():
    weighted = weighted_query_terms(RESTITUTION)
    own = query_terms(RESTITUTION)
    assert [t for t, _ in weighted[: len(own)]] == own
    added = {t for t, _ in weighted[len(own):]}
    assert {"赔偿", "restitusi"} <= added  # Chinese and Malay/Indonesian
    assert not added & set(own)  # a term the query has keeps its own weight


def test_a_query_filtered_to_its_own_language_gets_nothing_added():
    assert expansion_terms(RESTITUTION, ["en"]) == []
    assert weighted_query_terms("การค้ามนุษย์", ["th"]) == [(t, 0.4 if " " in t else 1.0) for t in query_terms("การค้ามนุษย์", ["th"])]


def test_a_thai_or_chinese_query_gets_the_english_terms():
    assert "traffick" in dict(expansion_terms("การค้ามนุษย์", ["en"]))
    assert "traffick" in dict(expansion_terms("拐卖妇女", ["en"]))


def test_a_query_naming_no_concept_gets_nothing_added():
    assert expansion_terms("the weather in the capital") == []


def test_term_groups_hold_the_same_weighted_terms():
    groups = term_groups(RESTITUTION, ["th"])
    assert sorted((t, w) for w, ts in groups.items() for t in ts) == sorted(weighted_query_terms(RESTITUTION, ["th"]))


# ---------------------------------------------------------------------------------------------------------
# On a real slice, both backends


@pytest.fixture(scope="module")
def expansion_slice(tmp_path_factory, embedder, osmem_url) -> SyncedSlice:  # noqa: F811 (fixture)
    files = [CORPUS / "laws/th_anti_trafficking_act_2008_th.txt", CORPUS / "laws/my_atip_bill_2007_en.md"]
    return ingest_synced(tmp_path_factory, files, "kb-expansion", embedder, osmem_url)


@pytest.fixture(params=["embedded", "opensearch"])
def backend_searcher(request, expansion_slice, query_embedder) -> Searcher:
    return slice_searcher(request, expansion_slice, query_embedder)


def _search(searcher: Searcher, query: str, **filters) -> dict:
    return searcher.search(SearchRequest(query, filters=build_filters(**filters), mode="bm25", top_k=10))


def test_an_english_question_finds_the_thai_provision_on_compensation_through_bm25(backend_searcher):
    out = _search(backend_searcher, RESTITUTION, languages=["th"])
    top = out["results"][:3]
    assert top and all(r["section_id"].startswith("th-atipa-2008:") for r in out["results"])
    # sections 33-35: the victim's right to claim compensation (ค่าสินไหมทดแทน) for the trafficking offence
    assert any(r["section_id"].rsplit(".", 1)[-1] in ("s-33", "s-34", "s-35") for r in top), [r["section_id"] for r in top]


def test_unfiltered_an_english_question_finds_english_and_thai_provisions(backend_searcher):
    out = _search(backend_searcher, RESTITUTION)
    assert out["facets"]["language"].keys() == {"en", "th"}


def test_both_backends_rank_the_expanded_query_alike(expansion_slice, query_embedder):
    runs = [_search(Searcher(getattr(expansion_slice, name), embedder=query_embedder), RESTITUTION, languages=["th"])
            for name in ("embedded", "opensearch")]
    # the same matches; Lucene's lossy length norms (long Thai passages) reorder near ties, as without expansion
    assert runs[0]["total"] == runs[1]["total"]
    for run in runs:
        assert any(r["section_id"].rsplit(".", 1)[-1] in ("s-34", "s-35") for r in run["results"][:2])





