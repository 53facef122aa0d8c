"""Request and response models of the HTTP API: they shape the JSON and document it at ``/docs``.

The searcher returns plain dicts; these models describe them (and drop nothing: they mirror its keys).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest.schema import DocumentMeta, Section


class Citation(BaseModel):
    """Everything needed to quote a passage: document, section, pages, a formatted string and a permalink."""

    doc_id: str
    title: str
    doc_type: str
    year: int | None
    section_id: str
    section_number: str | None
    section_title: str
    heading_path: list[str]
    page_start: int | None
    page_end: int | None
    text: str = Field(description="Formatted citation: title, section designation, pages")
    permalink: str


class AreaTagOut(BaseModel):
    area: str
    label: str
    basis: Literal["stated", "inferred"]
    evidence: str = Field("", description="For inferred tags: the words that suggested the area")


class LegExplanation(BaseModel):
    rank: int | None
    score: float | None


class Explanation(BaseModel):
    """Why a result matched: its rank and score in each leg and the fused score."""

    bm25: LegExplanation
    dense: LegExplanation
    fused: float
    method: str = Field(description="convex, rrf, bm25 or dense")
    normalization: str | None = Field(None, description="for convex fusion: zscore or minmax")
    phrase_match: bool
    scope_match: bool = Field(False, description="of a document the query names (its member's, or an instrument), "
                              "which ranked it higher")


class DocumentFacts(BaseModel):
    doc_type: str
    year: int | None
    year_to: int | None
    language: str
    jurisdiction: str | None
    status: str = Field("unknown", description="The document's status: in_force, repealed or unknown")


class SearchResult(BaseModel):
    rank: int
    score: float
    doc_id: str
    section_id: str
    passage_id: str
    text: str = Field(description="The passage, an exact slice of the cited section's text")
    highlights: list[list[int]] = Field(description="[start, end) character spans in text of matched words")
    heading_highlights: list[list[list[int]]]
    citation: Citation
    members: list[str]
    priority_areas: list[AreaTagOut]
    status: str = Field("unknown", description="in_force, repealed or unknown: the section's status, which is its "
                        "document's unless the provision itself is repealed")
    document: DocumentFacts
    explanation: Explanation
    matched_passages: int


Facets = dict[str, dict[str, int]]


class SearchResponse(BaseModel):
    query: str
    mode: str
    group_by: str
    filters: dict
    total: int = Field(description="Sections (or documents) matching in all; results is one page of them")
    total_exact: bool = Field(True, description="False only for a quoted phrase too common to check in every passage: "
                              "total then counts the sections among the candidates that hold it")
    offset: int
    top_k: int
    results: list[SearchResult]
    facets: Facets = Field(description="Counts by member, priority_area, year, doc_type, language and status over the "
                           "whole result set")
    timing_ms: dict[str, float]
    scope: dict | None = Field(None, description="What the query names, whose documents ranked first: "
                               '{"members": [...], "instruments": bool, "documents": [doc ids of the instruments '
                               'named in particular], "years": [years written with a member, which narrow its '
                               'documents to those of the year], "titles": {doc id: title of the named instruments '
                               'the index holds}}; '
                               "null when it names none or the request filters by member")


class PrecedentResponse(SearchResponse):
    draft_chunks: int = Field(description="Chunks of about 200 tokens the draft was embedded in (1 = as a whole)")


class PrecedentRequest(BaseModel):
    """A draft clause to find precedents for."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The draft clause or provision, as pasted")
    member: list[str] = Field(default_factory=list, description="Only these members' texts (any of them)")
    doc_type: list[str] = Field(default_factory=list, description="Only these document types")
    area: list[str] = Field(default_factory=list, description="Only sections in these priority areas")
    top_k: int = Field(10, ge=1)


class CompareRow(BaseModel):
    member: str
    results: list[SearchResult] = Field(description="The member's best sections; empty when nothing matched")


