"""The knowledge base as a Haystack retriever in a real Pipeline: serialised, reloaded, run, and the same
sections as the Searcher, on the real corpus with the real model."""

from __future__ import annotations

import re

import pytest
from haystack import Pipeline

from ingest.errors import UnknownFilterValueError
from ingest.settings import PROJECT_ROOT
from search_api.filters import build_filters
from search_api.retriever import KnowledgeBaseRetriever, parse_filters
from search_api.searcher import SearchRequest

pytestmark = pytest.mark.integration

QUESTION = "penalties for trafficking children"
HAYSTACK_FILTERS = {
    "operator": "AND",
    "conditions": [
        {"field": "meta.doc_type", "operator": "==", "value": "law"},
        {"field": "meta.members", "operator": "in", "value": ["Malaysia", "Philippines"]},
    ],
}


@pytest.fixture(scope="module")
def reloaded_pipeline(indexed_corpus) -> Pipeline:
    pipeline = Pipeline()
    pipeline.add_component("retriever", KnowledgeBaseRetriever(index_dir=str(indexed_corpus.index_dir), top_k=5))
    # Haystack 3 loads classes only from modules it is told to trust
    return Pipeline.loads(pipeline.dumps(), allowed_modules=["search_api.retriever"])


def test_a_reloaded_pipeline_returns_the_searchers_sections_with_haystack_filters(reloaded_pipeline, searcher):
    docs = reloaded_pipeline.run({"retriever": {"query": QUESTION, "filters": HAYSTACK_FILTERS}})["retriever"]["documents"]
    filters = build_filters(members=["Malaysia", "Philippines"], doc_types=["law"])
    expected = searcher.search(SearchRequest(QUESTION, filters, top_k=5))["results"]
    assert [d.id for d in docs] == [r["section_id"] for r in expected] and len(docs) == 5
    first = docs[0]
    assert first.content == expected[0]["text"] and first.score == expected[0]["score"]
    assert first.meta["citation"]["permalink"] == f"/documents/{first.meta['doc_id']}#{first.id}"
    assert set(first.meta["members"]) & {"Malaysia", "Philippines"}
    assert first.meta["explanation"]["method"] == "convex" and "priority_areas" in first.meta


def test_our_filter_syntax_gives_the_same_sections_as_haystacks(reloaded_pipeline):
    ours = {"members": ["Malaysia", "Philippines"], "doc_types": ["law"]}
    run = lambda f: [d.id for d in reloaded_pipeline.run({"retriever": {"query": QUESTION, "filters": f}})["retriever"]["documents"]]  # noqa: E731
    assert run(ours) == run(HAYSTACK_FILTERS)


def test_a_year_range_and_bm25_mode_pass_through(reloaded_pipeline, searcher):
    f = {"operator": "AND", "conditions": [{"field": "meta.year_to", "operator": ">=", "value": 2018},
                                           {"field": "meta.year", "operator": "<=", "value": 2019}]}
    docs = reloaded_pipeline.run({"retriever": {"query": "border management", "filters": f, "mode": "bm25", "top_k": 3}})
    expected = searcher.search(SearchRequest("border management", build_filters(year_from=2018, year_to=2019), mode="bm25", top_k=3))
    assert [d.id for d in docs["retriever"]["documents"]] == [r["section_id"] for r in expected["results"]]


def test_the_component_serialises_its_settings():
    r = KnowledgeBaseRetriever(index_dir="var/index", mode="bm25", top_k=3, filters={"members": ["Fiji"]})
    again = KnowledgeBaseRetriever.from_dict(r.to_dict())
    assert (again.index_dir, again.mode, again.top_k, again.filters) == ("var/index", "bm25", 3, {"members": ["Fiji"]})


@pytest.mark.parametrize(
    "filters, field",
    [
        ({"field": "meta.colour", "operator": "==", "value": "red"}, "filters"),
        ({"operator": "OR", "conditions": []}, "filters.operator"),
        ({"field": "meta.members", "operator": "==", "value": "Atlantis"}, "member"),
        ({"members": ["Fiji"], "colour": "red"}, "filters"),
    ],
)
def test_a_bad_filter_is_an_error_naming_it(filters, field):
    with pytest.raises(UnknownFilterValueError) as err:
        parse_filters(filters)
    assert err.value.field == field


def test_a_bad_mode_fails_at_construction():
    with pytest.raises(ValueError, match="mode"):
        KnowledgeBaseRetriever(mode="fuzzy")


def test_the_readme_example_runs(indexed_corpus, monkeypatch, capsys):
    readme = (PROJECT_ROOT / "README.md").read_text("utf-8")
    code = re.search(r"<!-- haystack-example -->\s*```python\n(.*?)```", readme, re.DOTALL).group(1)
    monkeypatch.setenv("KB_INDEX_DIR", str(indexed_corpus.index_dir))
    exec(compile(code, "README.md", "exec"), {})
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all("/documents/" in line for line in lines)
