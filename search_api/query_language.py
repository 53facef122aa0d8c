"""The language a query is written in, for the one decision that depends on it: how much the dense leg counts
when every result will be in another language.

Thai, Chinese and Bengali are told by their script; a Latin-script query by lingua over the corpus languages
(``ingest.metadata.language``), or not at all when it is too short to tell (``None``).
"""

from __future__ import annotations

from ingest.analysis import script_of
from ingest.metadata.language import UNDETERMINED, detect_language

# With a language filter that excludes the question's own language, every result is in another language: the
# BM25 leg then sees only the term bank's translations of the question's concepts, and the multilingual dense leg
# carries the search. Chosen on the Malaysian parallel check (67 English sections searched with language=ms;
# hit@1 / hit@5): dense weight 0.45 (the default) 0.284 / 0.806, 0.7 0.701 / 0.970, 0.8 0.761 / 0.970,
# 0.9 0.746 / 0.970, dense alone 0.746 / 0.970.
CROSS_LINGUAL_DENSE_WEIGHT = 0.8


# A Latin-script question is told among these by lingua's low-accuracy (trigram) models: 5 MB resident in the
# search process against ~146 MB for the full models (at 1M passages, the difference between meeting the memory
# target and not). On the 162 Latin-script questions of xling_dev and bali_dev the two modes differ only on three
# Indonesian questions told as Malay; Malay and Indonesian count as one language here (``KIN``) anyway.
QUERY_LANGUAGES = ("en", "ms", "id", "tr", "nl")
# Languages a reader of one reads as their own: a Malay question is not cross-lingual over Indonesian texts (BM25
# analyses both alike, and the term bank's Malay and Indonesian terms are looked up together).
KIN = {"ms": frozenset({"ms", "id"}), "id": frozenset({"ms", "id"})}


def query_language(query: str) -> str | None:
    """ISO 639-1 code of the query's language, or None when it cannot be told."""
    script = script_of(query)
    if script is not None:
        return script
    lang = detect_language(query, QUERY_LANGUAGES, low_accuracy=True)
    return None if lang == UNDETERMINED else lang


def cross_lingual(query: str, languages) -> bool:
    """True when ``languages`` (of a filter, or of the documents a query names) are known and the query's own
    language, told from its text, is not among them (nor a kin of it, ``KIN``): every result, or every named
    document, is in another language."""
    if not languages:
        return False
    lang = query_language(query)
    return lang is not None and not (KIN.get(lang, frozenset({lang})) & set(languages))
