"""What a search result says: the passage, its highlights, its citation, members, areas, status and why it matched."""

from __future__ import annotations

from ingest.schema import DocumentMeta, Passage, Section, format_citation
from ingest.vocabularies import PRIORITY_AREAS
from search_api.fusion import Hit
from search_api.highlight import Highlighter


def citation(doc: DocumentMeta, section: Section, passage: Passage | None = None) -> dict:
    """How to cite a section (or one passage of it): document, section, pages, a formatted line, a permalink."""
    page_start = passage.page_start if passage and passage.page_start is not None else section.page_start
    page_end = passage.page_end if passage and passage.page_end is not None else section.page_end
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "doc_type": doc.doc_type,
        "year": doc.year,
        "section_id": section.section_id,
        "section_number": section.number,
        "section_title": section.title,
        "heading_path": section.heading_path,
        "page_start": page_start,
        "page_end": page_end,
        "text": format_citation(doc, section),
        "permalink": f"/documents/{doc.doc_id}#{section.section_id}",
    }


def area_tags(section: Section) -> list[dict]:
    """A section's priority areas, each stated by the document or inferred with its evidence."""
    return [
        {"area": t.area, "label": PRIORITY_AREAS[t.area], "basis": t.basis, "evidence": t.evidence}
        for t in section.priority_areas
    ]


def result_page(query: str, page: list[Hit], hydrated: list[dict], first_rank: int) -> list[dict]:
    """The results of one page of fused hits, ``hydrated`` with their passage, section and document."""
    texts = [h["passage"].text or h["section"].title for h in hydrated]
    marker = Highlighter(query, texts + [x for h in hydrated for x in h["section"].heading_path])
    return [
        _result(rank, hit, h, text, marker)
        for rank, (hit, h, text) in enumerate(zip(page, hydrated, texts), start=first_rank)
    ]


def _result(rank: int, hit: Hit, h: dict, text: str, marker: Highlighter) -> dict:
    p, s, d = h["passage"], h["section"], h["document"]
    return {
        "rank": rank,
        "score": round(hit.score, 6),
        "doc_id": d.doc_id,
        "section_id": s.section_id,
        "passage_id": p.passage_id,
        "text": text,
        "highlights": marker.spans(text),
        "heading_highlights": [marker.spans(x) for x in s.heading_path],
        "citation": citation(d, s, p),
        "members": s.members,
        "priority_areas": area_tags(s),
        "status": s.status or d.status,  # the section's: a repealed provision of a law in force is repealed
        "document": {
            "doc_type": d.doc_type,
            "year": d.year,
            "year_to": d.year_to,
            "language": d.language,
            "jurisdiction": d.jurisdiction,
            "status": d.status,
        },
        "explanation": hit.explanation.to_dict(),
        "matched_passages": len(hit.passages),
    }
