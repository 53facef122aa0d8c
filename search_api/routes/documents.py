"""``GET /documents``, ``/documents/{doc_id}``, ``/documents/{doc_id}/sections/{section_id}``: the texts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ingest.errors import NotFoundError
from ingest.schema import SECTION_ID_RE, DocumentMeta
from search_api.models import DocumentDetail, DocumentList, SectionDetail, document_out, section_out
from search_api.routes.deps import SearcherDep, check_doc_id, require_read

router = APIRouter(dependencies=[Depends(require_read)], tags=["documents"])


@router.get("/documents", response_model=DocumentList, summary="Indexed documents with counts")
def list_documents(searcher: SearcherDep) -> dict:
    docs = searcher.engine.documents()
    sections = searcher.engine.section_counts()
    rows = [{**document_out(d), "sections": sections.get(d.doc_id, 0)} for d in docs.values()]
    return {"total": len(rows), "documents": rows, "counts": document_counts(docs.values())}


def document_counts(docs: Iterable[DocumentMeta]) -> dict[str, dict[str, int]]:
    """Documents by type (most first), by member or jurisdiction (most first, then by name) and by year."""
    by_type, by_member, by_year = Counter(), Counter(), Counter()
    for d in docs:
        by_type[d.doc_type] += 1
        by_member.update(set(d.members) | ({d.jurisdiction} if d.jurisdiction else set()))
        if d.year is not None:
            by_year[str(d.year)] += 1
    return {
        "doc_type": dict(by_type.most_common()),
        "member": dict(sorted(by_member.items(), key=lambda kv: (-kv[1], kv[0]))),
        "year": dict(sorted(by_year.items())),
    }


@router.get("/documents/{doc_id}", response_model=DocumentDetail, summary="A document and its section tree")
def get_document(searcher: SearcherDep, doc_id: str) -> dict:
    doc, sections = searcher.document(check_doc_id(doc_id))
    return {"document": document_out(doc), "sections": [section_out(s, doc) for s in sections]}


@router.get("/documents/{doc_id}/sections/{section_id}", response_model=SectionDetail, summary="A section with its neighbours")
def get_section(searcher: SearcherDep, doc_id: str, section_id: str, neighbours: Annotated[int, Query(ge=0, le=5)] = 1) -> dict:
    check_doc_id(doc_id)
    if not SECTION_ID_RE.match(section_id) or not section_id.startswith(doc_id + ":"):
        raise NotFoundError(f"no section {section_id!r} in document {doc_id!r}")
    out = searcher.section(doc_id, section_id, neighbours=neighbours)
    doc = out["document"]
    return {
        "document": document_out(doc),
        "section": section_out(out["section"], doc),
        "previous": [section_out(s, doc) for s in out["previous"]],
        "next": [section_out(s, doc) for s in out["next"]],
        "citation": out["citation"],
    }
