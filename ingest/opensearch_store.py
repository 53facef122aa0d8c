"""The OpenSearch side of the index contract, and the sync that mirrors the live generation into OpenSearch.

The embedded index under ``settings.index_dir`` stays the source of truth: ``kb ingest`` publishes a generation
there as always, then :func:`sync_generation` makes OpenSearch match it. Two indices, named from
``settings.opensearch_index``:

``<index>`` (passages)
    one document per passage, written through Haystack's ``OpenSearchDocumentStore``: ``content`` (heading
    context + body, the text BM25 searches), ``body`` and ``context`` (stored for display, not searched),
    ``embedding`` (``knn_vector``, cosine, HNSW) and keyword/integer metadata for filters and facets.
``<index>-records`` (sections and documents)
    the JSON of every document and section (stored, not indexed) for hydration, document pages and the
    document list, the ``sha256`` and sync key of each document, and one status record (generation, counts).

Both the sync and ``search_api.opensearch_engine`` import their field names, index bodies, client and error
handling from here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ingest.errors import BackendUnavailableError, IndexUnavailableError, KBError
from ingest.schema import DocumentMeta, Passage, Section
from ingest.settings import Settings
from ingest.stores import Generation, open_current
from ingest.text import PAIR_WEIGHT, STOPWORDS

# Bump when the index bodies or the records' shape change: every document is then re-indexed.
MAPPING_VERSION = 2  # 2: content.pairs (word pairs)
STATUS_ID = "status"
MAX_RESULT_WINDOW = 10_000  # OpenSearch's default index.max_result_window (and the k-NN k limit)
WRITE_TIMEOUT_S = 60.0  # bulk writes of a large document may take longer than a search

# opensearch-py logs every failed request at WARNING with its traceback; we raise our own error naming the
# server instead, so a down cluster shows one clear line and no stack trace.
logging.getLogger("opensearch").setLevel(logging.ERROR)

# The embedded index's analysis (ingest.text.analyze) as OpenSearch analyzers: lower case, words of two or
# more characters, the same stop words, the Snowball English stemmer (PyStemmer's "english"). Only the
# tokeniser differs (Unicode word boundaries instead of our regex), so BM25 scores are close, not identical.
# Word pairs go to the ``content.pairs`` subfield (``kb_pairs``: shingles of two). Its char filter deletes stop
# words and one-character words from the text before tokenising: a stop filter would leave position gaps, and
# shingles across a gap hold a filler instead of pairing the words on either side as ``analyze`` does.
_DROPPED = r"(?iU)\b(?:\w|" + "|".join(sorted(STOPWORDS)) + r")\b"
ANALYSIS = {
    "char_filter": {
        "kb_drop_stop": {"type": "pattern_replace", "pattern": _DROPPED, "replacement": ""},
    },
    "filter": {
        "kb_min2": {"type": "length", "min": 2},
        "kb_stop": {"type": "stop", "stopwords": sorted(STOPWORDS)},
        "kb_stemmer": {"type": "snowball", "language": "English"},
        "kb_pair": {"type": "shingle", "min_shingle_size": 2, "max_shingle_size": 2, "output_unigrams": False},
    },
    "analyzer": {
        "kb_english": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["lowercase", "kb_min2", "kb_stop", "kb_stemmer"],
        },
        "kb_pairs": {
            "type": "custom",
            "char_filter": ["kb_drop_stop"],
            "tokenizer": "standard",
            "filter": ["lowercase", "kb_stemmer", "kb_pair"],
        },
    },
}

# HNSW on the Lucene engine: its k-NN query applies a filter during the graph search (and switches to exact
# search when the filter is selective), so a filtered query returns k results whenever k passages match.
KNN_METHOD = {
    "name": "hnsw",
    "space_type": "cosinesimil",
    "engine": "lucene",
    "parameters": {"m": 16, "ef_construction": 128},
}

_KEYWORD = {"type": "keyword"}
_INTEGER = {"type": "integer"}
_STORED = {"type": "text", "index": False}


@dataclass(frozen=True)
class IndexNames:
    passages: str
    records: str


def index_names(settings: Settings) -> IndexNames:
    return IndexNames(settings.opensearch_index, f"{settings.opensearch_index}-records")


def passage_index_body(dim: int, knn: bool = True) -> dict[str, Any]:
    """Settings and mapping of the passage index.

    :param dim: embedding dimension (384 for the packaged model).
    :param knn: the real-cluster variant (``index.knn`` and an HNSW method). ``False`` gives the variant for a
        server without the k-NN plugin, such as osmem-server in the tests: vectors are stored, not searchable.
    """
    if dim <= 0:
        raise ValueError(f"embedding dimension must be > 0, got {dim}")
    embedding: dict[str, Any] = {"type": "knn_vector", "dimension": dim}
    index_settings: dict[str, Any] = {"number_of_shards": 1}
    if knn:
        embedding["method"] = KNN_METHOD
        index_settings["knn"] = True
    return {
        "settings": {"index": index_settings, "analysis": ANALYSIS},
        "mappings": {
            # Haystack also writes blob/score/sparse_embedding (null); they stay in _source, unindexed.
            "dynamic": False,
            "properties": {
                "content": {"type": "text", "analyzer": "kb_english",
                            "fields": {"pairs": {"type": "text", "analyzer": "kb_pairs"}}},
                "body": _STORED,
                "context": _STORED,
                "embedding": embedding,
                "passage_id": _KEYWORD,
                "section_id": _KEYWORD,
                "doc_id": _KEYWORD,
                "doc_type": _KEYWORD,
                "language": _KEYWORD,
                "members": _KEYWORD,
                "areas": _KEYWORD,  # stated or inferred: what the area filter and facet use
                "areas_stated": _KEYWORD,
                "year": _INTEGER,
                "year_to": _INTEGER,
                "ordinal": _INTEGER,  # of the passage within its section
                "section_ordinal": _INTEGER,
                "page_start": _INTEGER,
                "page_end": _INTEGER,
            },
        },
    }


def records_index_body() -> dict[str, Any]:
    """Settings and mapping of the records index (documents, sections, status); ``data`` is stored, not indexed."""
    return {
        "settings": {"index": {"number_of_shards": 1}},
        "mappings": {
            "dynamic": False,
            "properties": {
                "kind": _KEYWORD,  # document | section | status
                "doc_id": _KEYWORD,
                "section_id": _KEYWORD,
                "ordinal": _INTEGER,
                "sha256": _KEYWORD,
                "sync_key": _KEYWORD,
                "data": {"type": "object", "enabled": False},
            },
        },
    }


# ---------------------------------------------------------------------------------------------------------
# Connection and errors


def safe_url(url: str | None) -> str:
    """The URL without credentials, for messages."""
    if not url:
        return "(KB_OPENSEARCH_URL not set)"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def require_url(settings: Settings) -> str:
    if not settings.opensearch_url:
        raise BackendUnavailableError("KB_BACKEND=opensearch needs KB_OPENSEARCH_URL (e.g. http://127.0.0.1:9200)")
    return settings.opensearch_url


def client_kwargs(settings: Settings, timeout: float | None = None) -> dict[str, Any]:
    """Connection options shared by our client and Haystack's document store: one attempt, a bounded wait.

    Credentials go in the URL (``https://user:password@host:9200``).
    """
    return {
        "hosts": [require_url(settings)],
        "timeout": timeout if timeout is not None else settings.opensearch_timeout_s,
        "max_retries": 0,
        "retry_on_timeout": False,
    }


def build_client(settings: Settings, timeout: float | None = None):
    """An opensearch-py client for ``settings.opensearch_url`` (connects lazily)."""
    from opensearchpy import OpenSearch

    return OpenSearch(**client_kwargs(settings, timeout))


def build_passage_store(settings: Settings, dim: int = 384, knn: bool = True, timeout: float | None = None):
    """Haystack's document store over the passage index.

    It never creates the index (:func:`ensure_indices` does), so ``dim`` and ``knn`` only describe it.
    """
    try:
        from haystack_integrations.document_stores.opensearch import OpenSearchDocumentStore
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("the OpenSearch backend needs opensearch-haystack: pip install opensearch-haystack") from exc
    body = passage_index_body(dim, knn)
    kwargs = client_kwargs(settings, timeout)
    return OpenSearchDocumentStore(
        hosts=kwargs.pop("hosts"),
        index=index_names(settings).passages,
        embedding_dim=dim,
        mappings=body["mappings"],
        settings=body["settings"],
        create_index=False,
        http_auth=None,  # credentials come with the URL, like our own client's
        **kwargs,
    )


def _root_cause(exc: BaseException) -> BaseException:
    """The opensearch-py error behind a Haystack wrapper, if there is one."""
    from opensearchpy.exceptions import OpenSearchException

    seen = exc
    while seen is not None:
        if isinstance(seen, OpenSearchException):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def backend_error(exc: BaseException, settings: Settings, index: str | None = None) -> KBError:
    """Our error for a failed OpenSearch call: what happened, to which server, and what to do."""
    from opensearchpy.exceptions import ConnectionError, ConnectionTimeout, NotFoundError, SerializationError, TransportError

    url = safe_url(settings.opensearch_url)
    root = _root_cause(exc)
    if isinstance(root, ConnectionTimeout):
        return BackendUnavailableError(
            f"OpenSearch at {url} did not answer within {settings.opensearch_timeout_s:g} s (KB_OPENSEARCH_TIMEOUT_S)"
        )
    if isinstance(root, ConnectionError):
        return BackendUnavailableError(
            f"OpenSearch at {url} is unreachable ({_short(root)}): start it "
            "(search_api/opensearch/docker-compose.yml) or fix KB_OPENSEARCH_URL"
        )
    if isinstance(root, NotFoundError):  # no index, or no status record: never synced
        name = index or settings.opensearch_index
        return IndexUnavailableError(
            f"OpenSearch at {url} has no synced index {name!r}: build it with `KB_BACKEND=opensearch kb ingest`"
        )
    if isinstance(root, SerializationError):
        return BackendUnavailableError(f"{url} did not answer like an OpenSearch server ({_short(root)})")
    if isinstance(root, TransportError):
        return BackendUnavailableError(f"OpenSearch at {url} refused the request: {root.status_code} {_reason(root)}")
    return BackendUnavailableError(f"OpenSearch at {url} failed: {type(exc).__name__}: {exc}")


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "info", None) or exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host"):
        if marker in text:
            return marker.lower()
    return text[:160]


def _reason(exc) -> str:
    info = exc.info if isinstance(exc.info, dict) else {}
    err = info.get("error")
    if isinstance(err, dict):
        return f"{err.get('type')}: {err.get('reason')}"
    return str(exc.error)[:200]


@contextmanager
def translate_errors(settings: Settings, index: str | None = None) -> Iterator[None]:
    """Turn any failure of an OpenSearch call into a :class:`BackendUnavailableError` (or a missing-index error)."""
    try:
        yield
    except KBError:
        raise
    except Exception as exc:  # opensearch-py, urllib3 and Haystack wrappers all end up here
        raise backend_error(exc, settings, index) from None


def check_server(client, settings: Settings) -> dict:
    """``GET /`` within the search timeout; fails with a clear message if it is not an OpenSearch server."""
    info = client.info(request_timeout=settings.opensearch_timeout_s)
    version = info.get("version", {}) if isinstance(info, dict) else {}
    if version.get("distribution") != "opensearch":
        raise BackendUnavailableError(f"{safe_url(settings.opensearch_url)} is not an OpenSearch server: {str(info)[:160]}")
    return info


def has_knn_plugin(client, settings: Settings) -> bool:
    """Whether the server has the k-NN plugin (osmem-server lists no plugins)."""
    plugins = client.cat.plugins(format="json", request_timeout=settings.opensearch_timeout_s)
    return any(p.get("component") == "opensearch-knn" for p in plugins or [])


def index_has_knn(mapping: dict) -> bool:
    """Whether a passage index's mapping makes the embeddings searchable (an HNSW method on ``embedding``)."""
    for body in mapping.values():
        props = body.get("mappings", {}).get("properties", {})
        return "method" in props.get("embedding", {})
    return False


# ---------------------------------------------------------------------------------------------------------
# Records


def passage_document(p: Passage, s: Section, d: DocumentMeta, vector) -> "Document":  # noqa: F821
    """The Haystack document indexed for one passage."""
    from haystack import Document

    return Document(
        id=p.passage_id,
        content=p.search_text,
        embedding=[float(x) for x in vector],
        meta={
            "passage_id": p.passage_id,
            "section_id": s.section_id,
            "doc_id": d.doc_id,
            "body": p.text,
            "context": p.context,
            "ordinal": p.ordinal,
            "section_ordinal": s.ordinal,
            "page_start": p.page_start,
            "page_end": p.page_end,
            "doc_type": d.doc_type,
            "language": d.language,
            "members": list(s.members),
            "areas": sorted({t.area for t in s.priority_areas}),
            "areas_stated": sorted({t.area for t in s.priority_areas if t.basis == "stated"}),
            # A document covers [year, year_to]; an unknown year matches no year filter (as in the embedded index).
            "year": d.year,
            "year_to": (d.year_to if d.year_to is not None else d.year) if d.year is not None else None,
        },
    )


def passage_from_source(src: dict) -> Passage:
    """The passage back from its indexed record."""
    return Passage(
        passage_id=src["passage_id"],
        section_id=src["section_id"],
        doc_id=src["doc_id"],
        ordinal=src.get("ordinal", 0),
        text=src.get("body", ""),
        context=src.get("context", ""),
        page_start=src.get("page_start"),
        page_end=src.get("page_end"),
    )


def sync_key(meta: DocumentMeta, artifact: str) -> str:
    """Changes when the file, the pipeline (artifact key), the manifest metadata or our mapping change."""
    blob = json.dumps([MAPPING_VERSION, artifact, meta.to_dict()], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


# ---------------------------------------------------------------------------------------------------------
# Sync


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
        if "pairs" not in properties.get("content", {}).get("fields", {}):
            # Analyzers cannot be added to an existing index: without content.pairs, BM25 would silently lose
            # the word pairs the embedded engine scores.
            raise IndexUnavailableError(
                f"OpenSearch index {names.passages!r} was created before word pairs (no content.pairs field): "
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
    docs = [passage_document(p, sections[si], meta, gen.vectors[prow]) for prow, p, si in passages]
    for start in range(0, len(docs), 200):  # ~200 passages x 384 floats: a few MB per request
        try:
            store.write_documents(docs[start : start + 200], policy=DuplicatePolicy.OVERWRITE, refresh=False)
        except Exception as exc:
            from opensearchpy.exceptions import OpenSearchException

            if isinstance(_root_cause(exc), OpenSearchException):
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
