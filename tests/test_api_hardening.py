"""Hardening of the HTTP API: schema-driven fuzzing on the real corpus, and a down OpenSearch backend.

The fuzzing runs schemathesis over the app's own OpenAPI schema: every read operation, ``POST /precedents``,
and the upload and delete endpoints, which stay off (403) because the app is built without an API token, so
the shared index is never changed. The backend test points the real OpenSearch engine at a closed port.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from opensearch_support import closed_port_url
from schemathesis.checks import not_a_server_error

from ingest.vocabularies import DOC_TYPES, MEMBERS, PRIORITY_AREAS
from ingest.settings import Settings
from search_api.app import create_app
from search_api.searcher import Searcher

pytestmark = pytest.mark.integration

# Uploads and deletes are off (403) without an API token and reads are open without a read token, whatever
# KB_* variables the run has: schemathesis can neither change the shared index nor be stopped at 401.
NO_TOKENS = {"api_token": None, "read_token": None}

# The schema as the app publishes it. It depends on the settings' limits, not on the index, so it is built at
# import, when schemathesis's pytest plugin needs it; the real_app fixture checks that the app over the real
# index serves exactly this schema. (schemathesis.pytest.from_fixture would load it from a fixture, but
# schemathesis 4.32 fails there on pytest 9: it sets ``Function._nodeid``, which pytest 9 no longer has.)
OPENAPI = create_app(Settings(**NO_TOKENS)).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)

# Bounded and reproducible: the same cases on every run, at most max_examples per operation in the fuzzing
# phase (the examples and coverage phases add a finite, deterministic set of boundary and invalid values).
FUZZ_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# -- realistic values ----------------------------------------------------------------------------------------
# The schema types members, areas, document types and ids as free strings, so random ones are nearly always
# unknown (422/404) and the search, compare and document code behind them would never run. Half the fuzzed
# cases get real values instead.

REAL_SECTIONS: list[tuple[str, str]] = []  # (doc_id, section_id) pairs of the indexed corpus; set by real_app


def _some(values, min_size: int = 0, max_size: int = 3):
    return st.lists(st.sampled_from(sorted(values)), min_size=min_size, max_size=max_size, unique=True)


def _real_filters(path: str) -> dict:
    filters = {"member": _some(MEMBERS), "area": _some(PRIORITY_AREAS), "doc_type": _some(DOC_TYPES)}
    if path == "/compare":
        filters["member"] = _some(MEMBERS, min_size=2, max_size=4)
    return filters


@schema.hook
def flatmap_query(context, query):
    if context.operation.path not in ("/search", "/compare") or not isinstance(query, dict):
        return st.just(query)
    real = st.fixed_dictionaries(_real_filters(context.operation.path)).map(lambda f: {**query, **f})
    return st.one_of(st.just(query), real)


@schema.hook
def flatmap_body(context, body):
    if context.operation.path != "/precedents" or not isinstance(body, dict):
        return st.just(body)
    real = st.fixed_dictionaries(_real_filters("/precedents")).map(lambda f: {**body, **f})
    return st.one_of(st.just(body), real)


@schema.hook
def flatmap_path_parameters(context, params):
    if not isinstance(params, dict) or "doc_id" not in params:
        return st.just(params)
    keys = [k for k in ("doc_id", "section_id") if k in params]
    real = st.sampled_from(REAL_SECTIONS).map(lambda ids: {**params, **dict(zip(keys, ids))})
    return st.one_of(st.just(params), real)


# -- the tests -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_app(indexed_corpus, searcher):
    """The app over the real indexed corpus and the real model, with uploads and deletes disabled."""
    app = create_app(indexed_corpus.model_copy(update=NO_TOKENS), searcher=searcher)
    assert app.openapi() == OPENAPI, "the fuzzed schema must be the one this app serves"
    engine = searcher.engine
    REAL_SECTIONS[:] = [(d, s.section_id) for d in sorted(engine.documents()) for s in engine.sections_of(d)]
    assert REAL_SECTIONS
    return app


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_generated_request_makes_the_api_fail_with_a_server_error(case, real_app):
    """Whatever a client sends that the schema can describe (valid or not), the API answers it without a 5xx."""
    response = case.call(app=real_app)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body, response.text)


@pytest.mark.parametrize(
    "method, path, request_kwargs, loc",
    [
        ("GET", "/search", {"params": {"q": " "}}, ["query", "q"]),
        ("GET", "/search", {"params": {"q": "\u3000\t", "mode": "bm25"}}, ["query", "q"]),
        ("GET", "/compare", {"params": {"q": "  ", "member": ["Malaysia", "Australia"]}}, ["query", "q"]),
        ("POST", "/precedents", {"json": {"text": '"'}}, ["body", "text"]),
        ("POST", "/precedents", {"json": {"text": " “ ” "}}, ["body", "text"]),
    ],
)
def test_blank_queries_and_drafts_are_refused_with_422(real_app, method, path, request_kwargs, loc):
    """A query of only spaces, or a draft of only quotation marks, is a client error naming the field, not a 500."""
    with TestClient(real_app) as client:
        r = client.request(method, path, **request_kwargs)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


def test_unreachable_opensearch_answers_503_fast_with_a_clear_message(tmp_path, query_embedder):
    """If the OpenSearch cluster is down, searches fail fast with a readable 503 and /health says why."""
    url = closed_port_url()
    down = Settings(index_dir=tmp_path, backend="opensearch", opensearch_url=url, **NO_TOKENS)
    with TestClient(create_app(down, searcher=Searcher(down, embedder=query_embedder))) as client:
        started = time.perf_counter()
        r = client.get("/search", params={"q": "penalties for trafficking children"})
        elapsed = time.perf_counter() - started
        assert elapsed < 2.0, f"/search took {elapsed:.2f} s against an unreachable backend"
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["status"] == "unavailable"
        assert "unreachable" in body["detail"] and url.split("//")[1] in body["detail"]
        assert "Traceback" not in r.text and 'File "' not in r.text

        health = client.get("/health")
        assert health.status_code == 503, health.text
        assert health.json()["status"] == "unavailable"
        assert "OpenSearch" in health.json()["detail"] and "unreachable" in health.json()["detail"]
        assert "Traceback" not in health.text
