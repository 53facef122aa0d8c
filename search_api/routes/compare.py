"""``GET /compare`` (members side by side) and ``POST /precedents`` (provisions similar to a draft)."""


import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from ingest.settings import Settings
from search_api.filters import build_filters
from search_api.models import CompareResponse, PrecedentRequest, PrecedentResponse
from search_api.routes.deps import SearcherDep, check_not_blank, invalid, require_read, searched
from search_api.routes.search import Areas, DocTypes, Mode, Year, query_param
from search_api.searcher import MAX_COMPARE_MEMBERS, MIN_COMPARE_MEMBERS

# What a draft must contain besides spaces: the searcher drops its quotation marks (see Searcher.precedents).
_DRAFT_CONTENT = re.compile(r'[^\s"“”]')
CompareMembers = Annotated[list[str], Query(description=f"{MIN_COMPARE_MEMBERS}-{MAX_COMPARE_MEMBERS} members, one row each")]


def compare_members(member: list[str]) -> list[str]:
    """The distinct canonical members to compare, or a 422 naming the ``member`` parameter."""
    members = list(build_filters(members=member).members)
    given = [m for m in member if m.strip()]
    if len(members) != len(given):
        raise invalid(["query", "member"], f"members must be distinct (after resolving aliases), got {given}")
    if not MIN_COMPARE_MEMBERS <= len(members) <= MAX_COMPARE_MEMBERS:
        raise invalid(["query", "member"], f"compare needs {MIN_COMPARE_MEMBERS}-{MAX_COMPARE_MEMBERS} members, got {len(members)}")
    return members


def check_draft(body: PrecedentRequest, settings: Settings) -> None:
    """A 422 naming the field for an empty or too long draft, or a ``top_k`` over the limit."""
    if not _DRAFT_CONTENT.search(body.text):
        raise invalid(["body", "text"], "text must not be empty (spaces and quotation marks alone are ignored)")
    if len(body.text) > settings.max_draft_chars:
        raise invalid(["body", "text"], f"text is {len(body.text)} characters; the limit is {settings.max_draft_chars} (KB_MAX_DRAFT_CHARS)")
    if body.top_k > settings.max_top_k:
        raise invalid(["body", "top_k"], f"top_k must be <= {settings.max_top_k}, got {body.top_k}")


def build_router(settings: Settings) -> APIRouter:
    """The compare and precedents routes, with the limits of ``settings`` in their validation."""
    router = APIRouter(dependencies=[Depends(require_read)], tags=["search"])
    Q = query_param(settings)

    @router.get("/compare", response_model=CompareResponse, summary="How members deal with a question, side by side")
    def compare(
        searcher: SearcherDep,
        q: Q,
        member: CompareMembers,
        area: Areas = [],
        doc_type: DocTypes = [],
        language: Annotated[list[str], Query()] = [],
        year_from: Year = None,
        year_to: Year = None,
        status: Annotated[list[str], Query(description="in_force, repealed or unknown")] = [],
        per_member: Annotated[int, Query(ge=1, le=10)] = 3,
        mode: Mode = "hybrid",
    ) -> Response:
        """One row per member (in the order given) with its best sections on the question, each cited.
        A member with no matching section gets an empty row."""
        check_not_blank(q)
        members = compare_members(member)
        filters = build_filters(areas=area, doc_types=doc_type, languages=language, year_from=year_from, year_to=year_to,
                                statuses=status)
        return searched(searcher.compare(q, members, filters, per_member=per_member, mode=mode))

    @router.post("/precedents", response_model=PrecedentResponse, summary="Provisions similar to a draft clause")
    def precedents(searcher: SearcherDep, body: PrecedentRequest) -> Response:
        """Hybrid search with the pasted clause as the query: BM25 reads the whole clause; the dense leg embeds it
        whole when it fits the model's 256 tokens, else as the renormalised mean of its ~200-token chunks (so the
        end of a long draft counts as much as its start; truncation would drop it)."""
        check_draft(body, settings)
        filters = build_filters(members=body.member, areas=body.area, doc_types=body.doc_type)
        return searched(searcher.precedents(body.text, filters, top_k=body.top_k))

    return router
