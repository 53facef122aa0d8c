"""Reviewed cells of the Protocol map (``alignments.csv`` beside the manifest): read, checked row by row, and
checked against the index by every ``kb ingest``, which never loses the index over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.alignments import ALIGNMENTS_NAME, AlignmentsError, read_alignments
from ingest.pipeline import ingest
from ingest.settings import PROJECT_ROOT
from ingest.stores import open_current

HEADER = "article,member,section_id,verdict,note\n"
ART5 = "un-trafficking-protocol-2000:ch-i.art-5"
SMUGGLING = "us-8-usc-1324:title-8.ch-12.s-1324.a"


def _write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / ALIGNMENTS_NAME
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_the_bundled_file_reads_and_a_review_keeps_its_fields(tmp_path):
    assert read_alignments(PROJECT_ROOT / "corpus" / ALIGNMENTS_NAME) == []  # a header for people to fill in
    path = _write(tmp_path, f"{ART5},USA,{SMUGGLING},rejected,smuggling of aliens is not trafficking\n")
    [review] = read_alignments(path)
    assert (review.article, review.member, review.section_id, review.verdict, review.line) == (ART5, "United States", SMUGGLING, "rejected", 2)
    assert review.note == "smuggling of aliens is not trafficking"


@pytest.mark.parametrize("row, message", [
    (f"{ART5},United States,{SMUGGLING},maybe,", "verdict 'maybe' must be one of confirmed, rejected"),
    (f"{ART5},Atlantis,{SMUGGLING},confirmed,", "member 'Atlantis' is not a known member"),
    (f"{ART5},United States,s-1324,confirmed,", "section_id 's-1324'"),
    (f"{ART5},United States,un-trafficking-protocol-2000:ch-i.art-3,confirmed,", "in the instrument itself"),
    (f"art-5,United States,{SMUGGLING},confirmed,", "article 'art-5'"),
    (f"{ART5},United States,{SMUGGLING},confirmed,\n{ART5},United States,{SMUGGLING},rejected,", "already reviewed on line 2"),
    (f"{ART5},United States", "expected 5 fields"),
])
def test_a_malformed_row_is_an_error_naming_its_line_and_field(tmp_path, row, message):
    path = _write(tmp_path, row + "\n")
    with pytest.raises(AlignmentsError, match=message) as err:
        read_alignments(path)
    assert f"{path}:" in str(err.value)
    path.write_text("article,section\n", encoding="utf-8")
    with pytest.raises(AlignmentsError, match="header"):
        read_alignments(path)


def test_kb_ingest_reports_reviews_of_provisions_no_longer_indexed_and_never_loses_the_index(tmp_path, corpus_slice, embedder):
    """A review of a section the index does not hold, or of another member's law, is a warning naming its line;
    a malformed file is a failure naming its line and field, and the index published by the run stays whole."""
    from ingest.settings import Settings

    settings = Settings(index_dir=tmp_path / "index")
    assert ingest([corpus_slice], settings, embedder=embedder).ok
    _write(corpus_slice, f"{ART5},United States,{SMUGGLING},rejected,\n"
                         f"{ART5},United States,{SMUGGLING[:-1]}zz,confirmed,\n"
                         f"{ART5},Sri Lanka,{SMUGGLING},confirmed,\n")
    report = ingest([corpus_slice], settings, embedder=embedder)
    assert report.ok and report.unchanged  # alignments.csv is not a document
    alignments = [w for w in report.warnings if ALIGNMENTS_NAME in w]
    assert len(alignments) == 2, report.warnings
    assert ":3: section_id" in alignments[0] and "is not in the index" in alignments[0]
    assert ":4: section_id" in alignments[1] and "not a law of Sri Lanka" in alignments[1]

    _write(corpus_slice, f"{ART5},United States,{SMUGGLING},perhaps,\n")
    report = ingest([corpus_slice], settings, embedder=embedder)
    assert not report.ok and [f.kind for f in report.failed] == ["alignments"]
    assert f"{ALIGNMENTS_NAME}:2: verdict 'perhaps'" in report.failed[0].error
    gen = open_current(settings.index_dir)
    assert "us-8-usc-1324" in gen.documents() and gen.n_passages == report.passages
