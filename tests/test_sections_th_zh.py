"""Thai and Chinese laws: sections along มาตรา / หมวด and 第…条 / 编 / 章 / 节, on the real Gazette and statute
texts of the corpus, on layouts they do not have, and on generated text."""

from __future__ import annotations

import csv
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.loaders import LoadedDocument, load_file
from ingest.schema import SECTION_ID_RE, DocumentMeta, Section
from ingest.sections import split_sections
from ingest.sections.designations import CONTAINERS, UNITS, match_container, match_unit
from ingest.sections.numerals import chinese_int, decimal_int, thai_suffix
from ingest.sections.scripts import INVISIBLE, dominant_script, join_wrapped
from ingest.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def _manifest() -> dict[str, dict[str, str]]:
    with (CORPUS / "manifest.csv").open(encoding="utf-8") as fh:
        return {row["doc_id"]: row for row in csv.DictReader(fh)}


MANIFEST = _manifest()


@lru_cache(maxsize=None)
def _split(doc_id: str) -> tuple[Section, ...]:
    row = MANIFEST[doc_id]
    meta = DocumentMeta(doc_id=doc_id, path=row["path"], title=row["title"])
    return tuple(split_sections(meta, load_file(CORPUS / row["path"])))


def _by_path(doc_id: str) -> dict[str, Section]:
    return {s.path: s for s in _split(doc_id)}


def _units(sections) -> list[Section]:
    return [s for s in sections if s.kind in ("section", "article")]


def _split_text(text: str, fmt: str = "text", title: str = "Fixture") -> list[Section]:
    doc = LoadedDocument(path=Path(f"x.{'md' if fmt == 'markdown' else 'txt'}"), format=fmt, pages=[text], paged=False,
                         ocr_pages=[])
    return split_sections(DocumentMeta(doc_id="fixture", path="x", title=title), doc)


# ----------------------------------------------------------------------------------- Thai Gazette texts


def test_thai_anti_trafficking_act_has_sections_1_to_57_in_order_with_their_chapters():
    units = _units(_split("th-atipa-2008"))
    assert [s.number for s in units] == [f"มาตรา {str(n).translate(THAI_DIGITS)}" for n in range(1, 58)]
    paths = [s.path for s in units]
    assert paths[:5] == ["s-1", "s-2", "s-3", "s-4", "s-5"]  # before หมวด ๑: no chapter in the id
    assert paths[5:14] == [f"ch-1.s-{n}" for n in range(6, 15)]
    assert "ch-6.s-56" in paths and paths[-1] == "transitional.s-57"  # บทเฉพาะกาล
    s6 = _by_path("th-atipa-2008")["ch-1.s-6"]
    assert s6.section_id == "th-atipa-2008:ch-1.s-6" and s6.title == ""
    assert s6.heading_path[1:] == ["หมวด ๑ บททั่วไป", "มาตรา ๖"]
    assert s6.text.startswith("ผู้ใดเพื่อแสวงหาประโยชน์โดยมิชอบ") and "ผู้นั้นกระทำความผิดฐานค้ามนุษย์" in s6.text
    assert "\n\n(๑) เป็นธุระจัดหา ซื้อ ขาย" in s6.text  # list items keep a paragraph of their own
    s4 = _by_path("th-atipa-2008")["s-4"]
    assert "\n\n“เด็ก” หมายความว่า บุคคลผู้มีอายุต่ำกว่าสิบแปดปี" in s4.text  # U+0093/U+0094 repaired, one a line


def test_thai_wrapped_lines_join_without_a_space_and_cross_references_stay_text():
    sections = _by_path("th-atipa-2008")
    # "...ต้องระวางโทษไม่เกินกึ่งหนึ่ง" wrapped after "ตามมาตรา": the number opening the next line is no heading
    assert "เพื่อกระทำความผิดตามมาตรา ๖ ต้องระวางโทษไม่เกินกึ่งหนึ่ง" in sections["ch-1.s-9"].text
    assert "ให้ประธานศาลฎีกาและรัฐมนตรีว่าการกระทรวง" in sections["s-5"].text  # no space inside the Thai phrase
    toc = _by_path("th-toc-act-2013")
    assert "ยึดหรืออายัดไว้ตามมาตรา ๑๔ ให้เป็นไปตามข้อบังคับ" in toc["ch-2.s-15"].text
    assert all("\x93" not in s.text and "\x94" not in s.text for s in _split("th-atipa-2008"))


