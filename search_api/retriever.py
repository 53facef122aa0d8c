"""The knowledge base as a Haystack 2.x retriever, for users' own pipelines.

The hot path stays our array engine (44x faster than Haystack's in-memory store on this corpus, see README:
Performance); this component wraps the same ``Searcher`` the API and CLI use, so a pipeline gets exactly the
sections ``GET /search`` returns, each as a ``Document`` whose ``meta`` carries the citation, members, priority
areas and the explanation of its score.

    pipeline.add_component("retriever", KnowledgeBaseRetriever(top_k=5))
    pipeline.run({"retriever": {"query": "...", "filters": {"field": "meta.doc_type", "operator": "==", "value": "law"}}})
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_args

import numpy as np
from haystack import Document, component, default_from_dict, default_to_dict

from ingest.errors import UnknownFilterValueError
from ingest.settings import Settings
from search_api.filters import SearchFilters, build_filters, from_haystack_filters
from search_api.searcher import Mode, Searcher, SearchRequest

_OUR_FIELDS = tuple(f.name for f in fields(SearchFilters))


@component
class KnowledgeBaseRetriever:
    """Cited sections of the knowledge base for a query: hybrid (BM25 + dense), BM25 or dense search.

    :param index_dir: the embedded index to search (default: ``KB_INDEX_DIR``, as the service uses).
    :param mode: ``hybrid`` (default), ``bm25`` or ``dense``.
    :param top_k: sections to return.
    :param filters: default filters, in Haystack's syntax or ours (see ``run``).
    """

    def __init__(self, index_dir: str | None = None, mode: Mode = "hybrid", top_k: int = 10,
                 filters: dict[str, Any] | None = None) -> None:
        if mode not in get_args(Mode):
            raise ValueError(f"mode must be one of {get_args(Mode)}, got {mode!r}")
        if top_k < 1:
            raise ValueError(f"top_k must be > 0, got {top_k}")
        parse_filters(filters)  # a bad default fails here, not at the first query
        self.index_dir = index_dir
        self.mode = mode
        self.top_k = top_k
        self.filters = filters
        self._searcher: Searcher | None = None

    def warm_up(self) -> None:
        """Open the index and load the query model (Haystack calls this before a pipeline runs)."""
        if self._searcher is None:
            settings = Settings() if self.index_dir is None else Settings(index_dir=self.index_dir)
            self._searcher = Searcher(settings)
            self._searcher.warm_up()

    @component.output_types(documents=list[Document])
    def run(self, query: str, filters: dict[str, Any] | None = None, top_k: int | None = None,
            mode: Mode | None = None, query_embedding: list[float] | None = None) -> dict[str, list[Document]]:
        """The best sections for ``query``, best first.

        :param filters: replaces the default filters. Haystack's syntax (``{"operator": "AND", "conditions":
            [{"field": "meta.members", "operator": "in", "value": ["Thailand"]}, ...]}`` over ``meta.members``,
            ``meta.areas``, ``meta.doc_type``, ``meta.doc_id``, ``meta.language`` with ``==``/``in``, and
            ``meta.year_to >=`` / ``meta.year <=`` for a year range) or ours (``{"members": [...], "areas": [...],
            "doc_types": [...], "doc_ids": [...], "languages": [...], "year_from": 2018, "year_to": 2024}``).
        :param query_embedding: the query's vector, if an earlier component made it with the index's model.
        :returns: ``documents``: one ``Document`` per section (``id`` the section id, ``content`` the passage that
            matched, ``score`` the fused score; ``meta``: ``citation``, ``members``, ``priority_areas``,
            ``explanation``, ``highlights``, ``doc_id``, ``section_id``, ``passage_id``, ``rank`` and ``document``).
        """
        if self._searcher is None:
            raise RuntimeError("KnowledgeBaseRetriever is not warmed up: call warm_up() first")
        vector = None if query_embedding is None else np.asarray(query_embedding, dtype=np.float32)
        req = SearchRequest(query, parse_filters(self.filters if filters is None else filters),
                            mode=mode or self.mode, top_k=top_k or self.top_k, facets=False, query_vector=vector)
        return {"documents": [result_document(r) for r in self._searcher.search(req)["results"]]}

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, index_dir=self.index_dir, mode=self.mode, top_k=self.top_k, filters=self.filters)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KnowledgeBaseRetriever:
        return default_from_dict(cls, data)


def result_document(result: dict) -> Document:
    """A search result as a Haystack ``Document``."""
    meta_keys = ("rank", "doc_id", "section_id", "passage_id", "citation", "members", "priority_areas",
                 "document", "explanation", "highlights", "heading_highlights")
    return Document(id=result["section_id"], content=result["text"], score=result["score"],
                    meta={k: result[k] for k in meta_keys})


def parse_filters(filters: dict[str, Any] | SearchFilters | None) -> SearchFilters:
    """Filters in Haystack's syntax or ours, validated: an unknown field, operator or value is an error naming it."""
    if filters is None:
        return SearchFilters()
    if isinstance(filters, SearchFilters):
        return filters
    if not isinstance(filters, dict):
        raise UnknownFilterValueError("filters", type(filters).__name__, ["a dict"])
    if "field" in filters or "conditions" in filters:
        return build_filters(**from_haystack_filters(filters))
    unknown = [k for k in filters if k not in _OUR_FIELDS]
    if unknown:
        raise UnknownFilterValueError("filters", unknown[0], list(_OUR_FIELDS))
    return build_filters(**{k: v for k, v in filters.items() if v is not None})
