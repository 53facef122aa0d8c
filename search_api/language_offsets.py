"""Offsets for the dense model's same-language bias: a passage in another language than the question's gets
the offset measured for that pair of languages added to its cosine, before the dense leg takes its top k.

multilingual-e5-small scores a passage in the question's own language higher than the same content in another
language: on the Malaysian 2007 bill, whose 67 sections exist in English and in Malay, a section heading used as
a question scores the other sections 0.023 higher in its own language (English questions) and 0.026 higher
(Malay ones), medians over 4,422 pairs each (``python -m eval.scripts.language_offsets``). That is more than a
standard deviation of a question's cosines over the corpus, and the dense leg ranked the English 2007 text
above the Malay 2010 amendment that answers an English question about it. The offsets are data
(``ingest/vocabularies/language_offsets.csv``), kept only for pairs measured on a parallel text; other pairs
get none. Measured effect (hybrid nDCG@10): xling_dev 0.650 -> 0.658, Malay as the target language 0.414 ->
0.481, bali_dev 0.597 -> 0.595.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib.resources import files

import numpy as np

from ingest.termbank import KNOWN_LANGUAGES

OFFSETS_FILE = "language_offsets.csv"
MAX_OFFSET = 0.2  # a cosine offset beyond this is a mistake in the file, not a bias


class LanguageOffsetsError(ValueError):
    """The offsets file is malformed: the message names the line and the field."""


def read_offsets(text: str, where: str = OFFSETS_FILE) -> dict[tuple[str, str], float]:
    """(question language, passage language) -> offset, from the CSV text, checked row by row."""
    reader = csv.DictReader(io.StringIO(text))
    needed = {"question_language", "passage_language", "offset"}
    if not needed <= set(reader.fieldnames or ()):
        raise LanguageOffsetsError(f"{where}: the header must have {', '.join(sorted(needed))}")
    out: dict[tuple[str, str], float] = {}
    for row in reader:
        line = f"{where}:{reader.line_num}"
        q, p = row["question_language"].strip(), row["passage_language"].strip()
        for field, code in (("question_language", q), ("passage_language", p)):
            if code not in KNOWN_LANGUAGES:
                raise LanguageOffsetsError(f"{line}: {field} {code!r} is not a corpus language ({', '.join(KNOWN_LANGUAGES)})")
        if q == p:
            raise LanguageOffsetsError(f"{line}: a language needs no offset against itself ({q})")
        try:
            offset = float(row["offset"])
        except (TypeError, ValueError):
            raise LanguageOffsetsError(f"{line}: offset {row['offset']!r} is not a number") from None
        if not abs(offset) <= MAX_OFFSET:
            raise LanguageOffsetsError(f"{line}: offset {offset} is beyond +-{MAX_OFFSET}")
        if (q, p) in out:
            raise LanguageOffsetsError(f"{line}: {q} -> {p} is given twice")
        out[(q, p)] = offset
    return out


@lru_cache(maxsize=1)
def load_offsets() -> dict[tuple[str, str], float]:
    """The bundled offsets, read once."""
    return read_offsets(files("ingest.vocabularies").joinpath(OFFSETS_FILE).read_text(encoding="utf-8"))


def row_offsets(gen, question_language: str | None) -> np.ndarray | None:
    """Each passage's offset for a question in ``question_language`` (float32, one per passage), or None when
    no passage of the generation gets one. Made once per generation and language (4 MB at 1M passages)."""
    if question_language is None:
        return None

    def build():
        by_language = np.array([load_offsets().get((question_language, lang), 0.0) for lang in gen.languages], np.float32)
        return by_language[np.asarray(gen.cols["p_lang"], dtype=np.int64)] if by_language.any() else None

    return gen.derived(f"language_offsets_{question_language}", build)
