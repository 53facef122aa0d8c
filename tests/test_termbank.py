"""The multilingual term bank (ingest/vocabularies/termbank.csv): its data, its matching, and its grounding in the
corpus (every term is one that some corpus document of its language uses)."""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import pytest

import ingest.vocabularies as vocab
from ingest.termbank import (
    COUNTS_FILE,
    KNOWN_LANGUAGES,
    TERMBANK_FILE,
    TermBankError,
    concepts_in,
    corpus_texts,
    load_termbank,
    read_termbank,
    translations,
)

DATA = Path(vocab.__file__).parent
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CORPUS_LANGUAGES = ("en", "ms", "id", "th", "zh", "bn", "tr")


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def grounding() -> dict[tuple[str, str, str], list[str]]:
    """Each (concept, language, term) of the bundled bank -> the corpus documents of that language holding it."""
    return load_termbank().term_documents(corpus_texts(CORPUS))


# -- the data ------------------------------------------------------------------------------------------------


def test_every_column_is_a_known_language_and_every_corpus_language_has_one():
    with open(DATA / TERMBANK_FILE, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert header[0] == "concept" and header[-1] == "source"
    assert set(header[1:-1]) <= set(KNOWN_LANGUAGES)
    assert set(CORPUS_LANGUAGES) <= set(header[1:-1])


def test_concept_ids_are_unique_and_every_concept_has_a_term_and_a_source():
    rows = _rows(TERMBANK_FILE)
    ids = [r["concept"] for r in rows]
    assert len(ids) == len(set(ids)) and 80 <= len(ids) <= 160
    languages = [c for c in rows[0] if c not in ("concept", "source")]
    for row in rows:
        assert any(row[lang].strip() for lang in languages), row["concept"]
        assert row["source"].strip(), row["concept"]
    assert list(load_termbank().concepts) == ids  # the loader keeps every row, in file order


def test_every_term_is_nfc_trimmed_and_listed_once_in_its_concept():
    for row in _rows(TERMBANK_FILE):
        for lang in CORPUS_LANGUAGES:
            terms = row[lang].split(";") if row[lang] else []
            assert all(t == t.strip() and t and unicodedata.normalize("NFC", t) == t for t in terms), row["concept"]
            assert len(terms) == len(set(terms)), (row["concept"], lang)


def test_each_corpus_language_covers_a_good_part_of_the_concepts():
    coverage = load_termbank().coverage()
    assert coverage["en"] >= 110
    assert all(coverage[lang] >= 45 for lang in CORPUS_LANGUAGES), coverage


@pytest.mark.parametrize(
    "text, why",
    [
        ("concept,en,xx,source\nc,a,b,s\n", "language columns"),
        ("concept,en,source\nc,a,s\nc,b,s\n", "already defined on line 2"),
        ("concept,en,th,source\nc,,,s\n", "has no term"),
        ("concept,en,source\nc,cafe\u0301,s\n", "not NFC"),
        ("concept,en,source\nC-1,a,s\n", "concept id"),
        ("concept,en,source\nc,a;a,s\n", "listed twice"),
        ("id,en,source\nc,a,s\n", "columns must be"),
    ],
)
def test_malformed_data_is_an_error_naming_what_is_wrong(text, why):
    with pytest.raises(TermBankError, match=why):
        read_termbank(text, "t.csv")


# -- grounding -----------------------------------------------------------------------------------------------


def test_every_term_occurs_in_a_corpus_document_of_its_language(grounding):
    missing = [key for key, docs in grounding.items() if not docs]
    assert not missing, f"terms no corpus document of their language contains: {missing}"
    assert {lang for _, lang, _ in grounding} == set(CORPUS_LANGUAGES)


def test_the_counts_file_records_each_terms_documents(grounding):
    rows = _rows(COUNTS_FILE)
    assert {(r["concept"], r["language"], r["term"]) for r in rows} == set(grounding)
    for r in rows:
        docs = r["doc_ids"].split(";")
        assert int(r["documents"]) == len(docs) >= 1
        # documents listed then are still corpus documents of the language holding the term
        assert set(docs) <= set(grounding[(r["concept"], r["language"], r["term"])]), r


# -- matching ------------------------------------------------------------------------------------------------


def test_restitution_for_trafficking_victims_gives_malay_thai_chinese_and_indonesian_terms():
    found = {m.concept for m in concepts_in("restitution for trafficking victims", "en")}
    assert found == {"restitution", "trafficked_person"}
    out = translations("restitution for trafficking victims", "en")
    assert "orang yang diperdagangkan" in out["ms"]
    assert "ค่าสินไหมทดแทน" in out["th"] and "ผู้เสียหายจากการค้ามนุษย์" in out["th"]
    assert "赔偿" in out["zh"] and "被拐卖" in out["zh"]
    assert "restitusi" in out["id"] and "korban perdagangan orang" in out["id"]
    assert "en" not in out


def test_a_thai_query_gives_the_english_trafficking_in_persons():
    matches = concepts_in("การค้ามนุษย์", "th")
    assert [(m.concept, m.start, m.end) for m in matches] == [("trafficking_in_persons", 0, len("การค้ามนุษย์"))]
    assert "trafficking in persons" in translations("การค้ามนุษย์", "th")["en"]


def test_english_matches_on_stems_so_inflections_meet():
    for query in ("trafficked", "Trafficking", "TRAFFICKING"):
        assert [m.concept for m in concepts_in(query, "en")] == ["trafficking_in_persons"], query
    query = "Victims of trafficking and smuggled migrants"
    spans = [(m.concept, query[m.start:m.end]) for m in concepts_in(query, "en")]
    assert spans == [("trafficked_person", "Victims of trafficking"), ("smuggled_migrant", "smuggled migrants")]


def test_the_longest_overlapping_term_wins():
    assert [m.concept for m in concepts_in("child pornography", "en")] == ["child_pornography"]
    assert [m.concept for m in concepts_in("ผู้เสียหายจากการค้ามนุษย์", "th")] == ["trafficked_person"]


def test_turkish_and_bengali_terms_take_suffixes_and_turkish_capitals_fold_by_turkish_rules():
    assert {m.concept for m in concepts_in("İnsan ticaretinin mağdurları", "tr")} == {"trafficking_in_persons", "victim"}
    assert [m.concept for m in concepts_in("KORUMA", "tr")] == ["victim_protection"]
    text = "মানব পাচারের অপরাধ"
    assert [(m.concept, text[m.start:m.end]) for m in concepts_in(text, "bn")][:1] == [("trafficking_in_persons", "মানব পাচার")]


def test_malay_terms_match_whole_words_only():
    assert [m.concept for m in concepts_in("pemerdagangan orang", "ms")] == ["trafficking_in_persons"]
    assert concepts_in("pemerdagangan orangutan", "ms") == []


def test_chinese_and_thai_terms_match_across_line_breaks_with_spans_in_the_original_text():
    text = "组织他人偷越\n国（边）境的"
    [m] = concepts_in(text, "zh")
    assert m.concept == "smuggling_of_migrants" and text[m.start:m.end] == "组织他人偷越\n国（边）境"


def test_a_term_two_concepts_share_finds_both():
    assert {m.concept for m in concepts_in("ค่าสินไหมทดแทน", "th")} == {"compensation", "restitution"}


def test_an_unknown_language_is_an_error_naming_it():
    with pytest.raises(ValueError, match="'xx'"):
        concepts_in("anything", "xx")


# -- the parallel text -----------------------------------------------------------------------------------------


def _clauses(path: Path, enacting: str, closing: str) -> dict[int, str]:
    """The numbered clauses of the Malaysian bill's body (from the enacting words to the explanatory statement)."""
    text = path.read_text(encoding="utf-8")
    text = text[text.index(enacting):text.index(closing)]
    marks, last = [], 0
    for m in re.finditer(r"\n(?:\*\*)?(\d{1,2})\.(?:\*\*)?\s", text):
        if int(m.group(1)) == last + 1:  # clause numbers run 1, 2, 3...: a list item "2." inside a clause is skipped
            last = int(m.group(1))
            marks.append((last, m.start()))
    return {n: text[pos:end] for (n, pos), (_, end) in zip(marks, marks[1:] + [(0, len(text))])}


def test_the_malaysian_bills_english_and_malay_clauses_mention_the_same_concepts():
    en = _clauses(CORPUS / "laws/my_atip_bill_2007_en.md", "ENACTED by the Parliament", "EXPLANATORY STATEMENT")
    ms = _clauses(CORPUS / "laws/my_atip_bill_2007_ms.md", "DIPERBUAT oleh Parlimen", "HURAIAN")
    numbers = sorted(set(en) & set(ms))  # the Malay text loses a clause number or two to its layout
    assert len(numbers) >= 60
    bank = load_termbank()
    shared = {c.id for c in bank.concepts.values() if c.terms.get("en") and c.terms.get("ms")}
    both = only_one = 0
    for n in numbers:
        a = {m.concept for m in concepts_in(en[n], "en")} & shared
        b = {m.concept for m in concepts_in(ms[n], "ms")} & shared
        both, only_one = both + len(a & b), only_one + len(a ^ b)
    assert both >= 300
    assert 2 * both / (2 * both + only_one) >= 0.9  # measured 0.92 on 64 clauses
