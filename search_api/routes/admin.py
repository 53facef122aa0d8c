"""``POST /documents`` (upload and ingest) and ``DELETE /documents/{doc_id}``: need ``KB_API_TOKEN``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile, status

from ingest.errors import FileTooLargeError
from ingest.schema import slugify
from ingest.settings import Settings
from search_api.models import WriteReport
from search_api.routes.deps import SettingsDep, check_doc_id, refresh_searcher, require_write

router = APIRouter(dependencies=[Depends(require_write)], tags=["admin"])

DELETE_NOTE = (
    "Removes the document from the index (a new generation without it) and deletes its file if it was uploaded. "
    "A document ingested from `corpus/` keeps its file: a later `kb ingest corpus/` adds it again."
)


@router.post("/documents", response_model=WriteReport, status_code=201, summary="Upload and ingest a document")
def upload_document(
    request: Request,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="PDF, Markdown or plain text")],
    title: Annotated[str | None, Form()] = None,
    doc_type: Annotated[str | None, Form()] = None,
    members: Annotated[str | None, Form(description="Members, separated by ';' or ','")] = None,
    jurisdiction: Annotated[str | None, Form()] = None,
    year: Annotated[int | None, Form(ge=1800, le=2200)] = None,
    language: Annotated[str | None, Form(max_length=3)] = None,
) -> dict:
    """Saves the file under `<index_dir>/uploads/` (sanitised name; the same name again updates the document)
    and ingests it incrementally. Metadata not given is inferred from the text. A file that cannot be ingested
    is rejected with 422 naming it and the reason; the index keeps everything it had."""
    from ingest import admin

    name = admin.safe_upload_name(file.filename or "")
    target = admin.uploads_dir(settings) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = _receive(file, target.parent, settings.max_file_bytes, name)
    given = {"title": title, "doc_type": doc_type, "jurisdiction": jurisdiction, "year": year, "language": language,
             "members": [m for part in (members or "").replace(";", ",").split(",") if (m := part.strip())]}
    try:
        with admin.staged_upload(target, incoming) as path:
            report = _ingest_upload(request, settings, path, given)
    finally:
        incoming.unlink(missing_ok=True)
    refresh_searcher(request)
    return report


@router.delete("/documents/{doc_id}", response_model=WriteReport, summary="Delete a document", description=DELETE_NOTE)
def delete_document(request: Request, settings: SettingsDep, doc_id: str) -> dict:
    from ingest.admin import delete_documents

    report = delete_documents([check_doc_id(doc_id)], settings)
    refresh_searcher(request)
    return report


def _ingest_upload(request: Request, settings: Settings, path: Path, given: dict) -> dict:
    """Ingest the staged file with the metadata the form gave; raises the ingest's error if it failed."""
    from ingest import admin
    from ingest.pipeline import ingest

    meta = admin.upload_meta(path, settings, **given)
    _check_no_takeover(settings, meta.doc_id if meta else slugify(path.stem, max_len=80), path)
    report = ingest([path], settings, embedder=request.app.state.embedder.passages,
                    metas={path.resolve(): meta} if meta else None)
    if report.failed:
        raise admin.ingest_error_for(path, report.failed)
    return report.to_dict()


def _receive(file: UploadFile, directory: Path, limit: int, name: str) -> Path:
    """Copy the upload to a hidden temp file next to its target, refusing more than ``limit`` bytes."""
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=directory)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := file.file.read(1 << 20):
                size += len(block)
                if size > limit:
                    raise FileTooLargeError(name, f"more than {limit} bytes (KB_MAX_FILE_BYTES)")
                out.write(block)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _check_no_takeover(settings: Settings, doc_id: str, path: Path) -> None:
    """An upload may add a document or update one uploaded under the same name, never replace another file's."""
    from ingest.pipeline import resolve_stored_path
    from ingest.stores import IndexDir, open_current

    if not IndexDir(settings.index_dir).current_name():
        return
    gen = open_current(settings.index_dir)
    try:
        entry = gen.manifest["documents"].get(doc_id)
    finally:
        gen.close()
    if entry and resolve_stored_path(entry["path"]) != path.resolve():
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"document id {doc_id!r} already belongs to another file; rename the file to upload it as a new document",
        )
