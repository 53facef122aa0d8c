"""Names of members and of international instruments as queries write them, in the corpus languages: data.

``ingest/vocabularies/member_names.csv``: ``member`` (the canonical name in ``members.csv``), ``language`` (a
language code), ``kind`` (``name``: the country, "Bangladesh", ``ไทย``, ``中国``, ``Singapura``; ``adjective``:
"Thai", "Bangladeshi", "Chinese"), ``name`` as written. Every member's canonical name, aliases and codes in
``members.csv`` are English names already and are not repeated here. A name written all in capitals ("ABD", like
the codes "US", "PRC") is matched only in capitals.

``ingest/vocabularies/instrument_names.csv``: ``language``, ``name``: words that name an international
instrument ("Protocol", "UNTOC", ``พิธีสาร``, ``公约``, "Konvensyen", "Sözleşme").

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


class NamesError(ValueError):
    """A names file is malformed; the message names the file, line and value."""


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


def read_instrument_names(text: str, where: str = INSTRUMENT_NAMES_FILE) -> list[tuple[str, str]]:
    """(language, name) rows of ``instrument_names.csv``'s text, checked like the member names."""
    out: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in _rows(text, where, ["language", "name"]):
        entry = (_check_language(row["language"], where, line), _check_name(row["name"], where, line))
        if (entry[0], _key(entry[1])) in seen:
            raise NamesError(f"{where}:{line}: {entry[1]!r} listed twice (line {seen[(entry[0], _key(entry[1]))]})")
        seen[(entry[0], _key(entry[1]))] = line
        out.append(entry)
    return out


def _read(name: str) -> str:
    return files("ingest.vocabularies").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_member_names() -> tuple[MemberName, ...]:
    """The bundled member names (``member_names.csv`` plus ``members.csv``'s), read once."""
    return tuple(read_member_names(_read(MEMBER_NAMES_FILE)))


@lru_cache(maxsize=1)
def load_instrument_names() -> tuple[tuple[str, str], ...]:
    """The bundled instrument names (``instrument_names.csv``), read once."""
    return tuple(read_instrument_names(_read(INSTRUMENT_NAMES_FILE)))