def test_thai_back_matter_after_the_countersignature_is_not_part_of_the_last_section():
    sections = _by_path("th-atipa-2008")
    last = sections["transitional.s-57"]
    assert "นายกรัฐมนตรี" not in last.text and "หมายเหตุ" not in last.text
    notes = sections["notes"]
    assert notes.kind == "notes" and notes.title == "ผู้รับสนองพระบรมราชโองการ"
    assert "เหตุผลในการประกาศใช้พระราชบัญญัติฉบับนี้" in notes.text
    assert "ราชกิจจานุเบกษา เล่ม ๑๒๕" in sections["footnotes"].text


def test_thai_consolidated_immigration_act_keeps_amendment_notes_apart():
    sections = _split("th-immigration-act-1979")
    units = _units(sections)
    assert [s.number for s in units] == [f"มาตรา {str(n).translate(THAI_DIGITS)}" for n in range(1, 93)]
    by_path = {s.path: s for s in sections}
    assert by_path["ch-6"].title == "การส่งคนต่างด้าวกลับออกไปนอกราชอาณาจักร"  # "หมวด" / "๖" over two lines
    assert by_path["ch-6.s-53"].heading_path[1] == "หมวด ๖ การส่งคนต่างด้าวกลับออกไปนอกราชอาณาจักร"
    assert "มาตรา ๒ พระราชบัญญัตินี้ให้ใช้บังคับตั้งแต่วันถัดจาก" in by_path["amendment-4"].text
    assert by_path["amendment-1"].title == "พระราชบัญญัติคนเข้าเมือง (ฉบับที่ ๒) พ.ศ. ๒๕๒๓"
    assert by_path["schedule"].kind == "schedule" and "(๑๐) เอกสารที่ออกให้ตามมาตรา ๕๒" in by_path["schedule"].text
    assert "ส. โหตระกิตย์" not in by_path["transitional.s-92"].text


def test_thai_transnational_organized_crime_act_has_32_sections():
    units = _units(_split("th-toc-act-2013"))
    assert len(units) == 32 and units[-1].path == "ch-4.s-32"


# ----------------------------------------------------------------------------------- Chinese statutes


def test_chinese_criminal_law_article_240_and_its_containers():
    sections = _by_path("cn-criminal-law-2023")
    art240 = sections["pt-2.ch-4.art-240"]
    assert art240.section_id == "cn-criminal-law-2023:pt-2.ch-4.art-240"
    assert art240.number == "第二百四十条" and art240.kind == "article"
    assert art240.text.startswith("拐卖妇女、儿童的，处五年以上十年以下有期徒刑")
    assert "\n\n（八）将妇女、儿童卖往境外的。" in art240.text
    assert art240.heading_path[1:] == ["第二编 分则", "第四章 侵犯公民人身权利、民主权利罪", "第二百四十条"]
    assert sections["pt-2.ch-6.sec-3.art-318"].number == "第三百一十八条"  # 第三节 妨害国（边）境管理罪
    assert sections["pt-2.ch-2.art-120-1"].number == "第一百二十条之一"
    assert sections["supplementary"].title == "附则" and "supplementary.art-452" in sections
    assert sections["annex-1"].kind == "schedule"
    assert "第五届全国人民代表大会第二次会议通过" in sections["preamble"].text  # front matter before INFO END


def test_chinese_criminal_law_has_452_articles_and_their_sub_articles_in_order():
    units = _units(_split("cn-criminal-law-2023"))
    keys = [match_unit(s.number, "han").key for s in units]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert sorted({k[0] for k in keys}) == list(range(1, 453))
    assert sum(1 for k in keys if k[1]) == 53  # 第…条之一, 之二 ...


def test_chinese_anti_organized_crime_law_and_the_judicial_interpretation():
    aocl = _by_path("cn-anti-organized-crime-law-2021")
    assert len(_units(aocl.values())) == 77
    assert aocl["ch-1"].title == "总则" and aocl["ch-9.art-77"].number == "第七十七条"  # "总  则": spaced for print
    spc = _split("cn-spc-interpretation-2016")
    assert [s.path for s in spc] == ["preamble"] + [f"art-{n}" for n in range(1, 11)]
    assert "刑法第二百四十条、第二百四十一条规定的儿童" in spc[-2].text


# ------------------------------------------------------------------------------ layouts not in the corpus


