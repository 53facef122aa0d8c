"""Text analysis shared by indexing and querying: one tokeniser, so both sides always agree.

The settings below are the ones chosen on the ObliQA dev split (see eval/STUDY_OBLIQA.md).
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

# bm25s.BM25(**BM25_PARAMS)
BM25_PARAMS: dict[str, object] = {"method": "lucene", "k1": 1.2, "b": 0.75}

# Words of two or more characters, and designations such as "358A", "1589", "3.2.1" kept whole.
_TOKEN = re.compile(r"\d+(?:\.\d+)+|\w\w+", re.UNICODE)

# English stop words (a short, conventional list; legal words like "shall" and "may" are kept out of it
# on purpose only where they carry meaning -- "shall" does not, "not" does).
STOPWORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i if in into is it its of on or
    our she so such than that the their them then there these they this those to was we were which while
    who whom will with would you your shall""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def analyze(text: str) -> list[str]:
    """Lower-case, split into tokens, drop stop words, stem: the terms BM25 indexes and matches."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]
    return _stemmer().stemWords(words)


def tokenize_for_bm25(texts: list[str]) -> list[list[str]]:
    """Analyze many texts (index side)."""
    return [analyze(t) for t in texts]


def query_terms(text: str) -> list[str]:
    """The surface words of a query worth highlighting (not stemmed; stop words dropped)."""
    return [w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]
