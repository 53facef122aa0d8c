"""Structured provision JSON: the real Singapore, Bangladesh and Türkiye files, and broken files made on the spot."""

from __future__ import annotations

import json
import shutil

import pytest

from ingest.errors import CorruptFileError, EmptyDocumentError, IngestError, InvalidStructureError
from ingest.loaders import load_file
from ingest.manifest import load_manifest
from ingest.provision_sections import ascii_number, build_provision_sections, split_glued_heading
from ingest.schema import SECTION_ID_RE, DocumentMeta
from ingest.sections import split_sections
from ingest.settings import PROJECT_ROOT

LAWS = PROJECT_ROOT / "corpus" / "laws"
SG_IA = LAWS / "sg_immigration_act_1959.json"
SG_PHTA = LAWS / "sg_phta_2014.json"
BD_PSHTA = LAWS / "bd_pshta_2012_bn.json"
BD_OEMA = LAWS / "bd_overseas_employment_migrants_act_2013_bn.json"
TR_6458 = LAWS / "tr_law_6458_foreigners_international_protection_tr.json"
MANIFEST = load_manifest(PROJECT_ROOT / "corpus" / "manifest.csv")


def _sections(path):
    meta = MANIFEST[path.resolve()]
    return split_sections(meta, load_file(path))


def _by_path(sections):
    return {s.path: s for s in sections}


@pytest.mark.parametrize("path", [SG_IA, SG_PHTA, BD_PSHTA, BD_OEMA, TR_6458], ids=lambda p: p.stem)
def test_each_provision_becomes_one_section_with_an_ascii_unique_id(path):
    sections = _sections(path)
    provisions = json.loads(path.read_text("utf-8"))["provisions"]
    units = [s for s in sections if s.kind != "chapter"]
    assert len(units) == len(provisions)
    ids = [s.section_id for s in sections]
    assert len(ids) == len(set(ids)) and all(SECTION_ID_RE.match(i) for i in ids)
    assert all(s.heading_path[0] == MANIFEST[path.resolve()].title for s in sections)
    # the text is the source's, untouched (but for Law 6458's next heading glued to its end, cut off: see
    # test_turkish_headings_glued_to_the_provision_before_are_moved_to_theirs); a provision with nothing but its
    # designation is an empty heading
    for unit, provision in zip(units, provisions):
        if unit.kind == "heading":
            assert unit.text == ""
        elif path == TR_6458:
            whole = provision["content"].strip()
            assert whole.startswith(unit.text) and (len(whole) - len(unit.text) <= 200 or "$(document)" in whole)
        else:
            assert unit.text == provision["content"].strip()
        assert unit.attributes["provision_ref"] == provision["provision_ref"]
    assert sum(u.kind == "heading" for u in units) == (2 if path == TR_6458 else 0)


def test_singapore_designations_give_ids_and_the_printed_number():
    sections = _by_path(_sections(SG_IA))
    s5a, s5aa = sections["part-2.s-5a"], sections["part-2.s-5aa"]
    assert (s5a.number, s5aa.number) == ("Section 5A", "Section 5AA")
    assert s5a.title.startswith("Person entering or leaving Singapore")
    assert s5a.parent_id == "sg-immigration-act-1959:part-2" and s5a.level == 2
    part = sections["part-2"]
    assert (part.kind, part.number, part.title, part.text) == ("chapter", "Part 2", "Entry into and departure from Singapore", "")
    assert "part-2a.s-9a" in sections  # PART 2A
    assert len(sections["part-6.s-57"].text) == 12000  # cut short in the source, kept as it is


def test_bengali_sections_take_the_number_printed_in_the_text_in_ascii():
    sections = _by_path(_sections(BD_OEMA))
    # the source's section field counts provisions (15, 16 ...); the Act prints ১৪ক and ১৫
    s14a = sections["ch-3.s-14a"]
    assert s14a.number == "ধারা ১৪ক" and s14a.attributes["provision_ref"] == "sec15"
    assert sections["ch-3.s-15"].attributes["provision_ref"] == "sec16"
    assert sections["ch-1"].number == "প্রথম অধ্যায়" and sections["ch-1"].title == "প্রারম্ভিক"
    assert sections["ch-7"].title == "অভিবাসী কর্মীর অধিকার ও দায়-দায়িত্ব"  # footnote mark "5 [...]" dropped
    pshta = _by_path(_sections(BD_PSHTA))
    assert pshta["ch-1.s-3"].number == "ধারা ৩" and pshta["ch-1.s-3"].title == "মানব পাচার"


