"""Text analysis: the one place that cuts text into words and terms, for indexing, queries, phrases and highlights.

An ``Analyzer`` (Lucene's shape: a tokenizer plus a chain of filters) turns text into

- ``words``: the surface words a reader sees, lower-cased, invisible marks removed. Phrases are compared word
  for word on them, and highlights mark them;
- ``terms``: what BM25 indexes and matches: stemmed words minus stop words, designations and compounds kept
  whole, and each two adjacent stemmed words as one pair term.

One analyzer per language, chosen by ``analyzer_for(language)`` from ``ANALYZERS``. Today the registry holds
English only, and every language is analysed with it (the ObliQA and bali_dev figures were measured so); the
multilingual issue registers Thai and Chinese segmentation, Turkish lower-casing and the rest here, and nothing
outside this module changes. The settings below are the ones chosen on the ObliQA dev split
(see eval/STUDY_OBLIQA_PASSAGES.md).
"""

from __future__ import annotations

import re
import threading

import Stemmer

# Bump whenever the terms any analyzer gives for the same text change (patterns, stop words, stemmer, pairs):
# each generation records it, and an index built under another version is rebuilt rather than queried with
# terms cut differently from the ones it holds. Comments and refactoring leave it alone.
ANALYZER_VERSION = 1

# bm25s.BM25(**BM25_PARAMS). A low k1 suits short regulatory passages: repeating a term adds little.
BM25_PARAMS: dict[str, object] = {"method": "lucene", "k1": 0.9, "b": 0.75}
# Word pairs: each two adjacent stemmed words (stop words skipped) are also indexed as one term, "smuggl migrant",
# and a query's pairs count this much of its single words. A passage that keeps the query's words together
# ranks above one that scatters them (a sequential-dependence model in one BM25 index). On ObliQA dev half A
# weights 0.3-0.7 score alike; 0.4 was best for the hybrid (eval/STUDY_OBLIQA_PASSAGES.md, section 6).
PAIR_WEIGHT = 0.4

# Zero-width and bidirectional marks that sit inside designations ("Rule \u200e1.3.3") and split them.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\ufeff]")
# BM25's words: two or more word characters ("358A" and "1589" stay whole).
TERM_WORD = re.compile(r"\w\w+", re.UNICODE)
# Designations and compounds, also indexed whole and unstemmed: "3.2.1" (whose parts are all single characters,
# so the word pattern alone would drop it), "cross-border", "aml/tfs".
COMPOUND = re.compile(r"\d+(?:\.\d+)+|\w+(?:[-/]\w+)+", re.UNICODE)
# A reader's words, for phrases and highlights: dotted designations whole ("12.5"), else two or more word characters.
SURFACE_WORD = re.compile(r"\d+(?:\.\d+)+|\w\w+", re.UNICODE)

