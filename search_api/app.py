"""The FastAPI app: the search API and the web UI (static files in ``ui/``), built from one ``Settings``."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.errors import (
    BackendUnavailableError,
    FileTooLargeError,
    IndexLockedError,
    IndexWriteError,
    IndexUnavailableError,
    IngestError,
    KBError,
    NotFoundError,
    UnknownFilterValueError,
)
from ingest.settings import Settings
from search_api.balance import ConnectionShare, RebalanceConnections
from search_api.query_embedding import query_embedder
from search_api.routes import NO_INDEX, build_router, install_ui
from search_api.searcher import Searcher

log = logging.getLogger("kb.api")

# Multipart framing around an uploaded file: boundaries, part headers, the small metadata fields.
UPLOAD_OVERHEAD_BYTES = 64 * 1024
# The UI runs only its own script and styles: document text can never become code, even if escaping failed.
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Filter fields as the domain names them -> the request parameter that carried them.
_PARAM_OF_FIELD = {"priority_area": "area", "member": "member", "doc_type": "doc_type", "doc_id": "doc_id", "language": "language",
                  "status": "status"}

DESCRIPTION = """
Hybrid (BM25 + dense) search over Bali Process texts, the UN protocols and members' laws. Every result is a
**cited** passage: document, section, pages, and a permalink.

* `GET /search` -- filters (member, area, doc_type, doc_id, language, years) apply inside both retrieval legs.
* `GET /compare` -- how 2-8 members deal with one question, side by side.
* `POST /precedents` -- provisions similar to a pasted draft clause.
* `GET /documents`, `/documents/{id}`, `/documents/{id}/sections/{section_id}` -- the texts themselves.
* `POST /documents`, `DELETE /documents/{id}` -- need `Authorization: Bearer <KB_API_TOKEN>`; off when no token is set.
  Deleting a document that was ingested from `corpus/` leaves its file: a later `kb ingest corpus/` re-adds it.

If `KB_READ_TOKEN` is set, every read endpoint needs `Authorization: Bearer <KB_READ_TOKEN>` too.
"""


class BodyLimit:
    """Refuse request bodies over a limit before they are parsed or spooled to disk (413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(self.max_bytes)(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body larger than {limit} bytes (KB_MAX_FILE_BYTES)"}, status_code=413)


class SecurityHeaders:
    """nosniff everywhere; the strict content security policy on the UI's pages and assets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        ui = path == "/" or path.startswith("/ui/") or path.startswith("/read/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                if ui:
                    headers.append((b"content-security-policy", UI_CSP.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _unavailable(exc: Exception) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)


def install_error_handlers(app: FastAPI) -> None:
    """Map the domain's exceptions to status codes: the edge translates, the domain never knows about HTTP."""

    @app.exception_handler(UnknownFilterValueError)
    async def unknown_filter(request: Request, exc: UnknownFilterValueError) -> JSONResponse:
        where = "query" if request.method == "GET" else "body"
        field = _PARAM_OF_FIELD.get(exc.field, exc.field)
        if where == "body" and request.url.path == "/documents" and field == "member":
            field = "members"  # the upload form's field
        return JSONResponse({"detail": [{"loc": [where, field], "msg": str(exc), "type": "value_error"}]}, status_code=422)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(IndexUnavailableError)
    async def index_unavailable(request: Request, exc: IndexUnavailableError) -> JSONResponse:
        return _unavailable(exc)

    @app.exception_handler(BackendUnavailableError)
    async def backend_unavailable(request: Request, exc: BackendUnavailableError) -> JSONResponse:
        return _unavailable(exc)

    @app.exception_handler(IndexLockedError)
    async def index_locked(request: Request, exc: IndexLockedError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(IngestError)
    async def ingest_failed(request: Request, exc: IngestError) -> JSONResponse:
        code = 413 if isinstance(exc, FileTooLargeError) else 422
        return JSONResponse({"detail": [{"loc": ["body", "file"], "msg": str(exc), "type": type(exc).__name__}]}, status_code=code)

    @app.exception_handler(IndexWriteError)
    async def index_write_failed(request: Request, exc: IndexWriteError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=507)  # Insufficient Storage; nothing was changed

    @app.exception_handler(KBError)
    async def other_domain_error(request: Request, exc: KBError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; the server log has the details"}, status_code=500)


def freeze_start_up() -> None:
    """Take what start-up loaded (torch, the model, Haystack, the index), which lives as long as the process, out
    of the cyclic garbage collector's sight. A full collection walked its ~490k objects in 260-300 ms, holding
    the GIL, so every request in flight on the worker stalled (400-600 ms latencies with 8 clients); after
    gc.freeze() a full collection takes ~1 ms."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, searcher: Searcher | None = None) -> FastAPI:
    """The API and web UI for one index.

    :param settings: where the index is, limits, tokens, CORS origins.
    :param searcher: a ready searcher (tests share one); default: built once at start-up with a warmed-up model.
        Without an index the app starts anyway and answers 503 "no index: run `kb ingest`" until one exists.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state = app.state
        if state.searcher is None:
            if state.embedder is None:
                state.embedder = query_embedder(settings)
            await run_in_threadpool(state.embedder.warm_up_queries)  # the first query should not pay for loading the model
            try:
                state.searcher = await run_in_threadpool(Searcher, settings, None, state.embedder)
            except (IndexUnavailableError, BackendUnavailableError) as exc:
                log.warning("%s (%s); serving 503 until an index exists", NO_INDEX, exc)
        freeze_start_up()
        yield

    app = FastAPI(
        title="Bali Process knowledge base",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.searcher = searcher
    app.state.embedder = searcher.embedder if searcher is not None else None

    install_error_handlers(app)
    app.include_router(build_router(settings))

    install_ui(app)

    app.add_middleware(SecurityHeaders)
    share = ConnectionShare.from_env()  # one of several `kb serve` workers: keep to its share of connections
    if share is not None:
        app.add_middleware(RebalanceConnections, share=share)
    app.add_middleware(BodyLimit, max_bytes=settings.max_file_bytes + UPLOAD_OVERHEAD_BYTES)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app


def app_from_env() -> FastAPI:
    """The app for settings read from the environment (``kb serve --workers N`` starts one per process)."""
    return create_app(Settings())
