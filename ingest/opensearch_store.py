"""The sync that mirrors the live generation of the embedded index into OpenSearch.

The embedded index under ``settings.index_dir`` stays the source of truth: ``kb ingest`` publishes a generation
there as always, then :func:`sync_generation` makes OpenSearch match it (the indices are described in
``ingest.opensearch_schema``). ``python -m ingest.opensearch_store`` runs the sync alone and prints its report.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass, field

from ingest.errors import BackendUnavailableError, IndexUnavailableError
from ingest.opensearch_client import (
    build_client,
    build_passage_store,
    check_server,
    has_knn_plugin,
    root_cause,
    safe_url,
    translate_errors,
)
from ingest.opensearch_schema import (
    MAPPING_VERSION,
    MAX_RESULT_WINDOW,
    STATUS_ID,
    index_has_knn,
    index_names,
    passage_document,
    passage_index_body,
    records_index_body,
)
from ingest.schema import DocumentMeta, Passage, Section
from ingest.settings import Settings
from ingest.stores import Generation, open_current

WRITE_TIMEOUT_S = 60.0  # bulk writes of a large document may take longer than a search


def sync_key(meta: DocumentMeta, artifact: str) -> str:
    """Changes when the file, the pipeline (artifact key), the manifest metadata or our mapping change."""
    blob = json.dumps([MAPPING_VERSION, artifact, meta.to_dict()], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass
class SyncReport:
    """What a sync changed in OpenSearch."""

    generation: str = ""
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    passages_written: int = 0
    knn: bool = True
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def ensure_indices(client, settings: Settings, dim: int, knn: bool | None = None) -> bool:
    """Create both indices if missing; returns whether the passage index has searchable vectors.

    :param knn: the mapping variant for a new index; default: detected (k-NN plugin present or not).
    """
    names = index_names(settings)
    if client.indices.exists(index=names.passages):
        mapping = client.indices.get_mapping(index=names.passages)
        properties = next(iter(mapping.values()), {}).get("mappings", {}).get("properties", {})
        have = properties.get("embedding", {})
        if have.get("dimension") not in (None, dim):
            raise IndexUnavailableError(
                f"OpenSearch index {names.passages!r} holds {have.get('dimension')}-d vectors but the model gives {dim}-d: "
                f"delete it (curl -X DELETE {safe_url(settings.opensearch_url)}/{names.passages}) and ingest again"
            )
        if "terms" not in properties:
            # Fields cannot be analysed anew in an existing index: without the pre-analysed terms, BM25 would
            # find nothing (or, before them, miss the word pairs and other languages the embedded engine scores).
            raise IndexUnavailableError(
                f"OpenSearch index {names.passages!r} was created before pre-analysed terms (no terms field): "
                f"delete it (curl -X DELETE {safe_url(settings.opensearch_url)}/{names.passages}) and ingest again"
            )
        present = index_has_knn(mapping)
    else:
        present = has_knn_plugin(client, settings) if knn is None else knn
        client.indices.create(index=names.passages, body=passage_index_body(dim, present))
    if not client.indices.exists(index=names.records):
        client.indices.create(index=names.records, body=records_index_body())
    return present


def stored_documents(client, records_index: str) -> dict[str, dict]:
    """doc_id -> {sha256, sync_key} of the documents OpenSearch holds."""
    body = {
        "size": MAX_RESULT_WINDOW,
        "query": {"term": {"kind": "document"}},
        "_source": ["doc_id", "sha256", "sync_key"],
    }
    hits = client.search(index=records_index, body=body)["hits"]["hits"]
    return {h["_source"]["doc_id"]: h["_source"] for h in hits}


def delete_document(client, settings: Settings, doc_id: str) -> None:
    """Remove a document's record, sections and passages (record first, so a half-done delete is redone)."""
    names = index_names(settings)
    for index in (names.records, names.passages):
        client.delete_by_query(
            index=index, body={"query": {"term": {"doc_id": doc_id}}}, refresh=True, conflicts="proceed"
        )


def _bulk(client, actions: list[dict], what: str) -> None:
    from opensearchpy.helpers import bulk

    if not actions:
        return
    _, errors = bulk(client, actions, refresh=False, raise_on_error=False, stats_only=False, max_retries=0)
    if errors:
        first = next(iter(errors[0].values()), {})
        raise BackendUnavailableError(f"OpenSearch refused {len(errors)} records of {what}: {first.get('error')}")


def _document_rows(gen: Generation) -> dict[str, int]:
    return {doc_id: row for row, (doc_id,) in enumerate(gen.db.execute("SELECT doc_id FROM documents ORDER BY row"))}


def _load_document(gen: Generation, doc_row: int) -> tuple[list[Section], list[tuple[int, Passage, int]]]:
    """A document's sections, and its passages as (passage row, passage, section index)."""
    sections, section_pos = [], {}
    for srow, data in gen.db.execute("SELECT row, data FROM sections WHERE doc_row=? ORDER BY ordinal", (doc_row,)):
        section_pos[srow] = len(sections)
        sections.append(Section.from_dict(json.loads(data)))
    passages = []
    if section_pos:
        marks = ",".join("?" * len(section_pos))
        q = f"SELECT row, section_row, data FROM passages WHERE section_row IN ({marks}) ORDER BY row"
        for prow, srow, data in gen.db.execute(q, list(section_pos)):
            passages.append((prow, Passage.from_dict(json.loads(data)), section_pos[srow]))
    return sections, passages


