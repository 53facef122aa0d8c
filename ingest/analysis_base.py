"""The analyzer's shape (Lucene's: a tokenizer plus a chain of filters) and the English settings.

``ingest.analysis`` is the one public entry: it chooses an analyzer per language and per script run. This module
holds the base class, whose defaults are the English analysis the ObliQA and bali_dev figures were measured with
(see eval/STUDY_OBLIQA_PASSAGES.md); ``ingest.analysis_languages`` derives the other languages from it.
"""

from __future__ import annotations

import re
import threading

import Stemmer

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
    """Lower-case and drop invisible marks: what every English word and term is cut from."""
    return INVISIBLE.sub("", text).lower()


def is_word_char(ch: str) -> bool:
    """A character that continues a word (as ``SURFACE_WORD`` and ``TERM_WORD`` cut words)."""
    return ch.isalnum() or ch == "_"


class Analyzer:
    """Words and terms of one language: a Snowball stemmer and a stop-word list over the shared word patterns.

    Subclasses override ``normalize`` (case rules, Unicode form), ``words`` and ``term_words`` (segmentation) and
    ``terms``; stemming, pairs and phrases follow from them.
    """

    # Whether the script writes words without spaces between them (Thai, Chinese): a quoted phrase is then
    # compared as a character string with white space removed, not word for word.
    spaceless = False

    def __init__(self, name: str, stemmer: str | None, stopwords: frozenset[str]) -> None:
        self.name = name
        self.stopwords = stopwords
        self._stemmer_name = stemmer
        self._local = threading.local()  # PyStemmer and ICU objects are not safe to share between threads
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

    def normalize(self, text: str) -> str:
        """What words are cut from: lower case, invisible marks removed."""
        return normalize(text)

    # -- words -------------------------------------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """A reader's words, normalised, in order (stop words included): what phrases and highlights compare."""
        return SURFACE_WORD.findall(self.normalize(text))

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
        t = self.normalize(text)
        stems = self._content_stems(t)
        return stems + COMPOUND.findall(t) + pairs(stems)

    def required_terms(self, phrase: str) -> list[str]:
        """Terms that every text containing ``phrase`` word for word also has: its stemmed words and the pairs of
        adjacent ones, as ``terms`` cuts them (a necessary condition, so the passages holding all of them are a
        superset of those holding the phrase; the pairs make it a tight one). Compounds are left out: the words
        of "cross-border" also stand in "cross border"."""
        stems = self._content_stems(self.normalize(phrase))
        return sorted(set(stems) | set(pairs(stems)))

    def _content_stems(self, normalized: str) -> list[str]:
        """Stems of the BM25 words of normalised text, stop words dropped, in order."""
        return self.stem_words([w for w in self.term_words(normalized) if w not in self.stopwords])

    # -- phrases and highlights --------------------------------------------------------------------------

    def phrase_key(self, text: str) -> str:
        """``text``'s words joined by single spaces and framed by spaces: a phrase occurs in a text word for word
        exactly when its key is a substring of the text's key. Spaceless scripts: the normalised characters
        without white space, so a phrase occurs when its key is a substring, however the words were cut."""
        if self.spaceless:
            return "".join(self.normalize(text).split())
        return " " + " ".join(self.words(text)) + " "

    def query_stems(self, query: str) -> frozenset[str]:
        """Stems of the query's words, stop words excluded: a text's word is highlighted when its stem is one."""
        return frozenset(self.stem(w) for w in self.words(query) if w not in self.stopwords)


def pairs(stems: list[str]) -> list[str]:
    """Each two adjacent stems as one term, joined by a space."""
    return [f"{a} {b}" for a, b in zip(stems, stems[1:])]


ENGLISH = Analyzer("en", "english", ENGLISH_STOPWORDS)
