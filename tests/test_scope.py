"""Member scope: the names data (ingest/vocabularies/member_names.csv, instrument_names.csv), detection in every
corpus language (search_api.scope), and the soft boost on a real slice of the corpus served by both backends."""

from __future__ import annotations

import csv

import pytest
from opensearch_support import CORPUS, SyncedSlice, ingest_synced, osmem_url, slice_searcher  # noqa: F401 (fixture)

from ingest.member_names import (
    NamesError,
    load_instrument_names,
    load_member_names,
    read_instrument_names,
    read_member_names,
)
from ingest.vocabularies import MEMBERS
from search_api.filters import build_filters
from search_api.scope import Scope, detect_scope, scope_documents
from search_api.searcher import Searcher, SearchRequest

# ---------------------------------------------------------------------------------------------------------
# The names data


def test_every_bali_process_state_has_an_english_name_and_an_adjective_or_a_name_that_serves_as_one():
    names = load_member_names()
    for m in MEMBERS.values():
        if m.kind == "state" and m.bali_process_member:
            assert any(n.member == m.name and n.language == "en" for n in names), m.name
    adjectives = {n.member for n in names if n.kind == "adjective" and n.language == "en"}
    # Hong Kong, New Zealand: the name is the adjective ("New Zealand law")
    assert {m.name for m in MEMBERS.values() if m.kind == "state"} - adjectives == {"Hong Kong SAR", "New Zealand"}


def test_the_states_with_documents_in_the_corpus_have_names_in_thai_chinese_and_bengali():
    with open(CORPUS / "manifest.csv", encoding="utf-8", newline="") as fh:
        members = {m.strip() for row in csv.DictReader(fh) for m in row["members"].split(";") if m.strip()}
    states = {m for m in members if MEMBERS[m].kind == "state"}
    assert {"Thailand", "China", "Bangladesh", "Türkiye", "Singapore"} <= states
    names = load_member_names()
    for state in states:
        assert {n.language for n in names if n.member == state} >= {"en", "th", "zh", "bn"}, state


def test_instrument_names_cover_every_corpus_language():
    assert {n.language for n in load_instrument_names()} >= {"en", "ms", "id", "th", "zh", "bn", "tr"}


def test_every_instrument_named_in_particular_is_a_bundled_document_named_in_every_corpus_language():
    with open(CORPUS / "manifest.csv", encoding="utf-8", newline="") as fh:
        manifest = {row["doc_id"]: row for row in csv.DictReader(fh)}
    named: dict[str, set[str]] = {}
    for n in load_instrument_names():
        if n.instrument:
            named.setdefault(n.instrument, set()).add(n.language)
    for doc_id, languages in named.items():
        assert manifest[doc_id]["doc_type"] in ("protocol", "convention"), doc_id
        assert languages >= {"en", "ms", "id", "th", "zh", "bn", "tr"}, doc_id
    instruments = {d for d, row in manifest.items() if row["doc_type"] in ("protocol", "convention") and not row["members"].strip()}
    assert instruments <= named.keys()


HEADER = "member,language,kind,name\n"


@pytest.mark.parametrize("row, message", [
    ("Atlantis,en,name,Atlantis", "member 'Atlantis'"),
    ("Thailand,xx,name,Thaiish", "language must be"),
    ("Thailand,en,nickname,Siam", "kind must be"),
    ("Thailand,en,name, Siam", "trimmed"),
    ("Thailand,th,name,ไทย\nThailand,th,name,ไทย", "listed twice"),
    ("Thailand,en,name,Siam\nMyanmar,en,name,Siam", "already names Thailand"),
    ("Thailand,en,name,Singapore", "already names Singapore \\(members.csv\\)"),  # members.csv's count too
])
def test_a_malformed_names_file_is_refused_naming_the_line(row, message):
    with pytest.raises(NamesError, match=message):
        read_member_names(HEADER + row + "\n")


@pytest.mark.parametrize("rows, message", [
    ("en,Protocol,\nen,protocol,", "listed twice"),
    ("en,Protocol,Un Protocol", "instrument 'Un Protocol' is no doc id"),
    ("en,… Protocol,un-trafficking-protocol-2000", "a gap"),
    ("en,Protocol …,un-trafficking-protocol-2000", "a gap"),
    ("xx,Protocol,", "language must be"),
])
def test_a_malformed_instrument_names_file_is_refused_naming_the_line(rows, message):
    with pytest.raises(NamesError, match=f"instrument_names.csv:2: .*{message}|{message}"):
        read_instrument_names("language,name,instrument\n" + rows + "\n")
    with pytest.raises(NamesError, match="columns"):
        read_instrument_names("language,name\nen,Protocol\n")


# ---------------------------------------------------------------------------------------------------------
# Detection


