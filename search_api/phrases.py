"""Phrases a query asks for: quoted ones are required, a short unquoted query is preferred verbatim.

A phrase matches a passage when the passage's words (headings included) hold the phrase's words in order, as the
analyzer (``ingest.analysis``) cuts and normalises words, so case, punctuation and invisible marks never matter.
"""

from __future__ import annotations

import re
from ingest.analysis import INVISIBLE, Analyzer, analyzer_for

_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')
# An unquoted query of this many words or fewer (and not a question) is also tried as a phrase.
IMPLICIT_PHRASE_MAX_WORDS = 5
# A required phrase's passages are listed exactly when at most this many passages hold all its words and word
# pairs (reading and checking a passage's text costs 11-22 us here); past that the searcher checks only its
# candidates, and says the total is not exact.
PHRASE_SCAN_MAX = 5_000


def query_phrases(query: str, analyzer: Analyzer | None = None) -> tuple[list[str], bool]:
    """Phrases the query asks for, and whether they are required (quoted) or only preferred."""
    analyzer = analyzer or analyzer_for(None)
    quoted = [a or b for a, b in _QUOTED.findall(query)]
    quoted = [q for q in quoted if analyzer.words(q)]
    if quoted:
        return quoted, True
    words = analyzer.words(query)
    if 2 <= len(words) <= IMPLICIT_PHRASE_MAX_WORDS and not query.strip().endswith("?"):
        return [query], False
    return [], False


class PhraseMatcher:
    """Which texts contain every one of some phrases, word for word."""

    def __init__(self, phrases: list[str], analyzer: Analyzer | None = None) -> None:
        self.analyzer = analyzer or analyzer_for(None)
        self.phrases = list(phrases)
        self.keys = [self.analyzer.phrase_key(p) for p in phrases]
        self.words = {w for p in phrases for w in self.analyzer.words(p)}

    def required_terms(self) -> list[str]:
        """BM25 terms every matching text has (so the texts holding all of them are a superset of the matches)."""
        return sorted({t for key in self.keys for t in self.analyzer.required_terms(key)})

    def matches(self, text: str) -> bool:
        low = text.lower()
        # every word as a substring first (cheap), then the phrases word for word
        if not all(w in low for w in self.words) and not INVISIBLE.search(low):
            return False
        key = self.analyzer.phrase_key(text)
        return all(k in key for k in self.keys)

    def matching(self, texts: dict) -> set:
        """The keys of ``texts`` (key -> text) whose text contains every phrase."""
        return {k for k, text in texts.items() if self.matches(text)}
