"""Helpers for the OpenSearch tests: an osmem-server process, a real-corpus slice ingested into both backends,
and a connection that records requests instead of sending them.

osmem-server is a stand-in: no real OpenSearch can run on this machine (every launcher downloads the server at
run time, and there is no container engine). It imitates OpenSearch's index, bulk, BM25, filter, aggregation and
delete-by-query APIs on bleve, but rejects k-NN and hybrid queries (400). So the BM25/filter/bulk/delete paths are
tested against it for real, the k-NN and hybrid request bodies only as golden JSON, and a real cluster only when
``KB_OPENSEARCH_URL`` is set (tests/realcluster/).
"""

from __future__ import annotations

import json
from pathlib import Path

from opensearchpy import Connection

from ingest.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"
GOLDEN = Path(__file__).parent / "data" / "opensearch_golden"

# The documents of conftest's corpus_slice plus the smuggling protocol, ingested from the corpus itself
# (its manifest supplies the metadata); explicit files, so nothing else in the corpus is touched.
SLICE_FILES = [
    CORPUS / "bali_process/bp_2018_strategy_for_cooperation_update.txt",
    CORPUS / "international/un_trafficking_protocol_2000_en.md",
    CORPUS / "international/un_smuggling_protocol_2000_en.md",
    CORPUS / "laws/us_8usc_1324_bringing_in_harboring_aliens.md",
    CORPUS / "laws/lk_act_30_2005_saarc_trafficking_convention.pdf",
]


def start_osmem():
    """A fresh osmem-server on a free port (Japanese analysis off: we index English and Malay)."""
    from osmem_server import OsmemServer

    return OsmemServer.start(japanese=False, addr="127.0.0.1:0")


def ingest_slice(index_dir: Path, url: str, index: str, embedder, files: list[Path] | None = None) -> Settings:
    """Ingest the slice with ``backend="opensearch"``: the embedded index is written and mirrored by the ingest hook."""
    from ingest.pipeline import ingest

    settings = Settings(index_dir=index_dir, backend="opensearch", opensearch_url=url, opensearch_index=index)
    report = ingest(files or SLICE_FILES, settings, embedder=embedder)
    assert report.ok, report.failed
    assert "opensearch" in report.stage_seconds
    return settings


def free_closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingConnection(Connection):
    """Records every request the client would send and answers like an empty cluster, so request bodies can be
    compared with golden files without a server. Subclass per test so each has its own ``log``."""

    log: list[dict]

    def perform_request(self, method, url, params=None, body=None, timeout=None, ignore=(), headers=None):
        decoded = json.loads(body) if body else None
        self.log.append({"method": method, "path": url.split("?")[0], "body": decoded})
        if method == "HEAD":
            return 200, {}, ""
        if url.endswith("/_mapping"):
            index = url.strip("/").split("/")[0]
            return 200, {}, json.dumps({index: {"mappings": {"properties": {}}}})
        data: dict = {"took": 0, "hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}
        if decoded and "aggs" in decoded:
            data["aggregations"] = {
                name: ({"value": 0} if "cardinality" in agg else {"buckets": []}) for name, agg in decoded["aggs"].items()
            }
        return 200, {}, json.dumps(data)


def recording_connection() -> type[RecordingConnection]:
    return type("Recorder", (RecordingConnection,), {"log": []})


def searches(log: list[dict]) -> list[dict]:
    """The search requests of a recorded log, as stored in the golden files."""
    return [{"method": r["method"], "path": r["path"], "body": r["body"]} for r in log if r["path"].endswith("/_search")]


def check_golden(name: str, actual: object, update: bool = False) -> None:
    """Compare with ``tests/data/opensearch_golden/<name>.json`` (rewrite it when ``update``)."""
    path = GOLDEN / f"{name}.json"
    if update or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        if not update:
            raise AssertionError(f"{path} did not exist and was written; check it and run again")
    expected = json.loads(path.read_text("utf-8"))
    assert json.loads(json.dumps(actual)) == expected, f"request differs from {path}"
