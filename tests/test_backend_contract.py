"""One contract, both backends: whatever store answers, the searcher behaves the same.

The ``backend`` fixture gives a Searcher over one slice of the real corpus, ingested once with
``backend="opensearch"`` (which writes the embedded index and mirrors it into OpenSearch). The OpenSearch side runs
on osmem-server, a stand-in used because no real OpenSearch can run here; it has no k-NN, so the OpenSearch
backend runs the contract in bm25 mode, and the embedded backend runs it in bm25, hybrid and dense modes.
"""

from __future__ import annotations

import pytest

from ingest.errors import UnknownFilterValueError
from ingest.settings import Settings
from opensearch_support import ingest_slice, start_osmem
from search_api.filters import build_filters
from search_api.opensearch_engine import OpenSearchEngine
from search_api.searcher import Searcher, SearchRequest

pytestmark = [pytest.mark.opensearch, pytest.mark.integration]

SMUGGLING = "un-smuggling-protocol-2000"
TRAFFICKING = "un-trafficking-protocol-2000"

# (backend, mode) pairs the contract runs on.
CASES = [("embedded", "bm25"), ("embedded", "hybrid"), ("embedded", "dense"), ("opensearch", "bm25")]

# Keyword queries whose best section is clear whatever the backend's BM25 flavour.
KEYWORD_QUERIES = [
    ("boarding and searching a vessel suspected of smuggling migrants by sea", f"{SMUGGLING}:ch-ii.art-8"),
    ("bringing in and harboring certain aliens", None),  # any section of 8 U.S.C. 1324
    ("definition of trafficking in persons exploitation", f"{TRAFFICKING}:ch-i.art-3"),
]


@pytest.fixture(scope="module")
def slice_settings(tmp_path_factory, embedder):
    server = start_osmem()
    try:
        yield ingest_slice(tmp_path_factory.mktemp("contract-index"), server.url, "kb-contract", embedder)
    finally:
        server.close()


@pytest.fixture(scope="module")
def searchers(slice_settings, embedder) -> dict[str, Searcher]:
    embedded = Settings(index_dir=slice_settings.index_dir, backend="embedded")  # the same generation, read locally
    return {
        "embedded": Searcher(embedded, embedder=embedder),
        "opensearch": Searcher(slice_settings, engine=OpenSearchEngine(slice_settings), embedder=embedder),
    }


@pytest.fixture(params=CASES, ids=[f"{b}-{m}" for b, m in CASES])
def backend(request, searchers):
    """(searcher, mode) for one backend and mode."""
    name, mode = request.param
    return searchers[name], mode


def _search(backend, query, top_k=10, **filters):
    searcher, mode = backend
    return searcher.search(SearchRequest(query, filters=build_filters(**filters), mode=mode, top_k=top_k))


# Keyword queries are the BM25 leg's job: dense mode is held to every other clause, not to this one.
LEXICAL = [c for c in CASES if c[1] != "dense"]


@pytest.mark.parametrize("backend", LEXICAL, ids=[f"{b}-{m}" for b, m in LEXICAL], indirect=True)
@pytest.mark.parametrize("query, section_id", KEYWORD_QUERIES)
def test_keyword_query_finds_the_section(backend, query, section_id):
    top = _search(backend, query)["results"][0]
    if section_id is None:
        assert top["doc_id"] == "us-8-usc-1324"
    else:
        assert top["section_id"] == section_id


def test_member_filter_is_respected(backend):
    out = _search(backend, "trafficking in women and children", top_k=5, members=["Sri Lanka"])
    assert len(out["results"]) == 5
    assert all("Sri Lanka" in r["members"] for r in out["results"])


def test_doc_type_and_year_filters_are_respected(backend):
    out = _search(backend, "protection of victims", doc_types=["protocol"], year_from=1999, year_to=2001)
    assert out["results"]
    for r in out["results"]:
        assert r["document"]["doc_type"] == "protocol" and r["document"]["year"] == 2000


