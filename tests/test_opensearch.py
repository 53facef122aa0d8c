"""The OpenSearch backend: request bodies as golden JSON, and mapping, sync, BM25, filters, facets, deletes and
failures against osmem-server.

osmem-server stands in for OpenSearch because no real OpenSearch can run here; it rejects k-NN and hybrid
queries, so the k-NN and hybrid request bodies are checked only as golden JSON (built by the same functions
the engine uses) and, in tests/realcluster/, against a real cluster when ``KB_OPENSEARCH_URL`` is set.

Regenerate the golden files after an intended change with ``.venv/bin/python tests/test_opensearch.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from opensearch_support import SLICE_INDEX, closed_port_url, osmem_url, synced_slice  # noqa: F401 (fixtures)

from ingest.errors import BackendUnavailableError, IndexUnavailableError
from ingest.opensearch_client import build_client
from ingest.opensearch_schema import index_names, passage_index_body, records_index_body
from ingest.opensearch_store import ensure_indices, sync_generation
from ingest.settings import PROJECT_ROOT, Settings
from ingest.stores import DocArtifact, IndexDir, open_current, write_generation
from search_api.filters import SearchFilters, build_filters
from search_api.opensearch_engine import OpenSearchEngine, build_requests

GOLDEN = Path(__file__).parent / "data" / "opensearch_golden"

FILTERED = dict(
    members=["Australia"], areas=["border_management"], doc_types=["law", "protocol"], year_from=2000, year_to=2010
)
GOLDEN_CASES = {
    "bm25_filtered": lambda: build_requests(build_filters(**FILTERED), 100, "bm25")["bm25"],
    "knn_filtered": lambda: build_requests(build_filters(**FILTERED), 100, "dense")["knn"],
    "hybrid_filtered": lambda: build_requests(build_filters(**FILTERED), 100, "hybrid"),
    "hybrid_unfiltered": lambda: build_requests(SearchFilters(), 100, "hybrid"),
    "passage_index": lambda: passage_index_body(384, knn=True),
    "passage_index_without_knn": lambda: passage_index_body(384, knn=False),
    "records_index": records_index_body,
}


def write_golden() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, build in GOLDEN_CASES.items():
        (GOLDEN / f"{name}.json").write_text(json.dumps(build(), indent=2, sort_keys=True) + "\n", "utf-8")


# ---------------------------------------------------------------------------------------------------------
# Request bodies (no server)


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_request_body_matches_golden(name):
    golden = json.loads((GOLDEN / f"{name}.json").read_text("utf-8"))
    assert json.loads(json.dumps(GOLDEN_CASES[name]())) == golden


def test_hybrid_search_puts_the_same_filter_inside_both_legs():
    bodies = build_requests(build_filters(**FILTERED), 50, "hybrid")
    assert bodies["bm25"]["query"]["bool"]["filter"] == [bodies["knn"]["query"]["knn"]["embedding"]["filter"]]
    assert bodies["knn"]["query"]["knn"]["embedding"]["k"] == bodies["knn"]["size"] == 50


def test_deep_searches_stay_within_the_result_window():
    bodies = build_requests(SearchFilters(), 400_000, "hybrid")
    assert bodies["bm25"]["size"] == 10_000 and bodies["knn"]["query"]["knn"]["embedding"]["k"] == 10_000


@pytest.mark.opensearch
def test_engine_sends_the_golden_knn_body_through_haystacks_retriever(synced_slice, monkeypatch):
    from haystack_integrations.document_stores.opensearch import OpenSearchDocumentStore

    sent = []
    monkeypatch.setattr(OpenSearchDocumentStore, "_search_documents", lambda self, body: sent.append(body) or [])
    # Each leg fetches max(depth, norm_depth) hits (z-score statistics); the golden body was built for 100.
    engine = OpenSearchEngine(synced_slice.opensearch.model_copy(update={"norm_depth": 100}))
    monkeypatch.setattr(engine, "knn_available", lambda: True)  # osmem has no k-NN; only the body is checked
    qvec = np.linspace(-1, 1, 384, dtype=np.float32)
    engine.retrieve("border", qvec, build_filters(**FILTERED), 100, "section", "dense")
    golden = json.loads((GOLDEN / "knn_filtered.json").read_text("utf-8"))
    golden["query"]["knn"]["embedding"]["vector"] = [float(x) for x in qvec]
    assert sent == [golden]


# ---------------------------------------------------------------------------------------------------------
# Against osmem-server


def _engine(slice_) -> OpenSearchEngine:
    return OpenSearchEngine(slice_.opensearch)


def _embedded_generation(slice_):
    return open_current(slice_.embedded.index_dir)


def _own_copy(slice_, tmp_path, opensearch_index: str):
    """The slice's documents in a new embedded index mirrored to its own OpenSearch index (not yet synced), for a
    test that changes them: (generation of the slice, artifacts, settings, index directory)."""
    gen = _embedded_generation(slice_)
    artifacts = [DocArtifact.load(slice_.embedded.index_dir / "docs" / info["artifact"]) for info in gen.manifest["documents"].values()]
    settings = slice_.opensearch.model_copy(update={"index_dir": tmp_path / "index", "opensearch_index": opensearch_index})
    index_dir = IndexDir(settings.index_dir)
    index_dir.ensure()
    write_generation(index_dir, artifacts, gen.manifest["model"])
    return gen, artifacts, settings, index_dir


@pytest.mark.opensearch
def test_ingest_hook_mirrors_the_generation_with_matching_counts(synced_slice):
    assert "opensearch" in synced_slice.report.stage_seconds
    client = build_client(synced_slice.opensearch)
    names = index_names(synced_slice.opensearch)
    gen = _embedded_generation(synced_slice)
    counts = gen.manifest["counts"]
    assert client.count(index=names.passages)["count"] == counts["passages"]
    assert client.count(index=names.records, body={"query": {"term": {"kind": "section"}}})["count"] == counts["sections"]
    info = _engine(synced_slice).info()
    assert info["backend"] == "opensearch" and info["generation"] == gen.name
    assert (info["documents"], info["sections"], info["passages"]) == (counts["documents"], counts["sections"], counts["passages"])
    assert info["knn"] is False  # osmem lists no k-NN plugin: the index was created without it


@pytest.mark.opensearch
def test_a_second_sync_of_an_unchanged_generation_writes_nothing(synced_slice):
    report = sync_generation(synced_slice.opensearch)
    assert report.passages_written == 0 and not (report.added or report.updated or report.deleted)
    assert len(report.unchanged) == 4


@pytest.mark.opensearch
def test_python_m_opensearch_store_mirrors_the_local_index_without_ingesting(synced_slice):
    # The README's command to catch OpenSearch up without ingesting; it used to import the module and do nothing.
    s = synced_slice.opensearch
    env = {**os.environ, "KB_INDEX_DIR": str(s.index_dir), "KB_BACKEND": "opensearch",
           "KB_OPENSEARCH_URL": s.opensearch_url, "KB_OPENSEARCH_INDEX": s.opensearch_index}
    done = subprocess.run([sys.executable, "-m", "ingest.opensearch_store"], env=env, capture_output=True, text=True,
                          timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["generation"] == _embedded_generation(synced_slice).name
    assert len(report["unchanged"]) == 4 and not (report["added"] or report["updated"] or report["deleted"])


@pytest.mark.opensearch
def test_python_m_opensearch_store_without_a_url_says_what_to_set(synced_slice):
    env = {k: v for k, v in os.environ.items() if k != "KB_OPENSEARCH_URL"}
    env["KB_INDEX_DIR"] = str(synced_slice.embedded.index_dir)
    done = subprocess.run([sys.executable, "-m", "ingest.opensearch_store"], env=env, capture_output=True, text=True,
                          timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 1 and "KB_OPENSEARCH_URL" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.opensearch
@pytest.mark.parametrize(
    "query, section_id",
    [
        ("videotaped witness testimony", "us-8-usc-1324:title-8.ch-12.s-1324.d"),
        ("seizure and forfeiture", "us-8-usc-1324:title-8.ch-12.s-1324.b"),
        ("information exchange and training", "un-trafficking-protocol-2000:ch-iii.art-10"),
        ("High Court to try offences", "lk-act-30-2005:s-3"),
        ("aggravating circumstances", "lk-act-30-2005:s-4"),
    ],
)
def test_bm25_finds_the_right_section(synced_slice, query, section_id):
    bm25, _, _ = _engine(synced_slice).retrieve(query, None, SearchFilters(), 20, "section", "bm25")
    assert bm25[0].meta["section_id"] == section_id


@pytest.mark.opensearch
@pytest.mark.parametrize(
    "filters, holds",
    [
        (dict(members=["Sri Lanka"]), lambda s, d: "Sri Lanka" in s.members),
        (dict(doc_types=["law"]), lambda s, d: d.doc_type == "law"),
        (dict(year_from=2001, year_to=2019), lambda s, d: 2001 <= d.year <= 2019),
        (dict(areas=["victim_protection"]), lambda s, d: "victim_protection" in {t.area for t in s.priority_areas}),
        (dict(doc_ids=["un-trafficking-protocol-2000"]), lambda s, d: d.doc_id == "un-trafficking-protocol-2000"),
    ],
)
def test_filters_apply_inside_the_bm25_leg(synced_slice, filters, holds):
    from search_api.engine import EmbeddedEngine

    f = build_filters(**filters)
    engine = _engine(synced_slice)
    bm25, _, _ = engine.retrieve("trafficking persons offence", None, f, 100, "section", "bm25")
    assert bm25, "the filter should leave matches"
    sections = {s.section_id: s for d in engine.documents() for s in engine.sections_of(d)}
    docs = engine.documents()
    for cand in bm25:
        s = sections[cand.meta["section_id"]]
        assert holds(s, docs[s.doc_id]), cand.meta
    # Filtered before top-k: as many matching passages as the embedded engine finds, not a filtered top-k.
    embedded, _, _ = EmbeddedEngine(synced_slice.embedded.index_dir).retrieve(
        "trafficking persons offence", None, f, 100, "section", "bm25"
    )
    assert len(bm25) == len(embedded)


@pytest.mark.opensearch
def test_facets_match_the_embedded_engine(synced_slice):
    from search_api.engine import EmbeddedEngine

    embedded = EmbeddedEngine(synced_slice.embedded.index_dir)
    engine = _engine(synced_slice)
    for query in ("smuggling of migrants", "trafficking in persons"):
        _, _, rows = engine.retrieve(query, None, SearchFilters(), 100, "section", "bm25")
        _, _, erows = embedded.retrieve(query, None, SearchFilters(), 100, "section", "bm25")
        assert engine.facets(rows) == embedded.facets(erows)
    assert engine.all_facets() == embedded.all_facets()
    assert engine.section_counts() == embedded.section_counts()


@pytest.mark.opensearch
def test_resync_after_deleting_a_document_removes_it(synced_slice, tmp_path):
    gen, artifacts, settings, index_dir = _own_copy(synced_slice, tmp_path, "kb-delete")
    first = sync_generation(settings)
    assert sorted(first.added) == sorted(gen.manifest["documents"])

    gone = "us-8-usc-1324"
    kept = [a for a in artifacts if a.meta.doc_id != gone]
    write_generation(index_dir, kept, gen.manifest["model"])
    second = sync_generation(settings)
    assert second.deleted == [gone] and second.passages_written == 0

    client, names = build_client(settings), index_names(settings)
    term = {"query": {"term": {"doc_id": gone}}}
    assert client.count(index=names.passages, body=term)["count"] == 0
    assert client.count(index=names.records, body=term)["count"] == 0
    assert client.count(index=names.passages)["count"] == sum(len(a.passages) for a in kept)
    engine = OpenSearchEngine(settings)
    assert gone not in engine.documents() and engine.sections_of(gone) == []
    bm25, _, _ = engine.retrieve("harboring aliens", None, SearchFilters(), 50, "section", "bm25")
    assert all(c.meta["doc_id"] != gone for c in bm25)


@pytest.mark.opensearch
def test_a_metadata_change_reindexes_only_that_document(synced_slice, tmp_path):
    gen, artifacts, settings, index_dir = _own_copy(synced_slice, tmp_path, "kb-meta")
    sync_generation(settings)
    changed = next(a for a in artifacts if a.meta.doc_id == "bp-strategy-2018")
    changed.meta.doc_type = "declaration"  # same file bytes (sha256), new manifest metadata
    write_generation(index_dir, artifacts, gen.manifest["model"])
    report = sync_generation(settings)
    assert report.updated == ["bp-strategy-2018"] and len(report.unchanged) == 3
    bm25, _, _ = OpenSearchEngine(settings).retrieve(
        "regional support office", None, build_filters(doc_types=["declaration"]), 50, "section", "bm25"
    )
    assert bm25 and {c.meta["doc_id"] for c in bm25} == {"bp-strategy-2018"}


@pytest.mark.opensearch
def test_mapping_variant_follows_the_servers_knn_support(osmem_url):
    settings = Settings(opensearch_url=osmem_url, opensearch_index="kb-variants")
    client = build_client(settings)
    assert ensure_indices(client, settings, 384) is False  # detected: osmem has no k-NN plugin
    mapping = client.indices.get_mapping(index="kb-variants")["kb-variants"]["mappings"]
    assert "method" not in mapping["properties"]["embedding"]
    forced = settings.model_copy(update={"opensearch_index": "kb-variants-knn"})
    assert ensure_indices(client, forced, 384, knn=True) is True
    mapping = client.indices.get_mapping(index="kb-variants-knn")["kb-variants-knn"]["mappings"]
    assert mapping["properties"]["embedding"]["method"]["space_type"] == "cosinesimil"


@pytest.mark.opensearch
def test_dense_search_on_a_server_without_knn_says_so(synced_slice):
    with pytest.raises(BackendUnavailableError, match="k-NN"):
        _engine(synced_slice).retrieve("border", np.zeros(384, np.float32), SearchFilters(), 10, "section", "hybrid")


@pytest.mark.opensearch
def test_a_missing_index_says_how_to_build_it(osmem_url):
    engine = OpenSearchEngine(Settings(backend="opensearch", opensearch_url=osmem_url, opensearch_index="kb-never-synced"))
    for call in (engine.documents, engine.info):
        with pytest.raises(IndexUnavailableError, match="kb ingest"):
            call()


# ---------------------------------------------------------------------------------------------------------
# Unreachable and silent servers


def test_unreachable_server_fails_fast_with_a_clear_error(tmp_path, capfd):
    settings = Settings(index_dir=tmp_path, backend="opensearch", opensearch_url=closed_port_url())
    engine = OpenSearchEngine(settings)
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError, match="unreachable") as err:
        engine.retrieve("smuggling", None, SearchFilters(), 10, "section", "bm25")
    assert time.monotonic() - started < 3
    assert settings.opensearch_url.split("//")[1] in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__  # one line, no chained trace
    with pytest.raises(BackendUnavailableError, match="unreachable"):  # the health endpoint answers 503 with it
        engine.info()
    assert "Traceback" not in capfd.readouterr().err


def test_sync_to_an_unreachable_server_fails_fast(synced_slice, tmp_path):
    settings = synced_slice.opensearch.model_copy(update={"opensearch_url": closed_port_url()})
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError, match="unreachable"):
        sync_generation(settings)
    assert time.monotonic() - started < 3


def test_a_silent_server_times_out_within_the_configured_time(tmp_path):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        engine = OpenSearchEngine(Settings(backend="opensearch", opensearch_url=url, opensearch_timeout_s=1.0))
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError, match="did not answer within 1 s"):
            engine.retrieve("smuggling", None, SearchFilters(), 10, "section", "bm25")
        assert time.monotonic() - started < 3


def test_no_url_configured_is_a_clear_error():
    with pytest.raises(BackendUnavailableError, match="KB_OPENSEARCH_URL"):
        OpenSearchEngine(Settings(backend="opensearch", opensearch_url=None))


if __name__ == "__main__":
    write_golden()
    print(f"wrote {len(GOLDEN_CASES)} golden files to {GOLDEN}")


@pytest.mark.opensearch
def test_the_terms_field_holds_the_terms_the_embedded_index_does(osmem_url):
    from ingest.analysis import analyze
    from ingest.opensearch_schema import encode_terms

    settings = Settings(opensearch_url=osmem_url, opensearch_index="kb-pairs")
    client = build_client(settings)
    ensure_indices(client, settings, 384)
    text = "Smuggling of migrants by sea, cross-border rule 3.2.1; การค้ามนุษย์ 拐卖妇女、儿童 মানব পাচার"
    terms = analyze(text, "en")
    tokens = client.indices.analyze(index="kb-pairs", body={"analyzer": "kb_terms", "text": encode_terms(terms)})["tokens"]
    assert [t["token"].replace("\u2060", " ") for t in tokens] == terms
    assert {"smuggl migrant", "ค้า มนุษย์", "卖妇"} <= set(terms)  # the pair spans the stop word "of"


@pytest.mark.opensearch
def test_an_index_from_before_word_pairs_is_refused_with_the_fix(osmem_url):
    settings = Settings(opensearch_url=osmem_url, opensearch_index="kb-before-pairs")
    client = build_client(settings)
    old = passage_index_body(384, knn=False)
    old["mappings"]["properties"].pop("terms")
    client.indices.create(index="kb-before-pairs", body=old)
    with pytest.raises(IndexUnavailableError, match=r"kb-before-pairs.*no terms field.*delete it"):
        ensure_indices(client, settings, 384)
