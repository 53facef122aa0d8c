"""The language a query is written in, for the two decisions that depend on it: how much the dense leg counts
when every result will be in another language, and what text the dense leg embeds (``dense_text``).

Thai, Chinese and Bengali are told by their script; a Latin-script query by lingua's trigram models over
``QUERY_LANGUAGES`` (``ingest.metadata.language``), or not at all when it is too short to tell (``None``).
"""

from __future__ import annotations

from functools import lru_cache

from ingest.analysis import script_of
from ingest.metadata.language import UNDETERMINED, detect_language
from ingest.termbank import ConceptMatch, load_termbank
from search_api.query_terms import LATIN_QUERY_LANGUAGES

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


@lru_cache(maxsize=4096)
def query_language(query: str) -> str | None:
    """ISO 639-1 code of the query's language, or None when it cannot be told (remembered per query text: the
    searcher, the dense text and the engine's language offsets all ask)."""
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


# The term bank's languages a Latin-script question may name its concepts in (Malay and Indonesian share many).
_LATIN_TERM_LANGUAGES = {"ms": ("ms", "id"), "id": ("id", "ms"), "tr": ("tr",)}


def dense_text(query: str) -> str:
    """The text the dense leg embeds for a question: the question itself, except that in a question written in
    another language than English, each term of the bank's concepts is replaced by the concept's first English
    term ("Apakah hukuman bagi kesalahan pemerdagangan orang di bawah undang-undang Singapura?" -> "Apakah penalty
    bagi offence trafficking in persons di bawah undang-undang Singapura?").

    multilingual-e5-small reads English legal terms far better than their Malay, Thai or Bengali equivalents: on
    xling_dev (hybrid nDCG@10) 0.608 -> 0.630; by question language ms 0.320 -> 0.461, bn 0.796 -> 0.876,
    th 0.688 -> 0.769, tr 0.549 -> 0.601, zh 0.735 -> 0.740, id 0.972 -> 0.981. Embedding both texts and
    averaging scored lower (0.623) and would cost a second embedding. English questions are embedded as they are.
    """
    script = script_of(query)
    bank = load_termbank()
    if script is not None:
        matches = bank.concepts_in(query, script)
    else:
        found = {lang: bank.concepts_in(query, lang) for lang in LATIN_QUERY_LANGUAGES if lang != "en"}
        if not any(found.values()):
            return query  # nothing to replace: no need to tell the language
        matches = [m for lang in _LATIN_TERM_LANGUAGES.get(query_language(query), ()) for m in found[lang]]
    return _replaced(query, matches, " " if script in ("th", "zh") else "") if matches else query


def _replaced(query: str, matches: list[ConceptMatch], pad: str) -> str:
    """The query with each matched span (the longest where they overlap) replaced by its concept's first English
    term, padded with ``pad`` (a space in scripts written without them). In a script with spaces the word's
    suffixes go too ("suçunun" matched as "suç": offence, not "offenceunun")."""
    bank = load_termbank()
    out, at = [], 0
    for m in sorted(matches, key=lambda m: (m.start, -m.end)):
        english = bank.concepts[m.concept].terms.get("en")
        if m.start < at or not english:
            continue
        end = m.end
        while not pad and end < len(query) and query[end].isalnum():
            end += 1
        out += [query[at : m.start], pad, english[0], pad]
        at = end
    return "".join(out + [query[at:]])
