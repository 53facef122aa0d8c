"""``GET /search``: hybrid search with filters and facets."""

# No `from __future__ import annotations`: the parameter types built inside build_router must be real objects.
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ingest.settings import Settings
from search_api.filters import build_filters
from search_api.models import SearchResponse
from search_api.routes.deps import SearcherDep, check_not_blank, require_read, searched
from search_api.searcher import SearchRequest

Mode = Literal["hybrid", "bm25", "dense"]
Members = Annotated[list[str], Query(description="Any of these members (name, alias or code); repeatable")]
Areas = Annotated[list[str], Query(description="Any of these priority areas (id or label); repeatable")]
DocTypes = Annotated[list[str], Query(description="Any of these document types; repeatable")]
Year = Annotated[int | None, Query(ge=1800, le=2200)]


def query_param(settings: Settings):
    """The ``q`` parameter, limited to ``settings.max_query_chars`` (so the limit shows in the OpenAPI docs)."""
    return Annotated[str, Query(min_length=1, max_length=settings.max_query_chars,
                                description="The question or keywords; quote a phrase to require it")]


def build_router(settings: Settings) -> APIRouter:
    """The search route, with the limits of ``settings`` in its validation."""
    router = APIRouter(dependencies=[Depends(require_read)], tags=["search"])
    Q = query_param(settings)
    TopK = Annotated[int, Query(ge=1, le=settings.max_top_k)]
    Offset = Annotated[int, Query(ge=0, le=settings.max_offset)]

    @router.get("/search", response_model=SearchResponse, summary="Hybrid search with filters and facets")
    def search(
        searcher: SearcherDep,
        q: Q,
        member: Members = [],
        area: Areas = [],
        doc_type: DocTypes = [],
        doc_id: Annotated[list[str], Query(description="Only these documents")] = [],
        language: Annotated[list[str], Query(description="ISO 639-1 codes, e.g. en, ms, id")] = [],
        year_from: Year = None,
        year_to: Year = None,
        status: Annotated[list[str], Query(description="in_force, repealed or unknown (any of them)")] = [],
        top_k: TopK = 10,
        offset: Offset = 0,
        mode: Mode = "hybrid",
        group_by: Literal["section", "document"] = "section",
    ) -> Response:
        """Cited sections ranked by hybrid BM25 + dense retrieval; filters apply inside both legs before top-k.
        Facet counts cover the whole result set, not just this page."""
        check_not_blank(q)
        filters = build_filters(member, area, doc_type, doc_id, language, year_from, year_to, status)
        return searched(searcher.search(SearchRequest(q, filters, mode=mode, top_k=top_k, offset=offset, group_by=group_by)))

    return router
