"""The OpenSearch backend against a real cluster: what osmem-server (the stand-in elsewhere, since no real
OpenSearch can run on the development machine) cannot answer -- k-NN with the filter inside the graph search,
hybrid search through the shared fusion, and agreement with the embedded engine.

Collected only when ``KB_OPENSEARCH_URL`` is set (see conftest.py). Writes the indices ``kb-test-<random>``
and ``kb-test-<random>-records`` and deletes them afterwards.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from opensearch_support import SLICE_FILES

from ingest.opensearch_client import build_client
from ingest.opensearch_schema import index_names
from ingest.settings import Settings
from search_api.filters import SearchFilters, build_filters
from search_api.searcher import Searcher, SearchRequest

pytestmark = pytest.mark.opensearch


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, embedder) -> Settings:
    """The corpus slice ingested with KB_BACKEND=opensearch into fresh indices of the cluster."""
    from ingest.pipeline import ingest

    settings = Settings(
        index_dir=tmp_path_factory.mktemp("cluster-index"),
        backend="opensearch",
        opensearch_url=Settings().opensearch_url,
        opensearch_index=f"kb-test-{uuid.uuid4().hex[:8]}",
        opensearch_timeout_s=10.0,
    )
    report = ingest(SLICE_FILES, settings, embedder=embedder)
    assert report.ok, report.failed
    yield settings
    names = index_names(settings)
    build_client(settings).indices.delete(index=f"{names.passages},{names.records}", ignore_unavailable=True)


def test_the_cluster_has_knn_and_the_synced_generation(cluster, query_embedder):
    info = Searcher(cluster, embedder=query_embedder).engine.info()
    assert info["knn"] is True and info["documents"] == 4


def test_filtered_knn_returns_k_results_when_k_match(cluster, query_embedder):
    engine = Searcher(cluster, embedder=query_embedder).engine
    qvec = query_embedder.embed_query("protection of victims")
    f = build_filters(doc_ids=["lk-act-30-2005"])
    _, dense, _ = engine.retrieve("protection of victims", qvec, f, 10, "section", "dense")
    assert len(dense) == 10 and {d.meta["doc_id"] for d in dense} == {"lk-act-30-2005"}
    assert all(-1.0 <= d.score <= 1.0 for d in dense)  # reported as cosines, like the embedded engine


def test_dense_leg_agrees_with_exact_search_of_the_embedded_engine(cluster, query_embedder):
    from search_api.engine import EmbeddedEngine

    qvec = query_embedder.embed_query("returning irregular migrants to their country of origin")
    reference = EmbeddedEngine(cluster.index_dir)
    _, ours, _ = Searcher(cluster, embedder=query_embedder).engine.retrieve("x", qvec, SearchFilters(), 5, "section", "dense")
    _, exact, _ = reference.retrieve("x", qvec, SearchFilters(), 5, "section", "dense")
    by_row = reference.generation().passage_by_row([d.meta["key"] for d in exact])
    assert ours[0].meta["key"] == by_row[exact[0].meta["key"]].passage_id  # HNSW finds the exact nearest passage
    assert np.allclose([d.score for d in ours], [d.score for d in exact], atol=1e-3)


@pytest.mark.parametrize(
    "query, section_id",
    [
        ("what must states do to protect victims of trafficking", "un-trafficking-protocol-2000:ch-ii.art-6"),
        ("penalties for bringing in and harboring aliens", "us-8-usc-1324:title-8.ch-12.s-1324.a"),
    ],
)
def test_hybrid_search_finds_the_section_like_the_embedded_engine(cluster, query_embedder, query, section_id):
    embedded = Settings(index_dir=cluster.index_dir)
    ours = Searcher(cluster, embedder=query_embedder).search(SearchRequest(query, mode="hybrid", top_k=5))
    theirs = Searcher(embedded, embedder=query_embedder).search(SearchRequest(query, mode="hybrid", top_k=5))
    assert section_id in [r["section_id"] for r in ours["results"]]
    assert ours["results"][0]["section_id"] == theirs["results"][0]["section_id"]
