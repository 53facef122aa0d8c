"""Phrases a query asks for: quoted ones are required, a short unquoted query is preferred verbatim.

A phrase matches a passage when the passage's words (headings included) hold the phrase's words in order, as the
analyzer (``ingest.analysis``) cuts and normalises words, so case, punctuation and invisible marks never matter.
A phrase in a script written without spaces (Thai, Chinese) matches character for character instead: the
normalised phrase, white space removed, is a substring of the normalised text, white space removed (however a
word segmenter would have cut either).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.analysis import ANALYZERS, DEFAULT, INVISIBLE, SCRIPT_ANALYZERS, Analyzer, analyzer_for, script_of

_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')
# An unquoted query of this many words or fewer (and not a question) is also tried as a phrase.
IMPLICIT_PHRASE_MAX_WORDS = 5
# A required phrase's passages are listed exactly when at most this many passages hold all its words and word
# pairs (reading and checking a passage's text costs 11-22 us here); past that the searcher checks only its
# candidates, and says the total is not exact.
PHRASE_SCAN_MAX = 5_000


def query_phrases(query: str, analyzer: Analyzer | None = None) -> tuple[list[str], bool]:
    """Phrases the query asks for, and whether they are required (quoted) or only preferred."""
    quoted = [a or b for a, b in _QUOTED.findall(query)]
    quoted = [q for q in quoted if _phrase_analyzer(q, analyzer).words(q)]
    if quoted:
        return quoted, True
    a = _phrase_analyzer(query, analyzer)
    words = a.words(query)
    if a.spaceless:  # no words to count: a short query (up to about five words' worth of characters)
        short = 2 <= len("".join(query.split())) <= 4 * IMPLICIT_PHRASE_MAX_WORDS
    else:
        short = 2 <= len(words) <= IMPLICIT_PHRASE_MAX_WORDS
    if short and not query.strip().endswith(("?", "？")):
        return [query], False
    return [], False


def _phrase_analyzer(phrase: str, analyzer: Analyzer | None) -> Analyzer:
    """The analyzer that cuts a phrase: its script's for Thai, Han and Bengali, else the one given (English)."""
    script = script_of(phrase)
    return SCRIPT_ANALYZERS[script] if script else (analyzer or DEFAULT)


def _text_analyzers(languages: Sequence[str] | None) -> list[Analyzer]:
    """The analyzers that may have cut a text's other words: the filtered languages', else every one."""
    if languages:
        return list(dict.fromkeys(analyzer_for(x) for x in languages))
    return list(dict.fromkeys([DEFAULT, *ANALYZERS.values()]))


class PhraseMatcher:
    """Which texts contain every one of some phrases, word for word (character for character in Thai and Chinese).

    :param languages: the search's language filter: the texts are in these languages (None: in any).
    """

    def __init__(self, phrases: list[str], analyzer: Analyzer | None = None,
                 languages: Sequence[str] | None = None) -> None:
        self.phrases = list(phrases)
        self.languages = tuple(languages or ())
        named = [analyzer_for(x) for x in self.languages if not analyzer_for(x).spaceless]
        self.analyzer = analyzer or (named[0] if len(set(named)) == 1 and len(named) == len(self.languages) else DEFAULT)
        self._by = [(p, _phrase_analyzer(p, self.analyzer)) for p in self.phrases]
        # Word-for-word phrases are compared on keys cut by their analyzer; Turkish case rules also count when
        # the texts may be Turkish ("İNSAN" is "insan" there, "i̇nsan" by the default rules).
        self._word_cutters = list(dict.fromkeys(
            [self.analyzer] + [a for a in _text_analyzers(self.languages) if a.name == "tr"]))
        # per phrase: (cutter, the phrase's key as it cuts it); a text holds the phrase when one key is in its own
        self.keys = [[(c, c.phrase_key(p)) for c in ([a] if a is not self.analyzer else self._word_cutters)]
                     for p, a in self._by]
        self.words = {w for p, a in self._by if a is DEFAULT for w in a.words(p)}

    def required_term_sets(self) -> list[list[str]]:
        """Alternative sets of BM25 terms, one per analyzer that may have cut a matching text: every text holding
        the phrases has all the terms of one of them (so the texts holding all of one set are a superset of the
        matches). An empty set means the phrases give no term to narrow with."""
        out = []
        for text_analyzer in _text_analyzers(self.languages):
            terms: set[str] = set()
            for p, a in self._by:
                if a is self.analyzer or a.name not in SCRIPT_ANALYZERS:  # a phrase of the text's other words
                    terms.update(_latin_required_terms(text_analyzer, p))
                else:
                    terms.update(a.required_terms(p))
            out.append(sorted(terms))
        return [list(t) for t in dict.fromkeys(tuple(t) for t in out)]

    def required_terms(self) -> list[str]:
        """The terms of ``required_term_sets`` common to all of them."""
        sets = self.required_term_sets()
        return sorted(set(sets[0]).intersection(*sets[1:])) if sets else []

    def matches(self, text: str) -> bool:
        if self.words and len(self._word_cutters) == 1:
            low = text.lower()
            # every word as a substring first (cheap), then the phrases word for word
            if not all(w in low for w in self.words) and not INVISIBLE.search(low):
                return False
        text_keys: dict[Analyzer, str] = {}
        for alternatives in self.keys:
            for c, key in alternatives:
                if c not in text_keys:
                    text_keys[c] = c.phrase_key(text)
                if key in text_keys[c]:
                    break
            else:
                return False
        return True

    def matching(self, texts: dict) -> set:
        """The keys of ``texts`` (key -> text) whose text contains every phrase."""
        return {k for k, text in texts.items() if self.matches(text)}


def _latin_required_terms(analyzer: Analyzer, phrase: str) -> list[str]:
    """The terms every text cut by ``analyzer`` has when it holds ``phrase`` (words that are not Thai, Han or
    Bengali) word for word: the analyzer's own for a space-separated language; for a text cut by ICU its words
    cut like English's (and the pairs, except in Chinese, whose other words are indexed without pairs)."""
    if not analyzer.spaceless and analyzer.name not in SCRIPT_ANALYZERS:
        return analyzer.required_terms(phrase)
    words = [w for w in analyzer.term_words(analyzer.normalize(phrase)) if w not in analyzer.stopwords]
    if analyzer.name == "zh":
        return sorted(set(words))
    return sorted(set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])})
