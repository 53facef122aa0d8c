"""HTTP routes: parse parameters, call the searcher (or the index admin), shape the response.

Domain errors (unknown filter values, unknown ids, a missing index, a backend that is down, a file that
cannot be ingested) are raised by the domain and mapped to status codes in ``app.py``; ``HTTPException``
is raised only here, for what is purely HTTP (authentication, limits that have no domain meaning).
"""


import hmac
import os
import re
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from ingest.errors import FileTooLargeError, IndexUnavailableError, NotFoundError
from ingest.schema import DOC_ID_RE, SECTION_ID_RE, slugify
from ingest.settings import Settings
from search_api.filters import build_filters
from search_api.models import (
    CompareResponse,
    DocumentDetail,
    DocumentList,
    Health,
    PrecedentRequest,
    PrecedentResponse,
    SearchResponse,
    SectionDetail,
    WriteReport,
    document_out,
    section_out,
)
from search_api.searcher import MAX_COMPARE_MEMBERS, MIN_COMPARE_MEMBERS, Searcher, SearchRequest

NO_INDEX = "no index: run `kb ingest`"
# What a draft must contain besides spaces: the searcher drops its quotation marks (see Searcher.precedents).
_DRAFT_CONTENT = re.compile(r'[^\s"“”]')
_build_lock = threading.Lock()


# ---------------------------------------------------------------------------------------------------------
# dependencies


# The dependencies every request resolves are coroutines: FastAPI runs a plain ``def`` dependency on the thread
# pool, and three thread hops per search cost more than the checks themselves.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_searcher(request: Request) -> Searcher:
    """The app's one Searcher; built on first use if the index appeared after start-up (e.g. `kb ingest` ran)."""
    state = request.app.state
    if state.searcher is None:
        with _build_lock:
            if state.searcher is None:
                try:
                    state.searcher = Searcher(state.settings, embedder=state.embedder)
                except IndexUnavailableError as exc:
                    raise IndexUnavailableError(f"{NO_INDEX} ({exc})") from None
                state.embedder = state.searcher.embedder
    return state.searcher


async def searcher_dependency(request: Request) -> Searcher:
    """``get_searcher`` for routes: the built Searcher at once, or built on the thread pool the first time."""
    searcher = request.app.state.searcher
    return searcher if searcher is not None else await run_in_threadpool(get_searcher, request)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _token_ok(given: str | None, *expected: str | None) -> bool:
    return given is not None and any(e and hmac.compare_digest(given.encode(), e.encode()) for e in expected)


_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


