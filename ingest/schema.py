"""The index contract shared by ingest, search and the API: records and their field names (the vocabularies their
fields take values from live in ``ingest.vocabularies``).

A *document* is one file of the corpus. It is split into *sections* along its own structure (headings,
articles, sections of an Act, table rows); a section is what we cite. Long sections are cut into
*passages* of at most ``max_passage_tokens`` model tokens; a passage is what we index and embed, and
always points back to its section.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ingest.vocabularies import PRIORITY_AREAS, STATUSES, UNKNOWN_STATUS

# 2: documents, sections and passages carry ``status`` (in_force | repealed | unknown)
SCHEMA_VERSION = 2

AreaBasis = Literal["stated", "inferred"]


@dataclass
class AreaTag:
    """A priority area attached to a section: ``stated`` by the document itself, or ``inferred`` with evidence."""

    area: str
    basis: AreaBasis
    evidence: str = ""

    def __post_init__(self) -> None:
        if self.area not in PRIORITY_AREAS:
            raise ValueError(f"unknown priority area {self.area!r}; expected one of {sorted(PRIORITY_AREAS)}")
        if self.basis not in ("stated", "inferred"):
            raise ValueError(f"basis must be 'stated' or 'inferred', got {self.basis!r}")


@dataclass
class DocumentMeta:
    """Metadata of one document: from the manifest, or inferred (then named in ``inferred_fields``)."""

    doc_id: str
    path: str  # relative to the corpus root when ingested from it, else absolute
    title: str
    doc_type: str = "other"
    members: list[str] = field(default_factory=list)
    jurisdiction: str | None = None
    year: int | None = None
    year_to: int | None = None  # end of a period such as 2017-2019 for plans
    language: str = "en"
    status: str = UNKNOWN_STATUS  # in_force | repealed | unknown (ingest.vocabularies.STATUSES)
    source: str = ""
    licence: str = ""
    notes: str = ""
    sha256: str = ""
    pages: int | None = None
    ocr_pages: int = 0
    inferred_fields: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_status(self.status)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentMeta:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Section:
    """A citable unit of a document: an article, a section of an Act, a headed passage, a table row."""

    section_id: str  # f"{doc_id}:{path}" -- stable across re-ingests of unchanged text
    doc_id: str
    path: str  # structural path, e.g. "part-iii.s-12" or "actions.row-7"
    heading_path: list[str]  # from the document title down to this section's own heading
    title: str  # this section's own heading (may be "")
    number: str | None  # "12", "Article 3", "§ 1589", "7)" ...
    kind: str  # "preamble", "part", "article", "section", "heading", "row", "paragraph", "schedule" ...
    text: str
    ordinal: int  # position in the document, 0-based
    level: int = 1  # depth in the tree (1 = top level below the document)
    parent_id: str | None = None
    page_start: int | None = None  # 1-based PDF page numbers; None for formats without pages
    page_end: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # e.g. table columns of a work-plan row
    members: list[str] = field(default_factory=list)
    priority_areas: list[AreaTag] = field(default_factory=list)
    # the document's status, or "repealed" for a repealed provision of a law in force; "" until annotated
    status: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Section:
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        data["priority_areas"] = [AreaTag(**t) for t in data.get("priority_areas", [])]
        return cls(**data)


@dataclass
class Passage:
    """A bounded piece of a section: the unit that is indexed (BM25) and embedded."""

    passage_id: str  # f"{section_id}#{n}"
    section_id: str
    doc_id: str
    ordinal: int  # position within the section, 0-based
    text: str  # the passage body, exactly as cited
    context: str  # heading path joined, prepended for BM25 and the model so headings are searchable
    page_start: int | None = None
    page_end: int | None = None
    status: str = UNKNOWN_STATUS  # its section's

    @property
    def search_text(self) -> str:
        return self.join_search_text(self.context, self.text)

    @staticmethod
    def join_search_text(context: str, text: str) -> str:
        """What BM25 indexes and the model embeds: the heading path, then the body."""
        return f"{context}\n{text}" if context else text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


_SLUG_DROP = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_len: int = 48) -> str:
    """ASCII slug for ids and paths: lower case, runs of other characters become one hyphen."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_DROP.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "x"


DOC_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
SECTION_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}:[a-z0-9][a-z0-9.\-]{0,299}$")


def check_status(status: str) -> str:
    """Validate a document status (one of ``ingest.vocabularies.STATUSES``)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    return status


def check_doc_id(doc_id: str) -> str:
    """Validate a document id (also the guard against path traversal through ids)."""
    if not isinstance(doc_id, str) or not DOC_ID_RE.match(doc_id):
        raise ValueError(f"invalid document id {doc_id!r}: use lower-case letters, digits and hyphens")
    return doc_id


def format_citation(doc: DocumentMeta, section: Section) -> str:
    """A human citation string: title, section designation, pages."""
    parts = [doc.title]
    label = " ".join(p for p in (section.number or "", section.title) if p).strip()
    if label and label != doc.title:
        parts.append(label)
    if section.page_start is not None:
        if section.page_end is not None and section.page_end != section.page_start:
            parts.append(f"pp. {section.page_start}-{section.page_end}")
        else:
            parts.append(f"p. {section.page_start}")
    return ", ".join(parts)
