"""Member scope: a query that names a member ("Thai law", "in Bangladesh", ``中国``, "Singapura") or an
international instrument ("the Protocol", "UNTOC", ``พิธีสาร``, ``公约``) ranks that member's documents (or the
instruments) first.

The names are data (``ingest.member_names``): every member's English name, aliases and codes, English adjectives,
and names in the corpus languages. They are found in any script:

- Latin script: case-insensitively, whole words ("Singapore's" names Singapore, "Indiana" does not name India);
  a name written all in capitals ("US", "ABD", "UNTOC") only in capitals;
- Thai and Chinese (no spaces between words): as substrings; Bengali: from the start of a word (a case suffix may
  follow, ``বাংলাদেশের``);
- where names overlap the longest wins (``印度尼西亚`` is Indonesia, not India).

An English adjective names its member only before a word of the law within the next ``ADJECTIVE_WINDOW`` words
("Thai law", "Chinese criminal law", "Bangladeshi legislation"), not in "Chinese nationals" or "Thai fishing
boats", where the question is seldom about that member's law.

Instruments are named in general ("the Protocol") or in particular ("the Trafficking Protocol", ``偷运移民议定书``,
"Protokol … Perdagangan Orang" with a gap of a few words); a year written with a member ("Malaysia's 2010
amendment") narrows its documents to that year's.

What the searcher does with a scope (``Searcher``): when the request has no member filter, each leg adds its
best ``SCOPE_CANDIDATES`` passages of the scope's documents to its candidates, and those get ``SCOPE_BOOST``
(``GENERAL_SCOPE_BOOST`` for instruments named only in general) times the standard deviation of the fused scores
added to theirs, a strong preference, not a filter; when every document named is in another language than the
query's, the dense leg weighs ``CROSS_LINGUAL_SCOPE_DENSE_WEIGHT``. The response's ``scope`` says what was
detected.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from ingest.member_names import load_instrument_names, load_member_names
from ingest.vocabularies import MEMBERS

# How much a candidate of the scope's documents gains, in standard deviations of the candidates' fused scores
# (chosen on xling_dev and bali_dev, README).
SCOPE_BOOST = 8.0
# The boost when the query names instruments only in general ("the Protocol", ``公约``): many documents, a
# weaker hint than a member or an instrument named in particular.
GENERAL_SCOPE_BOOST = 2.0
# How many candidates of the scope's documents each leg adds to its own (a narrower search of the same leg).
SCOPE_CANDIDATES = 60
# When every document the query names is in another language than the query's, hybrid search weighs the dense
# leg this much (BM25 sees only the term bank's translations there). xling_dev nDCG@10 by this weight: none (the
# default 0.45) 0.583, 0.55 0.584, 0.65 0.588, 0.7 0.590, 0.8 0.582 (English questions about Thai and Bengali law
# lose what the term bank gives them); bali_dev 0.593-0.597 throughout.
CROSS_LINGUAL_SCOPE_DENSE_WEIGHT = 0.7
# Document types of the international instruments; an instrument names no state member.
INSTRUMENT_TYPES = ("protocol", "convention")
# An English adjective names its member when one of these follows within ADJECTIVE_WINDOW words.
ADJECTIVE_WINDOW = 3
LEGAL_WORDS = frozenset(
    "law laws act acts code codes bill bills legislation legislative statute statutes statutory constitution "
    "regulation regulations rules court courts judiciary government authorities authority criminal penal legal "
    "provision provisions ordinance decree decrees parliament immigration definition jurisdiction".split()
)
_THAI_HAN = re.compile(r"[\u0e00-\u0e7f\u3400-\u9fff\uf900-\ufaff]")
_BENGALI = re.compile(r"[\u0980-\u09ff]")
_YEAR = re.compile(r"(?<![\w.])((?:19|20)\d\d)(?![\w.])")  # a Gregorian year written in the query
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass(frozen=True)
class Scope:
    """What a query names: members (canonical names, in order of mention), whether an instrument, and which
    instruments in particular (their doc ids: "the Trafficking Protocol", ``偷运移民议定书``)."""

    members: tuple[str, ...] = ()
    instruments: bool = False
    documents: tuple[str, ...] = ()  # the instruments named in particular
    years: tuple[int, ...] = ()  # years the query writes ("Malaysia's 2010 amendment")
    mentions: tuple[str, ...] = field(default=(), compare=False)  # the words that named them, as written

    def __bool__(self) -> bool:
        return bool(self.members or self.instruments)

    @property
    def boost(self) -> float:
        """How much the scope's candidates gain (in standard deviations of the fused scores)."""
        return SCOPE_BOOST if self.members or self.documents else GENERAL_SCOPE_BOOST

    def to_dict(self) -> dict:
        return {"members": list(self.members), "instruments": self.instruments, "documents": list(self.documents),
                "years": list(self.years)}

    def includes(self, members: Iterable[str], doc_type: str, doc_id: str = "", particular: bool = True) -> bool:
        """Whether a document of these members and type is in scope: one of the members', one of the
        instruments named in particular (when ``particular``: some of them are in the index), or (when
        instruments are in scope and none in particular) a protocol or convention of no state."""
        members = list(members)
        if any(m in self.members for m in members):
            return True
        if self.documents and particular:
            return doc_id in self.documents
        return self.instruments and doc_type in INSTRUMENT_TYPES and not any(
            MEMBERS[m].kind == "state" for m in members if m in MEMBERS
        )


