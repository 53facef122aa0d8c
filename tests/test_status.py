"""Document status end to end: manifest and provision JSON -> sections and passages -> filter, facet and result
field, on a slice of the real corpus (an in-force law, a repealed one, a bill, a law with repealed provisions)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from ingest.errors import UnknownFilterValueError
from ingest.manifest import copy_slice
from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.stores import open_current
from search_api.app import create_app
from search_api.filters import build_filters, from_haystack_filters, to_haystack_filters
from search_api.searcher import Searcher, SearchRequest
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration

SLICE = {
    "laws/bd_pshta_2012_bn.json",  # repealed
    "laws/sg_phta_2014.json",  # in force
    "laws/my_atip_bill_2007_en.md",  # a bill as tabled: unknown
    "laws/tr_law_6458_foreigners_international_protection_tr.json",  # in force, 19 provisions repealed (Mülga)
}


@pytest.fixture(scope="module")
def status_index(tmp_path_factory, embedder, query_embedder):
    root = tmp_path_factory.mktemp("status")
    settings = Settings(index_dir=root / "index")
    report = ingest([copy_slice(CORPUS, root / "corpus", SLICE)], settings, embedder=embedder)
    assert report.ok, report.failed
    return settings, Searcher(settings, embedder=query_embedder)


def test_status_filter_values_are_checked_and_named():
    assert build_filters(statuses=["In force", "repealed", ""]).statuses == ("in_force", "repealed")
    with pytest.raises(UnknownFilterValueError) as err:
        build_filters(statuses=["abolished"])
    assert err.value.field == "status" and "in_force" in str(err.value)
    f = build_filters(statuses=["repealed"])
    assert to_haystack_filters(f) == {"operator": "AND", "conditions": [{"field": "meta.status", "operator": "in", "value": ["repealed"]}]}
    assert build_filters(**from_haystack_filters(to_haystack_filters(f))) == f


def test_sections_and_passages_carry_their_status(status_index):
    settings, _ = status_index
    gen = open_current(settings.index_dir)
    docs = gen.documents()
    assert {d: docs[d].status for d in docs} == {
        "bd-pshta-2012": "repealed", "sg-phta-2014": "in_force", "my-atip-bill-2007-en": "unknown", "tr-law-6458-2013": "in_force"}
    turkish = gen.sections_of("tr-law-6458-2013")
    assert {s.status for s in turkish} == {"in_force", "repealed"}
    assert [s.path for s in turkish if s.status == "repealed"][:2] == ["art-103", "art-104"]
    assert all(s.status == "repealed" for s in gen.sections_of("bd-pshta-2012"))


def test_the_status_filter_keeps_only_that_status_and_every_result_says_it(status_index):
    _, searcher = status_index
    out = searcher.search(SearchRequest("trafficking in persons offence", build_filters(statuses=["repealed"]), top_k=20))
    assert out["results"] and {r["status"] for r in out["results"]} == {"repealed"}
    assert {r["doc_id"] for r in out["results"]} <= {"bd-pshta-2012", "tr-law-6458-2013"}
    assert out["facets"]["status"] == {"repealed": out["total"]}
    everything = searcher.search(SearchRequest("trafficking in persons offence", top_k=5))
    assert all(r["status"] in ("in_force", "repealed", "unknown") and r["document"]["status"] for r in everything["results"])
    facet = everything["facets"]["status"]
    assert set(facet) <= {"in_force", "repealed", "unknown"} and sum(facet.values()) == everything["total"]


def test_a_repealed_provision_of_a_law_in_force_is_left_out_by_the_in_force_filter(status_index):
    _, searcher = status_index
    f = build_filters(doc_ids=["tr-law-6458-2013"], statuses=["in_force"])
    out = searcher.search(SearchRequest("Mülga KHK-703", f, mode="bm25", top_k=50))
    assert all(not r["section_id"].endswith(("art-103", "art-104")) for r in out["results"])
    repealed = searcher.search(SearchRequest("Mülga KHK-703", build_filters(doc_ids=["tr-law-6458-2013"], statuses=["repealed"]),
                                             mode="bm25", top_k=50))
    assert "tr-law-6458-2013:art-103" in [r["section_id"] for r in repealed["results"]]


def test_the_api_takes_a_status_filter_and_answers_422_for_an_unknown_one(status_index):
    settings, searcher = status_index
    with TestClient(create_app(settings, searcher=searcher)) as client:
        r = client.get("/search", params={"q": "victims", "status": "unknown"})
        assert r.status_code == 200
        body = r.json()
        assert body["results"] and all(x["status"] == "unknown" for x in body["results"])
        assert set(body["facets"]["status"]) == {"unknown"}
        bad = client.get("/search", params={"q": "victims", "status": "draft"})
        assert bad.status_code == 422 and "status" in bad.text
        doc = client.get("/documents/tr-law-6458-2013").json()
        assert doc["document"]["status"] == "in_force"
        assert {s["status"] for s in doc["sections"]} == {"in_force", "repealed"}


def test_vocabularies_give_the_status_labels(tmp_path):
    client = TestClient(create_app(Settings(index_dir=tmp_path / "empty")))
    assert client.get("/vocabularies").json()["statuses"] == {"in_force": "In force", "repealed": "Repealed", "unknown": "Status unknown"}