def test_turkish_titles_that_are_opening_words_are_not_headings_and_repeats_get_distinct_ids():
    sections = _sections(TR_6458)
    by_path = _by_path(sections)
    assert by_path["art-60-a"].number == "Madde 60/A" and by_path["art-60-a"].title == "Gönüllü geri dönüş"
    assert by_path["art-1"].title == "" and by_path["art-1"].text.startswith("Madde 1 - (1) Bu Kanunun amacı")
    # madde1 three times (the Law, its additional and its provisional articles): three ids, in order
    ones = [s.path for s in sections if s.number == "Madde 1"]
    assert ones == ["art-1", "art-1-2", "art-1-3"]
    ek = by_path["ek-maddeler.ek-art-1"]
    assert (ek.number, ek.text, ek.kind) == ("Ek Madde 1", "", "heading")
    assert by_path["ek-maddeler"].title == "Ek Maddeler"
    # the chapter fields that are shreds of other text make no container
    assert all(s.kind != "chapter" or s.path == "ek-maddeler" for s in sections)


def test_turkish_headings_glued_to_the_provision_before_are_moved_to_theirs():
    by_path = _by_path(_sections(TR_6458))
    # the source: Madde 97's content ends "... dört saati geçemez.Taşıyıcıların yükümlülükleri", Madde 98's heading
    assert by_path["art-97"].text.endswith("bilgi almasüresi dört saati geçemez.")
    assert by_path["art-97"].title == "Davete uyma yükümlülüğü"
    assert by_path["art-98"].title == "Taşıyıcıların yükümlülükleri" and by_path["art-98"].heading_path[-1] == "Madde 98 Taşıyıcıların yükümlülükleri"
    assert by_path["art-3"].title == "Tanımlar" and by_path["art-2"].title == "Kapsam"
    # a chapter's heading run in before the article's ("...ifade eder.İKİNCİ BÖLÜMGeri Gönderme YasağıGeri gönderme
    # yasağı") is cut from the text, not taken for the heading
    assert by_path["art-3"].text.endswith("işletmecilerini,ifade eder.") and by_path["art-4"].title == "Geri gönderme yasağı"
    # a heading that is also the article's first words stays its heading
    assert by_path["art-5"].title == "Türkiye’ye giriş ve Türkiye’den çıkış"
    # the first article has none before it; a repealed stub keeps its "Repealed (...)" title
    assert by_path["art-1"].title == "" and by_path["art-104"].title.startswith("Repealed (Mülga")
    assert by_path["art-48"].title == "İnsan ticareti mağduru ikamet izni"


def test_a_web_page_script_scraped_into_the_last_article_is_cut():
    last = _by_path(_sections(TR_6458))["art-126"]
    assert last.title == "Yürütme" and last.text.startswith("Madde 126 - (1) Bu Kanun hükümlerini")
    assert "document" not in last.text and "function" not in last.text and last.text.endswith("ibaresi eklenmiştir.")


@pytest.mark.parametrize("content, expected", [
    ("(1) Bir cümle.Kişisel veriler", ("(1) Bir cümle.", "Kişisel veriler")),
    ("(1) Bir cümle. [16]Uzun dönem ikamet izni", ("(1) Bir cümle. [16]", "Uzun dönem ikamet izni")),
    ("d) adres bilgilerini vermekKısa dönem ikamet izni [7]", ("d) adres bilgilerini vermek", "Kısa dönem ikamet izni")),
    ("(1) Bir cümle.", ("(1) Bir cümle.", "")),  # nothing glued
    ("(1) Bir cümle.(2) İkinci fıkra 3 gün içinde yapılır", ("(1) Bir cümle.(2) İkinci fıkra 3 gün içinde yapılır", "")),
])
def test_split_glued_heading(content, expected):
    assert split_glued_heading(content) == expected


def test_repealed_stubs_are_titled_and_marked_repealed():
    by_path = _by_path(_sections(TR_6458))
    stub = by_path["art-103"]
    assert stub.title.startswith("Repealed (Mülga: 2/7/2018-KHK-703/71 md")
    assert stub.status == "repealed" and stub.attributes["repealed"].startswith("Mülga")
    assert by_path["art-102"].status == ""  # the document's status, filled in when annotated
    assert sum(s.status == "repealed" for s in by_path.values()) == 19


@pytest.mark.parametrize("number, expected", [("5A", "5a"), ("5AA", "5aa"), ("60/A", "60-a"), ("১৪ক", "14a"),
                                              ("৫", "5"), ("๑๒", "12")])
def test_designation_numbers_become_ascii(number, expected):
    assert ascii_number(number) == expected


# -- bad files -------------------------------------------------------------------------------------------------


def _write(tmp_path, name, data) -> object:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _minimal(**overrides) -> dict:
    doc = {"id": "x", "type": "statute", "title": "Test Act 2020", "status": "in_force",
           "provisions": [{"provision_ref": "s1", "chapter": "", "section": "1", "title": "Short title",
                           "content": "1. This Act is the Test Act 2020."}]}
    doc.update(overrides)
    return doc


