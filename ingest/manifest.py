"""The corpus manifest: one row per document with a stable id and its bibliographic metadata."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from ingest.errors import ManifestError
from ingest.schema import DocumentMeta, check_doc_id
from ingest.vocabularies import DOC_TYPES, canonical_member, parse_period

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
        for line, row in enumerate(reader, start=2):
            where = f"{manifest_path}:{line}"

            def fail(field: str, why: str) -> ManifestError:
                return ManifestError(f"{where}: field {field!r}: {why}")

            doc_id = (row.get("doc_id") or "").strip()
            try:
                check_doc_id(doc_id)
            except ValueError as exc:
                raise fail("doc_id", str(exc)) from None
            if doc_id in seen_ids:
                raise fail("doc_id", f"{doc_id!r} already used on line {seen_ids[doc_id]}")
            seen_ids[doc_id] = line
            rel = (row.get("path") or "").strip()
            if not rel or rel.startswith("/") or ".." in Path(rel).parts:
                raise fail("path", f"must be a relative path inside {root}, got {rel!r}")
            doc_type = (row.get("doc_type") or "").strip()
            if doc_type not in DOC_TYPES:
                raise fail("doc_type", f"{doc_type!r} is not one of {', '.join(DOC_TYPES)}")
            year = year_to = None
            if (row.get("year") or "").strip():
                try:
                    year = int(row["year"].strip())
                except ValueError:
                    raise fail("year", f"not a year: {row['year']!r}") from None
            if (row.get("period") or "").strip():
                try:
                    year, year_to = parse_period(row["period"])
                except ValueError as exc:
                    raise fail("period", str(exc)) from None
            members = []
            for name in filter(None, (m.strip() for m in (row.get("members") or "").split(";"))):
                try:
                    members.append(canonical_member(name))
                except ValueError as exc:
                    raise fail("members", str(exc)) from None
            jurisdiction = (row.get("jurisdiction") or "").strip() or None
            if jurisdiction:
                try:
                    jurisdiction = canonical_member(jurisdiction)
                except ValueError as exc:
                    raise fail("jurisdiction", str(exc)) from None
            title = (row.get("title") or "").strip()
            if not title:
                raise fail("title", "must not be empty")
            out[(root / rel).resolve()] = DocumentMeta(
                doc_id=doc_id,
                path=rel,
                title=title,
                doc_type=doc_type,
                members=members,
                jurisdiction=jurisdiction,
                year=year,
                year_to=year_to,
                language=(row.get("language") or "en").strip() or "en",
                source=(row.get("source") or "").strip(),
                licence=(row.get("licence") or "").strip(),
                notes=(row.get("notes") or "").strip(),
            )
    return out


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
