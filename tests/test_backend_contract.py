"""One contract for every backend: each test runs against the embedded engine and against OpenSearch.

The ``backend`` fixture is the only thing that differs (as in Haystack's document-store test suite). Both serve
the same real-corpus slice: the embedded index, and its mirror that the ingest hook wrote into OpenSearch.
OpenSearch here is osmem-server, a stand-in because no real OpenSearch can run on this machine; it has no
k-NN, so both backends are held to the contract in ``bm25`` mode (tests/realcluster/ covers hybrid on a
real cluster).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from opensearch_support import CORPUS, SyncedSlice, ingest_synced, osmem_url, slice_searcher, synced_slice  # noqa: F401 (fixtures)

from ingest.errors import UnknownFilterValueError
from search_api.filters import build_filters
from search_api.searcher import Searcher, SearchRequest

MODE = "bm25"


@dataclass
class Backend:
    name: str
    searcher: Searcher

    def search(self, query: str, **kw) -> dict:
        return self.searcher.search(SearchRequest(query, mode=MODE, **kw))


@pytest.fixture(params=["embedded", "opensearch"])
def backend(request, synced_slice, query_embedder) -> Backend:
    """The searcher over one backend; OpenSearch answers from osmem-server."""
    return Backend(request.param, slice_searcher(request, synced_slice, query_embedder))


KEYWORD_QUERIES = {
    "videotaped witness testimony": "us-8-usc-1324:title-8.ch-12.s-1324.d",
    "seizure and forfeiture": "us-8-usc-1324:title-8.ch-12.s-1324.b",
    "information exchange and training": "un-trafficking-protocol-2000:ch-iii.art-10",
    "High Court to try offences": "lk-act-30-2005:s-3",
    "outreach program": "us-8-usc-1324:title-8.ch-12.s-1324.e",
}


@pytest.mark.parametrize("query", sorted(KEYWORD_QUERIES))
def test_keyword_query_ranks_the_expected_section_first(backend, query):
    assert backend.search(query, top_k=3)["results"][0]["section_id"] == KEYWORD_QUERIES[query]


@pytest.mark.parametrize(
    "filters, field, allowed",
    [
        (dict(members=["Sri Lanka"]), "members", "Sri Lanka"),
        (dict(doc_types=["protocol"]), "doc_type", "protocol"),
        (dict(year_from=2001, year_to=2019), "year", range(2001, 2020)),
        (dict(areas=["victim_protection"]), "areas", "victim_protection"),
        (dict(doc_ids=["lk-act-30-2005"]), "doc_id", "lk-act-30-2005"),
    ],
)
def test_every_result_satisfies_the_filters(backend, filters, field, allowed):
    out = backend.search("trafficking of persons", top_k=20, filters=build_filters(**filters))
    assert out["results"], "the filter should leave results"
    for r in out["results"]:
        value = {
            "members": r["members"],
            "doc_type": r["document"]["doc_type"],
            "year": r["document"]["year"],
            "areas": [t["area"] for t in r["priority_areas"]],
            "doc_id": r["doc_id"],
        }[field]
        assert (allowed in value) if isinstance(value, list) else (value in allowed if isinstance(allowed, range) else value == allowed)


def test_filters_apply_before_top_k(backend):
    # "offence" matches sections of every document; filtering after a global top-k could leave fewer than 5 laws.
    out = backend.search("offence", top_k=5, filters=build_filters(doc_types=["law"]))
    assert len(out["results"]) == 5 and out["total"] >= 5


def test_unknown_doc_id_filter_is_rejected(backend):
    with pytest.raises(UnknownFilterValueError) as err:
        backend.search("trafficking", filters=build_filters(doc_ids=["no-such-document"]))
    assert err.value.field == "doc_id" and err.value.value == "no-such-document"


def test_facet_counts_are_consistent_with_the_results(backend):
    out = backend.search("smuggling of migrants", top_k=100)
    facets, results = out["facets"], out["results"]
    assert out["total"] == len(results)  # top_k exceeds the matches: every matched section is listed
    assert sum(facets["doc_type"].values()) == out["total"]
    assert sum(facets["year"].values()) == sum(1 for r in results if r["document"]["year"] is not None)
    for member, count in facets["member"].items():
        assert count == sum(1 for r in results if member in r["members"])
    for area, count in facets["priority_area"].items():
        assert count == sum(1 for r in results if area in [t["area"] for t in r["priority_areas"]])


def test_facets_agree_across_backends(synced_slice, query_embedder):
    def facets(settings):
        return Searcher(settings, embedder=query_embedder).search(SearchRequest("trafficking in persons", mode=MODE, top_k=5))

    a, b = facets(synced_slice.embedded), facets(synced_slice.opensearch)
    assert (a["total"], a["facets"]) == (b["total"], b["facets"])


def test_hydrated_results_carry_citations_with_pages(backend):
    out = backend.search("High Court to try offences", top_k=3, filters=build_filters(doc_ids=["lk-act-30-2005"]))
    top = out["results"][0]
    citation = top["citation"]
    assert citation["doc_id"] == "lk-act-30-2005" and citation["section_id"] == top["section_id"]
    assert citation["page_start"] == 4 and "p. 4" in citation["text"]
    assert top["text"] and citation["permalink"].endswith("#" + top["section_id"])


def test_document_list_and_tree_are_the_same(backend, synced_slice):
    from search_api.engine import EmbeddedEngine

    reference = EmbeddedEngine(synced_slice.embedded.index_dir)
    engine = backend.searcher.engine
    assert engine.documents() == reference.documents()
    assert engine.section_counts() == reference.section_counts()
    for doc_id in reference.documents():
        assert [s.section_id for s in engine.sections_of(doc_id)] == [s.section_id for s in reference.sections_of(doc_id)]
    sid = "un-trafficking-protocol-2000:ch-ii.art-6"
    assert engine.passages_of([sid]) == reference.passages_of([sid])


def test_quoted_phrase_narrows_results_and_facets_alike(backend):
    out = backend.search('"seizure and forfeiture"', top_k=50)
    assert [r["section_id"] for r in out["results"]] == ["us-8-usc-1324:title-8.ch-12.s-1324.b"]
    assert out["total"] == 1 and out["facets"]["doc_type"] == {"law": 1}


@pytest.mark.parametrize("phrase", ["trafficking in persons", "victims of trafficking"])
def test_a_quoted_phrase_total_is_exact_and_the_same_at_any_page_size(backend, synced_slice, phrase):
    """Both backends list every passage holding a required phrase, so the total and the facets are those of the
    phrase's whole result set, whatever the page size (the embedded count is checked against the definition in
    tests/test_search.py)."""
    outs = [backend.search(f'"{phrase}"', top_k=k) for k in (3, 20, 100)]
    assert all(o["total_exact"] for o in outs)
    assert len({o["total"] for o in outs}) == 1 and outs[0]["total"] > 3  # more than the smallest page
    assert outs[0]["facets"] == outs[1]["facets"] == outs[2]["facets"]
    embedded = Searcher(synced_slice.embedded, embedder=backend.searcher.embedder).search(
        SearchRequest(f'"{phrase}"', mode=MODE, top_k=100))
    assert outs[2]["total"] == embedded["total"] and outs[2]["facets"] == embedded["facets"]


# ---------------------------------------------------------------------------------------------------------
# Thai and Chinese: text cut by ICU word breaks and Han bigrams, the same terms on both backends


@pytest.fixture(scope="module")
def multilingual_slice(tmp_path_factory, embedder, osmem_url) -> SyncedSlice:  # noqa: F811 (fixture)
    """The Thai Anti-Trafficking Act and the Chinese SPC interpretation, ingested and mirrored into osmem."""
    files = [CORPUS / "laws/th_anti_trafficking_act_2008_th.txt",
             CORPUS / "laws/cn_spc_interpretation_trafficking_women_children_2016_zh.md"]
    return ingest_synced(tmp_path_factory, files, "kb-multilingual", embedder, osmem_url)


@pytest.fixture(params=["embedded", "opensearch"])
def ml_backend(request, multilingual_slice, query_embedder) -> Backend:
    return Backend(request.param, slice_searcher(request, multilingual_slice, query_embedder))


@pytest.mark.parametrize("languages", [None, ["th"]])
def test_a_thai_query_word_finds_the_thai_acts_sections(ml_backend, languages):
    # การค้ามนุษย์ (trafficking in persons), written without spaces; section 6 defines the offence (ค้ามนุษย์)
    out = ml_backend.search("การค้ามนุษย์", top_k=100, filters=build_filters(languages=languages))
    ids = [r["section_id"] for r in out["results"]]
    # unfiltered, the term bank's Chinese terms of the concept (拐卖, search_api.query_terms) find the interpretation too
    allowed = ("th-atipa-2008:",) if languages else ("th-atipa-2008:", "cn-spc-interpretation-2016:")
    assert ids and ids[0].startswith("th-atipa-2008:") and all(i.startswith(allowed) for i in ids)
    assert "th-atipa-2008:ch-1.s-6" in ids and out["total"] == len(ids)
    assert any(out["results"][0]["highlights"] for _ in [0])  # the matched words are marked


def test_thai_and_chinese_totals_are_the_same_on_both_backends(multilingual_slice, query_embedder):
    def search(settings, query):
        out = Searcher(settings, embedder=query_embedder).search(SearchRequest(query, mode=MODE, top_k=100))
        return out["total"], sorted(r["section_id"] for r in out["results"]), out["facets"]

    for query in ["การค้ามนุษย์", "คนต่างด้าว", "拐卖儿童", '"拐卖妇女、儿童"', "收买被拐卖的妇女"]:
        assert search(multilingual_slice.embedded, query) == search(multilingual_slice.opensearch, query), query


def test_a_quoted_chinese_phrase_is_required_verbatim(ml_backend):
    out = ml_backend.search('"拐卖妇女、儿童"', top_k=50)
    assert out["total_exact"] and out["total"] == len(out["results"]) >= 1
    for r in out["results"]:
        assert "拐卖妇女、儿童" in "".join(r["text"].split())
    # article 7 holds every bigram of this phrase (被拐卖的妇女、儿童 ... 儿童罪) but not the phrase itself
    assert ml_backend.search('"拐卖的妇女、儿童罪"', top_k=50)["total"] == 0
    assert ml_backend.search("拐卖的妇女、儿童罪", top_k=50)["total"] > 0


def test_an_unquoted_chinese_query_matches_words_that_icu_cut_otherwise(ml_backend):
    # 拐卖儿童 (abducting and trafficking children) stands in article 2 as 以拐卖儿童罪论处
    out = ml_backend.search("拐卖儿童", top_k=10, filters=build_filters(languages=["zh"]))
    assert any(r["section_id"].startswith("cn-spc-interpretation-2016:") and "拐卖儿童" in r["text"] for r in out["results"])
