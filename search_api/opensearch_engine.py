"""The OpenSearch engine: the same interface as the embedded engine, answered by an OpenSearch cluster.

Both legs run in OpenSearch through Haystack's retrievers with the filters inside them (BM25: a ``bool`` filter
next to the ``match``; k-NN: the filter inside the ``knn`` clause, which the Lucene engine applies during the
graph search, so k results come back whenever k matching passages exist). The candidates then go through the
same ``fuse()`` as the embedded engine, so fusion, section collapse and phrase handling are identical.

Differences from the embedded engine (see also the README):

* BM25 is Lucene's, over an analyzer built to match ours (same stop words, Snowball English); the tokeniser
  differs slightly, so scores -- not usually the top results -- can differ.
* Dense scores: OpenSearch reports ``(1 + cos) / 2`` for ``cosinesimil``; we map them back to ``cos`` so
  explanations and dense-mode scores read the same. Approximate (HNSW) rather than exact search.
* Facets are terms aggregations over the filtered result set (BM25 matches plus the dense leg's candidates), with
  section counts from a ``cardinality`` aggregation: exact below 40,000 distinct sections per bucket.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from haystack import Document

from ingest.errors import BackendUnavailableError, IndexUnavailableError, UnknownFilterValueError
from ingest.opensearch_store import (
    STATUS_ID,
    build_document_store,
    connect,
    records_index,
    redact_url,
    require_url,
    translate_errors,
)
from ingest.schema import PRIORITY_AREAS, DocumentMeta, Passage, Section
from ingest.settings import Settings
from search_api.filters import SearchFilters, to_haystack_filters

RELOAD_CHECK_S = 1.0  # how stale the document list may be after a sync, as for the embedded index
MAX_RESULTS = 10_000  # OpenSearch's default index.max_result_window
SECTION_COUNT_PRECISION = 40_000  # cardinality is exact (in practice) below this many distinct values


def bm25_query_template(filtered: bool) -> dict[str, Any]:
    """The BM25 leg's query for ``OpenSearchBM25Retriever(custom_query=...)``: match on ``content``, filters beside it."""
    query: dict[str, Any] = {"bool": {"must": [{"match": {"content": {"query": "$query"}}}]}}
    if filtered:
        query["bool"]["filter"] = "$filters"
    return {"query": query}


def facet_aggregations() -> dict[str, Any]:
    """Totals and per-value section counts over a result set of passages."""
    per_section = {"sections": {"cardinality": {"field": "section_id", "precision_threshold": SECTION_COUNT_PRECISION}}}
    return {
        "sections": per_section["sections"],
        "documents": {"cardinality": {"field": "doc_id", "precision_threshold": SECTION_COUNT_PRECISION}},
        "member": {"terms": {"field": "members", "size": 1000}, "aggs": per_section},
        "priority_area": {"terms": {"field": "areas", "size": 100}, "aggs": per_section},
        "year": {"terms": {"field": "year", "size": 1000}, "aggs": per_section},
        "doc_type": {"terms": {"field": "doc_type", "size": 100}, "aggs": per_section},
    }


