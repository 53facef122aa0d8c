"""Highlights: the character spans of a text's words that share a stem with a query word.

Words are cut and stemmed by the analyzer (``ingest.analysis``), the same one BM25 matched with, so a highlighted
word is one the search matched on. A query's Thai, Han and Bengali runs are cut by their script's analyzer, and
their words (Chinese: character bigrams, the terms BM25 matched) are marked wherever they occur in a text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ingest.analysis import SCRIPT_ANALYZERS, SCRIPT_RUN, Analyzer, analyzer_for, is_word_char
from ingest.analysis_languages import han_bigrams


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
        self._script_words = script_words(query)
        if self._script_words:
            query = SCRIPT_RUN.sub(" ", query)
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
        if not self._hits and not self._script_words:
            return []
        if text not in self._done:  # headings repeat down a page
            spans = find_words(text, self._hits) if self._hits else []
            if self._script_words:
                spans = merge_spans(spans + find_script_words(text, self._script_words))
            self._done[text] = spans
        return self._done[text]


def script_words(query: str) -> dict[str, tuple[str, ...]]:
    """The words of the query's Thai, Han and Bengali runs, by script: Chinese its bigrams (a lone character as
    itself), Thai and Bengali ICU's words of two characters or more."""
    out: dict[str, set[str]] = {}
    for m in SCRIPT_RUN.finditer(query):
        a = SCRIPT_ANALYZERS[m.lastgroup]
        if m.lastgroup == "zh":
            words = han_bigrams(a.normalize(m.group()), singles=True)
        else:
            words = [w for w in a.words(m.group()) if len(w) >= 2]
        out.setdefault(m.lastgroup, set()).update(words)
    return {k: tuple(sorted(v, key=lambda w: (-len(w), w))) for k, v in out.items() if v}


def find_script_words(text: str, words: dict[str, tuple[str, ...]]) -> list[list[int]]:
    """Spans of the script words in ``text``: anywhere for Thai and Chinese (no spaces mark their words), whole
    for Bengali (no letter or mark on either side)."""
    out = []
    for script, ws in words.items():
        for w in ws:
            start = text.find(w)
            while start >= 0:
                end = start + len(w)
                if script != "bn" or not (_in_word(text, start - 1) or _in_word(text, end)):
                    out.append([start, end])
                start = text.find(w, start + 1)
    return out


def _in_word(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (unicodedata.category(text[i])[0] in "LMN" or text[i] in "\u200c\u200d")


def merge_spans(spans: list[list[int]]) -> list[list[int]]:
    """Overlapping or touching spans as one, in order (Chinese bigrams overlap by a character)."""
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


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