def _alternation(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))


@dataclass
class _Matcher:
    """Regexes over all names, by how they are matched, and what each (lower-cased) name stands for."""

    patterns: list[re.Pattern]
    target: dict[str, tuple[str, str, str]]  # name key -> (member or "", kind: name | adjective | instrument, doc id or "")
    english_adjectives: frozenset[str]
    gapped: list[tuple[re.Pattern, str]]  # instrument names with gaps (…): pattern, the instrument's doc id


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


@lru_cache(maxsize=1)
def _matcher() -> _Matcher:
    entries = [(n.name, n.member, n.kind, n.language, "") for n in load_member_names()]
    instruments = load_instrument_names()
    entries += [(n.name, "", "instrument", n.language, n.instrument) for n in instruments if len(n.parts) == 1]
    target = {_key(name): (member, kind, doc) for name, member, kind, _, doc in entries}
    capitals = [n for n, *_ in entries if n.isupper() and len(n) > 1]
    spaced = [n for n, *_ in entries if n not in capitals and not _THAI_HAN.search(n) and not _BENGALI.search(n)]
    unspaced = [n for n, *_ in entries if _THAI_HAN.search(n)]
    bengali = [n for n, *_ in entries if _BENGALI.search(n) and not _THAI_HAN.search(n)]
    patterns = [
        re.compile(rf"(?<!\w)(?:{_alternation(spaced)})(?!\w)", re.IGNORECASE),
        re.compile(rf"(?<!\w)(?:{_alternation(capitals)})(?!\w)"),
        re.compile(_alternation(unspaced)),
        re.compile(rf"(?<![\u0980-\u09ff])(?:{_alternation(bengali)})"),
    ]
    adjectives = frozenset(_key(n) for n, _, kind, lang, _ in entries if kind == "adjective" and lang == "en")
    gapped = [(_gapped_pattern(n.parts), n.instrument) for n in instruments if len(n.parts) > 1]
    return _Matcher(patterns, target, adjectives, gapped)


# What a gap (…) in an instrument name lets through: up to three words, or thirty Thai or Chinese characters.
_WORDS_GAP = r"(?:\s+\S+){0,3}?\s+"
_CHARS_GAP = r".{0,30}?"


def _gapped_pattern(parts: list[str]) -> re.Pattern:
    """An instrument name with gaps as one pattern, its parts matched like the names of their script."""
    unspaced = any(_THAI_HAN.search(p) for p in parts)
    body = (_CHARS_GAP if unspaced else _WORDS_GAP).join(re.escape(p) for p in parts)
    if unspaced:
        return re.compile(body)
    if any(_BENGALI.search(p) for p in parts):
        return re.compile(rf"(?<![\u0980-\u09ff]){body}")
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _before_legal_word(text: str, end: int) -> bool:
    words = [w.lower().removesuffix("'s").removesuffix("’s") for w in _WORD.findall(text[end:])[:ADJECTIVE_WINDOW]]
    return any(w in LEGAL_WORDS for w in words)


def detect_scope(query: str) -> Scope:
    """The members and instruments a query names (``Scope()``, which is false, when none)."""
    text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", query))
    m = _matcher()
    found: list[tuple[int, str, str, str, str]] = []  # start, member, kind, instrument, as written
    for pattern in m.patterns:
        for hit in pattern.finditer(text):
            key = _key(hit.group())
            member, kind, instrument = m.target.get(key, ("", "", ""))
            if not kind:
                continue
            if key in m.english_adjectives and not _before_legal_word(text, hit.end()):
                continue
            found.append((hit.start(), member, kind, instrument, hit.group()))
    for pattern, instrument in m.gapped:
        found += [(hit.start(), "", "instrument", instrument, hit.group()) for hit in pattern.finditer(text)]
    found.sort()
    members = tuple(dict.fromkeys(member for _, member, kind, _, _ in found if kind != "instrument"))
    documents = tuple(dict.fromkeys(doc for *_, doc, _ in found if doc))
    years = tuple(dict.fromkeys(int(y) for y in _YEAR.findall(text))) if members else ()
    return Scope(members, any(kind == "instrument" for _, _, kind, _, _ in found), documents, years,
                 tuple(w for *_, w in found))


def scope_documents(scope: Scope, documents: dict) -> set[str]:
    """The ids of the documents (``doc_id`` -> ``DocumentMeta``) the scope includes. Instruments named in
    particular stand for the instruments only when the index holds one of them. When the query writes a year,
    a named member's documents of that year (or period) stand for all of its documents, if it has any
    ("Malaysia's 2010 amendment" is the 2010 bill, not the 2007 one)."""
    if not scope:
        return set()
    particular = any(d in documents for d in scope.documents)
    found = {doc_id for doc_id, d in documents.items() if scope.includes(d.members, d.doc_type, doc_id, particular)}
    if not scope.years or not scope.members:
        return found
    for member in scope.members:
        own = {doc_id for doc_id in found if member in documents[doc_id].members}
        dated = {doc_id for doc_id in own if _of_years(documents[doc_id], scope.years)}
        if dated:
            found -= own - dated
    return found


def _of_years(doc, years: tuple[int, ...]) -> bool:
    if doc.year is None:
        return False
    last = doc.year_to or doc.year
    return any(doc.year <= y <= last for y in years)
