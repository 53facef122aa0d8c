"""Highlights: the character spans of a text's words that share a stem with a query word.

Words are cut and stemmed by the analyzer (``ingest.analysis``), the same one BM25 matched with, so a highlighted
word is one the search matched on.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ingest.analysis import Analyzer, analyzer_for, is_word_char


class Highlighter:
    """Spans of the words that share a stem with a query term (stop words excluded), for texts judged together.

    A page of results is judged at once: its distinct words are stemmed in one call, so a word is stemmed once
    per page, not once per passage or heading it appears in. The words that match are then found in each text
    with ``str.find`` and kept where they stand whole, as the analyzer cuts words. Both steps avoid regex scans,
    which cost ~40 ns a character here (~0.5 ms a page).
    """

    def __init__(self, query: str, texts: list[str], analyzer: Analyzer | None = None) -> None:
        self._hits: tuple[str, ...] = ()
        self._done: dict[str, list[list[int]]] = {}
        analyzer = analyzer or analyzer_for(None)
        wanted = analyzer.query_stems(query)
        if not wanted:
            return
        words = set()
        for token in set("\n".join(texts).lower().split()):  # words never span white space
            if token.isalnum():
                if len(token) > 1:
                    words.add(token)
            else:
                words.update(analyzer.words(token))
        words = list(words - analyzer.stopwords)
        self._hits = tuple(w for w, stem in zip(words, analyzer.stem_words(words)) if stem in wanted)

    def spans(self, text: str) -> list[list[int]]:
        """[start, end] of every matching word in ``text``, in order."""
        if not self._hits:
            return []
        if text not in self._done:  # headings repeat down a page
            self._done[text] = find_words(text, self._hits)
        return self._done[text]


def find_words(text: str, words: tuple[str, ...]) -> list[list[int]]:
    """Spans of whole occurrences of the lower-case ``words`` in ``text``, in any case."""
    low = text.lower()
    if len(low) != len(text):  # a character whose lower case is longer ("İ"): positions would shift
        pattern = _words_pattern(frozenset(words))
        return [[m.start(), m.end()] for m in pattern.finditer(text)]
    out = []
    n = len(text)
    for w in words:
        start = low.find(w)
        while start >= 0:
            end = start + len(w)
            if _stands_whole(low, start, end, n):
                out.append([start, end])
            start = low.find(w, end)
    out.sort()
    return out


def _stands_whole(low: str, start: int, end: int, n: int) -> bool:
    """No word character on either side of ``low[start:end]``, and not part of a dotted number."""
    before = start and (is_word_char(low[start - 1]) or (low[start - 1] == "." and start > 1 and low[start - 2].isdecimal()))
    after = end < n and (is_word_char(low[end]) or (low[end] == "." and end + 1 < n and low[end + 1].isdecimal()))
    return not (before or after)


def highlight_spans(text: str, query: str) -> list[list[int]]:
    """Character spans in ``text`` of words that share a stem with a query term (stop words excluded)."""
    return Highlighter(query, [text]).spans(text)


@lru_cache(maxsize=256)
def _words_pattern(words: frozenset[str]) -> re.Pattern:
    """Any of the lower-cased ``words`` in any case, whole: not inside a longer word or a dotted number."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))
    return re.compile(rf"(?<!\w)(?<!\d\.)(?:{alternatives})(?!\w)(?!\.\d)", re.IGNORECASE)
