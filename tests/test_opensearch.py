"""The OpenSearch backend on a slice of the real corpus.

osmem-server stands in for OpenSearch here because no real OpenSearch can run on this machine: it imitates index
creation, bulk, BM25, filters, aggregations and delete-by-query, but answers k-NN and hybrid queries with 400.
So this module tests for real: the mapping, the ingest hook and sync (bulk, update, delete), BM25 with filters
inside the leg, facets, hydration and the unreachable-server path; the k-NN and hybrid request bodies are checked
as golden JSON (tests/data/opensearch_golden/, captured by a recording connection, no server). A real cluster is
exercised by tests/realcluster/ when KB_OPENSEARCH_URL is set. Set KB_UPDATE_GOLDEN=1 to rewrite the golden files.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from opensearchpy import OpenSearch

from ingest.errors import BackendUnavailableError, UnknownFilterValueError
from ingest.opensearch_store import passage_index_body, records_index, sync_generation
from ingest.settings import Settings
from ingest.stores import open_current
from opensearch_support import (
    check_golden,
    free_closed_port,
    ingest_slice,
    recording_connection,
    searches,
    start_osmem,
)
from search_api.filters import build_filters
from search_api.opensearch_engine import OpenSearchEngine
from search_api.searcher import Searcher, SearchRequest

pytestmark = [pytest.mark.opensearch, pytest.mark.integration]

UPDATE_GOLDEN = bool(os.environ.get("KB_UPDATE_GOLDEN"))
SMUGGLING = "un-smuggling-protocol-2000"


@pytest.fixture(scope="module")
def opensearch_server():
    """An osmem-server for this module, stopped at teardown."""
    server = start_osmem()
    yield server
    server.close()


@pytest.fixture(scope="module")
def synced_slice(opensearch_server, tmp_path_factory, embedder) -> Settings:
    """Settings of a slice of the corpus ingested with backend=opensearch (embedded index + OpenSearch mirror)."""
    return ingest_slice(tmp_path_factory.mktemp("os-index"), opensearch_server.url, "kb-slice", embedder)


@pytest.fixture(scope="module")
def os_searcher(synced_slice, embedder) -> Searcher:
    return Searcher(synced_slice, engine=OpenSearchEngine(synced_slice), embedder=embedder)


@pytest.fixture(scope="module")
def client(opensearch_server) -> OpenSearch:
    return OpenSearch(hosts=[opensearch_server.url])


def _bm25(searcher, query, top_k=10, **filters):
    return searcher.search(SearchRequest(query, filters=build_filters(**filters), mode="bm25", top_k=top_k))


# -- mapping and sync ------------------------------------------------------------------------------------------


def test_passage_index_is_created_with_knn_settings_analyzer_and_keyword_metadata(synced_slice, client):
    index = synced_slice.opensearch_index
    settings = client.indices.get_settings(index=index)[index]["settings"]["index"]
    assert str(settings["knn"]).lower() == "true"
    props = client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    emb = props["embedding"]
    assert (emb["type"], emb["dimension"]) == ("knn_vector", 384)
    assert emb["method"]["space_type"] == "cosinesimil" and emb["method"]["name"] == "hnsw"
    assert props["content"]["analyzer"] == "kb_english"
    for name in ("doc_id", "section_id", "passage_id", "doc_type", "language", "members", "areas", "areas_stated"):
        assert props[name]["type"] == "keyword", name
    for name in ("year", "year_to", "ordinal", "section_ordinal"):
        assert props[name]["type"] == "integer", name
    tokens = [t["token"] for t in client.indices.analyze(index=index, body={"analyzer": "kb_english", "text": "The smuggling of migrants"})["tokens"]]
    assert tokens == ["smuggl", "migrant"]


def test_passage_index_body_matches_golden():
    check_golden("passage_index", passage_index_body(384), UPDATE_GOLDEN)


def test_sync_mirrors_every_passage_section_and_document(synced_slice, client):
    gen = open_current(synced_slice.index_dir)
    counts = gen.manifest["counts"]
    gen.close()
    assert client.count(index=synced_slice.opensearch_index)["count"] == counts["passages"]
    records = records_index(synced_slice)
    assert client.count(index=records, body={"query": {"term": {"kind": "section"}}})["count"] == counts["sections"]
    assert client.count(index=records, body={"query": {"term": {"kind": "document"}}})["count"] == counts["documents"]
    info = OpenSearchEngine(synced_slice).info()
    assert info["status"] == "ok"
    assert (info["documents"], info["sections"], info["passages"]) == (counts["documents"], counts["sections"], counts["passages"])


def test_resync_of_an_unchanged_generation_writes_nothing(synced_slice):
    gen = open_current(synced_slice.index_dir)
    report = sync_generation(gen.path, synced_slice)
    gen.close()
    assert report.indexed == [] and report.deleted == []
    assert report.unchanged == 5


# -- BM25 leg and filters --------------------------------------------------------------------------------------


def test_bm25_finds_the_provision(os_searcher):
    out = _bm25(os_searcher, "boarding and searching a vessel suspected of smuggling migrants by sea")
    assert out["results"][0]["section_id"] == f"{SMUGGLING}:ch-ii.art-8"
    out = _bm25(os_searcher, "harboring aliens")
    assert out["results"][0]["doc_id"] == "us-8-usc-1324"


def test_member_filter_applies_inside_the_bm25_leg_and_returns_k_results(os_searcher):
    out = _bm25(os_searcher, "trafficking in women and children", top_k=5, members=["Sri Lanka"])
    assert len(out["results"]) == 5
    assert all("Sri Lanka" in r["members"] for r in out["results"])
    assert out["facets"]["member"].get("Sri Lanka") == out["total"]


def test_doc_type_filter_excludes_other_types(os_searcher):
    out = _bm25(os_searcher, "trafficking in persons", doc_types=["law"])
    assert out["results"]
    assert {r["document"]["doc_type"] for r in out["results"]} == {"law"}
    assert set(out["facets"]["doc_type"]) == {"law"}


def test_year_range_filter_keeps_documents_whose_years_overlap(os_searcher):
    out = _bm25(os_searcher, "trafficking", year_from=2005, year_to=2019)
    years = {r["document"]["year"] for r in out["results"]}
    assert years and all(2005 <= y <= 2019 for y in years)
    assert not _bm25(os_searcher, "trafficking", year_from=2030)["results"]


def test_area_filter_matches_stated_and_inferred_areas(os_searcher):
    out = _bm25(os_searcher, "information", top_k=20, areas=["information_sharing"])
    assert out["results"]
    for r in out["results"]:
        assert "information_sharing" in {a["area"] for a in r["priority_areas"]}


def test_unknown_doc_id_filter_is_rejected(os_searcher):
    with pytest.raises(UnknownFilterValueError) as err:
        _bm25(os_searcher, "trafficking", doc_ids=["no-such-document"])
    assert err.value.field == "doc_id"


def test_quoted_phrase_is_required(os_searcher):
    out = os_searcher.search(SearchRequest('"harboring"', mode="bm25"))
    assert out["results"] and out["total"] == len(out["results"])
    for r in out["results"]:
        assert "harboring" in (r["text"] + " ".join(r["citation"]["heading_path"])).lower()
        assert r["explanation"]["phrase_match"] is True


def test_results_carry_citations_with_pages(os_searcher):
    out = _bm25(os_searcher, "trafficking in women and children for prostitution", doc_ids=["lk-act-30-2005"])
    c = out["results"][0]["citation"]
    assert c["doc_id"] == "lk-act-30-2005" and c["page_start"] >= 1
    assert c["permalink"].startswith("/documents/lk-act-30-2005#")


def test_dense_leg_on_a_server_without_knn_fails_with_a_clear_error(os_searcher):
    with pytest.raises(BackendUnavailableError, match="k-NN"):
        os_searcher.search(SearchRequest("smuggling by sea", mode="hybrid"))


# -- ingest hook: updates and deletes --------------------------------------------------------------------------


def test_ingest_hook_deletes_a_removed_document_from_opensearch(corpus_slice, tmp_path, opensearch_server, embedder, client):
    settings = ingest_slice(tmp_path / "index", opensearch_server.url, "kb-delete", embedder, files=[corpus_slice])
    engine = OpenSearchEngine(settings)
    assert "us-8-usc-1324" in engine.documents()
    before = client.count(index="kb-delete")["count"]
    removed = engine.passages_of([s.section_id for s in engine.sections_of("us-8-usc-1324")])
    n_removed = sum(len(ps) for ps in removed.values())
    assert n_removed > 0

    (corpus_slice / "laws" / "us_8usc_1324_bringing_in_harboring_aliens.md").unlink()
    ingest_slice(tmp_path / "index", opensearch_server.url, "kb-delete", embedder, files=[corpus_slice])

    engine = OpenSearchEngine(settings)
    assert "us-8-usc-1324" not in engine.documents()
    assert client.count(index="kb-delete")["count"] == before - n_removed
    assert engine.sections_of("us-8-usc-1324") == []
    out = Searcher(settings, engine=engine, embedder=embedder).search(SearchRequest("harboring aliens", mode="bm25"))
    assert all(r["doc_id"] != "us-8-usc-1324" for r in out["results"])
    assert engine.info()["documents"] == 3


# -- degradation -----------------------------------------------------------------------------------------------


def test_unreachable_server_raises_backend_unavailable_quickly(tmp_path):
    settings = Settings(index_dir=tmp_path, backend="opensearch", opensearch_url=f"http://127.0.0.1:{free_closed_port()}")
    engine = OpenSearchEngine(settings)
    t0 = time.monotonic()
    with pytest.raises(BackendUnavailableError, match="unreachable"):
        engine.retrieve("smuggling", None, build_filters(), 10, "section", "bm25")
    assert time.monotonic() - t0 < settings.opensearch_timeout_s
    info = engine.info()
    assert info["status"] == "unavailable" and "unreachable" in info["error"]


def test_a_server_that_never_answers_times_out_at_the_configured_limit(tmp_path):
    import socket

    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings = Settings(index_dir=tmp_path, backend="opensearch", opensearch_url=url, opensearch_timeout_s=0.5)
        engine = OpenSearchEngine(settings)
        t0 = time.monotonic()
        with pytest.raises(BackendUnavailableError, match="did not answer"):
            engine.retrieve("smuggling", None, build_filters(), 10, "section", "bm25")
        assert time.monotonic() - t0 < 0.5 + 0.5
        assert engine.info()["status"] == "unavailable"


def test_sync_to_an_unreachable_server_raises_backend_unavailable(synced_slice):
    settings = synced_slice.model_copy(update={"opensearch_url": f"http://127.0.0.1:{free_closed_port()}"})
    gen = open_current(settings.index_dir)
    t0 = time.monotonic()
    with pytest.raises(BackendUnavailableError, match="KB_OPENSEARCH_URL"):
        sync_generation(gen.path, settings)
    gen.close()
    assert time.monotonic() - t0 < settings.opensearch_timeout_s


def test_opensearch_backend_without_url_names_the_setting(tmp_path):
    with pytest.raises(BackendUnavailableError, match="KB_OPENSEARCH_URL"):
        OpenSearchEngine(Settings(index_dir=tmp_path, backend="opensearch", opensearch_url=None))


# -- k-NN and hybrid request bodies (golden: osmem cannot run them) --------------------------------------------

QVEC = np.array([(i % 8) / 8 for i in range(384)], dtype=np.float32)  # exactly representable in JSON


def _recorded(mode: str, filters=None, group_by="section") -> list[dict]:
    conn = recording_connection()
    engine = OpenSearchEngine(Settings(backend="opensearch", opensearch_url="http://golden.invalid:9200"), connection_class=conn)
    _, _, result_set = engine.retrieve("smuggling of migrants by sea", QVEC, filters or build_filters(), 100, group_by, mode)
    engine.facets(result_set)
    return searches(conn.log)


FILTERS = dict(members=["Indonesia"], areas=["border_management"], doc_types=["law", "protocol"], year_from=2000, year_to=2020)


def test_knn_request_puts_filters_inside_the_knn_clause():
    dense, facets = _recorded("dense", build_filters(**FILTERS))
    knn = dense["body"]["query"]["bool"]["must"][0]["knn"]["embedding"]
    assert knn["k"] == 100 and len(knn["vector"]) == 384 and "filter" in knn
    assert "filter" not in dense["body"]["query"]["bool"]  # not a post-filter: k results when k exist
    check_golden("knn_filtered", [dense, facets], UPDATE_GOLDEN)


def test_hybrid_requests_run_both_legs_with_the_same_filters():
    bm25, dense, facets = _recorded("hybrid", build_filters(**FILTERS))
    assert bm25["body"]["query"]["bool"]["filter"] == dense["body"]["query"]["bool"]["must"][0]["knn"]["embedding"]["filter"]
    check_golden("hybrid_filtered", [bm25, dense, facets], UPDATE_GOLDEN)


def test_hybrid_requests_without_filters():
    check_golden("hybrid_unfiltered", _recorded("hybrid"), UPDATE_GOLDEN)


def test_bm25_request_with_filters():
    check_golden("bm25_filtered", _recorded("bm25", build_filters(**FILTERS)), UPDATE_GOLDEN)