def _write_document(client, store, settings: Settings, gen: Generation, meta: DocumentMeta, doc_row: int, key: str) -> int:
    from haystack.document_stores.types import DuplicatePolicy

    names = index_names(settings)
    sections, passages = _load_document(gen, doc_row)
    docs = [passage_document(p, sections[si], meta, gen.float_vectors([prow])[0]) for prow, p, si in passages]
    for start in range(0, len(docs), 200):  # ~200 passages x 384 floats: a few MB per request
        try:
            store.write_documents(docs[start : start + 200], policy=DuplicatePolicy.OVERWRITE, refresh=False)
        except Exception as exc:
            from opensearchpy.exceptions import OpenSearchException

            if isinstance(root_cause(exc), OpenSearchException):
                raise  # a connection problem: translate_errors names the server
            # Haystack's bulk report: OpenSearch refused some passages (mapping conflict, size...)
            raise BackendUnavailableError(f"OpenSearch refused passages of {meta.doc_id!r}: {str(exc)[:300]}") from None
    actions = [
        {
            "_index": names.records,
            "_id": f"section:{s.section_id}",
            "_source": {"kind": "section", "doc_id": meta.doc_id, "section_id": s.section_id, "ordinal": s.ordinal, "data": s.to_dict()},
        }
        for s in sections
    ]
    _bulk(client, actions, f"sections of {meta.doc_id!r}")
    # The document record goes last: until it exists, the next sync treats the document as not yet mirrored.
    record = {"kind": "document", "doc_id": meta.doc_id, "sha256": meta.sha256, "sync_key": key, "data": meta.to_dict()}
    _bulk(client, [{"_index": names.records, "_id": f"document:{meta.doc_id}", "_source": record}], repr(meta.doc_id))
    return len(docs)


def sync_generation(settings: Settings, *, knn: bool | None = None) -> SyncReport:
    """Make OpenSearch mirror the live generation of the embedded index at ``settings.index_dir``.

    Creates the indices if missing; per document, skips it when the stored ``sha256`` (and sync key: pipeline,
    metadata, mapping) match, else deletes its passages and records and bulk-writes them anew; deletes
    documents no longer in the generation. Idempotent: re-running after a failure finishes the job.

    :param knn: mapping variant for a new passage index; default: detected from the server's plugins.
    :raises BackendUnavailableError: OpenSearch cannot be reached within ``opensearch_timeout_s`` or refuses writes.
    """
    started = time.perf_counter()
    gen = open_current(settings.index_dir)
    names = index_names(settings)
    report = SyncReport(generation=gen.name)
    try:
        client = build_client(settings, timeout=max(settings.opensearch_timeout_s, WRITE_TIMEOUT_S))
        with translate_errors(settings):
            check_server(client, settings)  # fail fast (short timeout) before any long write
            dim = int(gen.manifest["model"]["dim"])
            report.knn = ensure_indices(client, settings, dim, knn)
            store = build_passage_store(settings, dim, report.knn, timeout=max(settings.opensearch_timeout_s, WRITE_TIMEOUT_S))
            stored = stored_documents(client, names.records)
            rows = _document_rows(gen)
            documents = gen.documents()
            for doc_id, info in gen.manifest["documents"].items():
                meta = documents[doc_id]
                key = sync_key(meta, info.get("artifact", ""))
                have = stored.get(doc_id)
                if have and have.get("sha256") == info["sha256"] and have.get("sync_key") == key:
                    report.unchanged.append(doc_id)
                    continue
                if have:
                    delete_document(client, settings, doc_id)
                report.passages_written += _write_document(client, store, settings, gen, meta, rows[doc_id], key)
                (report.updated if have else report.added).append(doc_id)
            for doc_id in sorted(set(stored) - set(gen.manifest["documents"])):
                delete_document(client, settings, doc_id)
                report.deleted.append(doc_id)
            status = {
                "kind": "status",
                "data": {
                    "generation": gen.name,
                    "model": gen.manifest["model"],
                    "counts": gen.manifest["counts"],
                    "mapping_version": MAPPING_VERSION,
                    "knn": report.knn,
                    "synced": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                },
            }
            client.index(index=names.records, id=STATUS_ID, body=status)
            client.indices.refresh(index=f"{names.passages},{names.records}")
            store.close()
    finally:
        gen.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def main() -> int:
    """``python -m ingest.opensearch_store``: mirror the current local index (``KB_INDEX_DIR``) into OpenSearch
    (``KB_OPENSEARCH_URL``) without ingesting; prints the sync report as JSON, or the error and exits 1."""
    from ingest.errors import KBError

    try:
        report = sync_generation(Settings())
    except KBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
