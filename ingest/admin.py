"""Index administration behind the API's write endpoints: storing uploads and deleting documents.

Uploads live in ``<index_dir>/uploads/`` under sanitised names and are ingested incrementally like any
other file. Deleting writes a new generation without the documents (under the same lock as ingest), so
readers switch atomically and a crash leaves the previous generation live.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.errors import IndexUnavailableError, IngestError, NotFoundError, UnsupportedFormatError
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.schema import DocumentMeta, check_doc_id, slugify
from ingest.settings import Settings
from ingest.stores import DocArtifact, IndexDir, open_current, write_generation
from ingest.vocabularies import DOC_TYPES

UPLOADS = "uploads"
_SAFE_STEM = re.compile(r"[^a-z0-9_-]+")


def uploads_dir(settings: Settings) -> Path:
    return Path(settings.index_dir) / UPLOADS


def safe_upload_name(filename: str) -> str:
    """A file name that cannot leave the uploads directory: the base name, lower-case ASCII, a supported suffix.

    :raises UnsupportedFormatError: for a suffix the loaders do not read (the message names the file).
    """
    base = re.split(r"[\\/]", filename or "")[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = "." + suffix.lower() if suffix else ""
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFormatError(
            base or "(no name)",
            f"unsupported file format {suffix or '(no extension)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}",
        )
    clean = _SAFE_STEM.sub("-", slugify(stem, max_len=80).lower()).strip("-_") or "upload"
    return clean + suffix


@contextmanager
def staged_upload(target: Path, data_path: Path) -> Iterator[Path]:
    """Move an uploaded temp file to ``target``; if the block raises, restore what ``target`` held before.

    A rejected re-upload therefore never replaces the good file an indexed document was built from.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = target.with_name(f".{target.name}.{os.getpid()}.bak")
    had_old = target.exists()
    if had_old:
        os.replace(target, backup)
    shutil.move(str(data_path), target)
    try:
        yield target
    except BaseException:
        if had_old:
            os.replace(backup, target)
        else:
            target.unlink(missing_ok=True)
        raise
    else:
        if had_old:
            backup.unlink(missing_ok=True)


def upload_meta(
    path: Path,
    settings: Settings,
    *,
    title: str | None = None,
    doc_type: str | None = None,
    members: list[str] | None = None,
    jurisdiction: str | None = None,
    year: int | None = None,
    language: str | None = None,
) -> DocumentMeta | None:
    """Metadata for an uploaded file: None when nothing was given (ingest infers it all), else the given fields
    over what inference finds for the rest.

    :raises UnknownFilterValueError: an unknown member, jurisdiction or document type (``field`` names it).
    :raises IngestError: the file cannot be read.
    """
    from ingest.errors import UnknownFilterValueError
    from ingest.loaders import load_file
    from ingest.metadata import infer_document_meta
    from ingest.vocabularies import canonical_member

    given = {
        "title": title.strip() if title and title.strip() else None,
        "doc_type": doc_type.strip().lower() if doc_type and doc_type.strip() else None,
        "members": [canonical_member(m) for m in members or [] if m.strip()] or None,
        "jurisdiction": canonical_member(jurisdiction) if jurisdiction and jurisdiction.strip() else None,
        "year": year,
        "language": language.strip().lower() if language and language.strip() else None,
    }
    if given["doc_type"] is not None and given["doc_type"] not in DOC_TYPES:
        raise UnknownFilterValueError("doc_type", given["doc_type"], list(DOC_TYPES))
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None
    loaded = load_file(path, settings)
    fields = loaded.provisions.fields if loaded.provisions is not None else None  # provision JSON's own fields
    meta = infer_document_meta(path, "\n".join(loaded.pages), fields=fields)
    for key, value in given.items():
        setattr(meta, key, value)
    meta.inferred_fields = [f for f in meta.inferred_fields if f not in given]
    return meta


def delete_documents(doc_ids: list[str], settings: Settings) -> dict:
    """Remove documents from the index: a new generation without them, made live atomically.

    A file the document was ingested from is deleted too when it lives in the uploads directory; files
    elsewhere (e.g. ``corpus/``) are left alone, so a later ``kb ingest`` of their directory re-adds them.

    :returns: a dict shaped like ``IngestReport.to_dict()`` (counts, ``deleted``, ``generation``) plus ``removed_files``.
    :raises NotFoundError: an id the index does not hold (nothing is deleted then).
    """
    started = time.perf_counter()
    if not doc_ids:
        raise ValueError("doc_ids must not be empty")
    for d in doc_ids:
        check_doc_id(d)
    index_dir = IndexDir(settings.index_dir)
    with index_dir.lock():
        current = open_current(settings.index_dir)
        try:
            manifest = current.manifest
        finally:
            current.close()
        entries: dict[str, dict] = manifest["documents"]
        missing = [d for d in doc_ids if d not in entries]
        if missing:
            raise NotFoundError(f"no document {missing[0]!r} in the index")
        keep = [d for d in entries if d not in set(doc_ids)]
        artifacts = [_indexed_artifact(index_dir, d, entries[d]) for d in keep]
        generation = write_generation(index_dir, artifacts, manifest["model"])
        index_dir.collect_garbage({a.key for a in artifacts})
        removed_files = _remove_uploaded_files([entries[d]["path"] for d in doc_ids], settings)
        if settings.backend == "opensearch":  # the mirror follows the live generation, as after an ingest
            from ingest.opensearch_store import sync_generation

            sync_generation(settings)
    final = open_current(settings.index_dir)
    counts = final.manifest["counts"]
    final.close()
    return {
        "ok": True,
        "documents": counts["documents"],
        "sections": counts["sections"],
        "passages": counts["passages"],
        "added": [],
        "updated": [],
        "unchanged": keep,
        "deleted": list(doc_ids),
        "failed": [],
        "removed_files": removed_files,
        "generation": generation,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _indexed_artifact(index_dir: IndexDir, doc_id: str, entry: dict) -> DocArtifact:
    key = entry.get("artifact")
    if not key or not (index_dir.docs / key).is_dir():
        raise IndexUnavailableError(
            f"the artifact of {doc_id!r} is missing from {index_dir.docs}: re-ingest its file ({entry['path']})"
        )
    return DocArtifact.load(index_dir.docs / key)


def _remove_uploaded_files(stored_paths: list[str], settings: Settings) -> list[str]:
    """Delete the files among ``stored_paths`` that live in the uploads directory; returns those deleted."""
    from ingest.pipeline import resolve_stored_path

    uploads = uploads_dir(settings).resolve()
    removed = []
    for path in stored_paths:
        stored = resolve_stored_path(path)
        if stored.parent == uploads and stored.is_file():
            stored.unlink()
            removed.append(str(stored))
    return removed


def ingest_error_for(path: Path, failures: list) -> IngestError:
    """The first failure of an ingest report as an ``IngestError`` naming the uploaded file."""
    f = failures[0]
    detail = f.error.split(": ", 1)[1] if f.error.startswith(f.path + ": ") else f.error
    return IngestError(path.name, detail)