THAI_ACT = """พระราชบัญญัติ
ทดสอบ พ.ศ. ๒๕๖๗

มาตรา ๑ พระราชบัญญัตินี้เรียกว่า “พระราชบัญญัติทดสอบ”

หมวด ๑
บททั่วไป

มาตรา ๒ ผู้ใดกระทำความผิดตาม
มาตรา ๑ วรรคหนึ่ง ต้องระวางโทษ

มาตรา ๒ ทวิ ให้รัฐมนตรีรักษาการ

มาตรา ๓ ผู้ใดฝ่าฝืนมาตรา ๒ ทวิ ต้องระวางโทษ
"""


def test_another_thai_act_splits_with_inserted_sections_and_cross_references_in_text():
    sections = {s.path: s for s in _split_text(THAI_ACT)}
    assert list(sections) == ["preamble", "s-1", "ch-1", "ch-1.s-2", "ch-1.s-2-bis", "ch-1.s-3"]
    assert sections["ch-1.s-2"].text == "ผู้ใดกระทำความผิดตามมาตรา ๑ วรรคหนึ่ง ต้องระวางโทษ"
    assert sections["ch-1.s-2-bis"].number == "มาตรา ๒ ทวิ"
    assert sections["preamble"].text == "พระราชบัญญัติทดสอบ พ.ศ. ๒๕๖๗"


def test_thai_act_with_a_blank_line_between_every_paragraph():
    # the Gazette's text when its paragraph ends (bare LF, wrapped lines end in CRLF) are kept as blank lines
    text = "หมวด ๑\n\nบททั่วไป\n\nมาตรา\n๑ ผู้ใด\nกระทำ\n\nผู้นั้นต้องระวางโทษ\n\nหมวด\n๒\n\nบทกำหนดโทษ\n\nมาตรา ๒ ให้ใช้"
    sections = {s.path: s for s in _split_text(text)}
    assert list(sections) == ["ch-1", "ch-1.s-1", "ch-2", "ch-2.s-2"]
    assert sections["ch-1"].title == "บททั่วไป" and sections["ch-2"].title == "บทกำหนดโทษ"
    assert sections["ch-1.s-1"].text == "ผู้ใดกระทำ\n\nผู้นั้นต้องระวางโทษ"


def test_thai_text_without_blank_lines_still_splits_at_its_sections():
    text = "มาตรา ๑ ให้ใช้บังคับ\nมาตรา ๒ ผู้ใดกระทำตาม\nมาตรา ๑ วรรคสอง ต้องระวางโทษ\nมาตรา ๓ ให้รัฐมนตรีรักษาการ"
    sections = _split_text(text)
    assert [s.path for s in sections] == ["s-1", "s-2", "s-3"]
    assert sections[1].text == "ผู้ใดกระทำตามมาตรา ๑ วรรคสอง ต้องระวางโทษ"


def test_invisible_marks_inside_designations_are_ignored():
    thai = _split_text("มา\u200bตรา ๑ ให้ใช้บังคับ\n\nมาตรา\ufeff ๒ ให้รัฐมนตรี\u200dรักษาการ")
    assert [(s.path, s.number) for s in thai] == [("s-1", "มาตรา ๑"), ("s-2", "มาตรา ๒")]
    assert thai[1].text == "ให้รัฐมนตรีรักษาการ"
    chinese = _split_text("第二百\u200b四十条 拐卖妇女、儿童的，处五年以上十年以下有期徒刑。\n\n第二百四十一条\u3000收买被拐卖的妇女。")
    assert [s.path for s in chinese] == ["art-240", "art-241"]


def test_thai_text_without_any_section_is_grouped_into_paragraphs():
    paragraph = "การค้ามนุษย์เป็นอาชญากรรมร้ายแรงที่ละเมิดสิทธิมนุษยชน" * 6
    sections = _split_text("\n\n".join([paragraph] * 12))
    assert len(sections) > 1 and all(s.kind == "paragraph" for s in sections)
    assert [s.path for s in sections][0] == "p-1" and all(re.fullmatch(r"p-\d+", s.path) for s in sections)
    assert "".join(s.text for s in sections).replace("\n", "") == paragraph * 12
    assert [s.path for s in _split_text("ข้อความสั้น ๆ ไม่มีมาตรา")] == ["p-1"]


def test_chinese_markdown_without_hashes_and_with_a_bracketed_title():
    text = "第一章 总  则\n\n第一条【立法目的】为了预防犯罪，制定本法。\n\n第二章　附则\n\n第二条 本法自公布之日起施行。"
    sections = {s.path: s for s in _split_text(text, "markdown")}
    assert list(sections) == ["ch-1", "ch-1.art-1", "ch-2", "ch-2.art-2"]
    assert sections["ch-1"].title == "总则" and sections["ch-1.art-1"].title == "立法目的"
    assert sections["ch-1.art-1"].heading_path[-1] == "第一条 立法目的"


