"""The controlled vocabularies: members, priority areas, document types and periods, each kept as one data file.

``members.csv``
    one row per Bali Process member (state or organisation), or other jurisdiction a law may come from:
    ``name`` (canonical), ``kind`` (state | organisation | other), ``aliases`` (``;``-separated; matched in any
    case but all lower case), ``codes`` (``;``-separated short codes, matched only in upper case as whole tokens),
    ``bali_process_member`` (yes | no).
``areas.csv``
    the eight priority areas, one taxonomy for the 2018 Strategy for Cooperation and the 2023 Adelaide Strategy
    for Cooperation: ``id`` (stable), ``label`` (display), ``names`` (``;``-separated names under which the
    strategies and their work plans state the area, besides the id and label).
``doc_types.csv``
    ``id`` and display ``label`` of each document type; the order is the order shown.
``statuses.csv``
    ``id`` and display ``label`` of each document status (``in_force``, ``repealed``, ``unknown``); a section of a
    document may be ``repealed`` on its own (a repealed provision of a law in force).
``languages.csv``
    the languages texts are indexed in: ``code`` (ISO 639-1, ``und`` for none identifiable), English ``name``,
    ``native_name``, ``script`` (ISO 15924), ``direction`` (ltr | rtl) and ``tag`` (the BCP 47 tag a page's
    ``lang`` attribute takes, e.g. ``zh-Hans``); the order is the order shown.

Names resolve through one normalisation (case, punctuation and curly apostrophes do not matter; for areas
numbering, "and" and "&" do not either). Tests check the files (tests/test_vocabularies.py). A change to the
members' or areas' names changes what ingest detects: bump ``ingest.metadata.METADATA_VERSION`` with it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib.resources import files

from ingest.errors import UnknownFilterValueError

MEMBER_KINDS = ("state", "organisation", "other")


def _read_rows(name: str) -> list[dict[str, str]]:
    text = files(__package__).joinpath(name).read_text(encoding="utf-8")
    return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]


def _split(cell: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in cell.split(";") if item.strip())


_NORM_DROP = re.compile(r"[^a-z0-9]+")


def _norm(text: str) -> str:
    """Lower case, ASCII-folded apostrophes, punctuation and spaces collapsed to single spaces."""
    return _NORM_DROP.sub(" ", text.lower().replace("’", "'").replace("ü", "u")).strip()


# ---------------------------------------------------------------------------------------------------------
# Members


@dataclass(frozen=True)
class Member:
    """A Bali Process member (state or organisation), or another jurisdiction a law may come from."""

    name: str
    kind: str  # "state" | "organisation" | "other"
    aliases: tuple[str, ...] = ()  # matched in any case but all lower case
    bali_process_member: bool = True
    codes: tuple[str, ...] = ()  # matched only in upper case, as whole tokens


def _member(row: dict[str, str]) -> Member:
    if row["kind"] not in MEMBER_KINDS:
        raise ValueError(f"members.csv: {row['name']!r}: kind must be one of {MEMBER_KINDS}, got {row['kind']!r}")
    if row["bali_process_member"] not in ("yes", "no"):
        raise ValueError(f"members.csv: {row['name']!r}: bali_process_member must be yes or no")
    return Member(row["name"], row["kind"], _split(row["aliases"]), row["bali_process_member"] == "yes",
                  _split(row["codes"]))


MEMBERS: dict[str, Member] = {m.name: m for m in map(_member, _read_rows("members.csv"))}

_MEMBER_LOOKUP: dict[str, str] = {
    _norm(alias): m.name for m in MEMBERS.values() for alias in (m.name, *m.aliases, *m.codes)
}


def lookup_member(name: str) -> str | None:
    """The canonical name for a member's name, alias or code written in any case, else None."""
    return _MEMBER_LOOKUP.get(_norm(name))


def canonical_member(name: str) -> str:
    """The canonical name of a member or jurisdiction, from its name, an alias or a code.

    :raises UnknownFilterValueError: for a name no member is known by (``field`` is ``"member"``).
    """
    raw = name if isinstance(name, str) else ""
    key = _norm(raw)
    if key not in _MEMBER_LOOKUP and "(" in raw:
        # manifest conventions such as "Indonesia (sub-national: DI Yogyakarta)"
        key = _norm(raw.split("(")[0])
    if key in _MEMBER_LOOKUP:
        return _MEMBER_LOOKUP[key]
    raise UnknownFilterValueError("member", name, sorted(MEMBERS))


# ---------------------------------------------------------------------------------------------------------
# Priority areas