@pytest.mark.parametrize("query, members", [
    ("How does Bangladesh law define human trafficking?", ["Bangladesh"]),
    ("Thai law on forced labour", ["Thailand"]),
    ("penalties under Chinese criminal law", ["China"]),
    ("Singapore's Act on harbouring", ["Singapore"]),
    ("the US law on peonage", ["United States"]),
    ("กฎหมายไทยว่าด้วยการค้ามนุษย์", ["Thailand"]),
    ("ประเทศไทย", ["Thailand"]),
    ("泰国和中国的法律", ["Thailand", "China"]),
    ("新加坡 美国", ["Singapore", "United States"]),
    ("印度尼西亚的法律", ["Indonesia"]),  # not India (印度)
    ("বাংলাদেশের আইনে মানব পাচার", ["Bangladesh"]),
    ("পাকিস্তান", ["Pakistan"]),
    ("Türkiye'de insan ticareti", ["Türkiye"]),
    ("Singapur ve ABD", ["Singapore", "United States"]),
    ("undang-undang Singapura dan Filipina", ["Singapore", "Philippines"]),
    ("hukum Amerika Serikat", ["United States"]),
])
def test_a_named_member_is_detected_in_any_corpus_language(query, members):
    scope = detect_scope(query)
    assert list(scope.members) == members and not scope.instruments


@pytest.mark.parametrize("query", [
    "What does the Protocol say about victims?", "UNTOC article 5", "ILO convention on forced labour",
    "พิธีสาร", "อนุสัญญา", "议定书", "公约", "প্রোটোকল", "কনভেনশন", "Protokol", "Sözleşme", "Konvensyen", "Konvensi",
])
def test_an_instrument_is_detected_in_any_corpus_language(query):
    assert detect_scope(query).instruments


@pytest.mark.parametrize("query, instrument", [
    ("How does the Trafficking Protocol define exploitation?", "un-trafficking-protocol-2000"),
    ("พิธีสารสหประชาชาติว่าด้วยการค้ามนุษย์ให้คำนิยามของ การค้ามนุษย์ ไว้อย่างไร", "un-trafficking-protocol-2000"),
    ("《偷运移民议定书》要求缔约国将哪些行为规定为刑事犯罪？", "un-smuggling-protocol-2000"),
    ("অভিবাসী চোরাচালান প্রোটোকলে জাহাজে তল্লাশি", "un-smuggling-protocol-2000"),  # a case suffix follows
    ("Bagaimana Protokol PBB tentang perdagangan orang mendefinisikan perdagangan orang?", "un-trafficking-protocol-2000"),
    ("Apakah takrif kerja paksa di bawah Konvensyen Buruh Paksa ILO 1930?", "ilo-c029-1930"),
    ("1956 Ek Kölelik Sözleşmesi borç esaretini nasıl tanımlıyor?", "slavery-convention-1956"),
    ("《联合国打击跨国有组织犯罪公约》关于引渡是怎样规定的？", "untoc-2000"),
])
def test_an_instrument_named_in_particular_is_told_in_any_corpus_language(query, instrument):
    scope = detect_scope(query)
    assert scope.instruments and scope.documents == (instrument,)


def test_a_protocol_named_in_general_names_no_instrument_in_particular():
    assert detect_scope("What does the Protocol require of states that receive victims?").documents == ()
    # a gap lets a few words through, not a sentence
    assert detect_scope("The Protocol is one of three instruments adopted in 2000, and its reach over trafficking").documents == ()


@pytest.mark.parametrize("query", [
    "restitution for trafficking victims",
    "How is forced labour defined?",
    "Chinese nationals trafficked abroad",  # an adjective not before a word of the law
    "Thai fishing boats",
    "can us officials seize vessels",  # "us" in lower case is no code
    "Indiana and Jordanville",  # names only as whole words
])
def test_a_query_naming_no_member_gets_no_scope(query):
    assert not detect_scope(query)


def test_scope_documents_are_the_members_and_the_instruments_without_a_state():
    from ingest.schema import DocumentMeta

    docs = {
        "bd": DocumentMeta("bd", "x", "Act", "law", ["Bangladesh"]),
        "un": DocumentMeta("un", "x", "Protocol", "protocol", []),
        "ilo": DocumentMeta("ilo", "x", "Convention", "convention", ["ILO"]),
        "lk": DocumentMeta("lk", "x", "Convention Act", "convention", ["Sri Lanka"]),
    }
    assert scope_documents(Scope(("Bangladesh",)), docs) == {"bd"}
    assert scope_documents(Scope((), True), docs) == {"un", "ilo"}
    assert scope_documents(Scope(), docs) == set()
    # an instrument named in particular stands for the instruments, when the index holds it
    assert scope_documents(Scope((), True, ("un",)), docs) == {"un"}
    assert scope_documents(Scope((), True, ("untoc-2000",)), docs) == {"un", "ilo"}


