"""Members, priority areas and inferred document metadata, on real corpus text."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ingest.errors import UnknownFilterValueError
from ingest.metadata import (
    MEMBERS,
    annotate_sections,
    canonical_area,
    canonical_member,
    detect_members,
    infer_areas,
    infer_document_meta,
    stated_area_from_heading,
)
from ingest.schema import PRIORITY_AREAS, DocumentMeta, Section
from ingest.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"


def _section(text: str, heading_path: list[str], attributes: dict | None = None) -> Section:
    return Section("d:s", "d", "s", heading_path, heading_path[-1], None, "heading", text, 0, attributes=attributes or {})


@pytest.mark.parametrize(
    "alias, canonical",
    [
        ("ROK", "Republic of Korea"),
        ("South Korea", "Republic of Korea"),
        ("Viet Nam", "Viet Nam"),
        ("Vietnam", "Viet Nam"),
        ("PNG", "Papua New Guinea"),
        ("Lao PDR", "Lao PDR"),
        ("Laos", "Lao PDR"),
        ("DPR Korea", "DPR Korea"),
        ("UAE", "United Arab Emirates"),
        ("USA", "United States"),
        ("turkey", "Türkiye"),
        ("International Organization for Migration", "IOM"),
        ("Indonesia (sub-national: DI Yogyakarta)", "Indonesia"),
    ],
)
def test_aliases_resolve_to_one_canonical_member(alias, canonical):
    assert canonical_member(alias) == canonical


def test_unknown_member_is_an_error_naming_the_value():
    with pytest.raises(UnknownFilterValueError, match="Atlantis") as exc:
        canonical_member("Atlantis")
    assert exc.value.field == "member"


def test_members_named_in_the_2022_cochairs_statement_are_detected():
    text = (CORPUS / "bali_process/bp_2022_16th_ahg_som_cochairs_statement.txt").read_text("utf-8")
    found = detect_members(text)
    assert found[:2] == ["Indonesia", "Australia"]  # the co-chairs, named first
    assert {"IOM", "UNHCR", "UNODC"} <= set(found)


def test_detection_handles_aliases_and_line_breaks_but_not_lowercase_words():
    text = "Delegations from the ROK, Viet\nNam and PNG met. Let us thank png files and the U.S. team; see 8 U.S.C. 1324."
    assert detect_members(text) == ["Republic of Korea", "Viet Nam", "Papua New Guinea", "United States"]
    assert detect_members("Malaysian officials and Indonesian law") == []  # adjectives describe, they do not name
    assert detect_members("LET US PROCEED") == []


@pytest.mark.parametrize(
    "name, area",
    [
        ("Border management", "border_management"),
        ("(4) Border management", "border_management"),
        ("Irregular migration", "irregular_migration"),
        ("Irregular Migration and Related Transnational Crime", "irregular_migration"),
        ("Information sharing and public information campaigns", "information_sharing"),
        ("Victim protection & migration management", "victim_protection"),
        ("returns_reintegration", "returns_reintegration"),
        ("Law Enforcement", "law_enforcement"),
    ],
)
def test_both_strategies_area_names_map_to_one_taxonomy(name, area):
    assert canonical_area(name) == area


def test_unknown_area_is_an_error_naming_the_value():
    with pytest.raises(UnknownFilterValueError, match="space piracy"):
        canonical_area("space piracy")
    assert stated_area_from_heading("Opening") is None


def test_strategy_heading_states_the_area_of_its_sections():
    s = _section("- support the use of biometrics for identity integrity in immigration",
                 ["Bali Process Strategy for Cooperation", "(4) Border management"])
    annotate_sections(DocumentMeta("bp-strategy-2018", "x", "t", doc_type="strategy"), [s])
    stated = [t for t in s.priority_areas if t.basis == "stated"]
    assert [(t.area, t.evidence) for t in stated] == [("border_management", "heading '(4) Border management'")]


def test_work_plan_column_states_area_and_lead_is_a_member():
    s = _section("Share information on trends related to exploitation of lawful migration pathways.",
                 ["Forward Work Plan 2024-26", "Action items", "6)"],
                 {"priority_area": "Border management", "lead": "Australia", "theme": "Enhancing information sharing"})
    annotate_sections(DocumentMeta("wp", "x", "t", doc_type="work_plan"), [s])
    assert ("border_management", "stated") in [(t.area, t.basis) for t in s.priority_areas]
    assert "Australia" in s.members


def test_inferred_areas_keep_their_evidence_and_never_duplicate_a_stated_one():
    text = "Victims shall receive shelter, medical assistance and witness protection; non-punishment applies."
    (tag,) = [t for t in infer_areas(text) if t.area == "victim_protection"]
    assert tag.basis == "inferred" and "non-punishment" in tag.evidence
    s = _section(text, ["Strategy", "(6) Victim protection and migration management"])
    annotate_sections(DocumentMeta("d", "x", "t"), [s])
    assert [(t.area, t.basis) for t in s.priority_areas if t.area == "victim_protection"] == [("victim_protection", "stated")]


def test_a_national_law_section_belongs_to_its_jurisdiction():
    s = _section("Any person who traffics a child commits an offence.", ["Act", "s. 14"])
    annotate_sections(DocumentMeta("lk", "x", "t", doc_type="law", jurisdiction="Sri Lanka"), [s])
    assert s.members[0] == "Sri Lanka"


@pytest.mark.parametrize(
    "head, doc_type, jurisdiction, year, language",
    [
        ("PARLIAMENT OF THE DEMOCRATIC SOCIALIST REPUBLIC OF SRI LANKA\nPREVENTION OF CRIMES ACT, No. 9 OF 2019\n"
         "BE it enacted by the Parliament of the Democratic Socialist Republic of Sri Lanka as follows", "law", "Sri Lanka", 2019, "en"),
        ("Republic of the Philippines\nCongress of the Philippines\n[REPUBLIC ACT NO. 10364]\nAN ACT EXPANDING REPUBLIC ACT NO. 9208 "
         "of 2013, shall be known as", "law", "Philippines", 2013, "en"),
        ("UNDANG-UNDANG REPUBLIK INDONESIA NOMOR 21 TAHUN 2007 TENTANG PEMBERANTASAN TINDAK PIDANA PERDAGANGAN ORANG\n"
         "Menimbang bahwa setiap orang dan yang di dalam pasal ini adalah", "law", "Indonesia", 2007, "id"),
    ],
)
def test_metadata_of_an_unlisted_law_is_inferred_from_its_first_page(tmp_path, head, doc_type, jurisdiction, year, language):
    meta = infer_document_meta(tmp_path / "some_new_law.txt", head)
    assert (meta.doc_type, meta.jurisdiction, meta.year, meta.language) == (doc_type, jurisdiction, year, language)
    assert meta.members == [jurisdiction]
    assert {"doc_type", "jurisdiction", "year", "language", "title"} <= set(meta.inferred_fields)


def _manifest() -> list[dict]:
    with open(CORPUS / "manifest.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("row", [r for r in _manifest() if r["path"].endswith((".md", ".txt")) and r["doc_type"] == "law"], ids=lambda r: r["doc_id"])
def test_inference_agrees_with_the_manifest_on_real_laws(row):
    text = (CORPUS / row["path"]).read_text("utf-8")[:6000]
    meta = infer_document_meta(Path(row["path"]), text)
    assert meta.doc_type == "law"
    assert meta.jurisdiction == row["jurisdiction"]
    assert meta.language == row["language"]


@hsettings(max_examples=80, deadline=None)
@given(st.text(max_size=2000))
def test_detection_and_inference_never_crash_and_stay_canonical(text):
    found = detect_members(text)
    assert len(found) == len(set(found)) and all(m in MEMBERS for m in found)
    for tag in infer_areas(text):
        assert tag.area in PRIORITY_AREAS and tag.basis == "inferred" and tag.evidence
    meta = infer_document_meta(Path("x.txt"), text)
    assert meta.doc_id and meta.title


@hsettings(max_examples=60, deadline=None)
@given(st.text(max_size=500), st.sampled_from(["(1) Law enforcement", "Opening", "(7) Returns and reintegration", "Part II"]),
       st.sampled_from(["", "Border management", "Stakeholder engagement", "Nonsense column"]))
def test_annotation_never_tags_an_area_both_stated_and_inferred(text, heading, column):
    s = _section(text, ["Doc", heading], {"priority_area": column} if column else {})
    annotate_sections(DocumentMeta("d", "x", "t"), [s])
    areas = [t.area for t in s.priority_areas]
    assert len(areas) == len(set(areas))
