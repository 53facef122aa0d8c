"""The dense leg's language offsets: the data file, how they are measured, and what they change."""

from __future__ import annotations

import numpy as np
import pytest

from search_api.language_offsets import LanguageOffsetsError, load_offsets, read_offsets, row_offsets
from search_api.searcher import SearchRequest

HEADER = "question_language,passage_language,offset,probes,source\n"


def test_the_bundled_offsets_are_the_measured_english_malay_pair():
    offsets = load_offsets()
    assert set(offsets) == {("en", "ms"), ("ms", "en")}
    assert all(0 < v < 0.05 for v in offsets.values())


@pytest.mark.parametrize("row, message", [
    ("en,xx,0.02,1,s", "passage_language 'xx' is not a corpus language"),
    ("en,en,0.02,1,s", "no offset against itself"),
    ("en,ms,lots,1,s", "offset 'lots' is not a number"),
    ("en,ms,0.5,1,s", "beyond"),
    ("en,ms,0.02,1,s\nen,ms,0.03,1,s", "given twice"),
])
def test_a_malformed_offsets_file_is_refused_naming_its_line(row, message):
    with pytest.raises(LanguageOffsetsError, match=message) as err:
        read_offsets(HEADER + row + "\n", "offsets.csv")
    assert "offsets.csv:" in str(err.value)
    with pytest.raises(LanguageOffsetsError, match="header"):
        read_offsets("language,offset\nen,0.1\n", "offsets.csv")


def test_the_offsets_are_reproduced_by_measuring_the_parallel_bill(searcher):
    """``python -m eval.scripts.language_offsets`` on the test index (the bundled corpus, the real model): the
    medians it finds are the file's, to the rounding of a different ingest's bf16 vectors."""
    from eval.scripts.language_offsets import measure

    gen = searcher.engine.live.get()
    measured = measure(gen, searcher.embedder.embed_query, "my-atip-bill-2007-en", "my-atip-bill-2007-ms")
    for pair, (offset, probes) in measured.items():
        assert probes == 67 and abs(offset - load_offsets()[pair]) < 0.006, (pair, offset)


def test_only_passages_of_a_measured_pair_get_an_offset(searcher):
    gen = searcher.engine.live.get()
    english = row_offsets(gen, "en")
    malay_rows = np.asarray(gen.cols["p_lang"]) == gen.languages.index("ms")
    assert np.all(english[malay_rows] == load_offsets()[("en", "ms")]) and np.all(english[~malay_rows] == 0)
    assert row_offsets(gen, "th") is None and row_offsets(gen, None) is None


def test_an_english_question_about_the_malay_amendment_finds_its_clause(searcher):
    """xling_dev's xl-en-ms-03: the offence of carrying a trafficked person in transit is clause 11 of the Malay
    2010 amendment bill (new s.15A). BM25 finds it first, but without the offset the dense leg preferred the
    English 2007 bill's sections and hybrid search ranked it ninth on xling_dev."""
    out = searcher.search(SearchRequest("Is it an offence in Malaysia to carry a trafficked person in transit through the country?", top_k=5))
    ids = [r["section_id"] for r in out["results"]]
    assert any(i.startswith("my-atip-amendment-bill-2010-ms:") and i.endswith("s-11") for i in ids), ids