def test_empty_and_mixed_inputs_never_crash():
    assert _split_text("") == [] and _split_text("\u200b\n\xa0\n") == []
    mixed = _split_text("Section 1 applies.\n\nมาตรา ๑ ให้ใช้บังคับ\n\n第一条 本法施行。\n\nมาตรา ๒ ให้รัฐมนตรี")
    assert [s.path for s in mixed] == ["preamble", "s-1", "s-2"]  # Thai dominates: Thai designations split it
    assert "第一条 本法施行。" in mixed[1].text


# ----------------------------------------------------------------------------- numerals and the table


def test_numerals():
    assert [chinese_int(t) for t in ("一", "十", "十二", "二十", "二百四十", "一百零一", "一千零二十", "一〇一", "两百", "240")] == [
        1, 10, 12, 20, 240, 101, 1020, 101, 200, 240]
    assert chinese_int("三百一十八") == 318 and chinese_int("四百五十二") == 452 and chinese_int("一万二千") == 12000
    assert decimal_int("๒๔๐") == 240 and decimal_int("２４") == 24
    assert thai_suffix("ทวิ") == (2, "bis") and thai_suffix("ตรี") == (3, "ter") and thai_suffix("/๔") == (4, "4")


@pytest.mark.parametrize(
    ("line", "script", "seg", "number"),
    [("มาตรา ๒๔ ผู้ใด", "thai", "s-24", "มาตรา ๒๔"), ("มาตรา ๕ ตรี ให้", "thai", "s-5-ter", "มาตรา ๕ ตรี"),
     ("มาตรา ๒๘/๔ ให้", "thai", "s-28-4", "มาตรา ๒๘/๔"), ("ข้อ ๓ ให้", "thai", "cl-3", "ข้อ ๓"),
     ("第二百四十条 拐卖", "han", "art-240", "第二百四十条"), ("第一百二十条之一\u3000资助", "han", "art-120-1", "第一百二十条之一")],
)
def test_thai_and_chinese_units_of_the_table(line, script, seg, number):
    found = match_unit(line, script)
    assert found is not None and found.seg == seg and found.number == number
    assert match_unit(line) is None  # the parser of Latin-script laws never sees these rows


@pytest.mark.parametrize(
    ("line", "script", "seg"),
    [("หมวด ๖", "thai", "ch-6"), ("ส่วนที่ ๒", "thai", "div-2"), ("ภาค ๑", "thai", "pt-1"), ("บทเฉพาะกาล", "thai", "transitional"),
     ("第二编 分则", "han", "pt-2"), ("第一分编 通则", "han", "subpt-1"), ("第十一章 x", "han", "ch-11"), ("第三节 y", "han", "sec-3"),
     ("附则", "han", "supplementary"), ("附件二", "han", "annex-2")],
)
def test_thai_and_chinese_containers_of_the_table(line, script, seg):
    found = match_container(line, script)
    assert found is not None and found.seg == seg


def test_every_thai_and_chinese_row_is_reachable():
    rows = [r for r in CONTAINERS + UNITS if r.script != "latin"]
    matched = {id(d.row) for line, script in [
        ("บรรพ ๑", "thai"), ("ภาค ๑", "thai"), ("ลักษณะ ๑", "thai"), ("หมวด ๑", "thai"), ("ส่วนที่ ๑", "thai"),
        ("บทเฉพาะกาล", "thai"), ("第一编", "han"), ("第一分编", "han"), ("第一章", "han"), ("第一节", "han"), ("总则", "han"),
        ("分则", "han"), ("附则", "han"), ("附件一", "han")] if (d := match_container(line, script))}
    matched |= {id(d.row) for line, script in [("มาตรา ๑", "thai"), ("ข้อ ๑", "thai"), ("第一条", "han")]
                if (d := match_unit(line, script))}
    assert matched == {id(r) for r in rows}


def test_wrapped_lines_join_by_script():
    assert join_wrapped("ผู้ใดกระทำ", "ความผิด") == "ผู้ใดกระทำความผิด"
    assert join_wrapped("ตามมาตรา", "๖ ต้อง") == "ตามมาตรา ๖ ต้อง"
    assert join_wrapped("ค่าใช้จ่ายอื่น", "ๆ") == "ค่าใช้จ่ายอื่น ๆ" and join_wrapped("มกราคม", "พ.ศ. ๒๕๕๑") == "มกราคม พ.ศ. ๒๕๕๑"
    assert join_wrapped("依照本法", "第二百四十条") == "依照本法第二百四十条" and join_wrapped("the", "act") == "the act"


