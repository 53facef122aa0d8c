"""The corpus manifest: one row per document with a stable id and its bibliographic metadata."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from ingest.errors import ManifestError
from ingest.schema import DocumentMeta, check_doc_id
from ingest.vocabularies import DOC_TYPES, STATUSES, canonical_member, parse_period

MANIFEST_NAME = "manifest.csv"
REQUIRED_COLUMNS = ("doc_id", "path", "title", "doc_type")


def find_manifest(path: Path) -> Path | None:
    """The manifest of the nearest directory at or above ``path`` that has one, if any."""
    path = path.resolve()
    for directory in ([path] if path.is_dir() else []) + list(path.parents):
        candidate = directory / MANIFEST_NAME
        if candidate.is_file():
            return candidate
    return None


def load_manifest(manifest_path: Path) -> dict[Path, DocumentMeta]:
    """Read a manifest; returns resolved file path -> metadata. Errors name the row and field."""
    root = manifest_path.parent.resolve()
    out: dict[Path, DocumentMeta] = {}
    seen_ids: dict[str, int] = {}
    with open(manifest_path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{manifest_path}: missing column(s) {', '.join(missing)}")
        for line, cells in enumerate(reader, start=2):
            row = _Row(cells, f"{manifest_path}:{line}")
            doc_id = row.cell("doc_id")
            try:
                check_doc_id(doc_id)
            except ValueError as exc:
                raise row.error("doc_id", str(exc)) from None
            if doc_id in seen_ids:
                raise row.error("doc_id", f"{doc_id!r} already used on line {seen_ids[doc_id]}")
            seen_ids[doc_id] = line
            meta = _document(row, root)
            out[(root / meta.path).resolve()] = meta
    return out


class _Row:
    """One manifest row: its cells trimmed, and errors that name its line and field."""

    def __init__(self, cells: dict[str, str | None], where: str) -> None:
        self.cells, self.where = cells, where

    def cell(self, name: str, default: str = "") -> str:
        return (self.cells.get(name) or default).strip()

    def error(self, field: str, why: str) -> ManifestError:
        return ManifestError(f"{self.where}: field {field!r}: {why}")

    def member(self, field: str, name: str) -> str:
        try:
            return canonical_member(name)
        except ValueError as exc:
            raise self.error(field, str(exc)) from None


def _document(row: _Row, root: Path) -> DocumentMeta:
    rel = row.cell("path")
    if not rel or rel.startswith("/") or ".." in Path(rel).parts:
        raise row.error("path", f"must be a relative path inside {root}, got {rel!r}")
    doc_type = row.cell("doc_type")
    if doc_type not in DOC_TYPES:
        raise row.error("doc_type", f"{doc_type!r} is not one of {', '.join(DOC_TYPES)}")
    year, year_to = _years(row)
    names = filter(None, (m.strip() for m in row.cell("members").split(";")))
    members = [row.member("members", name) for name in names]
    jurisdiction = row.cell("jurisdiction") or None
    if jurisdiction:
        jurisdiction = row.member("jurisdiction", jurisdiction)
    title = row.cell("title")
    if not title:
        raise row.error("title", "must not be empty")
    status = row.cell("status")
    if status and status not in STATUSES:
        raise row.error("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    meta = DocumentMeta(
        doc_id=row.cell("doc_id"),
        path=rel,
        title=title,
        doc_type=doc_type,
        members=members,
        jurisdiction=jurisdiction,
        year=year,
        year_to=year_to,
        language=row.cell("language", "en") or "en",
        status=status or "unknown",  # blank: unknown, unless the file itself says (provision JSON's status)
        source=row.cell("source"),
        licence=row.cell("licence"),
        notes=row.cell("notes"),
    )
    return meta


def _years(row: _Row) -> tuple[int | None, int | None]:
    """``year``, or the span of ``period`` (which wins)."""
    year = year_to = None
    if row.cell("year"):
        try:
            year = int(row.cell("year"))
        except ValueError:
            raise row.error("year", f"not a year: {row.cells['year']!r}") from None
    if row.cell("period"):
        try:
            year, year_to = parse_period(row.cells["period"] or "")
        except ValueError as exc:
            raise row.error("period", str(exc)) from None
    return year, year_to


def copy_slice(corpus_dir: Path, dst: Path, paths: set[str] | tuple[str, ...]) -> Path:
    """A corpus directory at ``dst`` holding only the documents at ``paths`` (relative to ``corpus_dir``) and
    their rows of ``corpus_dir/manifest.csv``, so it ingests with the same metadata; returns ``dst``."""
    with open(corpus_dir / "manifest.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [r for r in reader if r["path"] in paths]
        fields = reader.fieldnames
    for r in rows:
        (dst / r["path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(corpus_dir / r["path"], dst / r["path"])
    dst.mkdir(parents=True, exist_ok=True)
    with open(dst / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return dst