def parse_facets(aggs: dict[str, Any]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Aggregation results in the embedded engine's shape and order."""

    def buckets(name: str) -> dict[str, int]:
        return {str(b["key"]): int(b["sections"]["value"]) for b in aggs[name]["buckets"] if b["sections"]["value"]}

    totals = {"sections": int(aggs["sections"]["value"]), "documents": int(aggs["documents"]["value"])}
    if totals["sections"] == 0:
        totals["documents"] = 0
    areas = buckets("priority_area")
    return totals, {
        "member": dict(sorted(buckets("member").items(), key=lambda kv: (-kv[1], kv[0]))),
        "priority_area": {a: areas[a] for a in PRIORITY_AREAS if a in areas},
        "year": dict(sorted(buckets("year").items(), key=lambda kv: int(kv[0]))),
        "doc_type": dict(sorted(buckets("doc_type").items())),
    }


class ResultSet:
    """The passages a search matched, for facet counts, standing in for the embedded engine's array of passage rows.

    It holds the candidate passage ids, and the query that matches the whole result set on the server (BM25 matches
    under the filters, plus the dense candidates). The searcher narrows a result set with
    ``rows[np.isin(rows, keys)]`` (quoted phrases); a narrowed set is just the ids it kept.
    """

    def __init__(self, keys: list[str], match: dict[str, Any] | None = None) -> None:
        self.keys = np.asarray(keys, dtype=object)
        self.match = match

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.keys if dtype is None else self.keys.astype(dtype)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def size(self) -> int:
        return len(self.keys)

    def __getitem__(self, item) -> ResultSet:
        return ResultSet(list(np.atleast_1d(self.keys[item])))

    def query(self) -> dict[str, Any]:
        if self.match is not None:
            return self.match
        return {"ids": {"values": [str(k) for k in self.keys]}}


def _passage(meta: dict[str, Any]) -> Passage:
    return Passage(
        passage_id=meta["passage_id"],
        section_id=meta["section_id"],
        doc_id=meta["doc_id"],
        ordinal=int(meta.get("ordinal", 0)),
        text=meta.get("body", ""),
        context=meta.get("context", ""),
        page_start=meta.get("page_start"),
        page_end=meta.get("page_end"),
    )


class OpenSearchEngine:
    """The OpenSearch backend behind the Searcher: retrieval legs, facets, hydration and document access.

    Nothing is requested at construction: an unreachable cluster shows in ``info()`` and as
    ``BackendUnavailableError`` from queries, within ``settings.opensearch_timeout_s``.

    :param settings: ``opensearch_url``, ``opensearch_index``, ``opensearch_timeout_s`` and ``candidates`` are used.
    :param client_options: extra ``opensearchpy.OpenSearch`` arguments (tests pass a ``connection_class``).
    """

    name = "opensearch"

    def __init__(self, settings: Settings, **client_options: Any) -> None:
        from haystack_integrations.components.retrievers.opensearch import (
            OpenSearchBM25Retriever,
            OpenSearchEmbeddingRetriever,
        )

        self.settings = settings
        self.url = redact_url(require_url(settings))
        self.index = settings.opensearch_index
        self.records = records_index(settings)
        self.client = connect(settings, **client_options)
        self.store = build_document_store(settings, create_index=False, **client_options)
        self.bm25 = OpenSearchBM25Retriever(document_store=self.store, top_k=settings.candidates)
        self.dense = OpenSearchEmbeddingRetriever(document_store=self.store, top_k=settings.candidates, efficient_filtering=True)
        self._lock = threading.Lock()
        self._status: dict[str, Any] | None = None
        self._checked = 0.0
        self._documents: dict[str, DocumentMeta] | None = None

    # -- state ------------------------------------------------------------------------------------------------

    def status(self, force: bool = False) -> dict[str, Any]:
        """The sync status record (generation, counts, model), re-read at most once a second."""
        now = time.monotonic()
        if force or self._status is None or now - self._checked > RELOAD_CHECK_S:
            from opensearchpy.exceptions import NotFoundError

            with translate_errors(self.settings, "status request"):
                try:
                    res = self.client.get(index=self.records, id=STATUS_ID)
                except NotFoundError:
                    raise IndexUnavailableError(
                        f"OpenSearch at {self.url} has no synced index {self.index!r}: build it with `KB_BACKEND=opensearch kb ingest`"
                    ) from None
            status = res["_source"]["data"]
            with self._lock:
                if self._status is None or _sync_id(status) != _sync_id(self._status):
                    self._documents = None
                self._status, self._checked = status, now
        return self._status

    def _search(self, index: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        with translate_errors(self.settings, what):
            return self.client.search(index=index, body=body)

    # -- retrieval --------------------------------------------------------------------------------------------

    def retrieve(self, query: str, qvec, filters: SearchFilters, depth: int, group_by: str, mode: str) -> tuple[list[Document], list[Document], ResultSet]:
        """Both legs' candidates, plus the result set (BM25 matches and dense candidates) for facets."""
        from haystack_integrations.document_stores.opensearch.filters import normalize_filters

        if filters.doc_ids:
            known = self.documents()
            for d in filters.doc_ids:
                if d not in known:
                    raise UnknownFilterValueError("doc_id", d, list(known))
        hs_filters = to_haystack_filters(filters)
        # OpenSearch returns at most index.max_result_window hits (and k-NN k) per request; the searcher's
        # deepening loop then sees a full page and stops at its own bound.
        depth = min(depth, MAX_RESULTS)
        bm25_raw: list[Document] = []
        dense_raw: list[Document] = []
        if mode != "dense":
            with translate_errors(self.settings, "BM25 query"):
                bm25_raw = self.bm25.run(
                    query=query, filters=hs_filters, top_k=depth, custom_query=bm25_query_template(hs_filters is not None)
                )["documents"]
        if mode != "bm25" and qvec is not None:
            dense_raw = self._knn(qvec, hs_filters, depth)
        bm25_docs = [self._candidate(d, group_by, d.score or 0.0) for d in bm25_raw]
        # cosinesimil scores are (1 + cos) / 2: report cos, as the embedded engine does.
        dense_docs = [self._candidate(d, group_by, 2.0 * (d.score or 0.0) - 1.0) for d in dense_raw]

        should: list[dict[str, Any]] = []
        if mode != "dense":
            should.append({"match": {"content": {"query": query}}})
        if dense_docs:
            should.append({"ids": {"values": [d.meta["key"] for d in dense_docs]}})
        match: dict[str, Any] = {"bool": {"should": should, "minimum_should_match": 1}}
        if hs_filters is not None:
            match["bool"]["filter"] = normalize_filters(hs_filters)
        keys = list(dict.fromkeys(d.meta["key"] for d in bm25_docs + dense_docs))
        return bm25_docs, dense_docs, ResultSet(keys, match if should else {"ids": {"values": []}})

    def _knn(self, qvec, hs_filters: dict | None, depth: int) -> list[Document]:
        from opensearchpy.exceptions import RequestError

        vector = [float(x) for x in np.asarray(qvec, dtype=np.float32).ravel()]
        with translate_errors(self.settings, "k-NN query"):
            try:
                return self.dense.run(query_embedding=vector, filters=hs_filters, top_k=depth)["documents"]
            except RequestError as exc:  # e.g. no k-NN plugin (osmem-server, a stand-in, answers 400 here)
                raise BackendUnavailableError(
                    f"OpenSearch at {self.url} rejected the k-NN query ({exc.error}): dense and hybrid search need "
                    "the k-NN plugin on a knn index; use mode=bm25 with this server"
                ) from exc

    @staticmethod
    def _candidate(d: Document, group_by: str, score: float) -> Document:
        meta = dict(d.meta)
        meta["key"] = d.id
        meta["group"] = meta["doc_id"] if group_by == "document" else meta["section_id"]
        return Document(id=d.id, content=d.content, score=float(score), meta=meta)

    # -- facets -----------------------------------------------------------------------------------------------

    def facets(self, result_set: ResultSet) -> tuple[dict[str, int], dict]:
        """Section counts by member, area, year and type over the result set, and its section/document totals."""
        if not isinstance(result_set, ResultSet):
            result_set = ResultSet(list(np.asarray(result_set)))
        if result_set.match is None and not len(result_set):
            return parse_facets(_empty_aggs())
        body = {"size": 0, "query": result_set.query(), "aggs": facet_aggregations()}
        return parse_facets(self._search(self.index, body, "facet aggregation")["aggregations"])

    def all_facets(self) -> tuple[dict[str, int], dict]:
        body = {"size": 0, "query": {"match_all": {}}, "aggs": facet_aggregations()}
        return parse_facets(self._search(self.index, body, "facet aggregation")["aggregations"])

    # -- hydration and documents ------------------------------------------------------------------------------

    def hydrate(self, hits) -> list[dict]:
        """Passage, section and document of each hit, for citations."""
        if not hits:
            return []
        section_ids = list(dict.fromkeys(h.document.meta["section_id"] for h in hits))
        with translate_errors(self.settings, "section lookup"):
            res = self.client.mget(index=self.records, body={"ids": [f"section:{s}" for s in section_ids]})
        sections = {
            d["_source"]["section_id"]: Section.from_dict(d["_source"]["data"]) for d in res["docs"] if d.get("found")
        }
        docs = self.documents()
        out = []
        for h in hits:
            meta = h.document.meta
            section = sections.get(meta["section_id"])
            if section is None or meta["doc_id"] not in docs:
                raise IndexUnavailableError(
                    f"OpenSearch index {self.index!r} has passage {h.key!r} but not its section or document: "
                    "re-run `KB_BACKEND=opensearch kb ingest`"
                )
            out.append({"passage": _passage(meta), "section": section, "document": docs[meta["doc_id"]]})
        return out

    def passage_texts(self, keys: list) -> dict:
        """Searchable text (headings and body) of candidate passages, by key."""
        out: dict = {}
        keys = [str(k) for k in keys]
        for start in range(0, len(keys), MAX_RESULTS):
            chunk = keys[start : start + MAX_RESULTS]
            body = {"size": len(chunk), "query": {"ids": {"values": chunk}}, "_source": ["content"]}
            for h in self._search(self.index, body, "passage lookup")["hits"]["hits"]:
                out[h["_id"]] = h["_source"].get("content", "")
        return out

    def documents(self) -> dict[str, DocumentMeta]:
        self.status()
        docs = self._documents
        if docs is None:
            body = {"size": MAX_RESULTS, "query": {"term": {"kind": "document"}}, "_source": ["data"]}
            hits = self._search(self.records, body, "document list")["hits"]["hits"]
            metas = sorted((DocumentMeta.from_dict(h["_source"]["data"]) for h in hits), key=lambda m: m.doc_id)
            docs = {m.doc_id: m for m in metas}
            with self._lock:
                self._documents = docs
        return docs

    def sections_of(self, doc_id: str) -> list[Section]:
        body = {
            "size": MAX_RESULTS,
            "query": {"bool": {"filter": [{"term": {"kind": "section"}}, {"term": {"doc_id": doc_id}}]}},
            "_source": ["data"],
        }
        hits = self._search(self.records, body, "section list")["hits"]["hits"]
        return sorted((Section.from_dict(h["_source"]["data"]) for h in hits), key=lambda s: s.ordinal)

    def section_counts(self) -> dict[str, int]:
        body = {
            "size": 0,
            "query": {"term": {"kind": "section"}},
            "aggs": {"docs": {"terms": {"field": "doc_id", "size": MAX_RESULTS}}},
        }
        buckets = self._search(self.records, body, "section counts")["aggregations"]["docs"]["buckets"]
        return {b["key"]: int(b["doc_count"]) for b in sorted(buckets, key=lambda b: b["key"])}

    def passages_of(self, section_ids: list[str]) -> dict[str, list[Passage]]:
        if not section_ids:
            return {}
        body = {
            "size": MAX_RESULTS,
            "query": {"terms": {"section_id": list(section_ids)}},
            "_source": {"excludes": ["embedding", "content"]},
        }
        hits = self._search(self.index, body, "passage list")["hits"]["hits"]
        out: dict[str, list[Passage]] = {}
        for p in sorted((_passage(h["_source"]) for h in hits), key=lambda p: p.ordinal):
            out.setdefault(p.section_id, []).append(p)
        return {s: out[s] for s in section_ids if s in out}

    def info(self) -> dict:
        """Backend, cluster, generation mirrored and counts; ``status: unavailable`` with the reason when it is down."""
        base = {"backend": self.name, "url": self.url, "index": self.index}
        try:
            status = self.status(force=True)
        except (BackendUnavailableError, IndexUnavailableError) as exc:
            return {**base, "status": "unavailable", "error": str(exc)}
        return {
            **base,
            "status": "ok",
            "generation": status.get("generation"),
            **status.get("counts", {}),
            "model": status.get("model"),
            "synced": status.get("synced"),
        }

    def close(self) -> None:
        self.store.close()
        self.client.close()


def _sync_id(status: dict[str, Any]) -> tuple:
    return status.get("generation"), status.get("synced")


def _empty_aggs() -> dict[str, Any]:
    empty = {"buckets": []}
    return {"sections": {"value": 0}, "documents": {"value": 0}, "member": empty, "priority_area": empty, "year": empty, "doc_type": empty}
