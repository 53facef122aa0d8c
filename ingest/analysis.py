"""Text analysis: the one place that cuts text into words and terms, for indexing, queries, phrases and highlights.

An ``Analyzer`` (Lucene's shape: a tokenizer plus a chain of filters, ``ingest.analysis_base``) turns text into

- ``words``: the surface words a reader sees, lower-cased, invisible marks removed. Phrases are compared word
  for word on them (character for character in Thai and Chinese), and highlights mark them;
- ``terms``: what BM25 indexes and matches: stemmed words minus stop words, designations and compounds kept
  whole, and each two adjacent stemmed words as one pair term (Chinese: character bigrams instead).

One analyzer per language family, chosen by ``analyzer_for(language)`` from ``ANALYZERS``: English (the settings
chosen on the ObliQA dev split, eval/STUDY_OBLIQA_PASSAGES.md), Malay and Indonesian, Turkish, Dutch
(``ingest.analysis_languages``: Snowball stemmers), Thai, Chinese and Bengali (ICU word breaks). A text is cut by
its language's analyzer, except that runs of Thai, Han or Bengali characters are always cut by their script's
analyzer (an English passage quoting a Thai title, a mixed-script query). A query is cut the same way
(``query_terms``): in the language the search is filtered to, else Latin-script words as English and as the other
Latin-script languages at once, so a Malay query matches Malay text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ingest.analysis_base import (  # noqa: F401 (the module's public names)
    COMPOUND,
    ENGLISH,
    ENGLISH_STOPWORDS,
    INVISIBLE,
    SURFACE_WORD,
    TERM_WORD,
    Analyzer,
    is_word_char,
    normalize,
)
from ingest.analysis_languages import (
    BENGALI,
    BENGALI_ANALYZER,
    CHINESE,
    DUTCH,
    HAN,
    MALAY,
    SCRIPT_ANALYZERS,
    THAI,
    THAI_ANALYZER,
    TURKISH,
)

# Bump whenever the terms any analyzer gives for the same text change (patterns, stop words, stemmer, pairs):
# each generation records it, and an index built under another version is rebuilt rather than queried with
# terms cut differently from the ones it holds. Comments and refactoring leave it alone.
# 2: per-language analyzers (Thai, Chinese, Bengali by ICU; Malay/Indonesian, Turkish, Dutch by Snowball).
ANALYZER_VERSION = 2

# bm25s.BM25(**BM25_PARAMS). A low k1 suits short regulatory passages: repeating a term adds little.
BM25_PARAMS: dict[str, object] = {"method": "lucene", "k1": 0.9, "b": 0.75}
# Word pairs: each two adjacent stemmed words (stop words skipped) are also indexed as one term, "smuggl migrant",
# and a query's pairs count this much of its single words. A passage that keeps the query's words together
# ranks above one that scatters them (a sequential-dependence model in one BM25 index). On ObliQA dev half A
# weights 0.3-0.7 score alike; 0.4 was best for the hybrid (eval/STUDY_OBLIQA_PASSAGES.md, section 6).
PAIR_WEIGHT = 0.4

# language code -> analyzer. Languages not listed (and ``und``) are analysed by DEFAULT.
ANALYZERS: dict[str, Analyzer] = {
    "en": ENGLISH,
    "ms": MALAY,
    "id": MALAY,  # Snowball's Indonesian stemmer serves both (see the README's search section)
    "tr": TURKISH,
    "nl": DUTCH,
    "th": THAI_ANALYZER,
    "zh": CHINESE,
    "bn": BENGALI_ANALYZER,
}
DEFAULT = ENGLISH
STOPWORDS = ENGLISH_STOPWORDS  # the default analyzer's
# A query's Latin-script words when the search names no language: English first, then these languages' terms
# that English did not give (a Malay, Indonesian or Turkish query then matches text of its language).
QUERY_LATIN = (ENGLISH, MALAY, TURKISH)

# A run of Thai, Han or Bengali characters (white space inside a run kept in it): cut by its script's analyzer.
SCRIPT_RUN = re.compile(
    f"(?P<th>[{THAI}\u200b-\u200d]+(?:\\s+[{THAI}\u200b-\u200d]+)*)"
    f"|(?P<zh>[{HAN}]+(?:\\s+[{HAN}]+)*)"
    f"|(?P<bn>[{BENGALI}\u200c\u200d]+(?:\\s+[{BENGALI}\u200c\u200d]+)*)"
)
SPECIAL_SCRIPT = re.compile(f"[{THAI}{HAN}{BENGALI}]")


def analyzer_for(language: str | None) -> Analyzer:
    """The analyzer of a language code (``None`` or an unlisted code: the default analyzer)."""
    return ANALYZERS.get(language or "", DEFAULT)


def script_of(text: str) -> str | None:
    """``zh``, ``th`` or ``bn`` when the text holds Han, Thai or Bengali characters (in that order), else None."""
    found = {m.lastgroup for m in SCRIPT_RUN.finditer(text)}
    return next((s for s in ("zh", "th", "bn") if s in found), None)


def script_segments(text: str, base: Analyzer) -> list[tuple[Analyzer | None, str]]:
    """The text cut into runs and the analyzer of each: Thai, Han and Bengali runs their script's analyzer
    (unless it is ``base``, which cuts them with the rest), everything else ``None`` (the caller's analyzer)."""
    if not SPECIAL_SCRIPT.search(text):
        return [(None, text)]
    out: list[tuple[Analyzer | None, str]] = []
    start = 0
    for m in SCRIPT_RUN.finditer(text):
        analyzer = SCRIPT_ANALYZERS[m.lastgroup]
        if analyzer is base:
            continue
        if m.start() > start:
            out.append((None, text[start : m.start()]))
        out.append((analyzer, m.group()))
        start = m.end()
    if start < len(text):
        out.append((None, text[start:]))
    return out


def analyze(text: str, language: str | None = None) -> list[str]:
    """BM25 terms of ``text`` in ``language`` (index side; a query in one known language gets the same)."""
    base = analyzer_for(language)
    return [t for a, piece in script_segments(text, base) for t in (a or base).terms(piece)]


def query_analyzers(languages: Iterable[str] | None = None) -> list[Analyzer]:
    """The analyzers a query's words (other than Thai, Han and Bengali runs) are cut with, the first one in
    full: those of the languages the search is filtered to, else ``QUERY_LATIN``."""
    named = list(dict.fromkeys(ANALYZERS[x] for x in (languages or ()) if x in ANALYZERS))
    if not named and any(x not in ANALYZERS for x in (languages or ())):
        named = [DEFAULT]  # filtered to languages the default analyzer cuts (``und``, unlisted codes)
    return named or list(QUERY_LATIN)


def query_terms(query: str, languages: Sequence[str] | None = None) -> list[str]:
    """The BM25 terms of a query, cut as the texts it should match were cut.

    :param languages: the search's language filter. One language: the query is analysed as text of that
        language (``analyze``). None or several: Thai, Han and Bengali runs by their script's analyzer, other
        words by each of ``query_analyzers`` (the first one's terms in full, as it has always been for English,
        then the others' terms it did not give).
    """
    analyzers = query_analyzers(languages)
    if len(analyzers) == 1:
        return analyze(query, analyzers[0].name) if analyzers[0] is not DEFAULT else analyze(query)
    first = analyzers[0]
    out: list[str] = []
    for a, piece in script_segments(query, first):
        if a is not None:
            out.extend(a.terms(piece))
            continue
        terms = first.terms(piece)
        seen = set(terms)
        out.extend(terms)
        for other in analyzers[1:]:
            for t in other.terms(piece):
                # English function words are no Malay or Turkish words to look for ("of", "trafficking of")
                if t not in seen and (first is not ENGLISH or not ENGLISH_STOPWORDS.intersection(t.split())):
                    seen.add(t)
                    out.append(t)
    return out


def term_weight(term: str) -> float:
    """How much a query term counts in the BM25 leg: 1 for a word, compound or bigram, ``PAIR_WEIGHT`` for a
    word pair."""
    return PAIR_WEIGHT if " " in term else 1.0


def tokenize_for_bm25(texts: list[str], languages: list[str | None] | None = None) -> list[list[str]]:
    """BM25 terms of many texts (index side), each in its own language when ``languages`` is given."""
    if languages is None:
        return [analyze(t) for t in texts]
    return [analyze(t, lang) for t, lang in zip(texts, languages, strict=True)]


def bm25_config() -> dict[str, object]:
    """What an index's BM25 was built with (recorded in each generation's manifest; another value means rebuild)."""
    return {**BM25_PARAMS, "pair_weight": PAIR_WEIGHT, "analyzer": f"v{ANALYZER_VERSION}:" + ",".join(sorted(ANALYZERS))}
