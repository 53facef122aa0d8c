"""Members, priority areas and inferred document metadata, on real corpus text."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from pypdf import PdfReader

from ingest.errors import ManifestError, UnknownFilterValueError
from ingest.loaders import load_file
from ingest.manifest import load_manifest
from ingest.metadata import annotate_sections, detect_members, infer_areas, infer_document_meta, stated_area_from_heading
from ingest.metadata.language import DETECTABLE, UNDETERMINED
from ingest.schema import DocumentMeta, Section
from ingest.settings import PROJECT_ROOT
from ingest.vocabularies import MEMBERS, PRIORITY_AREAS, canonical_area, canonical_member

CORPUS = PROJECT_ROOT / "corpus"
STRATEGY_2018 = CORPUS / "bali_process/bp_2018_strategy_for_cooperation_update.txt"
WORK_PLAN_2024 = CORPUS / "bali_process/bp_wgtip_forward_work_plan_2024_26.txt"
COCHAIRS_2022 = CORPUS / "bali_process/bp_2022_16th_ahg_som_cochairs_statement.txt"


def _section(text: str, heading_path: list[str], attributes: dict | None = None, n: int = 0) -> Section:
    return Section(f"d:s-{n}", "d", f"s-{n}", heading_path, heading_path[-1], None, "heading", text, n,
                   attributes=attributes or {})


def _strategy_2018_sections() -> list[Section]:
    """The 2018 Strategy cut at its '#### (n) Area' headings, as the splitter would."""
    text = STRATEGY_2018.read_text("utf-8")
    parts = re.split(r"^#### (.+)$", text, flags=re.MULTILINE)
    return [_section(body, ["Bali Process Strategy for Cooperation", heading.strip()], n=n)
            for n, (heading, body) in enumerate(zip(parts[1::2], parts[2::2]))]


def _work_plan_2024_rows() -> list[tuple[str, str, str]]:
    """(action, priority area, lead) of each numbered action row of the 2024-26 work plan."""
    rows = []
    for line in WORK_PLAN_2024.read_text("utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) == 3 and re.match(r"\d+\)", cells[0]):
            rows.append(tuple(re.sub(r"</?i>", "", c).strip() for c in cells))
    return rows


# -- members ------------------------------------------------------------------------------------------------


def test_member_list_has_the_bali_process_states_and_organisations():
    states = [m for m in MEMBERS.values() if m.kind == "state"]
    organisations = {m.name for m in MEMBERS.values() if m.kind == "organisation"}
    assert len(states) == 45 and all(m.bali_process_member for m in states)
    assert organisations == {"IOM", "UNHCR", "UNODC", "ILO"}
    assert not MEMBERS["United Kingdom"].bali_process_member and MEMBERS["United Kingdom"].kind == "other"
    assert all(canonical_member(name) == name for name in MEMBERS)


@pytest.mark.parametrize(
    "alias, canonical",
    [
        ("ROK", "Republic of Korea"),
        ("South Korea", "Republic of Korea"),
        ("Korea, Republic of", "Republic of Korea"),
        ("Viet Nam", "Viet Nam"),
        ("Vietnam", "Viet Nam"),
        ("PNG", "Papua New Guinea"),
        ("Lao PDR", "Lao PDR"),
        ("Laos", "Lao PDR"),
        ("Lao People’s Democratic Republic", "Lao PDR"),
        ("DPR Korea", "DPR Korea"),
        ("DPRK", "DPR Korea"),
        ("North Korea", "DPR Korea"),
        ("UAE", "United Arab Emirates"),
        ("USA", "United States"),
        ("United States of America", "United States"),
        ("PRC", "China"),
        ("turkey", "Türkiye"),
        ("East Timor", "Timor-Leste"),
        ("Brunei", "Brunei Darussalam"),
        ("International Organization for Migration", "IOM"),
        ("UN Office on Drugs and Crime", "UNODC"),
        ("Indonesia (sub-national: DI Yogyakarta)", "Indonesia"),
    ],
)
def test_aliases_resolve_to_one_canonical_member(alias, canonical):
    assert canonical_member(alias) == canonical


@pytest.mark.parametrize("name", ["Atlantis", "", "Korea", "Sri Lankan"])
def test_unknown_member_is_an_error_naming_the_value(name):
    with pytest.raises(UnknownFilterValueError) as exc:
        canonical_member(name)
    assert exc.value.field == "member" and exc.value.value == name and repr(name) in str(exc.value)


def test_members_named_in_the_2022_cochairs_statement_are_detected():
    found = detect_members(COCHAIRS_2022.read_text("utf-8"))
    assert found[:2] == ["Indonesia", "Australia"]  # "co-chaired by Indonesia and Australia in Bali, Indonesia"
    assert {"IOM", "UNHCR", "UNODC"} <= set(found)
    assert len(found) == len(set(found)) and all(m in MEMBERS for m in found)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Delegations from the ROK, Viet\nNam and PNG met.", ["Republic of Korea", "Viet Nam", "Papua New Guinea"]),
        ("the Lao People's Democratic\nRepublic and DPR Korea", ["Lao PDR", "DPR Korea"]),
        ("Timor-\nLeste, the UAE and the U.S. delegation", ["Timor-Leste", "United Arab Emirates", "United States"]),
        ("Democratic People's Republic of Korea", ["DPR Korea"]),  # not also the Republic of Korea
        ("Hong Kong, China and Macao SAR", ["Hong Kong SAR", "Macau SAR"]),
        ("AUSTRALIA'S delegation and Australia's minister", ["Australia"]),
        ("IOM Indonesia", ["IOM", "Indonesia"]),
    ],
)
def test_detection_handles_aliases_codes_and_line_breaks(text, expected):
    assert detect_members(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Let us thank them; send us the png files and the iom logs.",
        "LET US PROCEED TO THE VOTE",
        "Chad and Georgia are not members; Indiana is a state, Indian a word.",
        "roast turkey on china plates, served by jordan",
        "Malaysian officials, Indonesian law, Sri Lankan missions, Filipino workers, Australian ports",
        "see 8 U.S.C. 1324 and Co-Chairs; RSO",
    ],
)
def test_no_member_is_detected_in_words_adjectives_or_citations(text):
    assert detect_members(text) == []


# -- priority areas -----------------------------------------------------------------------------------------


def test_every_2018_strategy_heading_names_an_area():
    headings = re.findall(r"^#### (.+)$", STRATEGY_2018.read_text("utf-8"), flags=re.MULTILINE)
    assert [stated_area_from_heading(h) for h in headings] == list(PRIORITY_AREAS)


def test_every_adelaide_name_in_the_2024_work_plan_maps_to_the_taxonomy():
    names = {area for _, area, _ in _work_plan_2024_rows()}
    assert {"Irregular Migration and Related Transnational Crime", "Law Enforcement",
            "Information sharing and public information campaigns"} <= names
    assert {canonical_area(n) for n in names} <= set(PRIORITY_AREAS)


@pytest.mark.parametrize(
    "name, area",
    [
        ("Border management", "border_management"),
        ("border_management", "border_management"),
        ("(4) Border management", "border_management"),
        ("Irregular migration", "irregular_migration"),
        ("Irregular Migration and Related Transnational Crime", "irregular_migration"),
        ("Information sharing and public information campaigns", "information_sharing"),
        ("Victim protection & migration management", "victim_protection"),
        ("RETURNS AND REINTEGRATION", "returns_reintegration"),
        ("Law Enforcement", "law_enforcement"),
        ("Coordination and support.", "coordination_support"),
    ],
)
def test_both_strategies_area_names_map_to_one_taxonomy(name, area):
    assert canonical_area(name) == area


@pytest.mark.parametrize("name", ["space piracy", "", "Border"])
def test_unknown_area_is_an_error_naming_the_value(name):
    with pytest.raises(UnknownFilterValueError) as exc:
        canonical_area(name)
    assert exc.value.field == "priority_area" and exc.value.value == name


@pytest.mark.parametrize("heading", ["Opening", "Part II", "Protection of victims", "Border management cooperation in 2019"])
def test_a_heading_that_only_mentions_an_area_does_not_state_it(heading):
    assert stated_area_from_heading(heading) is None


def test_strategy_headings_state_the_area_of_their_sections():
    sections = _strategy_2018_sections()
    annotate_sections(DocumentMeta("bp-strategy-2018", "x", "Bali Process Strategy for Cooperation", doc_type="strategy"), sections)
    for s in sections:
        stated = [t for t in s.priority_areas if t.basis == "stated"]
        assert [(t.area, t.evidence) for t in stated] == [(stated_area_from_heading(s.title), f"heading '{s.title}'")]
    border = sections[3]
    assert border.title == "(4) Border management"
    assert {t.area for t in border.priority_areas if t.basis == "inferred"} <= set(PRIORITY_AREAS) - {"border_management"}


def test_work_plan_rows_state_their_area_and_their_lead_is_a_member():
    rows = {lead: (action, area) for action, area, lead in _work_plan_2024_rows()}
    action, area = rows["IOM Indonesia"]
    s = _section(action, ["Forward Work Plan 2024-26", "Action items"], {"priority_area": area, "lead": "IOM Indonesia"})
    annotate_sections(DocumentMeta("wp", "x", "Forward Work Plan 2024-26", doc_type="work_plan"), [s])
    assert s.members[-2:] == ["IOM", "Indonesia"]
    assert s.priority_areas[0].area == canonical_area(area) and s.priority_areas[0].basis == "stated"
    assert "table column 'Priority Area'" in s.priority_areas[0].evidence

    action, area = rows["Co-Chairs; RSO"]
    s = _section(action, ["Action items"], {"priority_area": area, "lead": "Co-Chairs; RSO"})
    annotate_sections(DocumentMeta("wp", "x", "t", doc_type="work_plan"), [s])
    assert s.members == []  # the co-chairs and the RSO are roles, not members
    assert ("coordination_support", "inferred") in [(t.area, t.basis) for t in s.priority_areas]


def test_a_column_naming_two_areas_states_both():
    s = _section("Joint training.", ["Action items"], {"priority_area": "Border management; Law enforcement", "lead": "Australia"})
    annotate_sections(DocumentMeta("wp", "x", "t", doc_type="work_plan"), [s])
    assert [(t.area, t.basis) for t in s.priority_areas][:2] == [("border_management", "stated"), ("law_enforcement", "stated")]
    assert s.members == ["Australia"]


def test_inferred_areas_keep_their_evidence_and_never_duplicate_a_stated_one():
    text = "Victims shall receive shelter, medical assistance and witness protection; non-punishment applies."
    (tag,) = [t for t in infer_areas(text) if t.area == "victim_protection"]
    assert tag.basis == "inferred" and "non-punishment" in tag.evidence.split("; ")
    s = _section(text, ["Strategy", "(6) Victim protection and migration management"])
    annotate_sections(DocumentMeta("d", "x", "Strategy"), [s])
    assert [(t.area, t.basis) for t in s.priority_areas if t.area == "victim_protection"] == [("victim_protection", "stated")]


def test_one_general_cue_is_not_enough_evidence_but_one_specific_cue_is():
    assert infer_areas("The victims were consulted.") == []
    (tag,) = infer_areas("Support the use of biometrics.")
    assert (tag.area, tag.evidence) == ("border_management", "biometrics")
    # the forum's own name is not evidence of irregular migration
    assert infer_areas("The Bali Process on People Smuggling, Trafficking in Persons and Related Transnational Crime met.") == []


def test_malay_and_indonesian_cues_are_evidence():
    ms = "Pegawai penguat kuasa boleh menjalankan penyiasatan apa-apa kesalahan di bawah Akta ini."
    id_ = "Pemerintah Daerah memberikan perlindungan dan rehabilitasi kepada Korban."
    assert "law_enforcement" in [t.area for t in infer_areas(ms)]
    assert "victim_protection" in [t.area for t in infer_areas(id_)]


def test_a_national_law_section_belongs_to_its_jurisdiction_first():
    s = _section("Any person who traffics a child into Malaysia commits an offence.", ["Act", "s. 14"])
    annotate_sections(DocumentMeta("lk", "x", "t", doc_type="law", jurisdiction="Sri Lanka"), [s])
    assert s.members == ["Sri Lanka", "Malaysia"]
    statement = _section("Sri Lanka spoke.", ["Statement"])
    annotate_sections(DocumentMeta("st", "x", "t", doc_type="statement", jurisdiction="Australia"), [statement])
    assert statement.members == ["Sri Lanka"]


# -- documents without a manifest entry ----------------------------------------------------------------------

LK_HEAD = """PARLIAMENT OF THE DEMOCRATIC
SOCIALIST REPUBLIC OF
SRI LANKA
PREVENTION OF CRIMES (AMENDMENT)
ACT, No. 9 OF 2019
Printed on the Order of Government
BE it enacted by the Parliament of the Democratic Socialist
Republic of Sri Lanka as follows: -
1. This Act may be cited as the Prevention of Crimes (Amendment) Act, No. 9 of 2019.
"""
PH_HEAD = """Republic of the Philippines
Congress of the Philippines
Metro Manila
Fifteenth Congress
[REPUBLIC ACT NO. 10364]
AN ACT EXPANDING REPUBLIC ACT NO. 9208, ENTITLED "AN ACT TO INSTITUTE POLICIES TO ELIMINATE TRAFFICKING IN PERSONS"
Be it enacted by the Senate and House of Representatives of the Philippines in Congress assembled:
SECTION 1. Short Title. - This Act shall be known as the "Expanded Anti-Trafficking in Persons Act of 2012".
"""
ID_HEAD = """UNDANG-UNDANG REPUBLIK INDONESIA
NOMOR 21 TAHUN 2007
TENTANG
PEMBERANTASAN TINDAK PIDANA PERDAGANGAN ORANG
DENGAN RAHMAT TUHAN YANG MAHA ESA
PRESIDEN REPUBLIK INDONESIA,
Menimbang : a. bahwa setiap orang sebagai makhluk ciptaan Tuhan Yang Maha Esa mempunyai hak asasi yang
dimaksud dalam Pasal 1 ayat (1) tersebut;
"""
MY_HEAD = """D.R. 7/2007
RANG UNDANG-UNDANG
b e r n a m a
Suatu Akta untuk mengadakan peruntukan bagi kesalahan pemerdagangan orang dan bagi perkara yang berkaitan dengannya.
DIPERBUAT oleh Parlimen Malaysia seperti yang berikut:
1. (1) Akta ini bolehlah dinamakan Akta Antipemerdagangan Orang 2007.
(2) Akta ini mula berkuat kuasa pada tarikh yang ditetapkan oleh Menteri dan hendaklah dibaca bersama seksyen 2.
"""


@pytest.mark.parametrize(
    "head, title, jurisdiction, year, language",
    [
        (LK_HEAD, "Prevention of Crimes (Amendment) Act, No. 9 of 2019", "Sri Lanka", 2019, "en"),
        (PH_HEAD, "Republic Act No. 10364 - Expanded Anti-Trafficking in Persons Act of 2012", "Philippines", 2012, "en"),
        (ID_HEAD, "UNDANG-UNDANG REPUBLIK INDONESIA NOMOR 21 TAHUN 2007 TENTANG PEMBERANTASAN TINDAK PIDANA PERDAGANGAN ORANG",
         "Indonesia", 2007, "id"),
        (MY_HEAD, "Akta Antipemerdagangan Orang 2007", "Malaysia", 2007, "ms"),
    ],
    ids=["sri-lanka-act", "philippine-republic-act", "indonesian-undang-undang", "malay-bill"],
)
def test_metadata_of_an_unlisted_law_is_inferred_from_its_first_page(tmp_path, head, title, jurisdiction, year, language):
    meta = infer_document_meta(tmp_path / "laws" / "Some New Law (2).txt", head, corpus_root=tmp_path)
    assert (meta.title, meta.doc_type, meta.jurisdiction, meta.year, meta.language) == (title, "law", jurisdiction, year, language)
    assert meta.members == [jurisdiction]
    assert meta.doc_id == "some-new-law-2" and meta.path == "laws/Some New Law (2).txt"
    assert {"doc_id", "title", "doc_type", "jurisdiction", "members", "year", "language"} <= set(meta.inferred_fields)


@pytest.mark.parametrize(
    "head, doc_type",
    [
        ("# Bali Process\n## Regional Ministerial Conference\n### Declaration\nThe Ministers met in Adelaide.", "declaration"),
        ("Co-Chairs' Statement\n\nThe meeting was co-chaired by Indonesia and Australia.", "statement"),
        ("Annual Report 2021\n\nThe RSO delivered projects.", "report"),
        ("Meeting notes\n\nNothing of note was said about anything at all in this meeting of the group.", "other"),
    ],
)
def test_non_law_types_come_from_the_title(tmp_path, head, doc_type):
    meta = infer_document_meta(tmp_path / "doc.txt", head)
    assert meta.doc_type == doc_type and meta.jurisdiction is None


def test_a_plan_period_gives_year_and_year_to(tmp_path):
    meta = infer_document_meta(tmp_path / "wgtip_plan.txt", "Forward Work Plan: 2017-19\n\nBackground and Purpose\n")
    assert (meta.doc_type, meta.year, meta.year_to) == ("work_plan", 2017, 2019)
    assert "year_to" in meta.inferred_fields


def test_empty_text_gives_sane_defaults(tmp_path):
    meta = infer_document_meta(tmp_path / "scan_0001.pdf", "")
    assert (meta.doc_id, meta.title, meta.doc_type, meta.language) == ("scan-0001", "scan 0001", "other", "und")
    assert (meta.jurisdiction, meta.year, meta.members) == (None, None, [])
    assert meta.inferred_fields == ["doc_id", "title", "doc_type", "language"]


def _manifest() -> list[dict]:
    with open(CORPUS / "manifest.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _first_pages(path: Path) -> str:
    if path.suffix == ".json":
        return load_file(path).text[:3000]
    if path.suffix == ".pdf":
        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages[:3])[:3000]
    return path.read_text("utf-8")[:3000]


# Where the manifest knows more than the first pages say, the inference leaves the field empty; these are
# asserted exactly, so a change in either direction shows up.
MANIFEST_KNOWS_MORE = {
    "us-18-usc-ch77": {"year": None},  # 2023 is the Code edition, not in the text
    "us-22-usc-ch78": {"year": None},  # 2000 is the TVPA's year, stated only in later sections' notes
    "us-8-usc-1324": {"year": None},
}


@pytest.mark.parametrize(
    "row",
    [r for r in _manifest() if r["doc_id"] != "pk-pta-2018"],  # a scanned act: no text without OCR
    ids=lambda r: r["doc_id"],
)
def test_inference_from_first_pages_agrees_with_the_manifest(row):
    path = CORPUS / row["path"]
    loaded = load_file(path) if path.suffix == ".json" else None
    fields = loaded.provisions.fields if loaded else None
    meta = infer_document_meta(Path(row["path"]), _first_pages(path), fields=fields)
    expected = {
        "doc_type": row["doc_type"],
        "jurisdiction": row["jurisdiction"] or None,
        "year": int(row["year"]) if row["year"] else None,
        "language": row["language"],
        "status": row["status"] if fields else "unknown",  # only provision JSON states it
    }
    expected.update(MANIFEST_KNOWS_MORE.get(row["doc_id"], {}))
    assert {k: getattr(meta, k) for k in expected} == expected
    if row["period"]:
        assert f"{meta.year}-{meta.year_to}" == row["period"]
    if row["doc_type"] in ("law", "judicial_interpretation"):
        assert meta.members == [row["jurisdiction"]]
    assert meta.title and len(meta.title) <= 251


# -- properties ------------------------------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from([
    "Viet\nNam", "ROK", "US", "us", "U.S.", "PNG", "png", "Sri Lanka", "Sri Lankan", "IOM", "china", "China",
    "Republic of Korea", "Democratic People's Republic of Korea", "Timor-\nLeste", "border officials", "victims",
    "non-punishment", "RSO", "offence", "Act, No. 9 of 2019", "REPUBLIC ACT NO. 1", "TAHUN 2007", "2017-19",
    "PARLIAMENT OF", "#", "\n", " ", ",", "'", "’", "---\nTitle: x\n---\n", "<!-- -->", "may be cited as the",
])
_TEXTS = st.one_of(st.text(max_size=1500), st.lists(st.one_of(_FRAGMENTS, st.text(max_size=20)), max_size=60).map("".join))


@hsettings(max_examples=150, deadline=None)
@given(_TEXTS)
def test_detection_and_inference_never_crash_and_stay_canonical(text):
    found = detect_members(text)
    assert len(found) == len(set(found)) and all(m in MEMBERS for m in found)
    tags = infer_areas(text)
    assert len({t.area for t in tags}) == len(tags)
    assert all(t.area in PRIORITY_AREAS and t.basis == "inferred" and t.evidence for t in tags)
    meta = infer_document_meta(Path("x.txt"), text)
    assert meta.doc_id and meta.title and meta.language in (*DETECTABLE, UNDETERMINED)
    assert meta.jurisdiction is None or meta.jurisdiction in MEMBERS
    assert len(meta.members) == len(set(meta.members)) and all(m in MEMBERS for m in meta.members)
    assert meta.year_to is None or (meta.year is not None and meta.year <= meta.year_to)


@hsettings(max_examples=100, deadline=None)
@given(
    _TEXTS,
    st.sampled_from(["(1) Law enforcement", "Opening", "(7) Returns and reintegration", "Part II", "Border management"]),
    st.sampled_from(["", "Border management", "Stakeholder engagement; Law Enforcement", "Nonsense column"]),
    st.sampled_from(["", "Australia", "IOM Indonesia", "Co-Chairs; RSO", "All members"]),
    st.sampled_from(["law", "strategy", "work_plan"]),
)
def test_annotation_never_tags_an_area_both_stated_and_inferred(text, heading, column, lead, doc_type):
    attributes = {k: v for k, v in {"priority_area": column, "lead": lead}.items() if v}
    s = _section(text, ["Doc", heading], attributes)
    annotate_sections(DocumentMeta("d", "x", "Doc", doc_type=doc_type, jurisdiction="Sri Lanka"), [s])
    areas = [t.area for t in s.priority_areas]
    assert len(areas) == len(set(areas)) and set(areas) <= set(PRIORITY_AREAS)
    assert len(s.members) == len(set(s.members)) and all(m in MEMBERS for m in s.members)
    if stated_area_from_heading(heading):
        assert (stated_area_from_heading(heading), "stated") in [(t.area, t.basis) for t in s.priority_areas]
    named = detect_members("\n".join([heading, text, lead]))
    assert s.members == (list(dict.fromkeys(["Sri Lanka", *named])) if doc_type == "law" else named)


# ---------------------------------------------------------------------------------------------------------
# The manifest: the corpus's own metadata, checked against the vocabularies


def _manifest(tmp_path: Path, **cells: str) -> Path:
    row = {"doc_id": "au-act", "path": "au.txt", "title": "An Act", "doc_type": "law", **cells}
    with open(tmp_path / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    return tmp_path / "manifest.csv"


def test_the_corpus_manifest_loads_with_canonical_members():
    docs = load_manifest(CORPUS / "manifest.csv")
    assert len(docs) == len({d.doc_id for d in docs.values()}) > 0
    assert all(m in MEMBERS for d in docs.values() for m in [*d.members, *filter(None, [d.jurisdiction])])


def test_manifest_cells_resolve_through_the_vocabularies(tmp_path):
    path = _manifest(tmp_path, members="Commonwealth of Australia; ; Indonesia (sub-national: DI Yogyakarta)",
                     jurisdiction="australia", year="2001", period="2017-19")
    (meta,) = load_manifest(path).values()
    assert (meta.members, meta.jurisdiction, meta.year, meta.year_to) == (["Australia", "Indonesia"], "Australia", 2017, 2019)


@pytest.mark.parametrize(
    "cells, field",
    [
        ({"doc_id": "Bad Id"}, "doc_id"),
        ({"path": "../outside.txt"}, "path"),
        ({"doc_type": "novel"}, "doc_type"),
        ({"year": "20x0"}, "year"),
        ({"period": "2019-17"}, "period"),
        ({"members": "Australia; Atlantis"}, "members"),
        ({"jurisdiction": "Atlantis"}, "jurisdiction"),
        ({"title": " "}, "title"),
    ],
)
def test_a_bad_manifest_cell_is_named_by_line_and_field(tmp_path, cells, field):
    with pytest.raises(ManifestError, match=rf"manifest\.csv:2: field '{field}'"):
        load_manifest(_manifest(tmp_path, **cells))

