"""The OpenSearch backend against a real cluster: what osmem-server (the stand-in used elsewhere) cannot run --
k-NN with filters inside the graph search, hybrid fusion, and agreement with the embedded engine in hybrid mode.

Runs only with ``KB_OPENSEARCH_URL`` set (e.g. the compose file in search_api/opensearch/); writes two indices
named ``kb-test-<random>`` and deletes them afterwards.
"""

from __future__ import annotations

import uuid

import pytest

from ingest.opensearch_store import connect, records_index
from ingest.settings import Settings
from opensearch_support import ingest_slice
from search_api.filters import build_filters
from search_api.opensearch_engine import OpenSearchEngine
from search_api.searcher import Searcher, SearchRequest

pytestmark = [pytest.mark.opensearch, pytest.mark.integration]

SMUGGLING = "un-smuggling-protocol-2000"


@pytest.fixture(scope="module")
def cluster_settings(tmp_path_factory, embedder):
    url = Settings().opensearch_url
    index = f"kb-test-{uuid.uuid4().hex[:8]}"
    settings = ingest_slice(tmp_path_factory.mktemp("cluster-index"), url, index, embedder)
    yield settings
    client = connect(settings)
    client.indices.delete(index=f"{index},{records_index(settings)}", ignore_unavailable=True)
    client.close()


@pytest.fixture(scope="module")
def searchers(cluster_settings, embedder) -> dict[str, Searcher]:
    embedded = Settings(index_dir=cluster_settings.index_dir, backend="embedded")
    return {
        "embedded": Searcher(embedded, embedder=embedder),
        "opensearch": Searcher(cluster_settings, engine=OpenSearchEngine(cluster_settings), embedder=embedder),
    }


def test_cluster_reports_the_synced_generation(searchers):
    info = searchers["opensearch"].engine.info()
    assert info["status"] == "ok" and info["documents"] == 5


@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_filtered_knn_returns_k_results_that_match(searchers, mode):
    f = build_filters(members=["Sri Lanka"])
    out = searchers["opensearch"].search(SearchRequest("protecting victims of trafficking", filters=f, mode=mode, top_k=5))
    assert len(out["results"]) == 5
    assert all("Sri Lanka" in r["members"] for r in out["results"])


@pytest.mark.parametrize(
    "query, section_id",
    [
        ("boarding and searching a vessel suspected of carrying migrants", f"{SMUGGLING}:ch-ii.art-8"),
        ("people smuggled on boats across the ocean", f"{SMUGGLING}:ch-ii.art-8"),
    ],
)
def test_hybrid_finds_the_provision_like_the_embedded_engine(searchers, query, section_id):
    for name, searcher in searchers.items():
        top = searcher.search(SearchRequest(query, mode="hybrid", top_k=5))["results"]
        assert section_id in [r["section_id"] for r in top[:3]], name


def test_dense_scores_are_cosines_like_the_embedded_engine(searchers):
    req = SearchRequest("smuggling of migrants by sea", mode="dense", top_k=3)
    emb = searchers["embedded"].search(req)["results"]
    osr = searchers["opensearch"].search(req)["results"]
    assert [r["section_id"] for r in emb] == [r["section_id"] for r in osr]
    for a, b in zip(emb, osr):
        assert abs(a["explanation"]["dense"]["score"] - b["explanation"]["dense"]["score"]) < 1e-3