# bm25s's English stop words (the list the ObliQA study measured with).
ENGLISH_STOPWORDS = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the their then there these
    they this to was will with""".split()
)


def normalize(text: str) -> str:
    """Lower-case and drop invisible marks: what every word and term is cut from."""
    return INVISIBLE.sub("", text).lower()


def is_word_char(ch: str) -> bool:
    """A character that continues a word (as ``SURFACE_WORD`` and ``TERM_WORD`` cut words)."""
    return ch.isalnum() or ch == "_"


class Analyzer:
    """Words and terms of one language: a Snowball stemmer and a stop-word list over the shared word patterns.

    Subclasses for scripts without spaces override ``words`` and ``term_words`` (segmentation); everything else
    (stemming, pairs, phrases) follows from them.
    """

    def __init__(self, name: str, stemmer: str | None, stopwords: frozenset[str]) -> None:
        self.name = name
        self.stopwords = stopwords
        self._stemmer_name = stemmer
        self._local = threading.local()  # PyStemmer objects are not safe to share between threads
        self._stem_cache: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def _stemmer(self) -> Stemmer.Stemmer | None:
        if self._stemmer_name is None:
            return None
        st = getattr(self._local, "stemmer", None)
        if st is None:
            st = self._local.stemmer = Stemmer.Stemmer(self._stemmer_name)
        return st

    # -- words -------------------------------------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """A reader's words, normalised, in order (stop words included): what phrases and highlights compare."""
        return SURFACE_WORD.findall(normalize(text))

    def term_words(self, normalized: str) -> list[str]:
        """The words BM25 cuts from normalised text (``normalize``), stop words included."""
        return TERM_WORD.findall(normalized)

    def stem_words(self, words: list[str]) -> list[str]:
        """Stems of lower-case words, in order (the words themselves where the language has no stemmer)."""
        st = self._stemmer()
        return list(words) if st is None else st.stemWords(words)

    def stem(self, word: str) -> str:
        """The stem of one lower-case word (cached: highlights stem the same words query after query)."""
        stem = self._stem_cache.get(word)
        if stem is None:
            stem = self.stem_words([word])[0]
            if len(self._stem_cache) < 200_000:
                self._stem_cache[word] = stem
        return stem

    # -- terms -------------------------------------------------------------------------------------------

    def terms(self, text: str) -> list[str]:
        """The terms BM25 indexes and matches: stemmed words minus stop words, whole compounds unstemmed, then
        each pair of adjacent stemmed words joined by a space (a term no single word can be)."""
        t = normalize(text)
        stems = self._content_stems(t)
        return stems + COMPOUND.findall(t) + _pairs(stems)

    def required_terms(self, phrase: str) -> list[str]:
        """Terms that every text containing ``phrase`` word for word also has: its stemmed words and the pairs of
        adjacent ones, as ``terms`` cuts them (a necessary condition, so the passages holding all of them are a
        superset of those holding the phrase; the pairs make it a tight one). Compounds are left out: the words
        of "cross-border" also stand in "cross border"."""
        stems = self._content_stems(normalize(phrase))
        return sorted(set(stems) | set(_pairs(stems)))

    def _content_stems(self, normalized: str) -> list[str]:
        """Stems of the BM25 words of normalised text, stop words dropped, in order."""
        return self.stem_words([w for w in self.term_words(normalized) if w not in self.stopwords])

    # -- phrases and highlights --------------------------------------------------------------------------

    def phrase_key(self, text: str) -> str:
        """``text``'s words joined by single spaces and framed by spaces: a phrase occurs in a text word for word
        exactly when its key is a substring of the text's key."""
        return " " + " ".join(self.words(text)) + " "

    def query_stems(self, query: str) -> frozenset[str]:
        """Stems of the query's words, stop words excluded: a text's word is highlighted when its stem is one."""
        return frozenset(self.stem(w) for w in self.words(query) if w not in self.stopwords)


def _pairs(stems: list[str]) -> list[str]:
    """Each two adjacent stems as one term, joined by a space."""
    return [f"{a} {b}" for a, b in zip(stems, stems[1:])]


ENGLISH = Analyzer("en", "english", ENGLISH_STOPWORDS)
# language code -> analyzer. Languages not listed are analysed by DEFAULT (see the module docstring).
ANALYZERS: dict[str, Analyzer] = {"en": ENGLISH}
DEFAULT = ENGLISH
STOPWORDS = ENGLISH_STOPWORDS  # the default analyzer's, which OpenSearch's mapping mirrors


def analyzer_for(language: str | None) -> Analyzer:
    """The analyzer of a language code (``None`` or an unlisted code: the default analyzer)."""
    return ANALYZERS.get(language or "", DEFAULT)


def analyze(text: str, language: str | None = None) -> list[str]:
    """BM25 terms of ``text`` in ``language`` (index and query side alike)."""
    return analyzer_for(language).terms(text)


def term_weight(term: str) -> float:
    """How much a query term counts in the BM25 leg: 1 for a word or compound, ``PAIR_WEIGHT`` for a word pair."""
    return PAIR_WEIGHT if " " in term else 1.0


def tokenize_for_bm25(texts: list[str], languages: list[str | None] | None = None) -> list[list[str]]:
    """BM25 terms of many texts (index side), each in its own language when ``languages`` is given."""
    if languages is None:
        return [DEFAULT.terms(t) for t in texts]
    return [analyzer_for(lang).terms(t) for t, lang in zip(texts, languages, strict=True)]


def bm25_config() -> dict[str, object]:
    """What an index's BM25 was built with (recorded in each generation's manifest; another value means rebuild)."""
    return {**BM25_PARAMS, "pair_weight": PAIR_WEIGHT, "analyzer": f"v{ANALYZER_VERSION}:" + ",".join(sorted(ANALYZERS))}
