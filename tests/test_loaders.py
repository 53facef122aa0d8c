"""The loader on real corpus files and on broken files made on the spot: right text, right error, file named."""

from __future__ import annotations

import random
import shutil
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from ingest.errors import (
    CorruptFileError,
    EmptyDocumentError,
    EncryptedFileError,
    FileTooLargeError,
    IngestError,
    OCRUnavailableError,
    UnsupportedFormatError,
)
from ingest.loaders import PAGE_NUMBER, STRUCTURAL_LINE, SUPPORTED_SUFFIXES, drop_furniture, furniture_key, load_file
from ingest.schema import DocumentMeta, Section
from ingest.sections import split_sections
from ingest.settings import PROJECT_ROOT, Settings

LAWS = PROJECT_ROOT / "corpus" / "laws"
SAARC_ACT = LAWS / "lk_act_30_2005_saarc_trafficking_convention.pdf"
VICTIMS_ACT = LAWS / "lk_act_10_2023_assistance_protection_victims_witnesses.pdf"
PERDA = LAWS / "id_perda_diy_6_2025_pencegahan_penanganan_korban_perdagangan_orang.pdf"
PAKISTAN_ACT = LAWS / "pk_prevention_of_trafficking_in_persons_act_2018.pdf"
MALAYSIAN_BILL = LAWS / "my_atip_bill_2007_en.md"


def _one_page_pdf(tmp_path: Path, name: str, **encrypt) -> Path:
    writer = PdfWriter()
    writer.add_page(PdfReader(SAARC_ACT).pages[1])
    if encrypt:
        writer.encrypt(algorithm="RC4-128", **encrypt)
    out = tmp_path / name
    with out.open("wb") as fh:
        writer.write(fh)
    return out


def test_text_layer_pdf_gives_one_text_per_page():
    doc = load_file(SAARC_ACT)
    assert doc.format == "pdf" and doc.paged
    assert len(doc.pages) == 10
    assert doc.ocr_pages == []
    assert "This Act may be cited as" in doc.pages[1]
    assert "SCHEDULE" in doc.pages[8]


def test_running_heads_and_page_numbers_are_removed():
    doc = load_file(VICTIMS_ACT)
    for page in doc.pages[2:90]:
        assert "Crime and Witnesses Act, No. 10 of 2023" not in page
    perda = load_file(PERDA)
    assert not any(line.strip() == "-2-" for line in perda.pages[1].splitlines())
    assert "Balai Sertikasi Elektronik" not in perda.pages[5]


