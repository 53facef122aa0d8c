"""The language of a text with no manifest row: lingua's detector, restricted to the languages the corpus is in.

The detector is built once, on first use, over ``DETECTABLE`` only: fewer candidates make it faster and keep it
from answering a language we have no analyzer for. A text with too few letters, or whose best language is not
clearly ahead, is ``und`` (undetermined): indexed as such and reported by ingest.
"""

from __future__ import annotations

import threading

UNDETERMINED = "und"
# ISO 639-1 codes lingua chooses among (ingest/vocabularies/languages.csv lists them with their names)
DETECTABLE = ("en", "ms", "id", "th", "zh", "bn", "tr", "nl")
MIN_LETTERS = 20  # fewer letters than this: no language can be told
MIN_CONFIDENCE = 0.4  # lingua's relative confidence of the best language, below which it is a guess
SAMPLE_CHARS = 2000  # read at the start and in the middle of the text (a bilingual head does not decide alone)

_lock = threading.Lock()
_detectors: dict[tuple[tuple[str, ...], bool], object] = {}


def _build(languages: tuple[str, ...] = DETECTABLE, low_accuracy: bool = False):
    """lingua's detector over ``languages``, built once per process (per languages and mode) on first use."""
    key = (languages, low_accuracy)
    with _lock:
        if key not in _detectors:
            try:
                from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
            except ImportError as exc:  # pragma: no cover - a runtime dependency
                raise ImportError("language detection needs lingua: pip install lingua-language-detector") from exc
            builder = LanguageDetectorBuilder.from_languages(
                *[Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages])
            _detectors[key] = (builder.with_low_accuracy_mode() if low_accuracy else builder).build()
    return _detectors[key]


def language_sample(text: str) -> str:
    """What detection reads: ``SAMPLE_CHARS`` from the start and from the middle of the text."""
    if len(text) <= 2 * SAMPLE_CHARS:
        return text
    middle = len(text) // 2
    return f"{text[:SAMPLE_CHARS]}\n{text[middle:middle + SAMPLE_CHARS]}"


def detect_language(text: str, languages: tuple[str, ...] = DETECTABLE, low_accuracy: bool = False) -> str:
    """The ISO 639-1 code of the language ``text`` is written in (one of ``languages``), or ``und`` when it has
    too few letters or no language is clearly ahead. ``low_accuracy``: lingua's trigram models only (5 MB
    resident against ~146 MB for the full ones over ``DETECTABLE``), for a process that must stay small."""
    sample = language_sample(text or "")
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return UNDETERMINED
    values = _build(languages, low_accuracy).compute_language_confidence_values(sample)
    if not values or values[0].value < MIN_CONFIDENCE:
        return UNDETERMINED
    return values[0].language.iso_code_639_1.name.lower()
