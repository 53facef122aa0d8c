"""The OpenSearch side of the index contract: index names, analyzers, mappings, and the records they hold.

Two indices, named from ``settings.opensearch_index``:

``<index>`` (passages)
    one document per passage, written through Haystack's ``OpenSearchDocumentStore``: ``content`` (heading
    context + body, the text BM25 searches), ``body`` and ``context`` (stored for display, not searched),
    ``embedding`` (``knn_vector``, cosine, HNSW) and keyword/integer metadata for filters and facets.
``<index>-records`` (sections and documents)
    the JSON of every document and section (stored, not indexed) for hydration, document pages and the
    document list, the ``sha256`` and sync key of each document, and one status record (generation, counts).

The sync (``ingest.opensearch_store``) and ``search_api.opensearch_engine`` both take them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.analysis import analyze
from ingest.schema import DocumentMeta, Passage, Section
from ingest.settings import Settings

# Bump when the index bodies or the records' shape change: every document is then re-indexed.
MAPPING_VERSION = 3  # 2: content.pairs (word pairs); 3: pre-analysed terms (every language)
STATUS_ID = "status"
MAX_RESULT_WINDOW = 10_000  # OpenSearch's default index.max_result_window (and the k-NN k limit)

# BM25 reads ``terms``: the passage's terms as the embedded index holds them (``ingest.analysis.analyze`` in the
# passage's language: ICU word breaks for Thai and Bengali, Han bigrams, Snowball stemmers, word pairs), written
# space-separated and cut by the ``whitespace`` tokenizer, and the query's terms cut by ``query_terms`` likewise.
# So both backends score the same terms in every language, and OpenSearch needs no analysis plugin: osmem-server
# (the tests' stand-in) rejects the thai, bengali and indonesian analyzers, icu_tokenizer and smartcn. A real
# cluster with the analysis-icu plugin could analyse ``content`` natively instead (an ``icu_tokenizer`` analyzer
# per language field, ``cjk_bigram`` for Chinese, the ``turkish``/``indonesian``/``dutch`` stemmers), at the cost of
# scores that differ from the embedded engine's. A word pair is one term: its two words joined by PAIR_JOINER
# (WORD JOINER, which no term holds: analysis removes it from text), not white space.
PAIR_JOINER = "\u2060"
ANALYSIS = {
    "analyzer": {
        "kb_terms": {"type": "custom", "tokenizer": "whitespace"},
    },
}


def encode_terms(terms: list[str]) -> str:
    """Terms as the ``terms`` field holds them: space-separated, a pair's space replaced by ``PAIR_JOINER``."""
    return " ".join(t.replace(" ", PAIR_JOINER) for t in terms)


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
                "content": _STORED,  # heading context + body: phrase checks read it; BM25 reads ``terms``
                "terms": {"type": "text", "analyzer": "kb_terms"},
                "body": _STORED,
                "context": _STORED,
                "embedding": embedding,
                "passage_id": _KEYWORD,
                "section_id": _KEYWORD,
                "doc_id": _KEYWORD,
                "doc_type": _KEYWORD,
                "language": _KEYWORD,
                "status": _KEYWORD,  # the section's: in_force | repealed | unknown
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


def index_has_knn(mapping: dict) -> bool:
    """Whether a passage index's mapping makes the embeddings searchable (an HNSW method on ``embedding``)."""
    for body in mapping.values():
        props = body.get("mappings", {}).get("properties", {})
        return "method" in props.get("embedding", {})
    return False


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
            "terms": encode_terms(analyze(p.search_text, d.language)),
            "ordinal": p.ordinal,
            "section_ordinal": s.ordinal,
            "page_start": p.page_start,
            "page_end": p.page_end,
            "doc_type": d.doc_type,
            "language": d.language,
            "status": p.status if p.status else (s.status or d.status),
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
        status=src.get("status", "unknown"),
    )
