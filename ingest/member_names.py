"""Names of members and of international instruments as queries write them, in the corpus languages: data.

``ingest/vocabularies/member_names.csv``: ``member`` (the canonical name in ``members.csv``), ``language`` (a
language code), ``kind`` (``name``: the country, "Bangladesh", ``ไทย``, ``中国``, ``Singapura``; ``adjective``:
"Thai", "Bangladeshi", "Chinese"), ``name`` as written. Every member's canonical name, aliases and codes in
``members.csv`` are English names already and are not repeated here. A name written all in capitals ("ABD", like
the codes "US", "PRC") is matched only in capitals.

``ingest/vocabularies/instrument_names.csv``: ``language``, ``name``, ``instrument``: words that name an
international instrument, either any ("Protocol", ``พิธีสาร``, ``公约``, "Konvensyen", "Sözleşme": ``instrument``
empty) or one in particular ("Trafficking Protocol", "UNTOC", ``偷运移民议定书``, "İnsan Ticareti Protokolü":
``instrument`` is the ``doc_id`` of its text in the corpus). In a name, ``…`` stands for a few words (or, in
Thai and Chinese, a few characters) the query may put between its parts: "Protokol … Perdagangan Orang" names
the Trafficking Protocol in "Protokol PBB tentang perdagangan orang".

``load_member_names`` and ``load_instrument_names`` read and check both (``NamesError`` names the line at
fault): known members and language codes, NFC-normalised trimmed names, no name listed twice, and no name given
to two members (a query naming it could not be told).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from ingest.vocabularies import LANGUAGES, MEMBERS

MEMBER_NAMES_FILE = "member_names.csv"
INSTRUMENT_NAMES_FILE = "instrument_names.csv"
NAME_KINDS = ("name", "adjective")
GAP = "…"  # in an instrument name: a few words (characters in Thai and Chinese) may come between its parts


class NamesError(ValueError):
    """A names file is malformed; the message names the file, line and value."""


@dataclass(frozen=True)
class InstrumentName:
    language: str
    name: str  # as written; ``…`` marks a gap
    instrument: str = ""  # the doc_id of the instrument it names; "" for a word naming any instrument

    @property
    def parts(self) -> list[str]:
        """The name's parts around its gaps (``…``), trimmed."""
        return [p.strip() for p in self.name.split(GAP)]


@dataclass(frozen=True)
class MemberName:
    member: str  # canonical, as in members.csv
    language: str
    kind: str  # "name" | "adjective"
    name: str


def _rows(text: str, where: str, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    if list(reader.fieldnames or []) != columns:
        raise NamesError(f"{where}: columns must be {', '.join(columns)}; got {reader.fieldnames}")
    return [(line, {k: (v or "") for k, v in row.items()}) for line, row in enumerate(reader, start=2)]


def _check_name(name: str, where: str, line: int) -> str:
    if not name or name != name.strip() or "  " in name or unicodedata.normalize("NFC", name) != name:
        raise NamesError(f"{where}:{line}: name {name!r} must be non-empty, trimmed, single-spaced and NFC-normalised")
    return name


def _check_language(lang: str, where: str, line: int) -> str:
    if lang not in LANGUAGES or lang == "und":
        raise NamesError(f"{where}:{line}: language must be one of {sorted(set(LANGUAGES) - {'und'})}, got {lang!r}")
    return lang


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).lower()


def read_member_names(text: str, where: str = MEMBER_NAMES_FILE) -> list[MemberName]:
    """``members.csv``'s names, aliases and codes (English names), then the names of ``member_names.csv``'s
    text, checked.

    :raises NamesError: for an unknown member, language or kind, a malformed name, a name listed twice, or a
        name given to two members.
    """
    out: list[MemberName] = []
    owner: dict[str, tuple[str, str]] = {}  # name key -> (member, where it was given)

    def add(entry: MemberName, place: str) -> None:
        key = _key(entry.name)
        if key in owner:
            member, first = owner[key]
            what = "listed twice" if member == entry.member else f"already names {member}"
            raise NamesError(f"{place}: {entry.name!r} {what} ({first})")
        owner[key] = (entry.member, place)
        out.append(entry)

    for m in MEMBERS.values():
        for name in dict.fromkeys(_key(n) for n in (m.name, *m.aliases, *m.codes)):
            original = next(n for n in (m.name, *m.aliases, *m.codes) if _key(n) == name)
            add(MemberName(m.name, "en", "name", original), "members.csv")
    for line, row in _rows(text, where, ["member", "language", "kind", "name"]):
        member = row["member"].strip()
        if member not in MEMBERS:
            raise NamesError(f"{where}:{line}: member {member!r} is no canonical name of members.csv")
        if row["kind"] not in NAME_KINDS:
            raise NamesError(f"{where}:{line}: kind must be one of {NAME_KINDS}, got {row['kind']!r}")
        add(MemberName(member, _check_language(row["language"], where, line), row["kind"],
                       _check_name(row["name"], where, line)), f"{where}:{line}")
    return out


def read_instrument_names(text: str, where: str = INSTRUMENT_NAMES_FILE) -> list[InstrumentName]:
    """The rows of ``instrument_names.csv``'s text, checked like the member names; ``instrument`` is empty or a
    valid doc id, and a gap (``…``) stands between two non-empty parts."""
    from ingest.schema import check_doc_id

    out: list[InstrumentName] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in _rows(text, where, ["language", "name", "instrument"]):
        entry = InstrumentName(_check_language(row["language"], where, line), _check_name(row["name"], where, line),
                               row["instrument"].strip())
        if entry.instrument:
            try:
                check_doc_id(entry.instrument)
            except (TypeError, ValueError) as e:
                raise NamesError(f"{where}:{line}: instrument {entry.instrument!r} is no doc id ({e})") from None
        if not all(entry.parts):
            raise NamesError(f"{where}:{line}: name {entry.name!r}: a gap ({GAP}) must stand between two words")
        key = (entry.language, _key(entry.name))
        if key in seen:
            raise NamesError(f"{where}:{line}: {entry.name!r} listed twice (line {seen[key]})")
        seen[key] = line
        out.append(entry)
    return out


def _read(name: str) -> str:
    return files("ingest.vocabularies").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_member_names() -> tuple[MemberName, ...]:
    """The bundled member names (``member_names.csv`` plus ``members.csv``'s), read once."""
    return tuple(read_member_names(_read(MEMBER_NAMES_FILE)))


@lru_cache(maxsize=1)
def load_instrument_names() -> tuple[InstrumentName, ...]:
    """The bundled instrument names (``instrument_names.csv``), read once."""
    return tuple(read_instrument_names(_read(INSTRUMENT_NAMES_FILE)))
