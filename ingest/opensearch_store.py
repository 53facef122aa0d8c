"""The OpenSearch mirror of the embedded index: mapping, bulk indexing of passages, deletes, and sync.

The local index (``settings.index_dir``) stays the source of truth: ``kb ingest`` writes a generation there as
always, then :func:`sync_generation` makes OpenSearch match it -- documents whose artifact or metadata changed are
deleted and re-indexed, documents no longer in the generation are deleted, unchanged ones are left alone.

Two indices, both named from ``settings.opensearch_index``:

``<index>``
    one OpenSearch document per passage, written through Haystack's ``OpenSearchDocumentStore``: ``content``
    (headings + body, what BM25 searches), ``body`` (the passage alone, for display), the 384-d ``embedding``
    (``knn_vector``, HNSW, cosine) and keyword/int metadata used by filters and facets.
``<index>-records``
    one record per document and per section (their JSON, for hydration and document pages, stored but not
    indexed) and one ``index`` record naming the generation mirrored and its counts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from haystack import Document

from ingest.errors import BackendUnavailableError, IndexUnavailableError
from ingest.settings import Settings
from ingest.stores import DocArtifact, Generation, IndexDir, open_current
from ingest.text import STOPWORDS

# Bump when the mapping or the shape of indexed records changes: every document is then re-indexed.
MAPPING_VERSION = 1
STATUS_ID = "index:status"

# The embedded index's analysis (ingest.text.analyze), expressed as an OpenSearch analyzer: lower case,
# the same stop words, the Snowball English stemmer (what PyStemmer's "english" is). The tokeniser differs
# slightly (Unicode word boundaries instead of our regex), so BM25 scores are close but not identical.
ANALYSIS = {
    "filter": {
        "kb_stop": {"type": "stop", "stopwords": sorted(STOPWORDS)},
        "kb_stemmer": {"type": "snowball", "language": "English"},
    },
    "analyzer": {
        "kb_english": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "kb_stop", "kb_stemmer"]}
    },
}

# HNSW on the Lucene engine: its k-NN query applies a filter inside the graph search (efficient filtering) and
# falls back to exact search when the filter is selective, so a filtered query returns k results when k exist.
KNN_METHOD = {
    "name": "hnsw",
    "space_type": "cosinesimil",
    "engine": "lucene",
    "parameters": {"m": 16, "ef_construction": 128},
}

KEYWORD = {"type": "keyword"}
INTEGER = {"type": "integer"}
TEXT = {"type": "text", "analyzer": "kb_english"}


def passage_index_body(dim: int) -> dict[str, Any]:
    """Settings and mapping of the passage index.

    ``knn_vector`` carries no ``"index": true``: real clusters index vectors by default, and osmem-server (the
    stand-in used in tests) rejects that parameter; everything else is what a real cluster needs.
    """
    if dim <= 0:
        raise ValueError(f"embedding dimension must be > 0, got {dim}")
    return {
        "settings": {"index": {"knn": True, "number_of_shards": 1}, "analysis": ANALYSIS},
        "mappings": {
            # Haystack writes a few fields of its own (blob, score: null); they stay in _source, unindexed.
            "dynamic": False,
            "_meta": {"kb_mapping_version": MAPPING_VERSION},
            "properties": {
                "id": KEYWORD,
                "content": TEXT,  # context (heading path) + body: what BM25 matches
                "body": {"type": "text", "analyzer": "kb_english", "index": False},  # the passage as cited
                "context": {"type": "text", "analyzer": "kb_english", "index": False},
                "embedding": {"type": "knn_vector", "dimension": dim, "method": KNN_METHOD},
                "passage_id": KEYWORD,
                "section_id": KEYWORD,
                "doc_id": KEYWORD,
                "doc_type": KEYWORD,
                "language": KEYWORD,
                "members": KEYWORD,  # array: the section's members (a law's jurisdiction included)
                "areas": KEYWORD,  # array: priority areas, stated or inferred
                "areas_stated": KEYWORD,  # array: only those the document states itself
                "year": INTEGER,
                "year_to": INTEGER,  # = year for single-year documents, so a range filter is one overlap test
                "ordinal": INTEGER,  # passage position within its section
                "section_ordinal": INTEGER,  # section position within its document
                "page_start": INTEGER,
                "page_end": INTEGER,
            },
        },
    }


def records_index_body() -> dict[str, Any]:
    """Settings and mapping of the records index (documents, sections, the status record)."""
    return {
        "settings": {"index": {"number_of_shards": 1}},
        "mappings": {
            "dynamic": False,
            "_meta": {"kb_mapping_version": MAPPING_VERSION},
            "properties": {
                "kind": KEYWORD,  # "document" | "section" | "index"
                "doc_id": KEYWORD,
                "section_id": KEYWORD,
                "ordinal": INTEGER,
                "version": KEYWORD,
                "data": {"type": "object", "enabled": False},  # the record's JSON, returned as stored
            },
        },
    }


def records_index(settings: Settings) -> str:
    return f"{settings.opensearch_index}-records"


def redact_url(url: str) -> str:
    """The URL without credentials, for messages."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def require_url(settings: Settings) -> str:
    if not settings.opensearch_url:
        raise BackendUnavailableError(
            "KB_BACKEND=opensearch needs KB_OPENSEARCH_URL (e.g. http://localhost:9200; credentials as http://user:pass@host:9200)"
        )
    return settings.opensearch_url


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``opensearchpy.OpenSearch`` (and ``OpenSearchDocumentStore``): fail fast, never retry.

    Credentials, if any, go in the URL (``https://user:pass@host:9200``); opensearch-py reads them from there.
    """
    return {
        "timeout": settings.opensearch_timeout_s,
        "max_retries": 0,
        "retry_on_timeout": False,
        "http_auth": None,  # not the OPENSEARCH_USERNAME/PASSWORD env vars Haystack would read by default
    }


def connect(settings: Settings, **overrides: Any):
    """An ``opensearchpy.OpenSearch`` client for the configured cluster (no request is made)."""
    try:
        from opensearchpy import OpenSearch
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("the OpenSearch backend needs opensearch-py: pip install opensearch-haystack") from exc
    _quiet_client_logging()
    opts = client_options(settings)
    opts.pop("http_auth")
    return OpenSearch(hosts=[require_url(settings)], **{**opts, **overrides})


def build_document_store(settings: Settings, dim: int = 384, *, create_index: bool = False, **overrides: Any):
    """Haystack's ``OpenSearchDocumentStore`` over the passage index, with our mapping and fail-fast client."""
    try:
        from haystack_integrations.document_stores.opensearch import OpenSearchDocumentStore
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("the OpenSearch backend needs opensearch-haystack: pip install opensearch-haystack") from exc
    _quiet_client_logging()
    body = passage_index_body(dim)
    return OpenSearchDocumentStore(
        hosts=[require_url(settings)],
        index=settings.opensearch_index,
        embedding_dim=dim,
        mappings=body["mappings"],
        settings=body["settings"],
        create_index=create_index,
        return_embedding=False,
        **{**client_options(settings), **overrides},
    )


def _quiet_client_logging() -> None:
    # opensearch-py logs every failed request at WARNING with a traceback; we raise BackendUnavailableError
    # with a clear message instead, so its own log would only print a stack trace beside it.
    logging.getLogger("opensearch").setLevel(logging.ERROR)


@contextmanager
def translate_errors(settings: Settings, what: str = "request") -> Iterator[None]:
    """Turn client failures into the domain's errors: unreachable -> BackendUnavailableError, no index -> IndexUnavailableError."""
    from opensearchpy import exceptions as ose

    url = redact_url(settings.opensearch_url or "")
    try:
        yield
    except ose.ConnectionTimeout as exc:
        raise BackendUnavailableError(
            f"OpenSearch at {url} did not answer the {what} within {settings.opensearch_timeout_s:g} s "
            "(KB_OPENSEARCH_TIMEOUT_S); is the cluster up?"
        ) from exc
    except ose.ConnectionError as exc:
        raise BackendUnavailableError(f"OpenSearch at {url} is unreachable ({_reason(exc)}); check KB_OPENSEARCH_URL and that the cluster is up") from exc
    except ose.NotFoundError as exc:
        if _error_type(exc) == "index_not_found_exception":
            raise IndexUnavailableError(
                f"OpenSearch at {url} has no index {settings.opensearch_index!r}: build it with `KB_BACKEND=opensearch kb ingest`"
            ) from exc
        raise BackendUnavailableError(
            f"OpenSearch at {url}: {what} failed (404{_detail(exc)}); is KB_OPENSEARCH_URL an OpenSearch endpoint?"
        ) from exc
    except ose.TransportError as exc:
        raise BackendUnavailableError(f"OpenSearch at {url}: {what} failed ({exc.status_code}{_detail(exc)})") from exc


def _detail(exc) -> str:
    reason = _reason(exc).strip(" :")
    return f": {reason}" if reason and reason != "None" else ""


def _error_type(exc) -> str:
    info = getattr(exc, "info", None)
    if isinstance(info, dict) and isinstance(info.get("error"), dict):
        return str(info["error"].get("type", ""))
    return str(getattr(exc, "error", ""))


def _reason(exc) -> str:
    info = getattr(exc, "info", None)
    if isinstance(info, dict) and isinstance(info.get("error"), dict):
        err = info["error"]
        return f"{err.get('type', '')}: {err.get('reason', '')}"
    if getattr(exc, "info", None) is not None and not isinstance(exc.info, (str, dict)):
        inner = exc.info  # the underlying urllib3 error for connection failures
        return f"{type(inner).__name__}: {inner}".split(" (Caused by")[0][:200]
    return str(getattr(exc, "error", exc))[:200]


# ---------------------------------------------------------------------------------------------------------
# Records


def artifact_version(art: DocArtifact) -> str:
    """Changes whenever what we would index for the document changes: its artifact (file, pipeline) or metadata."""
    meta = json.dumps(art.meta.to_dict(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{MAPPING_VERSION}|{art.key}|{meta}".encode()).hexdigest()[:20]


def passage_documents(art: DocArtifact) -> list[Document]:
    """The Haystack Documents indexed for one document's passages: one per passage, with its vector and metadata."""
    meta = art.meta
    sections = {s.section_id: s for s in art.sections}
    year_to = meta.year_to if meta.year_to is not None else meta.year
    out = []
    for p, vec in zip(art.passages, art.vectors):
        s = sections[p.section_id]
        m: dict[str, Any] = {
            "body": p.text,
            "context": p.context,
            "passage_id": p.passage_id,
            "section_id": p.section_id,
            "doc_id": p.doc_id,
            "doc_type": meta.doc_type,
            "language": meta.language,
            "members": list(s.members),
            "areas": sorted({t.area for t in s.priority_areas}),
            "areas_stated": sorted({t.area for t in s.priority_areas if t.basis == "stated"}),
            "ordinal": p.ordinal,
            "section_ordinal": s.ordinal,
        }
        for name, value in (("year", meta.year), ("year_to", year_to), ("page_start", p.page_start), ("page_end", p.page_end)):
            if value is not None:
                m[name] = int(value)
        out.append(Document(id=p.passage_id, content=p.search_text, meta=m, embedding=[float(x) for x in vec]))
    return out


def record_actions(art: DocArtifact, index: str, version: str) -> list[dict[str, Any]]:
    """Bulk actions for the document's section records and, last, its document record (written = complete)."""
    actions = [
        {
            "_index": index,
            "_id": f"section:{s.section_id}",
            "_source": {"kind": "section", "doc_id": s.doc_id, "section_id": s.section_id, "ordinal": s.ordinal, "data": s.to_dict()},
        }
        for s in art.sections
    ]
    actions.append(
        {
            "_index": index,
            "_id": f"document:{art.meta.doc_id}",
            "_source": {"kind": "document", "doc_id": art.meta.doc_id, "version": version, "data": art.meta.to_dict()},
        }
    )
    return actions


# ---------------------------------------------------------------------------------------------------------
# Sync


@dataclass
class SyncReport:
    """What a sync changed in OpenSearch."""

    generation: str = ""
    indexed: list[str] = field(default_factory=list)  # documents (re-)indexed
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    passages_written: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def ensure_indices(client, settings: Settings, dim: int) -> None:
    """Create both indices if missing; refuse an existing passage index built for another vector size."""
    index = settings.opensearch_index
    if client.indices.exists(index=index):
        mapping = client.indices.get_mapping(index=index)
        props = next(iter(mapping.values()))["mappings"].get("properties", {})
        have = props.get("embedding", {}).get("dimension")
        if have is not None and int(have) != dim:
            raise IndexUnavailableError(
                f"OpenSearch index {index!r} holds {have}-d vectors but the model makes {dim}-d ones: "
                "delete the index or choose another KB_OPENSEARCH_INDEX, then run `kb ingest` again"
            )
    else:
        client.indices.create(index=index, body=passage_index_body(dim))
    if not client.indices.exists(index=records_index(settings)):
        client.indices.create(index=records_index(settings), body=records_index_body())


def indexed_versions(client, settings: Settings) -> dict[str, str]:
    """doc_id -> version of every document OpenSearch holds, including half-written ones (version "")."""
    res = client.search(
        index=records_index(settings),
        body={"size": 10_000, "query": {"term": {"kind": "document"}}, "_source": ["doc_id", "version"]},
    )
    versions = {h["_source"]["doc_id"]: h["_source"].get("version", "") for h in res["hits"]["hits"]}
    # Passages or sections of a document whose record is missing (a sync cut short) must be found too.
    for index in (settings.opensearch_index, records_index(settings)):
        agg = client.search(index=index, body={"size": 0, "aggs": {"docs": {"terms": {"field": "doc_id", "size": 10_000}}}})
        for b in agg["aggregations"]["docs"]["buckets"]:
            versions.setdefault(b["key"], "")
    return versions


def delete_document(client, settings: Settings, doc_id: str) -> None:
    """Remove a document's passages, sections and record."""
    query = {"query": {"term": {"doc_id": doc_id}}}
    client.delete_by_query(index=records_index(settings), body=query, refresh=False)
    client.delete_by_query(index=settings.opensearch_index, body=query, refresh=False)


def sync_generation(gen_path: Path, settings: Settings) -> SyncReport:
    """Make OpenSearch mirror the generation at ``gen_path``: re-index changed documents, delete removed ones.

    Idempotent and resumable: a document's record is written last, so a sync cut short is completed by the next.

    :param gen_path: a generation directory of the embedded index (``index_dir/generations/<name>``).
    :returns: what changed.
    :raises BackendUnavailableError: the cluster cannot be reached within ``settings.opensearch_timeout_s``.
    """
    from haystack.document_stores.errors import DocumentStoreError
    from haystack.document_stores.types import DuplicatePolicy
    from opensearchpy.helpers import bulk

    started = time.perf_counter()
    gen = Generation(Path(gen_path))
    try:
        manifest = gen.manifest
    finally:
        gen.close()
    docs_dir = Path(gen_path).parent.parent / "docs"
    dim = int(manifest["model"]["dim"])
    report = SyncReport(generation=Path(gen_path).name)
    client = connect(settings)
    store = build_document_store(settings, dim, create_index=False)
    with translate_errors(settings, "sync"):
        ensure_indices(client, settings, dim)
        have = indexed_versions(client, settings)
        for doc_id in sorted(set(have) - set(manifest["documents"])):
            delete_document(client, settings, doc_id)
            report.deleted.append(doc_id)
        for doc_id, info in sorted(manifest["documents"].items()):
            art_dir = docs_dir / info["artifact"]
            if not art_dir.is_dir():
                raise IndexUnavailableError(f"the artifact of {doc_id!r} is missing from {docs_dir}: run `kb ingest` again")
            art = DocArtifact.load(art_dir)
            version = artifact_version(art)
            if have.get(doc_id) == version:
                report.unchanged += 1
                continue
            if doc_id in have:
                delete_document(client, settings, doc_id)
            docs = passage_documents(art)
            try:
                store.write_documents(docs, policy=DuplicatePolicy.OVERWRITE, refresh=False)
            except DocumentStoreError as exc:  # some passages were refused (bulk item errors)
                raise BackendUnavailableError(f"OpenSearch rejected passages of {doc_id!r}: {str(exc)[:500]}") from exc
            _ok, errors = bulk(client, record_actions(art, records_index(settings), version), refresh=False, raise_on_error=False)
            if errors:
                raise BackendUnavailableError(f"OpenSearch rejected records of {doc_id!r}: {str(errors[:2])[:500]}")
            report.indexed.append(doc_id)
            report.passages_written += len(docs)
        status = {
            "kind": "index",
            "version": str(MAPPING_VERSION),
            "data": {
                "generation": report.generation,
                "counts": manifest["counts"],
                "model": manifest["model"],
                "doc_types": manifest["doc_types"],
                "languages": manifest["languages"],
                "members": manifest["members"],
                "synced": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
        }
        client.index(index=records_index(settings), id=STATUS_ID, body=status, refresh=False)
        client.indices.refresh(index=f"{settings.opensearch_index},{records_index(settings)}")
    store.close()
    client.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m ingest.opensearch_store``: mirror the live embedded generation into OpenSearch."""
    import sys

    from ingest.errors import KBError

    settings = Settings()
    try:
        index_dir = IndexDir(settings.index_dir)
        with index_dir.lock():
            gen = open_current(settings.index_dir)
            path = gen.path
            gen.close()
            report = sync_generation(path, settings)
    except KBError as exc:
        print(f"opensearch sync: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
