"""HTTP routes, one router per resource: parse parameters, call the searcher (or the index admin), shape the
response.

``search`` and ``compare`` (with ``/precedents``) are built from the settings, whose limits (query length,
``top_k``, ``offset``) are part of their validation and so of the OpenAPI docs; the other routers are plain
module-level routers. Settings, the searcher and authentication reach every handler through ``Depends``
(``deps``). Domain errors (unknown filter values, unknown ids, a missing index, a backend that is down, a file
that cannot be ingested) are raised by the domain and mapped to status codes in ``app.py``; ``HTTPException``
is raised only in this package, for what is purely HTTP (authentication, limits that have no domain meaning).
"""

from __future__ import annotations

from fastapi import APIRouter

from ingest.settings import Settings
from search_api.routes import admin, alignment, compare, documents, facets, health, search
from search_api.routes.deps import NO_INDEX
from search_api.routes.ui import install_ui

__all__ = ["NO_INDEX", "build_router", "install_ui"]


def build_router(settings: Settings) -> APIRouter:
    """The API's routes, with the limits of ``settings`` in their validation (and so in the OpenAPI docs)."""
    router = APIRouter()
    router.include_router(search.build_router(settings))
    router.include_router(compare.build_router(settings))
    router.include_router(documents.router)
    router.include_router(alignment.router)
    router.include_router(facets.router)
    router.include_router(admin.router)
    router.include_router(health.router)
    return router