def _furniture_by_definition(pages: list[str]) -> list[str]:
    """The furniture rule stated plainly: every edge line against every other page's edge lines with difflib."""
    split = [p.split("\n") for p in pages]
    edges = []
    for lines in split:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        edges.append([(i, furniture_key(lines[i])) for i in sorted(set(filled[:4] + filled[-4:]))])
    n = len(split)
    drop = [set() for _ in split]
    for p, lines in enumerate(split):
        for i, key in edges[p]:
            if PAGE_NUMBER.match(lines[i]):
                drop[p].add(i)
            elif n >= 3 and len(key) >= 8 and not STRUCTURAL_LINE.match(lines[i].strip()):
                hits = sum(
                    any(
                        abs(len(k) - len(key)) <= max(6, len(key) // 4) and SequenceMatcher(None, key, k).ratio() >= 0.8
                        for _j, k in edges[q]
                    )
                    for q in range(n)
                    if q != p
                )
                if hits >= max(2, int(0.3 * (n - 1))):
                    drop[p].add(i)
    return ["\n".join("" if i in drop[p] else line for i, line in enumerate(lines)) for p, lines in enumerate(split)]


def test_furniture_removal_equals_its_definition():
    """The fast path (bounds first, difflib only where a pair can pass, early verdicts) drops exactly the lines
    the plain rule drops: on the pages of the corpus PDFs, and on pages with running heads that vary."""
    rng = random.Random(7)
    words = "trafficking persons victim protection section minister offence court border smuggling".split()
    books = []
    for n_pages in (2, 3, 4, 7, 12, 40):
        pages = []
        for number in range(1, n_pages + 1):
            head = rng.choice(["Prevention of Trafficking Act, 2018", "Prevention of Trafficking Act 2O18", "Act No. 10"])
            body = [" ".join(rng.choices(words, k=rng.randint(1, 9))) for _ in range(rng.randint(0, 12))]
            foot = rng.choice([str(number), f"- {number} -", f"Page {number} of {n_pages}", "Printed by the Government"])
            pages.append("\n".join([head, *body, "", foot] if rng.random() < 0.8 else body))
        books.append(pages)
    for path in (SAARC_ACT, PERDA, VICTIMS_ACT):
        reader = PdfReader(path)
        books.append([page.extract_text().replace("\r\n", "\n") for page in reader.pages])
    for pages in books:
        assert drop_furniture(pages) == _furniture_by_definition(pages)


def test_structural_lines_at_page_top_are_not_taken_for_running_heads():
    perda = load_file(PERDA)
    assert any(line.strip() == "Pasal 4" for page in perda.pages for line in page.splitlines())


def test_marginal_notes_leave_the_body_and_point_at_their_section():
    doc = load_file(SAARC_ACT)
    notes = {n.text: n for n in doc.margin_notes}
    assert "Short title and date of operation." in notes
    note = notes["Short title and date of operation."]
    assert doc.pages[note.page - 1].splitlines()[note.line].lstrip().startswith("1.")
    assert "Short title and" not in doc.pages[note.page - 1]


def test_markdown_and_text_load_as_one_page(tmp_path):
    doc = load_file(MALAYSIAN_BILL)
    assert doc.format == "markdown" and not doc.paged and len(doc.pages) == 1
    plain = tmp_path / "note.txt"
    plain.write_text("Line one\r\nLine two\r\n", encoding="utf-8")
    loaded = load_file(plain)
    assert loaded.format == "text" and loaded.pages == ["Line one\nLine two\n"]


@pytest.mark.slow
def test_scanned_pdf_is_read_with_ocr():
    doc = load_file(PAKISTAN_ACT)
    assert doc.ocr_pages == [1, 2, 3, 4, 5]
    page2 = doc.pages[1]
    assert "trafficking in persons" in page2.lower()
    assert "3. Trafficking in persons" in page2
    assert "1. Short title" in page2  # OCR's "i." repaired on a heading line


def test_ocr_without_tesseract_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a real PATH on which neither tool exists
    with pytest.raises(OCRUnavailableError) as err:
        load_file(PAKISTAN_ACT)
    assert PAKISTAN_ACT.name in str(err.value)


def test_encrypted_pdf_raises_encrypted_error(tmp_path):
    path = _one_page_pdf(tmp_path, "locked.pdf", user_password="secret", owner_password="owner")
    with pytest.raises(EncryptedFileError) as err:
        load_file(path)
    assert "locked.pdf" in str(err.value)


def test_pdf_with_empty_user_password_opens(tmp_path):
    path = _one_page_pdf(tmp_path, "owner-only.pdf", user_password="", owner_password="owner")
    doc = load_file(path)
    assert "This Act may be cited as" in doc.pages[0]


def test_truncated_pdf_raises_corrupt_error(tmp_path):
    data = SAARC_ACT.read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError) as err:
        load_file(path)
    assert "truncated.pdf" in str(err.value)


