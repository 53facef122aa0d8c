"""Fixtures for the OpenSearch tests: an osmem-server process and a real-corpus slice mirrored into it.

osmem-server stands in for OpenSearch because no real OpenSearch can run here (every launcher downloads the
server at run time and there is no container engine). It imitates index creation, bulk, BM25 ``match``,
filters, aggregations, ``delete_by_query`` and ``count``, and answers 400 to k-NN queries, search pipelines
and hybrid queries. So the BM25, filter, facet, bulk and delete paths are tested against it for real, the
k-NN and hybrid request bodies as golden JSON only, and a real cluster in tests/realcluster/ when
``KB_OPENSEARCH_URL`` is set.

Test modules import the fixtures by name (``from opensearch_support import osmem_url, synced_slice``). Both
fixtures memoise their state per process, so the two modules that import them share one server and one
ingest of the slice (the real model embeds it once).
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"

# The documents of conftest's ``corpus_slice``, ingested straight from the read-only corpus (its manifest gives
# the metadata). The fixture is session-wide because embedding the slice is the slow part; tests that change the
# index work on their own generations built from these artifacts (no re-embedding) or their own OpenSearch index.
SLICE_FILES = [
    CORPUS / "bali_process/bp_2018_strategy_for_cooperation_update.txt",
    CORPUS / "international/un_trafficking_protocol_2000_en.md",
    CORPUS / "laws/us_8usc_1324_bringing_in_harboring_aliens.md",
    CORPUS / "laws/lk_act_30_2005_saarc_trafficking_convention.pdf",
]
SLICE_INDEX = "kb-slice"

_STATE: dict[str, object] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_osmem() -> tuple[subprocess.Popen, str]:
    """osmem-server on a free port, Japanese analysis off; returns the process and its URL once it answers."""
    from osmem_server import resolve_binary

    port = free_port()
    proc = subprocess.Popen(
        [resolve_binary(), "--addr", f"127.0.0.1:{port}", "--no-ja", "--no-stdin-watch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=1).read()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"osmem-server did not start on {url}") from None
            time.sleep(0.05)


@pytest.fixture(scope="session")
def osmem_url():
    """URL of one osmem-server for the session (terminated at teardown)."""
    if "osmem" not in _STATE:
        _STATE["osmem"] = start_osmem()
    proc, url = _STATE["osmem"]
    yield url
    if _STATE.pop("osmem", None):
        proc.terminate()
        proc.wait(timeout=5)


@dataclass
class SyncedSlice:
    """The slice in an embedded index and mirrored into osmem by the ingest hook."""

    embedded: Settings  # backend=embedded over the local index
    opensearch: Settings  # backend=opensearch over the same index, mirrored into SLICE_INDEX
    report: object  # the IngestReport of the ingest that synced


def ingest_synced(tmp_path_factory, files: list[Path], index_name: str, embedder, osmem_url: str) -> SyncedSlice:
    """``files`` ingested with ``KB_BACKEND=opensearch``: a local index written, then mirrored by the hook into
    osmem's ``index_name``."""
    from ingest.pipeline import ingest

    index_dir = tmp_path_factory.mktemp(index_name)
    os_settings = Settings(index_dir=index_dir, backend="opensearch", opensearch_url=osmem_url, opensearch_index=index_name)
    report = ingest(files, os_settings, embedder=embedder)
    assert report.ok, report.failed
    return SyncedSlice(Settings(index_dir=index_dir), os_settings, report)


def slice_searcher(request, synced: SyncedSlice, query_embedder):
    """A searcher over ``synced`` on the backend a fixture's ``request.param`` names ("embedded" or "opensearch",
    the latter marked ``opensearch``)."""
    from search_api.searcher import Searcher

    if request.param == "opensearch":
        request.applymarker(pytest.mark.opensearch)
    return Searcher(getattr(synced, request.param), embedder=query_embedder)


@pytest.fixture(scope="session")
def synced_slice(tmp_path_factory, embedder, osmem_url) -> SyncedSlice:
    """The corpus slice ingested with ``KB_BACKEND=opensearch``: local index written, then mirrored by the hook."""
    if "slice" not in _STATE:
        _STATE["slice"] = ingest_synced(tmp_path_factory, SLICE_FILES, SLICE_INDEX, embedder, osmem_url)
    return _STATE["slice"]


def closed_port_url() -> str:
    """A URL nothing listens on (connection refused at once)."""
    return f"http://127.0.0.1:{free_port()}"

