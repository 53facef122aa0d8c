"""The web UI: one page for every view (``/``, ``/read/{doc_id}``) and its static files under ``/ui``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from ingest.settings import PROJECT_ROOT

UI_DIR = PROJECT_ROOT / "ui"

router = APIRouter(include_in_schema=False)


@router.get("/")
@router.get("/read/{doc_id}")
def ui_page(doc_id: str | None = None) -> FileResponse:
    """The page; the client reads the path, query and fragment (shareable links)."""
    return FileResponse(UI_DIR / "index.html", media_type="text/html; charset=utf-8")


def install_ui(app: FastAPI) -> None:
    """Serve the UI's pages and its static files (a mount, which a router cannot carry)."""
    app.include_router(router)
    app.mount("/ui", StaticFiles(directory=UI_DIR), name="ui")
