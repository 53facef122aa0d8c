"""Text analysis shared by indexing and querying: one tokeniser, so both sides always agree.

The settings below are the ones chosen on the ObliQA dev split (see eval/STUDY_OBLIQA_PASSAGES.md).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import Stemmer

# bm25s.BM25(**BM25_PARAMS). A low k1 suits short regulatory passages: repeating a term adds little.
BM25_PARAMS: dict[str, object] = {"method": "lucene", "k1": 0.9, "b": 0.75}

# Zero-width and bidirectional marks that sit inside designations ("Rule \u200e1.3.3") and split them.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\ufeff]")
# Words of two or more characters ("358A" and "1589" stay whole).
_TOKEN = re.compile(r"\w\w+", re.UNICODE)
# Designations and compounds, also indexed whole and unstemmed: "3.2.1" (whose parts are all single characters,
# so the word pattern alone would drop it), "cross-border", "aml/tfs".
_COMPOUND = re.compile(r"\d+(?:\.\d+)+|\w+(?:[-/]\w+)+", re.UNICODE)

# bm25s's English stop words (the list the ObliQA study measured with).
STOPWORDS = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the their then there these
    they this to was will with""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def normalize(text: str) -> str:
    """Lower-case and drop invisible marks: what every token is cut from."""
    return _INVISIBLE.sub("", text).lower()


def analyze(text: str) -> list[str]:
    """The terms BM25 indexes and matches: stemmed words minus stop words, then whole compounds unstemmed."""
    t = normalize(text)
    words = [w for w in _TOKEN.findall(t) if w not in STOPWORDS]
    return _stemmer().stemWords(words) + _COMPOUND.findall(t)


@lru_cache(maxsize=1)
def analyzer_fingerprint() -> str:
    """Changes whenever this module (tokenisation or BM25 parameters) changes: an index built by another version
    must be rebuilt, or queries would be cut differently from the passages they are matched against."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def bm25_config() -> dict[str, object]:
    """What an index's BM25 was built with (recorded in each generation's manifest)."""
    return {**BM25_PARAMS, "analyzer": analyzer_fingerprint()}


def tokenize_for_bm25(texts: list[str]) -> list[list[str]]:
    """Analyze many texts (index side)."""
    return [analyze(t) for t in texts]


def query_terms(text: str) -> list[str]:
    """The surface words of a query worth highlighting (not stemmed; stop words dropped)."""
    return [w for w in _TOKEN.findall(normalize(text)) if w not in STOPWORDS]
