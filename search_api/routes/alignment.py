"""``GET /alignment`` (the Protocol implementation map of an instrument) and ``GET /alignment/instruments``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from search_api.filters import build_filters
from search_api.routes.deps import SearcherDep, require_read, searched

router = APIRouter(dependencies=[Depends(require_read)], tags=["alignment"])


@router.get("/alignment/instruments", summary="The instruments a map can be built for")
def instruments(searcher: SearcherDep) -> dict:
    """The indexed protocols and conventions, and the members whose laws are indexed."""
    return {"instruments": searcher.alignments.instruments()}


@router.get("/alignment", summary="How each member's laws implement an instrument, article by article")
async def alignment(
    searcher: SearcherDep,
    instrument: Annotated[str, Query(description="The instrument's document id, e.g. un-trafficking-protocol-2000")],
    member: Annotated[list[str], Query(description="Only these members' cells (names, aliases or codes)")] = [],
    article: Annotated[str | None, Query(description="Only this article: its section id or path (ch-i.art-3)")] = None,
) -> Response:
    """The instrument, its articles in order, and for each article every member's cell: its provisions (one to
    three, best first, reviewed ones first and marked), each with its citation, score and the article's elements
    it covers (with the provision's own words), and the cell's confidence (``strong``, ``possible``, ``none
    found``). Computed once per index generation and then served from memory; an unknown instrument, member or
    article is a 404 naming it."""
    members = list(build_filters(members=member).members)
    return searched(await run_in_threadpool(searcher.alignments.get, instrument, members, article))
