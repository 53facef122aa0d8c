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
# Word pairs: each two adjacent stemmed words (stop words skipped) are also indexed as one term, "smuggl migrant",
# and a query's pairs count this much of its single words. A passage that keeps the query's words together
# ranks above one that scatters them (a sequential-dependence model in one BM25 index). On ObliQA dev half A
# weights 0.3-0.7 score alike; 0.4 was best for the hybrid (eval/STUDY_OBLIQA_PASSAGES.md, section 6).
PAIR_WEIGHT = 0.4

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
    """The terms BM25 indexes and matches: stemmed words minus stop words, whole compounds unstemmed, then
    each pair of adjacent stemmed words joined by a space (a term no single word can be)."""
    t = normalize(text)
    stems = _stemmer().stemWords([w for w in _TOKEN.findall(t) if w not in STOPWORDS])
    return stems + _COMPOUND.findall(t) + [f"{a} {b}" for a, b in zip(stems, stems[1:])]


def term_weight(term: str) -> float:
    """How much a query term counts in the BM25 leg: 1 for a word or compound, ``PAIR_WEIGHT`` for a word pair."""
    return PAIR_WEIGHT if " " in term else 1.0


@lru_cache(maxsize=1)
def analyzer_fingerprint() -> str:
    """Changes whenever this module (tokenisation or BM25 parameters) changes: an index built by another version
    must be rebuilt, or queries would be cut differently from the passages they are matched against."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def bm25_config() -> dict[str, object]:
    """What an index's BM25 was built with (recorded in each generation's manifest)."""
    return {**BM25_PARAMS, "pair_weight": PAIR_WEIGHT, "analyzer": analyzer_fingerprint()}


def tokenize_for_bm25(texts: list[str]) -> list[list[str]]:
    """Analyze many texts (index side)."""
    return [analyze(t) for t in texts]


def query_terms(text: str) -> list[str]:
    """The surface words of a query worth highlighting (not stemmed; stop words dropped)."""
    return [w for w in _TOKEN.findall(normalize(text)) if w not in STOPWORDS]