_AREA_ROWS = _read_rows("areas.csv")
# Keys are stable ids, values display labels, in taxonomy order (the order facets list them in).
PRIORITY_AREAS: dict[str, str] = {r["id"]: r["label"] for r in _AREA_ROWS}
# Names under which the two strategies (and their work plans) state each area, besides the id and label.
AREA_NAMES: dict[str, tuple[str, ...]] = {r["id"]: _split(r["names"]) for r in _AREA_ROWS}


def _area_key(text: str) -> str:
    text = re.sub(r"^[\s#*_]*(?:\(\d+\)|\d+[.)])\s*", "", text)  # "(4) Border management" -> "Border management"
    words = _norm(text.replace("&", " ")).split()
    return " ".join(w for w in words if w != "and")


_AREA_LOOKUP: dict[str, str] = {
    _area_key(name): area for area in PRIORITY_AREAS for name in (area, PRIORITY_AREAS[area], *AREA_NAMES[area])
}
_AREA_IN_TEXT_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _AREA_LOOKUP), key=len, reverse=True)) + r")\b")


def lookup_area(name: str) -> str | None:
    """The area a text names as a whole ("(4) Border management" -> "border_management"), else None."""
    return _AREA_LOOKUP.get(_area_key(name or ""))


def areas_named_in(text: str) -> list[str]:
    """Areas a short text (a table cell) names: one name as a whole, or several ("Border management; Law
    enforcement"), in order of mention."""
    whole = lookup_area(text)
    if whole:
        return [whole]
    return list(dict.fromkeys(_AREA_LOOKUP[m] for m in _AREA_IN_TEXT_RE.findall(_area_key(text))))


def canonical_area(name: str) -> str:
    """The area id for an id, a display label, or either strategy's name of the area.

    Case, punctuation, numbering and "and"/"&" do not matter: "Victim protection & migration management",
    "victim_protection" and "(6) Victim protection and migration management" are the same area.

    :raises UnknownFilterValueError: for a name no area is known by (``field`` is ``"priority_area"``).
    """
    area = lookup_area(name if isinstance(name, str) else "")
    if area:
        return area
    raise UnknownFilterValueError("priority_area", name, list(PRIORITY_AREAS))


# ---------------------------------------------------------------------------------------------------------
# Document types and periods

_DOC_TYPE_ROWS = _read_rows("doc_types.csv")
DOC_TYPES: tuple[str, ...] = tuple(r["id"] for r in _DOC_TYPE_ROWS)
DOC_TYPE_LABELS: dict[str, str] = {r["id"]: r["label"] for r in _DOC_TYPE_ROWS}

_STATUS_ROWS = _read_rows("statuses.csv")
STATUSES: tuple[str, ...] = tuple(r["id"] for r in _STATUS_ROWS)
STATUS_LABELS: dict[str, str] = {r["id"]: r["label"] for r in _STATUS_ROWS}
UNKNOWN_STATUS = "unknown"

_PERIOD = re.compile(r"^\s*(\d{4})\s*[-–]\s*(\d{2}|\d{4})\s*$")


def parse_period(value: str) -> tuple[int, int]:
    """'2017-2019' or '2017-19' -> (2017, 2019).

    :raises ValueError: for anything else, or a period that ends before it starts.
    """
    m = _PERIOD.match(value)
    if not m:
        raise ValueError(f"period must look like 2017-2019, got {value!r}")
    start, end = int(m.group(1)), m.group(2)
    end_year = int(end) if len(end) == 4 else (start // 100) * 100 + int(end)
    if end_year < start:
        raise ValueError(f"period ends before it starts: {value!r}")
    return start, end_year


# ---------------------------------------------------------------------------------------------------------
# Languages


@dataclass(frozen=True)
class Language:
    """A language texts are indexed in, with the names and the ``lang`` tag the UI shows it by."""

    code: str  # ISO 639-1, or "und"
    name: str  # in English: "Thai"
    native_name: str  # "ไทย"
    script: str  # ISO 15924: "Thai", "Hans", "Latn"
    direction: str  # "ltr" | "rtl"
    tag: str  # BCP 47, for HTML's lang attribute: "th", "zh-Hans"


def load_languages() -> dict[str, Language]:
    """The languages of ``languages.csv`` by code, in file order.

    :raises ValueError: for a row whose code or direction is malformed, naming it.
    """
    out: dict[str, Language] = {}
    for row in _read_rows("languages.csv"):
        lang = Language(**row)
        if not (2 <= len(lang.code) <= 3 and lang.code.isalpha() and lang.code.islower()):
            raise ValueError(f"languages.csv: code must be 2-3 lower-case letters, got {lang.code!r}")
        if lang.direction not in ("ltr", "rtl") or not (lang.name and lang.native_name and lang.tag):
            raise ValueError(f"languages.csv: {lang.code!r}: needs names, a tag and direction ltr or rtl")
        out[lang.code] = lang
    return out


LANGUAGES: dict[str, Language] = load_languages()