async def require_read(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> None:
    """Read endpoints are open unless ``KB_READ_TOKEN`` is set; then it (or the write token) is required."""
    if settings.read_token and not _token_ok(_bearer(request), settings.read_token, settings.api_token):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid read token is required (Authorization: Bearer ...)", _UNAUTHORIZED)


async def require_write(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> None:
    """Uploads and deletes are off without ``KB_API_TOKEN`` and need exactly that token when it is set."""
    if not settings.api_token:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "uploads disabled: set KB_API_TOKEN")
    if not _token_ok(_bearer(request), settings.api_token):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or missing token (Authorization: Bearer <KB_API_TOKEN>)", _UNAUTHORIZED)


def _invalid(loc: list[str], msg: str) -> HTTPException:
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": "value_error"}])


def _check_not_blank(q: str) -> None:
    # min_length=1 lets "   " through; the searcher refuses a blank query, which must be a 422, not a 500.
    if not q.strip():
        raise _invalid(["query", "q"], "q must not be blank")


def _check_doc_id(doc_id: str) -> str:
    if not DOC_ID_RE.match(doc_id):  # also what keeps ids from naming paths
        raise NotFoundError(f"no document {doc_id!r}")
    return doc_id


def _searched(content: dict) -> Response:
    """A search's result as JSON, serialised without being validated against its response model again.

    FastAPI's response_model check walks the whole result in Python, ~1 ms a search (more than the BM25 leg);
    pydantic-core's ``to_json`` writes the same JSON in ~0.2 ms. The models still document the responses in
    OpenAPI, and tests/test_api.py validates real responses of every kind against them.
    """
    return Response(to_json(content), media_type="application/json")


SearcherDep = Annotated[Searcher, Depends(searcher_dependency)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

DELETE_NOTE = (
    "Removes the document from the index (a new generation without it) and deletes its file if it was uploaded. "
    "A document ingested from `corpus/` keeps its file: a later `kb ingest corpus/` adds it again."
)


def build_router(settings: Settings) -> APIRouter:
    """The API routes, with the limits of ``settings`` in their validation (and so in the OpenAPI docs)."""
    read = APIRouter(dependencies=[Depends(require_read)])
    write = APIRouter(dependencies=[Depends(require_write)], tags=["admin"])

    Q = Annotated[str, Query(min_length=1, max_length=settings.max_query_chars, description="The question or keywords; quote a phrase to require it")]
    Members = Annotated[list[str], Query(description="Any of these members (name, alias or code); repeatable")]
    Areas = Annotated[list[str], Query(description="Any of these priority areas (id or label); repeatable")]
    DocTypes = Annotated[list[str], Query(description="Any of these document types; repeatable")]
    Year = Annotated[int | None, Query(ge=1800, le=2200)]
    TopK = Annotated[int, Query(ge=1, le=settings.max_top_k)]

    @read.get("/search", response_model=SearchResponse, tags=["search"], summary="Hybrid search with filters and facets")
    def search(
        searcher: SearcherDep,
        q: Q,
        member: Members = [],
        area: Areas = [],
        doc_type: DocTypes = [],
        doc_id: Annotated[list[str], Query(description="Only these documents")] = [],
        language: Annotated[list[str], Query(description="ISO 639-1 codes, e.g. en, ms, id")] = [],
        year_from: Year = None,
        year_to: Year = None,
        top_k: TopK = 10,
        offset: Annotated[int, Query(ge=0, le=settings.max_offset)] = 0,
        mode: Literal["hybrid", "bm25", "dense"] = "hybrid",
        group_by: Literal["section", "document"] = "section",
    ) -> Response:
        """Cited sections ranked by hybrid BM25 + dense retrieval; filters apply inside both legs before top-k.
        Facet counts cover the whole result set, not just this page."""
        _check_not_blank(q)
        filters = build_filters(member, area, doc_type, doc_id, language, year_from, year_to)
        return _searched(searcher.search(SearchRequest(q, filters, mode=mode, top_k=top_k, offset=offset, group_by=group_by)))

    @read.get("/compare", response_model=CompareResponse, tags=["search"], summary="How members deal with a question, side by side")
    def compare(
        searcher: SearcherDep,
        q: Q,
        member: Annotated[list[str], Query(description=f"{MIN_COMPARE_MEMBERS}-{MAX_COMPARE_MEMBERS} members, one row each")],
        area: Areas = [],
        doc_type: DocTypes = [],
        language: Annotated[list[str], Query()] = [],
        year_from: Year = None,
        year_to: Year = None,
        per_member: Annotated[int, Query(ge=1, le=10)] = 3,
        mode: Literal["hybrid", "bm25", "dense"] = "hybrid",
    ) -> Response:
        """One row per member (in the order given) with its best sections on the question, each cited.
        A member with no matching section gets an empty row."""
        _check_not_blank(q)
        members = list(build_filters(members=member).members)
        given = [m for m in member if m.strip()]
        if len(members) != len(given):
            raise _invalid(["query", "member"], f"members must be distinct (after resolving aliases), got {given}")
        if not MIN_COMPARE_MEMBERS <= len(members) <= MAX_COMPARE_MEMBERS:
            raise _invalid(["query", "member"], f"compare needs {MIN_COMPARE_MEMBERS}-{MAX_COMPARE_MEMBERS} members, got {len(members)}")
        filters = build_filters(areas=area, doc_types=doc_type, languages=language, year_from=year_from, year_to=year_to)
        return _searched(searcher.compare(q, members, filters, per_member=per_member, mode=mode))

    @read.post("/precedents", response_model=PrecedentResponse, tags=["search"], summary="Provisions similar to a draft clause")
    def precedents(searcher: SearcherDep, body: PrecedentRequest) -> Response:
        """Hybrid search with the pasted clause as the query: BM25 reads the whole clause; the dense leg embeds it
        whole when it fits the model's 256 tokens, else as the renormalised mean of its ~200-token chunks (so the
        end of a long draft counts as much as its start; truncation would drop it)."""
        if not _DRAFT_CONTENT.search(body.text):
            raise _invalid(["body", "text"], "text must not be empty (spaces and quotation marks alone are ignored)")
        if len(body.text) > settings.max_draft_chars:
            raise _invalid(["body", "text"], f"text is {len(body.text)} characters; the limit is {settings.max_draft_chars} (KB_MAX_DRAFT_CHARS)")
        if body.top_k > settings.max_top_k:
            raise _invalid(["body", "top_k"], f"top_k must be <= {settings.max_top_k}, got {body.top_k}")
        filters = build_filters(members=body.member, areas=body.area, doc_types=body.doc_type)
        return _searched(searcher.precedents(body.text, filters, top_k=body.top_k))

    @read.get("/documents", response_model=DocumentList, tags=["documents"], summary="Indexed documents with counts")
    def list_documents(searcher: SearcherDep) -> dict:
        docs = searcher.engine.documents()
        sections = searcher.engine.section_counts()
        rows, by_type, by_member, by_year = [], Counter(), Counter(), Counter()
        for d in docs.values():
            rows.append({**document_out(d), "sections": sections.get(d.doc_id, 0)})
            by_type[d.doc_type] += 1
            by_member.update(set(d.members) | ({d.jurisdiction} if d.jurisdiction else set()))
            if d.year is not None:
                by_year[str(d.year)] += 1
        return {
            "total": len(rows),
            "documents": rows,
            "counts": {
                "doc_type": dict(by_type.most_common()),
                "member": dict(sorted(by_member.items(), key=lambda kv: (-kv[1], kv[0]))),
                "year": dict(sorted(by_year.items())),
            },
        }

    @read.get("/documents/{doc_id}", response_model=DocumentDetail, tags=["documents"], summary="A document and its section tree")
    def get_document(searcher: SearcherDep, doc_id: str) -> dict:
        doc, sections = searcher.document(_check_doc_id(doc_id))
        return {"document": document_out(doc), "sections": [section_out(s, doc) for s in sections]}

    @read.get("/documents/{doc_id}/sections/{section_id}", response_model=SectionDetail, tags=["documents"], summary="A section with its neighbours")
    def get_section(searcher: SearcherDep, doc_id: str, section_id: str, neighbours: Annotated[int, Query(ge=0, le=5)] = 1) -> dict:
        _check_doc_id(doc_id)
        if not SECTION_ID_RE.match(section_id) or not section_id.startswith(doc_id + ":"):
            raise NotFoundError(f"no section {section_id!r} in document {doc_id!r}")
        out = searcher.section(doc_id, section_id, neighbours=neighbours)
        return {
            "document": document_out(out["document"]),
            "section": section_out(out["section"], out["document"]),
            "previous": [section_out(s, out["document"]) for s in out["previous"]],
            "next": [section_out(s, out["document"]) for s in out["next"]],
            "citation": out["citation"],
        }

    @read.get("/facets", tags=["search"], summary="Counts over the whole index")
    def facets(searcher: SearcherDep) -> dict:
        totals, counts = searcher.engine.all_facets()
        return {"totals": totals, "facets": counts}

    @write.post("/documents", response_model=WriteReport, status_code=201, summary="Upload and ingest a document")
    def upload_document(
        request: Request,
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
        from ingest.pipeline import ingest

        searcher_state = request.app.state
        name = admin.safe_upload_name(file.filename or "")
        target = admin.uploads_dir(settings) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        incoming = _receive(file, target.parent, settings.max_file_bytes, name)
        try:
            with admin.staged_upload(target, incoming) as path:
                member_list = [m for part in (members or "").replace(";", ",").split(",") if (m := part.strip())]
                meta = admin.upload_meta(path, settings, title=title, doc_type=doc_type, members=member_list,
                                         jurisdiction=jurisdiction, year=year, language=language)
                _check_no_takeover(searcher_state, settings, meta.doc_id if meta else slugify(path.stem, max_len=80), path)
                report = ingest([path], settings, embedder=searcher_state.embedder,
                                metas={path.resolve(): meta} if meta else None)
                if report.failed:
                    raise admin.ingest_error_for(path, report.failed)
        finally:
            Path(incoming).unlink(missing_ok=True)
        _refresh(request)
        return report.to_dict()

    @write.delete("/documents/{doc_id}", response_model=WriteReport, summary="Delete a document", description=DELETE_NOTE)
    def delete_document(request: Request, doc_id: str) -> dict:
        from ingest.admin import delete_documents

        report = delete_documents([_check_doc_id(doc_id)], settings)
        _refresh(request)
        return report

    router = APIRouter()

    @router.get("/health", response_model=Health, tags=["service"], summary="Service and index status",
                responses={503: {"model": Health, "description": "No index, or the backend is down"}})
    def health(request: Request) -> dict | JSONResponse:
        try:
            searcher = get_searcher(request)
            embedder = searcher.embedder
            return {"status": "ok", **searcher.engine.info(),
                    "query_embedding": {"runtime": embedder.active_query_runtime, "threads": embedder.query_threads}}
        except (IndexUnavailableError, *_backend_errors()) as exc:
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)

    router.include_router(read)
    router.include_router(write)
    return router


def _backend_errors() -> tuple[type[Exception], ...]:
    from ingest.errors import BackendUnavailableError

    return (BackendUnavailableError,)


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


def _check_no_takeover(state, settings: Settings, doc_id: str, path: Path) -> None:
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


def _refresh(request: Request) -> None:
    """Make this process's searcher see the generation it just wrote (others notice within a second)."""
    state = request.app.state
    if state.searcher is None:
        try:
            get_searcher(request)
        except IndexUnavailableError:
            pass
        return
    refresh = getattr(state.searcher.engine, "refresh", None)
    if refresh is not None:
        refresh()
