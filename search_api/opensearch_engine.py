"""The OpenSearch engine: the same interface as ``EmbeddedEngine``, answered by an OpenSearch cluster.

Both legs go through Haystack's retrievers (``OpenSearchBM25Retriever``, ``OpenSearchEmbeddingRetriever``)
with request bodies built here by :func:`build_requests`, filters inside both: a ``bool.filter`` next to the
BM25 ``match``, and the ``filter`` of the k-NN query itself (efficient filtering), so a filtered query still
gets k neighbours when k passages match. Their candidates go into the same ``fuse()`` as the embedded
engine's; OpenSearch's own ``hybrid`` query and normalization pipelines are not used, so fusion, phrase
boosts and explanations are identical whichever backend answers.

Differences from the embedded engine, by design or by necessity:

* BM25 scores come from Lucene over the passages' pre-analysed ``terms`` (``ingest.opensearch_schema.ANALYSIS``),
  matched with the weighted terms of ``search_api.query_terms``: the same terms and weights as the embedded engine
  in every language; only Lucene's lossy length norms make scores close rather than equal.
* Dense scores: Lucene's cosine score (1 + cos) / 2 is mapped back to the cosine, as the embedded engine reports,
  without the language offsets (``search_api.language_offsets``) the embedded engine adds: a k-NN query cannot
  add a per-passage offset before its top k.
* Facets are aggregations over the filtered match set (BM25 matches plus the dense leg's hits): ``terms`` per
  field with a ``cardinality`` of ``section_id`` inside each bucket, so they count sections like the embedded
  engine. Cardinality is exact below its ``precision_threshold`` (40,000 distinct sections) and approximate
  above it.
* Result windows are capped at ``index.max_result_window`` (10,000 passages per leg).
* On a server without the k-NN plugin (osmem-server in the tests) only ``mode=bm25`` works; dense and
  hybrid searches raise :class:`BackendUnavailableError` saying so.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np
from haystack import Document

from ingest.errors import BackendUnavailableError, IndexUnavailableError, UnknownFilterValueError
from ingest.opensearch_client import build_client, build_passage_store, safe_url, translate_errors
from ingest.opensearch_schema import (
    MAX_RESULT_WINDOW,
    STATUS_ID,
    encode_terms,
    index_has_knn,
    index_names,
    passage_from_source,
)
from ingest.schema import DocumentMeta, Passage, Section
from ingest.settings import Settings
from ingest.analysis import PAIR_WEIGHT
from ingest.vocabularies import PRIORITY_AREAS, STATUSES
from search_api.filters import SearchFilters, to_haystack_filters
from search_api.fusion import LegStats, attach_stats
from search_api.phrases import PHRASE_SCAN_MAX, PhraseMatcher
from search_api.opensearch_results import ResultSet
from search_api.query_terms import term_groups

STATUS_CHECK_S = 1.0  # how often the mirrored generation is re-read (as LiveIndex does for the embedded one)
CARDINALITY_PRECISION = 40_000  # the maximum OpenSearch allows; counts below it are exact
_SOURCE = {"excludes": ["embedding"]}  # Haystack sets this on its legs whatever the body says


# ---------------------------------------------------------------------------------------------------------
# Request bodies (pure; tests/data/opensearch_golden pins them)


def filter_clause(filters: SearchFilters) -> dict | None:
    """The filters as an OpenSearch query clause (via Haystack's filter syntax), or None for no filter."""
    from haystack_integrations.document_stores.opensearch.filters import normalize_filters

    hf = to_haystack_filters(filters)
    return normalize_filters(hf) if hf else None


def build_bm25_request(filters: SearchFilters, size: int) -> dict[str, Any]:
    """The BM25 leg's body over the pre-analysed ``terms``: Haystack's store puts the query's single terms where
    ``"$query"`` stands, and ``bm25_query`` its word pairs where ``"$pairs"`` stands (``PAIR_WEIGHT`` times their
    BM25 score, as in the embedded engine), and the term bank's translations where ``"$expansion"`` stands, one
    clause per weight (``search_api.query_terms``). Any of them makes a match, as in the embedded engine."""
    boolean: dict[str, Any] = {
        "should": [{"match": {"terms": {"query": "$query", "operator": "or"}}},
                   {"match": {"terms": {"query": "$pairs", "operator": "or", "boost": PAIR_WEIGHT}}}, "$expansion"],
        "minimum_should_match": 1,
    }
    clause = filter_clause(filters)
    if clause:
        boolean["filter"] = [clause]
    return {"query": {"bool": boolean}, "size": size, "_source": _SOURCE}


def bm25_query(query: str, languages=()) -> tuple[str, str, dict[float, str]]:
    """The query's single terms (weight 1), its word pairs (``PAIR_WEIGHT``) and the other terms by weight, each
    as the ``terms`` field holds them: the weighted terms the embedded engine scores (``term_groups``)."""
    groups = {w: encode_terms(ts) for w, ts in term_groups(query, languages).items()}
    return groups.pop(1.0, ""), groups.pop(PAIR_WEIGHT, ""), groups


def fill_pairs(body: Any, pairs: str, expansion: dict[float, str] | None = None) -> Any:
    """The body with ``"$pairs"`` replaced by the query's pairs and ``"$expansion"`` by one clause per weight
    of the other terms (Haystack fills only ``"$query"``)."""
    if isinstance(body, dict):
        return {k: fill_pairs(v, pairs, expansion) for k, v in body.items()}
    if isinstance(body, list):
        clauses = [{"match": {"terms": {"query": ts, "operator": "or", "boost": w}}} for w, ts in (expansion or {}).items()]
        return [c for v in body for c in (clauses if v == "$expansion" else [fill_pairs(v, pairs, expansion)])]
    return pairs if body == "$pairs" else body


def build_knn_request(filters: SearchFilters, k: int) -> dict[str, Any]:
    """The dense leg's body: filters inside the k-NN query; Haystack's store fills ``"$query_embedding"``."""
    knn: dict[str, Any] = {"vector": "$query_embedding", "k": k}
    clause = filter_clause(filters)
    if clause:
        knn["filter"] = clause
    return {"query": {"knn": {"embedding": knn}}, "size": k, "_source": _SOURCE}


def build_requests(filters: SearchFilters, depth: int, mode: str) -> dict[str, dict]:
    """The bodies one search sends, by leg (``bm25``, ``knn``); a hybrid search sends both, fused client-side."""
    if depth < 1:
        raise ValueError(f"depth must be > 0, got {depth}")
    size = min(depth, MAX_RESULT_WINDOW)
    out = {}
    if mode != "dense":
        out["bm25"] = build_bm25_request(filters, size)
    if mode != "bm25":
        out["knn"] = build_knn_request(filters, size)
    return out


def _card(field: str) -> dict:
    return {"cardinality": {"field": field, "precision_threshold": CARDINALITY_PRECISION}}


def build_facet_request(match: dict | None, filters: dict | None) -> dict[str, Any]:
    """Aggregations counting sections per member, area, year and type over a match set (size 0)."""
    query: dict[str, Any] = {"bool": {}}
    if match:
        query["bool"]["must"] = [match]
    else:
        query["bool"]["must"] = [{"match_all": {}}]
    if filters:
        query["bool"]["filter"] = [filters]
    per_section = {"sections": _card("section_id")}
    return {
        "size": 0,
        "query": query,
        "aggs": {
            "sections": _card("section_id"),
            "documents": _card("doc_id"),
            "member": {"terms": {"field": "members", "size": 1000}, "aggs": per_section},
            "priority_area": {"terms": {"field": "areas", "size": 100}, "aggs": per_section},
            "year": {"terms": {"field": "year", "size": 1000}, "aggs": per_section},
            "doc_type": {"terms": {"field": "doc_type", "size": 100}, "aggs": per_section},
            "language": {"terms": {"field": "language", "size": 100}, "aggs": per_section},
            "status": {"terms": {"field": "status", "size": 10}, "aggs": per_section},
        },
    }


def _bucket_counts(agg: dict) -> dict[str, int]:
    return {str(b["key"]): int(b["sections"]["value"]) for b in agg.get("buckets", []) if b["sections"]["value"]}


# ---------------------------------------------------------------------------------------------------------
# The engine


class OpenSearchEngine:
    """The OpenSearch backend behind the Searcher: retrieval legs, facets, hydration and document access.

    Construction does not connect; every call that reaches OpenSearch raises :class:`BackendUnavailableError`
    within ``settings.opensearch_timeout_s`` when the cluster cannot be reached.
    """

    name = "opensearch"

    def __init__(self, settings: Settings) -> None:
        from haystack_integrations.components.retrievers.opensearch import (
            OpenSearchBM25Retriever,
            OpenSearchEmbeddingRetriever,
        )

        self.settings = settings
        self.names = index_names(settings)
        self.client = build_client(settings)
        self.store = build_passage_store(settings)
        self.bm25 = OpenSearchBM25Retriever(document_store=self.store, top_k=settings.candidates)
        self.dense = OpenSearchEmbeddingRetriever(document_store=self.store, top_k=settings.candidates)
        self._lock = threading.Lock()
        self._status: dict | None = None
        self._checked = 0.0
        self._documents: dict[str, DocumentMeta] | None = None
        self._knn: bool | None = None
        self._texts: OrderedDict[str, str] = OrderedDict()  # search text of recent candidates (phrase checks)

    # -- state of the mirror -----------------------------------------------------------------------------

    def status(self) -> dict:
        """The status record the last sync wrote (generation, counts, model); re-read at most once a second."""
        now = time.monotonic()
        if self._status is not None and now - self._checked < STATUS_CHECK_S:
            return self._status
        with translate_errors(self.settings, self.names.records):
            got = self.client.get(index=self.names.records, id=STATUS_ID)
        status = got["_source"]["data"]
        with self._lock:
            if self._status is None or status.get("generation") != self._status.get("generation"):
                self._documents = None  # a new generation was mirrored: reload what we cache
                self._knn = None
            self._status, self._checked = status, now
        return status

    def knn_available(self) -> bool:
        """Whether the passage index has searchable vectors (an HNSW method in its mapping)."""
        self.status()
        if self._knn is None:
            with translate_errors(self.settings, self.names.passages):
                self._knn = index_has_knn(self.client.indices.get_mapping(index=self.names.passages))
        return self._knn

    def _search(self, index: str, body: dict) -> dict:
        with translate_errors(self.settings, index):
            return self.client.search(index=index, body=body)

    # -- retrieval ---------------------------------------------------------------------------------------

    def retrieve(self, query: str, qvec, filters: SearchFilters, depth: int, group_by: str, mode: str) -> tuple[list[Document], list[Document], ResultSet]:
        """Both legs' candidates, plus the result set that facets() aggregates over."""
        self._check_filters(filters)
        # Each leg fetches its top norm_depth passages for the z-score statistics (as the embedded engine does)
        # and hands the first ``depth`` to fusion.
        requests = build_requests(filters, max(depth, self.settings.norm_depth), mode)
        bm25_docs: list[Document] = []
        dense_docs: list[Document] = []
        words, pairs, expansion = bm25_query(query, filters.languages)
        if "bm25" in requests and (words or expansion):
            body = fill_pairs(requests["bm25"], pairs, expansion)
            with translate_errors(self.settings, self.names.passages):
                found = self.bm25.run(query=words, top_k=requests["bm25"]["size"], custom_query=body)
            bm25_docs = self._leg(found["documents"], depth, group_by, dense=False)
        if "knn" in requests and qvec is not None:
            if not self.knn_available():
                raise BackendUnavailableError(
                    f"the OpenSearch index {self.names.passages!r} at {safe_url(self.settings.opensearch_url)} has no "
                    "searchable vectors (server without the k-NN plugin): use mode=bm25, or ingest into a cluster with k-NN"
                )
            qvec = qvec.result() if hasattr(qvec, "result") else qvec  # a query still being embedded
            vector = [float(x) for x in np.asarray(qvec, dtype=np.float32)]
            with translate_errors(self.settings, self.names.passages):
                found = self.dense.run(query_embedding=vector, top_k=requests["knn"]["size"], custom_query=requests["knn"])
            dense_docs = self._leg(found["documents"], depth, group_by, dense=True)
        keys = [d.meta["key"] for d in bm25_docs + dense_docs]
        matched = " ".join(t for t in (words, *expansion.values()) if t) if "bm25" in requests else ""  # any term
        rows = ResultSet.build(keys, matched or None, filter_clause(filters), [d.meta["key"] for d in dense_docs])
        return bm25_docs, dense_docs, rows

    def new_search(self) -> None:
        """Nothing to forget: every search is its own requests (the embedded engine keeps scores for a search)."""

    def union_results(self, a: ResultSet, b: ResultSet) -> ResultSet:
        """One result set holding both searches' (same query, ``b`` under narrower filters)."""
        return a.union(b)

    def keys_in_documents(self, leg, doc_ids: set[str]) -> set:
        """The candidates of a leg whose passage belongs to one of the documents (a query's scope)."""
        return {d.meta["key"] for d in leg if d.meta["doc_id"] in doc_ids} if doc_ids else set()

    def _leg(self, found: list[Document], depth: int, group_by: str, dense: bool) -> list[Document]:
        """The first ``depth`` hits as candidates, carrying the score statistics of all the leg fetched."""
        cands = self._candidates(found, group_by, dense)
        stats = LegStats.of(np.array([d.score for d in cands], dtype=np.float64))
        return attach_stats(cands[:depth], stats)

    def _candidates(self, found: list[Document], group_by: str, dense: bool) -> list[Document]:
        out = []
        with self._lock:
            for d in found:
                pid, sid, doc_id = d.meta["passage_id"], d.meta["section_id"], d.meta["doc_id"]
                # Lucene's cosinesimil score is (1 + cos) / 2; report the cosine like the embedded engine
                score = 2.0 * float(d.score) - 1.0 if dense else float(d.score)
                out.append(
                    Document(
                        id=pid,
                        score=score,
                        meta={"key": pid, "group": doc_id if group_by == "document" else sid, "section_id": sid, "doc_id": doc_id},
                    )
                )
                self._texts[pid] = d.content or ""
                self._texts.move_to_end(pid)
            while len(self._texts) > 4 * MAX_RESULT_WINDOW:
                self._texts.popitem(last=False)
        return out

    def _check_filters(self, filters: SearchFilters) -> None:
        if filters.doc_ids:
            docs = self.documents()
            unknown = [d for d in filters.doc_ids if d not in docs]
            if unknown:
                raise UnknownFilterValueError("doc_id", unknown[0], list(docs))

    # -- facets ------------------------------------------------------------------------------------------

    def facets(self, result_rows: ResultSet) -> tuple[dict[str, int], dict]:
        """Distinct sections and documents of the result set, and section counts by member, area, year, type."""
        if not isinstance(result_rows, ResultSet):
            result_rows = ResultSet.build([str(k) for k in result_rows], None, None, [])
            result_rows.narrowed = True
        if result_rows.narrowed:
            if result_rows.size == 0:
                return {"sections": 0, "documents": 0}, {"member": {}, "priority_area": {}, "year": {}, "doc_type": {}, "language": {}, "status": {}}
            body = build_facet_request({"ids": {"values": result_rows.tolist()}}, None)
        else:
            should = []
            if result_rows.query:
                should.append({"match": {"terms": {"query": result_rows.query, "operator": "or"}}})
            if result_rows.dense_keys:
                should.append({"ids": {"values": list(result_rows.dense_keys)}})
            if not should:
                return {"sections": 0, "documents": 0}, {"member": {}, "priority_area": {}, "year": {}, "doc_type": {}, "language": {}, "status": {}}
            body = build_facet_request({"bool": {"should": should, "minimum_should_match": 1}}, result_rows.filters)
        return self._facets(body)

    def _facets(self, body: dict) -> tuple[dict[str, int], dict]:
        aggs = self._search(self.names.passages, body)["aggregations"]
        members = _bucket_counts(aggs["member"])
        areas = _bucket_counts(aggs["priority_area"])
        years = _bucket_counts(aggs["year"])
        types = _bucket_counts(aggs["doc_type"])
        langs = _bucket_counts(aggs["language"])
        statuses = _bucket_counts(aggs["status"])
        # The embedded engine's orders: members by count, areas in taxonomy order, years and types ascending.
        return {"sections": int(aggs["sections"]["value"]), "documents": int(aggs["documents"]["value"])}, {
            "member": dict(sorted(members.items(), key=lambda kv: (-kv[1], kv[0]))),
            "priority_area": {a: areas[a] for a in PRIORITY_AREAS if a in areas},
            "year": dict(sorted(years.items(), key=lambda kv: int(kv[0]))),
            "doc_type": dict(sorted(types.items())),
            "language": dict(sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))),
            "status": {x: statuses[x] for x in STATUSES if x in statuses},  # vocabulary order, as embedded
        }

    def all_facets(self) -> tuple[dict[str, int], dict]:
        return self._facets(build_facet_request(None, None))

    # -- hydration and documents -------------------------------------------------------------------------

    def hydrate(self, hits) -> list[dict]:
        """Passage, section and document of each hit, in order."""
        if not hits:
            return []
        pids = [h.key for h in hits]
        sids = [h.document.meta["section_id"] for h in hits]
        passages = {
            h["_id"]: passage_from_source(h["_source"])
            for h in self._search(
                self.names.passages, {"size": len(pids), "query": {"ids": {"values": pids}}, "_source": _SOURCE}
            )["hits"]["hits"]
        }
        sections = self._sections_by_id(list(dict.fromkeys(sids)))
        docs = self.documents()
        out = []
        for pid, sid in zip(pids, sids):
            if pid not in passages or sid not in sections or sections[sid].doc_id not in docs:
                raise IndexUnavailableError(f"passage {pid!r} vanished from OpenSearch during the search (a sync ran): retry")
            out.append({"passage": passages[pid], "section": sections[sid], "document": docs[sections[sid].doc_id]})
        return out

    def _sections_by_id(self, section_ids: list[str]) -> dict[str, Section]:
        body = {"size": len(section_ids), "query": {"ids": {"values": [f"section:{s}" for s in section_ids]}}}
        hits = self._search(self.names.records, body)["hits"]["hits"]
        return {h["_source"]["section_id"]: Section.from_dict(h["_source"]["data"]) for h in hits}

    def passage_texts(self, keys: list) -> dict:
        """Searchable text (headings and body) of candidate passages, by key."""
        with self._lock:
            out = {k: self._texts[k] for k in keys if k in self._texts}
        missing = [k for k in keys if k not in out]
        for start in range(0, len(missing), MAX_RESULT_WINDOW):
            chunk = missing[start : start + MAX_RESULT_WINDOW]
            body = {"size": len(chunk), "query": {"ids": {"values": chunk}}, "_source": ["content"]}
            for h in self._search(self.names.passages, body)["hits"]["hits"]:
                out[h["_id"]] = h["_source"].get("content", "")
        return out

    def phrase_rows(self, matcher: PhraseMatcher, filters: SearchFilters) -> np.ndarray | None:
        """Every passage key that passes the filters and holds the matcher's phrases word for word: the passages
        holding all of one of the matcher's required term sets (a superset, as in the embedded engine), their
        texts then checked. None past ``PHRASE_SCAN_MAX`` such passages, or when the phrases give no term to
        narrow with: the searcher then checks its candidates."""
        self._check_filters(filters)
        alternatives = matcher.required_term_sets()
        if not alternatives or not all(alternatives):
            return None
        should = [{"match": {"terms": {"query": encode_terms(terms), "operator": "and"}}} for terms in alternatives]
        must = [{"bool": {"should": should, "minimum_should_match": 1}}]
        clause = filter_clause(filters)
        body = {"query": {"bool": {"must": must, **({"filter": [clause]} if clause else {})}},
                "size": PHRASE_SCAN_MAX + 1, "_source": ["content"]}
        with translate_errors(self.settings, self.names.passages):
            hits = self._search(self.names.passages, body)["hits"]["hits"]
        if len(hits) > PHRASE_SCAN_MAX:
            return None
        texts = {h["_id"]: h["_source"].get("content", "") for h in hits}
        return np.array(sorted(matcher.matching(texts)), dtype=str)

    def documents(self) -> dict[str, DocumentMeta]:
        self.status()
        with self._lock:
            cached = self._documents
        if cached is not None:
            return cached
        body = {"size": MAX_RESULT_WINDOW, "query": {"term": {"kind": "document"}}, "sort": [{"doc_id": "asc"}]}
        hits = self._search(self.names.records, body)["hits"]["hits"]
        docs = {h["_source"]["doc_id"]: DocumentMeta.from_dict(h["_source"]["data"]) for h in hits}
        with self._lock:
            self._documents = docs
        return docs

    def sections_of(self, doc_id: str) -> list[Section]:
        if doc_id not in self.documents():
            return []
        body = {
            "size": MAX_RESULT_WINDOW,
            "query": {"bool": {"filter": [{"term": {"kind": "section"}}, {"term": {"doc_id": doc_id}}]}},
            "sort": [{"ordinal": "asc"}],
        }
        return [Section.from_dict(h["_source"]["data"]) for h in self._search(self.names.records, body)["hits"]["hits"]]

    def section_counts(self) -> dict[str, int]:
        body = {
            "size": 0,
            "query": {"term": {"kind": "section"}},
            "aggs": {"docs": {"terms": {"field": "doc_id", "size": MAX_RESULT_WINDOW}}},
        }
        aggs = self._search(self.names.records, body)["aggregations"]
        return {b["key"]: int(b["doc_count"]) for b in aggs["docs"]["buckets"]}

    def passages_of(self, section_ids: list[str]) -> dict[str, list[Passage]]:
        if not section_ids:
            return {}
        body = {
            "size": MAX_RESULT_WINDOW,
            "query": {"terms": {"section_id": list(section_ids)}},
            "sort": [{"ordinal": "asc"}],
            "_source": _SOURCE,
        }
        out: dict[str, list[Passage]] = {}
        for h in self._search(self.names.passages, body)["hits"]["hits"]:
            p = passage_from_source(h["_source"])
            out.setdefault(p.section_id, []).append(p)
        return out

    def refresh(self) -> None:
        """Re-read the mirrored generation on the next call (the API calls this after its own writes)."""
        with self._lock:
            self._checked = 0.0

    def info(self) -> dict:
        """What the backend serves.

        :raises BackendUnavailableError: the cluster cannot be reached (the health endpoint answers 503 with the message).
        :raises IndexUnavailableError: the indices were never synced.
        """
        status = self.status()
        return {
            "backend": self.name,
            "url": safe_url(self.settings.opensearch_url),
            "index": self.names.passages,
            "generation": status.get("generation"),
            **status.get("counts", {}),
            "model": status.get("model"),
            "knn": self.knn_available(),
            "synced": status.get("synced"),
        }
