"""The one searcher behind the CLI, the API, the Haystack retriever and the evaluation.

query -> (query embedding) -> BM25 leg + dense leg (filters applied inside both) -> fusion -> sections
-> page of results with citations, highlights, explanations, and facet counts of the whole result set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from ingest.errors import NotFoundError
from ingest.schema import DocumentMeta, Section
from ingest.settings import Settings
from search_api import scope as scoping
from search_api.filters import SearchFilters
from search_api.fusion import Fusion, Leg, Ranking
from search_api.phrases import PhraseMatcher, query_phrases
from search_api.query_embedding import PendingEmbedding, QueryEmbedder, query_embedder
from search_api.query_language import CROSS_LINGUAL_DENSE_WEIGHT, cross_lingual, dense_text
from search_api.results import citation, result_page
from search_api.scope import Scope, detect_scope, scope_documents

Mode = Literal["hybrid", "bm25", "dense"]
MIN_COMPARE_MEMBERS, MAX_COMPARE_MEMBERS = 2, 8
# The model reads 256 tokens; a longer draft is embedded as the mean of its chunks of about this many tokens.
PRECEDENT_CHUNK_TOKENS = 200
# Retrieval looks deeper (4x at a time) while passages collapse to fewer sections than a page needs, up to this.
MAX_DEPTH = 100_000
_DRAFT_QUOTES = str.maketrans({'"': " ", "“": " ", "”": " "})


def draft_query(text: str) -> str:
    """A draft (or an article) as the BM25 query of a precedent search: quotation marks removed, since drafts
    quote defined terms, which in a query would make them required phrases; whitespace collapsed."""
    return " ".join(text.translate(_DRAFT_QUOTES).split())


@dataclass
class SearchRequest:
    query: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    mode: Mode = "hybrid"
    top_k: int = 10
    offset: int = 0
    group_by: Literal["section", "document"] = "section"
    fusion: Literal["convex", "rrf"] | None = None
    dense_weight: float | None = None
    facets: bool = True
    query_vector: object | None = None  # a precomputed query embedding (batch evaluation)
    # the same query as this thread's previous search, with other filters (compare, the Protocol map): the
    # embedded engine keeps that search's scores of every passage instead of computing them again
    same_query: bool = False

    def __post_init__(self) -> None:
        if not self.query or not self.query.strip():
            raise ValueError("query must not be empty")
        if self.mode not in ("hybrid", "bm25", "dense"):
            raise ValueError(f"mode must be hybrid, bm25 or dense, got {self.mode!r}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be > 0, got {self.top_k}")
        if self.offset < 0:
            raise ValueError(f"offset must be >= 0, got {self.offset}")
        if self.group_by not in ("section", "document"):
            raise ValueError(f"group_by must be section or document, got {self.group_by!r}")


# How many scopes' documents a searcher remembers.
SCOPE_CACHE = 256


@dataclass
class _Retrieved:
    """What retrieval found for a request: the fused ranking and the passages of the whole result set."""

    hits: Ranking
    result_rows: np.ndarray
    total_exact: bool = True  # False: a required phrase too common to check everywhere; total counts candidates


class Searcher:
    """Hybrid search over whichever backend the settings choose."""

    def __init__(self, settings: Settings, engine=None, embedder: QueryEmbedder | None = None) -> None:
        self.settings = settings
        self.engine = engine or build_engine(settings)
        self.embedder = embedder or query_embedder(settings)
        self.fusion = Fusion.from_settings(settings)
        self._scopes: dict[tuple, tuple[dict, frozenset[str]]] = {}  # (documents, scope) -> its documents
        self._alignments = None

    @property
    def alignments(self):
        """The Protocol implementation maps of this searcher's index (``search_api.alignment``), built on use."""
        if self._alignments is None:
            from search_api.alignment import AlignmentMap

            self._alignments = AlignmentMap(self)
        return self._alignments

    def warm_up(self) -> None:
        self.embedder.warm_up_queries()

    def embed(self, text: str):
        """The dense leg's vector of a question: its ``dense_text`` embedded."""
        return self.embedder.embed_query(dense_text(text))

    def search(self, req: SearchRequest) -> dict:
        """One page of results for the request, the total and the facets of its whole result set."""
        t0 = time.perf_counter()
        if req.mode == "hybrid" and req.dense_weight is None and cross_lingual(req.query, req.filters.languages):
            req = replace(req, dense_weight=CROSS_LINGUAL_DENSE_WEIGHT)  # every result is in another language
        qvec = None
        if req.mode != "bm25":
            # Embedding starts on a query thread; the engine runs the BM25 leg meanwhile and waits for the
            # vector only when the dense leg needs it.
            qvec = req.query_vector if req.query_vector is not None else self.embedder.submit_query(dense_text(req.query))
        # a query naming a member (or an instrument) ranks its documents first, unless a member filter decides
        scope = detect_scope(req.query) if not req.filters.members else Scope()
        found = self._retrieve_enough(req, qvec, scope)
        t1 = time.perf_counter()
        page = found.hits[req.offset : req.offset + req.top_k]
        results = result_page(req.query, page, self.engine.hydrate(page), req.offset + 1)
        if req.facets:
            totals, facets = self.engine.facets(found.result_rows)
            total = totals["documents" if req.group_by == "document" else "sections"]
        else:
            total, facets = len(found.hits), {}
        t2 = time.perf_counter()
        return {
            "query": req.query,
            "mode": req.mode,
            "group_by": req.group_by,
            "filters": req.filters.to_dict(),
            "total": total,
            "total_exact": found.total_exact,
            "offset": req.offset,
            "top_k": req.top_k,
            "results": results,
            "facets": facets,
            "scope": self._scope_dict(scope) if scope else None,
            "timing_ms": {
                # embedding itself (overlapped with the BM25 leg); retrieve is the wall time up to fusion
                "embed": round(qvec.ms, 2) if isinstance(qvec, PendingEmbedding) else 0.0,
                "retrieve": round((t1 - t0) * 1000, 2),
                "hydrate": round((t2 - t1) * 1000, 2),
                "total": round((t2 - t0) * 1000, 2),
            },
        }

    def _retrieve_enough(self, req: SearchRequest, qvec, scope: Scope | None = None) -> _Retrieved:
        """Retrieve and fuse, deeper while the candidates collapse to fewer groups than the page needs.

        A quoted phrase is required: the engine lists every passage of the result set that holds it (when it
        can), so the total, the facets and later pages do not depend on how deep the legs looked.
        """
        need = req.offset + req.top_k
        depth = max(self.settings.candidates, need * 3)
        if not req.same_query:
            self.engine.new_search()  # the embedded engine keeps a search's scores for its narrower ones
        phrases, required = query_phrases(req.query)
        matcher = PhraseMatcher(phrases, languages=req.filters.languages) if phrases else None
        phrase_rows = self.engine.phrase_rows(matcher, req.filters) if required else None
        scope_docs = self._scope_documents(scope) if scope else frozenset()
        if scope_docs and req.mode == "hybrid" and req.dense_weight is None and cross_lingual(req.query, self._languages(scope_docs)):
            req = replace(req, dense_weight=scoping.CROSS_LINGUAL_SCOPE_DENSE_WEIGHT)  # the documents it names are in another language
        while True:
            bm25, dense, result_rows = self.engine.retrieve(req.query, qvec, req.filters, depth, req.group_by, req.mode)
            bm25, dense = Leg.of(bm25), Leg.of(dense)  # OpenSearch hands over Documents
            if scope_docs:
                bm25, dense, result_rows = self._scope_candidates(req, qvec, scope_docs, bm25, dense, result_rows)
            # the legs ran dry before the depth asked for: looking deeper finds nothing more
            exhausted = len(bm25) < depth and len(dense) < depth
            phrase_keys = None
            if matcher:
                phrase_keys = self._phrase_keys(bm25, dense, matcher, required, phrase_rows)
                if required:  # quoted: only passages that contain every quoted phrase
                    bm25, dense = bm25.only(phrase_keys), dense.only(phrase_keys)
                    # every passage holding the phrase matches its words, so BM25 has them all once it has these
                    exhausted |= phrase_rows is not None and len(bm25) == len(phrase_rows)
            scope_keys = None
            if scope_docs:
                scope_keys = self.engine.keys_in_documents(bm25, scope_docs) | self.engine.keys_in_documents(dense, scope_docs)
            hits = self.fusion(bm25, dense, mode=req.mode, method=req.fusion, dense_weight=req.dense_weight,
                               phrase_keys=phrase_keys, scope_keys=scope_keys,
                               scope_boost=scope.boost if scope_keys else 0.0)
            if len(hits) >= need or exhausted or depth >= MAX_DEPTH:
                break
            depth *= 4
        if not required:
            return _Retrieved(hits, result_rows)
        if phrase_rows is not None:
            return _Retrieved(hits, phrase_rows)
        return _Retrieved(hits, result_rows[np.isin(result_rows, list(phrase_keys or ()))], total_exact=False)

    def _scope_documents(self, scope: Scope) -> frozenset[str]:
        """The documents of the scope, remembered per generation's documents (16 ms a scope at 12,000 documents)."""
        documents = self.engine.documents()
        key = (id(documents), scope)
        held = self._scopes.get(key)
        if held is None or held[0] is not documents:
            held = self._scopes[key] = (documents, frozenset(scope_documents(scope, documents)))
            while len(self._scopes) > SCOPE_CACHE:
                self._scopes.pop(next(iter(self._scopes)), None)  # the oldest (another thread may have taken it)
        return held[1]

    def _scope_dict(self, scope: Scope) -> dict:
        """The response's ``scope``, with the titles of the instruments named in particular that the index holds."""
        documents = self.engine.documents()
        return scope.to_dict() | {"titles": {d: documents[d].title for d in scope.documents if d in documents}}

    def _languages(self, doc_ids: frozenset[str]) -> set[str]:
        documents = self.engine.documents()
        return {documents[d].language for d in doc_ids if d in documents}

    def _scope_candidates(self, req: SearchRequest, qvec, scope_docs: frozenset[str], bm25: Leg, dense: Leg,
                          result_rows: np.ndarray) -> tuple[Leg, Leg, np.ndarray]:
        """Both legs with the best ``SCOPE_CANDIDATES`` candidates of the scope's documents added: a question in
        Malay about Singapore's law finds Malay texts first, and the Singapore sections it names may lie below
        the legs' depth."""
        doc_ids = tuple(sorted(scope_docs if not req.filters.doc_ids else scope_docs & set(req.filters.doc_ids)))
        if not doc_ids:
            return bm25, dense, result_rows
        narrow = replace(req.filters, doc_ids=doc_ids)
        sb, sd, rows = self.engine.retrieve(req.query, qvec, narrow, scoping.SCOPE_CANDIDATES, req.group_by, req.mode)
        return bm25.merged(Leg.of(sb)), dense.merged(Leg.of(sd)), self.engine.union_results(result_rows, rows)

    def _phrase_keys(self, bm25: Leg, dense: Leg, matcher: PhraseMatcher, required: bool, phrase_rows) -> set:
        """The candidates that hold every phrase. A passage holding the phrase matches all its words, so BM25
        has it unless the phrase is required (then the dense leg's candidates are checked too, since they will
        be kept or dropped)."""
        keys = bm25.keys.tolist() + (dense.keys.tolist() if required else [])
        if phrase_rows is not None:
            return set(keys).intersection(phrase_rows.tolist())
        return matcher.matching(self.engine.passage_texts(list(dict.fromkeys(keys))))

    # -- compare and precedents (the API's /compare and /precedents) ------------------------------------

    def compare(self, question: str, members: list[str], filters: SearchFilters | None = None,
                per_member: int = 3, mode: Mode = "hybrid") -> dict:
        """Each member's best sections on one question, side by side (a member-filtered search per member).

        The question is embedded once. A member without a matching section gets an empty cell, not an error.

        :param members: 2-8 distinct canonical member names, in display order.
        :param filters: further filters (area, type, years) applied to every member's search; its members are replaced.
        """
        if len(set(members)) != len(members):
            raise ValueError(f"members must be distinct, got {members}")
        if not MIN_COMPARE_MEMBERS <= len(members) <= MAX_COMPARE_MEMBERS:
            raise ValueError(f"compare needs {MIN_COMPARE_MEMBERS}-{MAX_COMPARE_MEMBERS} members, got {len(members)}")
        if per_member < 1:
            raise ValueError(f"per_member must be > 0, got {per_member}")
        base = filters or SearchFilters()
        qvec = self.embed(question) if mode != "bm25" else None
        rows = []
        for member in members:
            req = SearchRequest(question, replace(base, members=(member,)), mode=mode, top_k=per_member,
                                facets=False, query_vector=qvec, same_query=bool(rows))
            rows.append({"member": member, "results": self.search(req)["results"]})
        return {"query": question, "mode": mode, "filters": {**base.to_dict(), "members": list(members)},
                "per_member": per_member, "rows": rows}

    def draft_query_vector(self, text: str) -> tuple[np.ndarray, int]:
        """The query embedding of a draft clause, and how many chunks made it.

        Up to the model's 256 tokens the clause is embedded as it is. A longer draft would be truncated by the
        model, so it is cut (at paragraph or sentence breaks) into chunks of about 200 tokens whose normalised
        embeddings are averaged and renormalised: every part of the draft counts, none is silently dropped.
        """
        from ingest.embedder import passage_tokenizer
        from ingest.passages import split_passages

        tokenizer = passage_tokenizer(self.settings)
        if len(tokenizer.encode(text, add_special_tokens=False).ids) <= self.settings.max_passage_tokens - 2:
            return self.embed(text), 1
        pseudo = Section("draft:x", "draft", "x", [], "", None, "paragraph", text, 0)
        chunks = [p.text for p in split_passages(pseudo, tokenizer, PRECEDENT_CHUNK_TOKENS + 2)]
        vecs = np.stack([self.embed(c) for c in chunks])
        mean = vecs.mean(axis=0)
        return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32), len(chunks)

    def precedents(self, text: str, filters: SearchFilters | None = None, top_k: int = 10) -> dict:
        """Provisions most similar to a draft clause: hybrid search with the clause as the query.

        BM25 reads the whole clause (quotation marks removed: drafts quote defined terms, which in a query
        would make them required phrases); the dense leg uses ``draft_query_vector``.
        """
        if not text or not text.strip():
            raise ValueError("text must not be empty")
        qvec, chunks = self.draft_query_vector(text)
        query = draft_query(text)
        out = self.search(SearchRequest(query, filters or SearchFilters(), mode="hybrid", top_k=top_k, query_vector=qvec))
        out["draft_chunks"] = chunks
        return out

    # -- documents ----------------------------------------------------------------------------------------

    def document(self, doc_id: str) -> tuple[DocumentMeta, list[Section]]:
        docs = self.engine.documents()
        if doc_id not in docs:
            raise NotFoundError(f"no document {doc_id!r}")
        return docs[doc_id], self.engine.sections_of(doc_id)

    def section(self, doc_id: str, section_id: str, neighbours: int = 1) -> dict:
        doc, sections = self.document(doc_id)
        index = next((i for i, s in enumerate(sections) if s.section_id == section_id), None)
        if index is None:
            raise NotFoundError(f"no section {section_id!r} in document {doc_id!r}")
        s = sections[index]
        return {
            "document": doc,
            "section": s,
            "previous": sections[max(0, index - neighbours) : index],
            "next": sections[index + 1 : index + 1 + neighbours],
            "citation": citation(doc, s),
        }


def build_engine(settings: Settings):
    """The one place that chooses the backend."""
    if settings.backend == "opensearch":
        from search_api.opensearch_engine import OpenSearchEngine

        return OpenSearchEngine(settings)
    from search_api.engine import EmbeddedEngine

    return EmbeddedEngine(settings.index_dir, candidates=settings.candidates, norm_depth=settings.norm_depth)