def test_malformed_json_names_the_file_line_and_column(tmp_path):
    path = _write(tmp_path, "broken.json", '{"title": "x",\n "provisions": [\n  {"provision_ref": "s1",, }\n]}')
    with pytest.raises(CorruptFileError) as err:
        load_file(path)
    assert "broken.json" in str(err.value) and "line 3, column" in str(err.value)


@pytest.mark.parametrize("field", ["title", "provisions"])
def test_a_missing_document_field_is_named(tmp_path, field):
    doc = _minimal()
    del doc[field]
    with pytest.raises(InvalidStructureError) as err:
        load_file(_write(tmp_path, "nofield.json", doc))
    assert "nofield.json" in str(err.value) and repr(field) in str(err.value)


@pytest.mark.parametrize("field", ["provision_ref", "section", "content"])
def test_a_missing_provision_field_is_named_with_its_index(tmp_path, field):
    doc = _minimal()
    doc["provisions"].append(dict(doc["provisions"][0], provision_ref="s2", section="2"))
    del doc["provisions"][1][field]
    with pytest.raises(InvalidStructureError) as err:
        load_file(_write(tmp_path, "law.json", doc))
    assert "law.json" in str(err.value) and "provisions[1]" in str(err.value) and repr(field) in str(err.value)


@pytest.mark.parametrize("data", ["[1, 2]", '"text"', json.dumps({"title": "x", "provisions": "none"}),
                                  json.dumps({"title": "x", "provisions": ["s1"]})])
def test_json_of_another_shape_is_an_error_not_a_crash(tmp_path, data):
    with pytest.raises(InvalidStructureError) as err:
        load_file(_write(tmp_path, "other.json", data))
    assert "other.json" in str(err.value)


def test_an_empty_provisions_list_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(EmptyDocumentError) as err:
        load_file(_write(tmp_path, "empty_law.json", _minimal(provisions=[])))
    assert "empty_law.json" in str(err.value) and "provisions" in str(err.value)
    assert isinstance(err.value, IngestError)


def test_a_minimal_file_without_chapters_gives_top_level_sections(tmp_path):
    loaded = load_file(_write(tmp_path, "min.json", _minimal()))
    meta = DocumentMeta("test-act-2020", "min.json", "Test Act 2020")
    [s] = build_provision_sections(meta, loaded.provisions)
    assert (s.section_id, s.number, s.title, s.parent_id) == ("test-act-2020:s-1", "Section 1", "Short title", None)
    assert loaded.text.startswith("Test Act 2020")


def test_a_copied_real_file_keeps_its_ids(tmp_path):
    copy = tmp_path / "copy.json"
    shutil.copy(TR_6458, copy)
    meta = DocumentMeta("tr-law-6458-2013", "copy.json", "Law 6458")
    ids = [s.path for s in build_provision_sections(meta, load_file(copy).provisions)]
    assert ids == [s.path for s in _sections(TR_6458)]


def test_thai_and_chinese_provision_json_get_the_ids_their_text_would_get(tmp_path):
    thai = _minimal(title="พระราชบัญญัติทดสอบ พ.ศ. ๒๕๖๕", provisions=[
        {"provision_ref": "s6", "chapter": "หมวด ๑ บททั่วไป", "section": "6", "title": "", "content": "มาตรา ๖ ผู้ใดกระทำ"},
        {"provision_ref": "s6bis", "chapter": "หมวด ๑ บททั่วไป", "section": "6 ทวิ", "title": "", "content": "มาตรา ๖ ทวิ ผู้ใด"},
    ])
    chinese = _minimal(title="中华人民共和国测试法", provisions=[
        {"provision_ref": "a240", "chapter": "第四章 侵犯公民人身权利", "section": "240", "title": "",
         "content": "第二百四十条 拐卖妇女、儿童的，处五年以上十年以下有期徒刑"},
        {"provision_ref": "a240_1", "chapter": "第四章 侵犯公民人身权利", "section": "240-1", "title": "",
         "content": "第二百四十条之一 收买被拐卖的妇女、儿童的"},
    ])
    for name, doc, expected in (
        ("th.json", thai, [("ch-1", "หมวด ๑", "บททั่วไป"), ("ch-1.s-6", "มาตรา ๖", ""), ("ch-1.s-6-bis", "มาตรา ๖ ทวิ", "")]),
        ("zh.json", chinese, [("ch-4", "第四章", "侵犯公民人身权利"), ("ch-4.art-240", "第二百四十条", ""),
                              ("ch-4.art-240-1", "第二百四十条之一", "")]),
    ):
        sections = build_provision_sections(DocumentMeta("x", name, doc["title"]), load_file(_write(tmp_path, name, doc)).provisions)
        assert [(s.path, s.number, s.title) for s in sections] == expected
