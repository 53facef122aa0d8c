"""``GET /facets`` (counts over the whole index) and ``GET /vocabularies`` (the labels the UI shows)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ingest.vocabularies import DOC_TYPE_LABELS, LANGUAGES, MEMBERS, PRIORITY_AREAS, STATUS_LABELS
from search_api.models import Vocabularies
from search_api.routes.deps import SearcherDep, require_read

router = APIRouter(dependencies=[Depends(require_read)])


@router.get("/facets", tags=["search"], summary="Counts over the whole index")
def facets(searcher: SearcherDep) -> dict:
    totals, counts = searcher.engine.all_facets()
    return {"totals": totals, "facets": counts}


@router.get("/vocabularies", response_model=Vocabularies, tags=["vocabularies"], summary="Members, languages, priority areas and document types")
async def vocabularies() -> dict:
    """The controlled vocabularies with their display labels, in the order they are shown: members with their
    aliases and codes, languages (code, English and native names, script, direction, ``lang`` tag), priority
    areas (id -> label), document types (id -> label), statuses (id -> label). Needs no index."""
    return VOCABULARIES


VOCABULARIES = {
    "members": [
        {"name": m.name, "kind": m.kind, "aliases": list(m.aliases), "codes": list(m.codes),
         "bali_process_member": m.bali_process_member}
        for m in MEMBERS.values()
    ],
    "languages": [vars(lang) for lang in LANGUAGES.values()],
    "priority_areas": dict(PRIORITY_AREAS),
    "doc_types": dict(DOC_TYPE_LABELS),
    "statuses": dict(STATUS_LABELS),
}
