"""Metadata of files without a manifest row in the region's languages (Thai, Chinese, Bengali, Turkish, provision
JSON), language detection and ``und``, and document status from the manifest and from the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import ManifestError
from ingest.manifest import load_manifest
from ingest.metadata import infer_document_meta
from ingest.metadata.language import UNDETERMINED
from ingest.schema import DocumentMeta
from ingest.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"



@pytest.mark.parametrize(
    "name, member, language, year, status, doc_type",
    [
        ("laws/th_anti_trafficking_act_2008_th.txt", "Thailand", "th", 2008, "unknown", "law"),  # พ.ศ. ๒๕๕๑
        ("laws/th_immigration_act_1979_th.txt", "Thailand", "th", 1979, "unknown", "law"),
        ("laws/cn_anti_organized_crime_law_2021_zh.md", "China", "zh", 2021, "unknown", "law"),  # 2021年
        ("laws/bd_pshta_2012_bn.json", "Bangladesh", "bn", 2012, "repealed", "law"),  # ২০১২ in its title
        ("laws/bd_overseas_employment_migrants_act_2013_bn.json", "Bangladesh", "bn", 2013, "in_force", "law"),
        ("laws/tr_law_6458_foreigners_international_protection_tr.json", "Türkiye", "tr", 2013, "in_force", "law"),
        ("laws/sg_phta_2014.json", "Singapore", "en", 2014, "in_force", "law"),
        ("international/ilo_c029_forced_labour_convention_1930_en.md", None, "en", 1930, "unknown", "convention"),
    ],
)
def test_a_file_copied_without_its_row_has_member_language_year_and_status_inferred(tmp_path, name, member, language,
                                                                                    year, status, doc_type):
    from ingest.processing import DocumentProcessor
    from ingest.settings import Settings

    copy = tmp_path / f"unlisted{Path(name).suffix}"  # a name that says nothing
    copy.write_bytes((CORPUS / name).read_bytes())
    processor = DocumentProcessor(Settings())
    meta = processor.describe(copy, processor.load(copy), None)
    assert (meta.jurisdiction, meta.language, meta.year, meta.status, meta.doc_type) == (member, language, year, status, doc_type)
    assert meta.members == ([member] if member else ["ILO"])  # a treaty's members are those it names
    assert {"language", "doc_type"} <= set(meta.inferred_fields)


def test_thai_and_chinese_titles_are_read_from_the_text(tmp_path):
    thai = infer_document_meta(tmp_path / "a.txt", (CORPUS / "laws/th_anti_trafficking_act_2008_th.txt").read_text("utf-8"))
    assert thai.title == "พระราชบัญญัติ ป้องกันและปราบปรามการค้ามนุษย์ พ.ศ. ๒๕๕๑"
    chinese = infer_document_meta(tmp_path / "b.md", (CORPUS / "laws/cn_criminal_law_2023_zh.md").read_text("utf-8"))
    assert (chinese.title, chinese.year) == ("中华人民共和国刑法", 1979)  # no year in the name: the first adoption
    spc = infer_document_meta(tmp_path / "c.md", (CORPUS / "laws/cn_spc_interpretation_trafficking_women_children_2016_zh.md").read_text("utf-8"))
    assert (spc.doc_type, spc.jurisdiction) == ("judicial_interpretation", "China")


@pytest.mark.parametrize("text", ["", "12 345 -- 67/89 (2) [3] ... 10.11.12 \n 2024 | 77", "ab cd", "§ 1 - 2"])
def test_a_text_in_no_identifiable_language_is_und(tmp_path, text):
    assert infer_document_meta(tmp_path / "numbers.txt", text).language == UNDETERMINED


def test_a_manifest_status_beats_the_file_and_a_blank_one_takes_it(tmp_path):
    from ingest.metadata import adopt_source_fields

    meta = DocumentMeta("x", "x.json", "X", status="in_force")
    assert adopt_source_fields(meta, {"status": "repealed"}).status == "in_force"
    meta = DocumentMeta("x", "x.json", "X")
    assert adopt_source_fields(meta, {"status": "Repealed"}).status == "repealed"
    assert adopt_source_fields(DocumentMeta("y", "y.json", "Y"), {"status": "draft"}).status == "unknown"


def test_a_bad_status_in_the_manifest_is_named(tmp_path):
    (tmp_path / "a.txt").write_text("text", encoding="utf-8")
    (tmp_path / "manifest.csv").write_text("doc_id,path,title,doc_type,status\na,a.txt,A,law,abolished\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"manifest.csv:2: field 'status': 'abolished'"):
        load_manifest(tmp_path / "manifest.csv")


def test_the_manifest_gives_every_corpus_document_a_status():
    metas = {m.doc_id: m for m in load_manifest(CORPUS / "manifest.csv").values()}
    assert metas["bd-pshta-2012"].status == "repealed"
    assert metas["my-atip-bill-2007-en"].status == "unknown"  # a bill as tabled is not in force
    assert metas["un-trafficking-protocol-2000"].status == "in_force"
    assert {m.status for m in metas.values()} <= {"in_force", "repealed", "unknown"}