def test_a_year_written_with_a_member_narrows_its_documents_to_that_year():
    from ingest.schema import DocumentMeta

    docs = {
        "my-2007": DocumentMeta("my-2007", "x", "Bill 2007", "law", ["Malaysia"], year=2007),
        "my-2010": DocumentMeta("my-2010", "x", "Amendment 2010", "law", ["Malaysia"], year=2010),
        "plan": DocumentMeta("plan", "x", "Work plan", "work_plan", ["Malaysia"], year=2014, year_to=2016),
        "pk-2018": DocumentMeta("pk-2018", "x", "Act 2018", "law", ["Pakistan"], year=2018),
    }
    scope = detect_scope("What fines did Malaysia's 2010 amendment set?")
    assert scope.years == (2010,) and scope_documents(scope, docs) == {"my-2010"}
    assert scope_documents(detect_scope("Malaysia's plans for 2015"), docs) == {"plan"}  # within its period
    # a member without a document of the year keeps them all
    assert scope_documents(detect_scope("Pakistan's 2018 Act and Malaysia's 2012 law"), docs) == {"pk-2018", "my-2007", "my-2010", "plan"}
    assert detect_scope("the 2010 amendment").years == ()  # a year alone names nothing


# ---------------------------------------------------------------------------------------------------------
# Search on a real slice, both backends


@pytest.fixture(scope="module")
def scope_slice(tmp_path_factory, embedder, osmem_url) -> SyncedSlice:  # noqa: F811 (fixture)
    files = [CORPUS / "laws/bd_pshta_2012_bn.json", CORPUS / "laws/my_atip_bill_2007_en.md",
             CORPUS / "laws/ph_ra11862_expanded_anti_trafficking_2022.md",
             CORPUS / "international/un_trafficking_protocol_2000_en.md"]
    return ingest_synced(tmp_path_factory, files, "kb-scope", embedder, osmem_url)


@pytest.fixture(params=["embedded", "opensearch"])
def scope_searcher(request, scope_slice, query_embedder) -> Searcher:
    return slice_searcher(request, scope_slice, query_embedder)


def _search(searcher: Searcher, query: str, mode: str = "bm25", **filters) -> dict:
    return searcher.search(SearchRequest(query, filters=build_filters(**filters), mode=mode, top_k=10))


def test_a_question_about_bangladesh_law_gets_bangladeshs_documents_first(scope_searcher):
    out = _search(scope_searcher, "How does Bangladesh law define human trafficking?")
    assert out["scope"] == {"members": ["Bangladesh"], "instruments": False, "documents": [], "years": [], "titles": {}}
    top = out["results"][:2]
    assert all(r["section_id"].startswith("bd-pshta-2012:") and r["explanation"]["scope_match"] for r in top)
    # a soft preference, not a filter: the other members' definitions are still in the result set
    assert {"Bangladesh", "Malaysia", "Philippines"} <= out["facets"]["member"].keys()


def test_a_question_about_the_protocol_gets_the_protocol_first(scope_searcher):
    out = _search(scope_searcher, "What does the Protocol say about the protection of victims of trafficking?")
    assert out["scope"] == {"members": [], "instruments": True, "documents": [], "years": [], "titles": {}}
    assert out["results"][0]["section_id"].startswith("un-trafficking-protocol-2000:")


@pytest.mark.parametrize("query", [
    "พิธีสารสหประชาชาติว่าด้วยการค้ามนุษย์ให้คำนิยามของ การค้ามนุษย์ ไว้อย่างไร",
    "Apakah langkah kawalan sempadan yang dikehendaki oleh Protokol Pemerdagangan Orang?",
])
def test_a_question_in_another_language_naming_the_trafficking_protocol_gets_it_first(scope_searcher, query):
    # the question's own language matches none of the slice's English texts: the Protocol's sections come from
    # the search narrowed to it, and rank first by the scope's boost
    knn = getattr(scope_searcher.engine, "knn_available", lambda: True)()  # osmem-server has no k-NN: BM25 there
    out = _search(scope_searcher, query, mode="hybrid" if knn else "bm25")
    assert out["scope"]["documents"] == ["un-trafficking-protocol-2000"]
    assert out["scope"]["titles"]["un-trafficking-protocol-2000"].startswith("Protocol to Prevent, Suppress and Punish")
    top = out["results"][:3]
    assert all(r["section_id"].startswith("un-trafficking-protocol-2000:") and r["explanation"]["scope_match"] for r in top)


def test_a_question_naming_no_member_gets_no_scope_and_no_boost(scope_searcher):
    out = _search(scope_searcher, "How is trafficking in persons defined?")
    assert out["scope"] is None
    assert not any(r["explanation"]["scope_match"] for r in out["results"])


def test_a_member_filter_decides_and_no_scope_is_applied(scope_searcher):
    out = _search(scope_searcher, "How does Bangladesh law define human trafficking?", members=["Malaysia"])
    assert out["scope"] is None
    assert out["results"] and all(r["section_id"].startswith("my-atip-bill-2007-en:") for r in out["results"])


def test_the_hybrid_search_ranks_the_named_members_documents_first(scope_slice, query_embedder):
    searcher = Searcher(scope_slice.embedded, embedder=query_embedder)
    out = _search(searcher, "How does Bangladesh law define human trafficking?", mode="hybrid")
    assert out["scope"] == {"members": ["Bangladesh"], "instruments": False, "documents": [], "years": [], "titles": {}}
    assert out["results"][0]["section_id"].startswith("bd-pshta-2012:")
