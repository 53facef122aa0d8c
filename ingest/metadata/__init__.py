"""Members, priority areas and document metadata: detection in text, and inference.

``members``
    members and jurisdictions named in text (:func:`detect_members`).
``areas``
    a section's priority areas, stated by the document or inferred from cues (:func:`infer_areas`).
``documents``
    title, type, jurisdiction, year or period and language of a file with no manifest entry
    (:func:`infer_document_meta`).

The vocabularies these rules resolve names against (members, areas, document types, periods) live in
``ingest.vocabularies``.
"""

from __future__ import annotations

from ingest.errors import UnknownFilterValueError
from ingest.metadata.areas import INFERENCE_THRESHOLD, infer_areas, section_areas, stated_area_from_heading
from ingest.metadata.documents import HEAD_CHARS, NATIONAL_TYPES, adopt_source_fields, infer_document_meta, is_undetermined
from ingest.metadata.language import UNDETERMINED, detect_language
from ingest.metadata.members import detect_members
from ingest.schema import DocumentMeta, Section
from ingest.vocabularies import canonical_member

__all__ = [
    "HEAD_CHARS",
    "INFERENCE_THRESHOLD",
    "METADATA_VERSION",
    "UNDETERMINED",
    "adopt_source_fields",
    "annotate_sections",
    "detect_language",
    "detect_members",
    "infer_areas",
    "infer_document_meta",
    "is_undetermined",
    "stated_area_from_heading",
]

# Bump when a change to these rules or to the vocabularies they read (ingest/vocabularies/*.csv) alters what is
# inferred for a document or a section (members, areas, title, type, jurisdiction, years, language): the ingest
# fingerprint includes it, so every document is then re-annotated.
# 2: language by lingua (und when none can be told), laws in Thai, Chinese, Bengali and Turkish, Buddhist Era and
#    Chinese years, conventions and judicial interpretations, provision JSON's own fields, status
METADATA_VERSION = 2


def annotate_sections(doc: DocumentMeta, sections: list[Section]) -> None:
    """Fill each section's ``members``, ``priority_areas`` and ``status`` in place.

    Members are those named in the section's headings, text and table cells (e.g. a work plan's lead),
    after the document's jurisdiction for a national law. Areas are ``stated`` by a priority-area column
    or an area-name heading, else ``inferred`` from cues; an area is never both.
    """
    jurisdiction = _canonical_or_none(doc.jurisdiction) if doc.doc_type in NATIONAL_TYPES else None
    for s in sections:
        headings = [h for h in s.heading_path if h and h != doc.title]
        cells = [v for k, v in s.attributes.items() if k != "priority_area" and v]
        text = "\n".join([*headings, s.text, *cells])
        members = detect_members(text)
        s.members = list(dict.fromkeys([jurisdiction, *members] if jurisdiction else members))
        s.priority_areas = section_areas(text, headings, s.attributes.get("priority_area", ""))
        s.status = s.status or doc.status  # a provision repealed on its own keeps "repealed"


def _canonical_or_none(name: str | None) -> str | None:
    try:
        return canonical_member(name) if name else None
    except UnknownFilterValueError:
        return None
