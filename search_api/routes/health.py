"""``GET /health``: service and index status, open to everyone (load balancers and monitors ask it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ingest.errors import BackendUnavailableError, IndexUnavailableError
from search_api.models import Health
from search_api.routes.deps import get_searcher

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health, summary="Service and index status",
            responses={503: {"model": Health, "description": "No index, or the backend is down"}})
def health(request: Request) -> dict | JSONResponse:
    try:
        searcher = get_searcher(request)
        embedder = searcher.embedder
        return {"status": "ok", **searcher.engine.info(),
                "query_embedding": {"runtime": embedder.active_query_runtime, "threads": embedder.query_threads}}
    except (IndexUnavailableError, BackendUnavailableError) as exc:
        return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