class CompareResponse(BaseModel):
    query: str
    mode: str
    filters: dict
    per_member: int
    rows: list[CompareRow]


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    doc_type: str
    members: list[str]
    jurisdiction: str | None
    year: int | None
    year_to: int | None
    language: str
    status: str = "unknown"
    pages: int | None
    sections: int
    inferred_fields: list[str]


class DocumentList(BaseModel):
    total: int
    documents: list[DocumentSummary]
    counts: dict[str, dict[str, int]] = Field(description="Documents by doc_type, member and year")


class SectionOut(BaseModel):
    section_id: str
    path: str
    number: str | None
    title: str
    heading_path: list[str]
    kind: str
    level: int
    parent_id: str | None
    ordinal: int
    page_start: int | None
    page_end: int | None
    text: str
    members: list[str]
    attributes: dict[str, str]
    priority_areas: list[AreaTagOut]
    status: str = Field("", description="in_force, repealed or unknown (a repealed provision of a law in force is repealed)")
    citation: str | None = Field(None, description="Formatted citation of the section (title, designation, pages)")


class DocumentDetail(BaseModel):
    document: dict = Field(description="The document's metadata")
    sections: list[SectionOut] = Field(description="The section tree in document order (level and parent_id give nesting)")


class SectionDetail(BaseModel):
    document: dict
    section: SectionOut
    previous: list[SectionOut]
    next: list[SectionOut]
    citation: Citation


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    backend: str | None = None
    generation: str | None = None
    documents: int | None = None
    sections: int | None = None
    passages: int | None = None
    model: dict | None = None
    query_embedding: dict | None = Field(
        default=None, description="How this worker process embeds queries: runtime (onnx or torch) and threads")
    detail: str | None = None


class MemberOut(BaseModel):
    name: str = Field(description="Canonical name, as filters and results give it")
    kind: Literal["state", "organisation", "other"]
    aliases: list[str] = Field(description="Other names a filter accepts, in any case")
    codes: list[str] = Field(description="Short codes a filter accepts, e.g. PNG")
    bali_process_member: bool


class LanguageOut(BaseModel):
    code: str = Field(description="ISO 639-1 code, as filters and results give it; und for no identifiable language")
    name: str = Field(description="English name, e.g. Thai")
    native_name: str = Field(description="The language's own name, e.g. ไทย")
    script: str = Field(description="ISO 15924 script, e.g. Thai, Hans, Latn")
    direction: Literal["ltr", "rtl"]
    tag: str = Field(description="BCP 47 tag for an HTML lang attribute, e.g. zh-Hans")


class Vocabularies(BaseModel):
    """The controlled vocabularies with their display labels, in the order they are shown."""

    members: list[MemberOut]
    languages: list[LanguageOut] = Field(description="Languages texts are indexed in, by code with their names")
    priority_areas: dict[str, str] = Field(description="Priority area id -> label")
    doc_types: dict[str, str] = Field(description="Document type id -> label")
    statuses: dict[str, str] = Field(description="Document status id -> label: in_force, repealed, unknown")


class FileFailureOut(BaseModel):
    path: str
    error: str
    kind: str


class WriteReport(BaseModel):
    """What an upload or delete did (the ingest report's shape)."""

    model_config = ConfigDict(extra="allow")

    ok: bool
    documents: int
    sections: int
    passages: int
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    deleted: list[str]
    failed: list[FileFailureOut]
    generation: str | None
    seconds: float


def section_out(section: Section, doc: DocumentMeta | None = None) -> dict:
    """A section as the API shows it: area tags with labels, and its citation string when the document is given."""
    from ingest.schema import format_citation
    from search_api.results import area_tags

    d = section.to_dict()
    d.pop("doc_id", None)
    d["priority_areas"] = area_tags(section)
    d["citation"] = format_citation(doc, section) if doc is not None else None
    d["status"] = section.status or (doc.status if doc is not None else "unknown")
    return d


def document_out(doc: DocumentMeta) -> dict:
    d = doc.to_dict()
    d.pop("path", None)  # server file layout is not the reader's business; the id is the handle
    return d
