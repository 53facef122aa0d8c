"""One document through the ingest stages that need no model: load, describe, split, annotate, cut passages."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import IngestError
from ingest.embedder import passage_tokenizer
from ingest.passages import split_passages
from ingest.schema import DocumentMeta, Passage, Section
from ingest.settings import Settings

if TYPE_CHECKING:
    from ingest.loaders import LoadedDocument


@dataclass
class ProcessedDocument:
    """One file made ready for embedding: its metadata, sections and passages, and the seconds each step took."""

    meta: DocumentMeta
    sections: list[Section]
    passages: list[Passage]
    load_seconds: float
    split_seconds: float


class DocumentProcessor:
    """Load a file, split it into sections, tag members and priority areas, and cut passages.

    A plain class, not a Haystack component: ingest calls ``process`` on its own threads, two documents at a time
    (see ``DOCUMENT_WORKERS``), which a ``Pipeline`` run per file would only wrap. Each step is a method, so the
    corpus digest test (tests/test_ingest.py) can check each stage's output against its version.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def load(self, path: Path) -> LoadedDocument:
        from ingest.loaders import load_file

        return load_file(path, self.settings)

    def describe(self, path: Path, loaded: LoadedDocument, meta: DocumentMeta | None) -> DocumentMeta:
        """The document's metadata: ``meta`` (from a manifest or the caller) or inferred from its text; pages."""
        from ingest.metadata import adopt_source_fields, infer_document_meta

        fields = loaded.provisions.fields if loaded.provisions is not None else None  # provision JSON's own fields
        if meta is None:
            meta = infer_document_meta(path, "\n".join(loaded.pages), fields=fields)
        else:
            adopt_source_fields(meta, fields)
        meta.pages = len(loaded.pages) if loaded.paged else None
        meta.ocr_pages = len(loaded.ocr_pages)
        return meta

    def split(self, path: Path, meta: DocumentMeta, loaded: LoadedDocument) -> list[Section]:
        from ingest.sections import split_sections

        sections = split_sections(meta, loaded)
        if not sections:
            raise IngestError(path, "no sections could be made from the extracted text")
        return sections

    def annotate(self, meta: DocumentMeta, sections: list[Section]) -> None:
        """Tag each section with the members and priority areas it concerns (in place)."""
        from ingest.metadata import annotate_sections

        annotate_sections(meta, sections)

    def cut_passages(self, sections: list[Section]) -> list[Passage]:
        tokenizer = passage_tokenizer(self.settings)
        return [p for s in sections for p in split_passages(s, tokenizer, self.settings.max_passage_tokens)]

    def process(self, path: Path, meta: DocumentMeta | None = None) -> ProcessedDocument:
        t0 = time.perf_counter()
        loaded = self.load(path)
        t1 = time.perf_counter()
        meta = self.describe(path, loaded, meta)
        sections = self.split(path, meta, loaded)
        self.annotate(meta, sections)
        passages = self.cut_passages(sections)
        return ProcessedDocument(meta, sections, passages, t1 - t0, time.perf_counter() - t1)
