"""Connection to OpenSearch: the client, Haystack's document store over the passage index, and one clear error
naming the server for every way a call can fail."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ingest.errors import BackendUnavailableError, IndexUnavailableError, KBError
from ingest.opensearch_schema import index_names, passage_index_body
from ingest.settings import Settings

# opensearch-py logs every failed request at WARNING with its traceback; we raise our own error naming the
# server instead, so a down cluster shows one clear line and no stack trace.
logging.getLogger("opensearch").setLevel(logging.ERROR)


def safe_url(url: str | None) -> str:
    """The URL without credentials, for messages."""
    if not url:
        return "(KB_OPENSEARCH_URL not set)"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def require_url(settings: Settings) -> str:
    if not settings.opensearch_url:
        raise BackendUnavailableError("KB_BACKEND=opensearch needs KB_OPENSEARCH_URL (e.g. http://127.0.0.1:9200)")
    return settings.opensearch_url


def client_kwargs(settings: Settings, timeout: float | None = None) -> dict[str, Any]:
    """Connection options shared by our client and Haystack's document store: one attempt, a bounded wait.

    Credentials go in the URL (``https://user:password@host:9200``).
    """
    return {
        "hosts": [require_url(settings)],
        "timeout": timeout if timeout is not None else settings.opensearch_timeout_s,
        "max_retries": 0,
        "retry_on_timeout": False,
    }


def build_client(settings: Settings, timeout: float | None = None):
    """An opensearch-py client for ``settings.opensearch_url`` (connects lazily)."""
    from opensearchpy import OpenSearch

    return OpenSearch(**client_kwargs(settings, timeout))


def build_passage_store(settings: Settings, dim: int = 384, knn: bool = True, timeout: float | None = None):
    """Haystack's document store over the passage index.

    It never creates the index (:func:`ensure_indices` does), so ``dim`` and ``knn`` only describe it.
    """
    try:
        from haystack_integrations.document_stores.opensearch import OpenSearchDocumentStore
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("the OpenSearch backend needs opensearch-haystack: pip install opensearch-haystack") from exc
    body = passage_index_body(dim, knn)
    kwargs = client_kwargs(settings, timeout)
    return OpenSearchDocumentStore(
        hosts=kwargs.pop("hosts"),
        index=index_names(settings).passages,
        embedding_dim=dim,
        mappings=body["mappings"],
        settings=body["settings"],
        create_index=False,
        http_auth=None,  # credentials come with the URL, like our own client's
        **kwargs,
    )


def root_cause(exc: BaseException) -> BaseException:
    """The opensearch-py error behind a Haystack wrapper, if there is one."""
    from opensearchpy.exceptions import OpenSearchException

    seen = exc
    while seen is not None:
        if isinstance(seen, OpenSearchException):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def backend_error(exc: BaseException, settings: Settings, index: str | None = None) -> KBError:
    """Our error for a failed OpenSearch call: what happened, to which server, and what to do."""
    from opensearchpy.exceptions import ConnectionError, ConnectionTimeout, NotFoundError, SerializationError, TransportError

    url = safe_url(settings.opensearch_url)
    root = root_cause(exc)
    if isinstance(root, ConnectionTimeout):
        return BackendUnavailableError(
            f"OpenSearch at {url} did not answer within {settings.opensearch_timeout_s:g} s (KB_OPENSEARCH_TIMEOUT_S)"
        )
    if isinstance(root, ConnectionError):
        return BackendUnavailableError(
            f"OpenSearch at {url} is unreachable ({_short(root)}): start it "
            "(search_api/opensearch/docker-compose.yml) or fix KB_OPENSEARCH_URL"
        )
    if isinstance(root, NotFoundError):  # no index, or no status record: never synced
        name = index or settings.opensearch_index
        return IndexUnavailableError(
            f"OpenSearch at {url} has no synced index {name!r}: build it with `KB_BACKEND=opensearch kb ingest`"
        )
    if isinstance(root, SerializationError):
        return BackendUnavailableError(f"{url} did not answer like an OpenSearch server ({_short(root)})")
    if isinstance(root, TransportError):
        return BackendUnavailableError(f"OpenSearch at {url} refused the request: {root.status_code} {_reason(root)}")
    return BackendUnavailableError(f"OpenSearch at {url} failed: {type(exc).__name__}: {exc}")


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "info", None) or exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host"):
        if marker in text:
            return marker.lower()
    return text[:160]


def _reason(exc) -> str:
    info = exc.info if isinstance(exc.info, dict) else {}
    err = info.get("error")
    if isinstance(err, dict):
        return f"{err.get('type')}: {err.get('reason')}"
    return str(exc.error)[:200]


@contextmanager
def translate_errors(settings: Settings, index: str | None = None) -> Iterator[None]:
    """Turn any failure of an OpenSearch call into a :class:`BackendUnavailableError` (or a missing-index error)."""
    try:
        yield
    except KBError:
        raise
    except Exception as exc:  # opensearch-py, urllib3 and Haystack wrappers all end up here
        raise backend_error(exc, settings, index) from None


def check_server(client, settings: Settings) -> dict:
    """``GET /`` within the search timeout; fails with a clear message if it is not an OpenSearch server."""
    info = client.info(request_timeout=settings.opensearch_timeout_s)
    version = info.get("version", {}) if isinstance(info, dict) else {}
    if version.get("distribution") != "opensearch":
        raise BackendUnavailableError(f"{safe_url(settings.opensearch_url)} is not an OpenSearch server: {str(info)[:160]}")
    return info


def has_knn_plugin(client, settings: Settings) -> bool:
    """Whether the server has the k-NN plugin (osmem-server lists no plugins)."""
    plugins = client.cat.plugins(format="json", request_timeout=settings.opensearch_timeout_s)
    return any(p.get("component") == "opensearch-knn" for p in plugins or [])
