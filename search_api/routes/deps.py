"""What every router shares: the app's settings and searcher as dependencies, authentication, small checks.

The dependencies every request resolves are coroutines: FastAPI runs a plain ``def`` dependency on the thread
pool, and three thread hops per search cost more than the checks themselves.
"""

from __future__ import annotations

import hmac
import threading
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import Response
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from ingest.errors import IndexUnavailableError, NotFoundError
from ingest.schema import DOC_ID_RE
from ingest.settings import Settings
from search_api.searcher import Searcher

NO_INDEX = "no index: run `kb ingest`"
_build_lock = threading.Lock()
_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
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


SearcherDep = Annotated[Searcher, Depends(searcher_dependency)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def refresh_searcher(request: Request) -> None:
    """Make this process's searcher see the generation it just wrote (others notice within a second)."""
    state = request.app.state
    if state.searcher is not None:
        state.searcher.engine.refresh()
        return
    try:
        get_searcher(request)
    except IndexUnavailableError:
        pass


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _token_ok(given: str | None, *expected: str | None) -> bool:
    return given is not None and any(e and hmac.compare_digest(given.encode(), e.encode()) for e in expected)


async def require_read(request: Request, settings: SettingsDep) -> None:
    """Read endpoints are open unless ``KB_READ_TOKEN`` is set; then it (or the write token) is required."""
    if settings.read_token and not _token_ok(_bearer(request), settings.read_token, settings.api_token):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid read token is required (Authorization: Bearer ...)", _UNAUTHORIZED)


async def require_write(request: Request, settings: SettingsDep) -> None:
    """Uploads and deletes are off without ``KB_API_TOKEN`` and need exactly that token when it is set."""
    if not settings.api_token:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "uploads disabled: set KB_API_TOKEN")
    if not _token_ok(_bearer(request), settings.api_token):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or missing token (Authorization: Bearer <KB_API_TOKEN>)", _UNAUTHORIZED)


def invalid(loc: list[str], msg: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors, for checks the schema cannot express."""
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": "value_error"}])


def check_not_blank(q: str) -> None:
    """min_length=1 lets "   " through; the searcher refuses a blank query, which must be a 422, not a 500."""
    if not q.strip():
        raise invalid(["query", "q"], "q must not be blank")


def check_doc_id(doc_id: str) -> str:
    """``doc_id`` if it is well formed (which also keeps ids from naming paths), else not found."""
    if not DOC_ID_RE.match(doc_id):
        raise NotFoundError(f"no document {doc_id!r}")
    return doc_id


def searched(content: dict) -> Response:
    """A search's result as JSON, serialised without being validated against its response model again.

    FastAPI's response_model check walks the whole result in Python, ~1 ms a search (more than the BM25 leg);
    pydantic-core's ``to_json`` writes the same JSON in ~0.2 ms. The models still document the responses in
    OpenAPI, and tests/test_api.py validates real responses of every kind against them.
    """
    return Response(to_json(content), media_type="application/json")