def test_area_filter_is_respected(backend):
    out = _search(backend, "sharing information between states", areas=["information_sharing"])
    assert out["results"]
    for r in out["results"]:
        assert "information_sharing" in {a["area"] for a in r["priority_areas"]}


def test_doc_id_filter_keeps_one_document(backend):
    out = _search(backend, "trafficking", doc_ids=["lk-act-30-2005"])
    assert out["results"] and {r["doc_id"] for r in out["results"]} == {"lk-act-30-2005"}


def test_unknown_doc_id_filter_is_rejected(backend):
    with pytest.raises(UnknownFilterValueError) as err:
        _search(backend, "trafficking", doc_ids=["no-such-document"])
    assert err.value.field == "doc_id" and err.value.value == "no-such-document"


def test_facet_counts_are_consistent_with_the_total(backend):
    out = _search(backend, "trafficking of persons and smuggling of aliens", top_k=5)
    facets, total = out["facets"], out["total"]
    assert total >= len(out["results"]) > 0
    assert sum(facets["doc_type"].values()) == total  # every section has exactly one type
    assert facets["member"] and all(0 < c <= total for c in facets["member"].values())
    if backend[1] == "bm25":
        # the facet count of a member is what filtering by it gives (same BM25 matches, narrowed)
        member, count = next(iter(facets["member"].items()))
        assert _search(backend, "trafficking of persons and smuggling of aliens", members=[member])["total"] == count


def test_hydrated_results_carry_citations_with_pages(backend):
    out = _search(backend, "trafficking in women and children for prostitution", doc_ids=["lk-act-30-2005"])
    for r in out["results"]:
        c = r["citation"]
        assert c["doc_id"] == "lk-act-30-2005" and c["section_id"] == r["section_id"]
        assert c["page_start"] is not None and c["page_start"] >= 1
        assert c["text"].startswith(c["title"])


def test_group_by_document_returns_one_hit_per_document(backend):
    searcher, mode = backend
    out = searcher.search(SearchRequest("trafficking in persons", mode=mode, group_by="document", top_k=10))
    ids = [r["doc_id"] for r in out["results"]]
    assert len(ids) == len(set(ids)) >= 2


# -- the two backends against each other (bm25: the mode both can run) --------------------------------------


def _both(searchers, query, **filters) -> dict[str, dict]:
    req = SearchRequest(query, filters=build_filters(**filters), mode="bm25", top_k=3)
    return {name: s.search(req) for name, s in searchers.items()}


@pytest.mark.parametrize("query", [q for q, _ in KEYWORD_QUERIES] + ["smuggling of migrants", "law enforcement cooperation"])
def test_both_backends_agree_on_the_top_section(searchers, query):
    out = _both(searchers, query)
    assert out["embedded"]["results"][0]["section_id"] == out["opensearch"]["results"][0]["section_id"]


@pytest.mark.parametrize(
    "query, filters",
    [
        ("victims of trafficking assistance", {}),  # lower ranks differ (Lucene vs bm25s scoring); matches do not
        ("smuggling of migrants", {"members": ["Sri Lanka"]}),
        ("trafficking", {"areas": ["victim_protection"], "year_from": 2000, "year_to": 2018}),
    ],
)
def test_both_backends_match_the_same_sections_with_the_same_facets(searchers, query, filters):
    out = _both(searchers, query, **filters)
    assert out["embedded"]["total"] == out["opensearch"]["total"]
    assert out["embedded"]["facets"] == out["opensearch"]["facets"]


def test_both_backends_serve_the_same_documents_and_sections(searchers):
    emb, osr = searchers["embedded"].engine, searchers["opensearch"].engine
    assert emb.documents() == osr.documents()
    assert emb.section_counts() == osr.section_counts()
    assert emb.all_facets() == osr.all_facets()
    sections = emb.sections_of(SMUGGLING)
    assert [s.section_id for s in osr.sections_of(SMUGGLING)] == [s.section_id for s in sections]
    ids = [s.section_id for s in sections[:5]]
    assert emb.passages_of(ids) == osr.passages_of(ids)
