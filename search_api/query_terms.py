"""The BM25 leg's weighted query terms: the query's own terms plus the term bank's translations of its concepts.

A query names concepts of the field (``ingest.termbank``): "restitution", "trafficked person", "forced labour".
The concepts are looked for in the query's language, told by its script (Thai, Chinese, Bengali), else in each
Latin-script language the bank has (English, Malay, Indonesian, Turkish) at once; each concept found adds its
terms in the bank's other languages, each term cut by its own language's analyzer (``ingest.analysis.analyze``),
at up to ``EXPANSION_WEIGHT`` of an original term (word pairs at that times ``PAIR_WEIGHT``). An English question
about restitution then finds the Malay, Thai and Chinese provisions lexically, and a Thai question the English ones.

A concept's terms in a language are synonyms, and a Thai or Chinese term is cut into several words: together the
words of one concept in one language count as much as ``EXPANSION_WEIGHT`` times the words that named it in the
query, each at most ``EXPANSION_WEIGHT``. Otherwise a concept with five Thai synonyms would weigh five times the
English words that asked for it, and an English question would rank Thai text above English.

When the search is filtered by language only the filtered languages' terms are added (an English query filtered
to Thai gets the Thai terms; filtered to English it gets none). A term the query already has keeps its own
weight. Both backends score the same weighted terms (``search_api.engine.bm25_scores``, the OpenSearch engine's
BM25 body).
"""

from __future__ import annotations

from collections.abc import Sequence

from ingest.analysis import analyze, query_terms, script_of, term_weight
from ingest.termbank import load_termbank

# How much an added term counts next to one of the query's own (chosen on xling_dev and bali_dev, README).
EXPANSION_WEIGHT = 1.0
# The languages a query without Thai, Han or Bengali characters is looked up in.
LATIN_QUERY_LANGUAGES = ("en", "ms", "id", "tr")


def query_languages(query: str) -> tuple[str, ...]:
    """The languages a query's concepts are looked for in: its script's language, else the Latin ones."""
    script = script_of(query)
    return (script,) if script else LATIN_QUERY_LANGUAGES


def concept_sources(query: str) -> dict[str, tuple[set[str], int]]:
    """Concept id -> the languages of the term bank the query names it in, and how many words (single BM25
    terms) the longest span naming it has."""
    bank = load_termbank()
    found: dict[str, tuple[set[str], int]] = {}
    for lang in query_languages(query):
        if lang in bank.languages:
            for match in bank.concepts_in(query, lang):
                words = sum(1 for t in analyze(query[match.start:match.end], lang) if " " not in t)
                sources, most = found.get(match.concept, (set(), 1))
                found[match.concept] = (sources | {lang}, max(most, words))
    return found


def expansion_terms(query: str, languages: Sequence[str] | None = None,
                    weight: float | None = None) -> list[tuple[str, float]]:
    """(term, weight) of the BM25 terms the query's concepts add: their terms in each other language of the
    bank (only the filtered ``languages`` when given), analysed in that language, each once."""
    weight = EXPANSION_WEIGHT if weight is None else weight
    if weight <= 0:
        return []
    bank = load_termbank()
    targets = [lang for lang in bank.languages if not languages or lang in languages]
    out: dict[str, float] = {}
    for concept, (sources, words) in concept_sources(query).items():
        for lang in targets:
            if lang in sources:
                continue
            terms = list(dict.fromkeys(t for term in bank.concepts[concept].terms.get(lang, ()) for t in analyze(term, lang)))
            share = weight * min(1.0, words / max(1, sum(1 for t in terms if " " not in t)))
            for t in terms:
                out.setdefault(t, share * term_weight(t))
    return list(out.items())


def weighted_query_terms(query: str, languages: Sequence[str] | None = None,
                         weight: float | None = None) -> list[tuple[str, float]]:
    """(term, weight) of everything the BM25 leg looks for: the query's own terms (``query_terms``; a word 1, a
    word pair ``PAIR_WEIGHT``), then the expansion terms the query does not already have."""
    own = query_terms(query, languages)
    seen = set(own)
    return [(t, term_weight(t)) for t in own] + [(t, w) for t, w in expansion_terms(query, languages, weight) if t not in seen]


def term_groups(query: str, languages: Sequence[str] | None = None) -> dict[float, list[str]]:
    """``weighted_query_terms`` grouped by weight (each group's terms in order), for a backend that boosts
    one clause per weight (OpenSearch)."""
    out: dict[float, list[str]] = {}
    for term, weight in weighted_query_terms(query, languages):
        out.setdefault(weight, []).append(term)
    return out