# ------------------------------------------------------------------------------------ property tests

_THAI_WORDS = ["ผู้ใด", "กระทำ", "ความผิด", "ต้องระวางโทษ", "การค้ามนุษย์", "หมายความว่า", "“เด็ก”", "(๑)", "ๆ", "ทวิ",
               "พ.ศ.", "มาตรา", "หมวด", "ให้", "๕", "๑๒"]
_HAN_WORDS = ["拐卖", "妇女", "儿童", "的", "，", "。", "（一）", "第", "条", "章", "附则", "之一", "总  则", "本法"]
_ALPHABET = "กขคงจฉชซผฝพฟภมยรลวศสหอฮะาิีึืุู่้๊๋เแโใไ๐๑๒๓๔๕一二三四五六七八九十百千条章编节之的，。、（）() “”abcXYZ019.,:"
_MARKS = ["\u200b", "\u200c", "\u200d", "\u200e", "\ufeff", "\x93", "\x94"]


def _thai(n: int) -> str:
    return str(n).translate(THAI_DIGITS)


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    out = f"{digits[hundreds]}百" if hundreds else ""
    if tens:
        out += f"{digits[tens]}十" if hundreds or tens > 1 else "十"
    elif hundreds and units:
        out += "零"
    return out + (digits[units] if units else "") or "零"


_N = st.integers(1, 400)
_BODY = st.one_of(
    st.lists(st.sampled_from(_THAI_WORDS + _HAN_WORDS), min_size=1, max_size=10).map("".join),
    st.lists(st.sampled_from(_THAI_WORDS), min_size=1, max_size=8).map(" ".join),
    st.text(alphabet=_ALPHABET, max_size=30),
)
_LINE = st.one_of(
    _BODY,
    st.just(""), st.just("\xa0"), st.just("\u3000"),
    st.builds(lambda n, b: f"มาตรา {_thai(n)} {b}", _N, _BODY),
    st.builds(lambda n: f"มาตรา\n{_thai(n)}", _N),
    st.builds(lambda n, b: f"มาตรา {_thai(n)} ทวิ {b}", _N, _BODY),
    st.builds(lambda n, b: f"หมวด {_thai(n)}\n{b}", st.integers(1, 9), _BODY),
    st.builds(lambda n, b: f"第{_cn(n)}条\u3000{b}", _N, _BODY),
    st.builds(lambda n, b: f"第{_cn(n)}条之一 {b}", _N, _BODY),
    st.builds(lambda h, n, b: f"{'#' * h} 第{_cn(n)}章 {b}", st.integers(1, 4), st.integers(1, 12), _BODY),
    st.sampled_from(["บทเฉพาะกาล", "附则", "附件一", "ผู้รับสนองพระบรมราชโองการ", "## 说明", "<!-- INFO END -->"]),
    st.builds(lambda m, b: f"{m}{b}", st.sampled_from(_MARKS), _BODY),
)
_REPAIR = str.maketrans({"\x93": "“", "\x94": "”"})


def _chars(text: str) -> Counter:
    return Counter(ch for ch in INVISIBLE.sub("", text).translate(_REPAIR) if not ch.isspace())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_LINE, min_size=1, max_size=40), opening=st.sampled_from(["thai", "han"]),
       fmt=st.sampled_from(["text", "markdown"]))
def test_thai_and_chinese_splitter_never_crashes_keeps_every_character_and_orders_numbers(lines, opening, fmt):
    first = "พระราชบัญญัติป้องกันและปราบปรามการค้ามนุษย์" if opening == "thai" else "中华人民共和国刑法拐卖妇女儿童"
    text = "\n".join([first * 3, ""] + lines)
    script = dominant_script(text)
    sections = _split_text(text, fmt)
    ids = [s.section_id for s in sections]
    assert len(ids) == len(set(ids)) and all(SECTION_ID_RE.match(i) and i.isascii() for i in ids)
    source = re.sub(r"<!-- INFO END -->", "", text)
    if fmt == "markdown":
        source = re.sub(r"(?m)^#+", "", source)
    kept = sum((_chars(f"{s.number or ''}{s.title}{s.text}") for s in sections), Counter())
    assert not _chars(source) - kept  # every character of the text is in some section (spaces aside)
    if script != "latin":
        keys = [match_unit(s.number, script).key for s in sections if s.kind in ("section", "article")]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert [s.section_id for s in _split_text(text, fmt)] == ids