def test_non_pdf_named_pdf_raises_corrupt_error(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_text("this is not a PDF at all %%EOF", encoding="utf-8")
    with pytest.raises(CorruptFileError) as err:
        load_file(path)
    assert "fake.pdf" in str(err.value)


@pytest.mark.parametrize("name", ["empty.md", "empty.pdf", "empty.txt", "empty.json"])
def test_zero_byte_file_raises_empty_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(EmptyDocumentError) as err:
        load_file(path)
    assert name in str(err.value)


def test_whitespace_only_text_raises_empty_error(tmp_path):
    path = tmp_path / "blank.md"
    path.write_text("\n \n\t\n", encoding="utf-8")
    with pytest.raises(EmptyDocumentError):
        load_file(path)


def test_binary_junk_named_md_raises_unsupported_format(tmp_path):
    path = tmp_path / "junk.md"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(UnsupportedFormatError) as err:
        load_file(path)
    assert "junk.md" in str(err.value)


def test_invalid_utf8_text_raises_unsupported_format(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Déclaration sur la traite des êtres humains".encode("latin-1"))
    with pytest.raises(UnsupportedFormatError) as err:
        load_file(path)
    assert "latin1.txt" in str(err.value) and "UTF-8" in str(err.value)


@pytest.mark.parametrize("name", ["report.docx", "scan.png", "README"])
def test_unsupported_suffix_raises_unsupported_format(tmp_path, name):
    path = tmp_path / name
    path.write_text("text", encoding="utf-8")
    with pytest.raises(UnsupportedFormatError) as err:
        load_file(path)
    assert name in str(err.value)


def test_oversize_file_raises_too_large(tmp_path):
    path = tmp_path / "big.md"
    shutil.copy(MALAYSIAN_BILL, path)
    with pytest.raises(FileTooLargeError) as err:
        load_file(path, Settings(max_file_bytes=1000))
    assert "big.md" in str(err.value) and "1000" in str(err.value)


def test_every_loader_error_is_an_ingest_error_and_a_value_error(tmp_path):
    path = tmp_path / "x.doc"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(IngestError):
        load_file(path)
    with pytest.raises(ValueError):
        load_file(path)


def test_supported_suffixes():
    assert set(SUPPORTED_SUFFIXES) == {".pdf", ".md", ".markdown", ".txt", ".text", ".json"}


# -------------------------------------------- a text mixing CRLF and bare LF: the Thai Royal Gazette's exports

THAI_LAWS = {"th-atipa-2008": ("th_anti_trafficking_act_2008_th.txt", 67),
             "th-immigration-act-1979": ("th_immigration_act_1979_th.txt", 111),
             "th-toc-act-2013": ("th_transnational_organized_crime_act_2013_th.txt", 39)}


def _thai_sections(doc_id: str) -> dict[str, Section]:
    path = LAWS / THAI_LAWS[doc_id][0]
    sections = split_sections(DocumentMeta(doc_id=doc_id, path=path.name, title=doc_id), load_file(path))
    return {s.path: s for s in sections}


def test_gazette_paragraphs_stay_apart_and_its_wrapped_lines_join():
    """A wrapped line ends in CRLF, a paragraph (วรรค) in a bare LF: มาตรา ๙ has its four paragraphs."""
    text = load_file(LAWS / THAI_LAWS["th-atipa-2008"][0]).text
    assert "สำหรับความผิดนั้น\n\nถ้าผู้ที่สมคบกัน" in text and "มาตรา\n๙ \xa0ผู้ใดสมคบ" in text
    paragraphs = _thai_sections("th-atipa-2008")["ch-1.s-9"].text.split("\n\n")
    starts = ("ผู้ใดสมคบโดยการตกลง", "ถ้าผู้ที่สมคบกัน", "ในกรณีที่ความผิดได้กระทำ", "ถ้าผู้กระทำความผิดตามวรรคหนึ่ง")
    assert len(paragraphs) == 4 and all(p.startswith(start) for p, start in zip(paragraphs, starts))
    assert "ตามมาตรา ๖ ต้องระวางโทษ" in paragraphs[0]  # the wrapped line, joined


@pytest.mark.parametrize("doc_id", THAI_LAWS)
def test_gazette_sections_keep_their_ids_and_numbered_lines_their_text(doc_id):
    sections = _thai_sections(doc_id)
    assert len(sections) == THAI_LAWS[doc_id][1]
    assert sections["s-2"].text.startswith("พระราชบัญญัตินี้ให้ใช้บังคับ")  # "มาตรา\r\n๒[๑]\n" then its text
    assert sections["footnotes"].text.startswith("[๑] ราชกิจจานุเบกษา")
    if doc_id == "th-immigration-act-1979":  # an item number alone on its line ("(๓)[๔]\n") keeps its text
        assert "\n\n(๓)[๔] เข้ามาเพื่อทำงาน" in sections["ch-2.s-12"].text


def _lines(n: int) -> list[str]:
    return [f"Paragraph {i} begins\r\nand wraps once.\n" for i in range(n)]


def test_mixed_line_ends_make_bare_lf_a_paragraph_break(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_bytes(("".join(_lines(6)) + "(a)[1]\nItem text\r\nwrapped.\n\xa0\nLast").encode())
    expected = "".join(f"Paragraph {i} begins\nand wraps once.\n\n" for i in range(6))
    assert load_file(path).text == expected + "(a)[1]\nItem text\nwrapped.\n\n\xa0\nLast"


@pytest.mark.parametrize("text", [
    "".join(_lines(6)).replace("\r\n", "\n"),  # only LF
    "".join(_lines(6)).replace("\n", "\r\n").replace("\r\r", "\r"),  # only CRLF
    "".join(_lines(6)).replace("\r\n", "\n") + "".join(_lines(6)).replace("\n", "\r\n").replace("\r\r", "\r"),  # joined
    "".join(_lines(20)).replace("\n", "\r\n").replace("\r\r", "\r") + "one\ntwo\nthree\nfour\nfive\n",  # few LF
    "a\r\nb\nc\r\nd\ne\r\nf\n",  # too few of each
])
def test_text_with_one_kind_of_line_end_or_unmixed_loads_as_before(tmp_path, text):
    path = tmp_path / "plain.md"
    path.write_bytes(text.encode())
    assert load_file(path).text == text.replace("\r\n", "\n")
