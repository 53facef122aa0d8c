"""Members named in text: their names and aliases as whole words across line breaks, their codes in upper case.

A name never counts when written all in lower case ("turkey", "china", "jordan" are words before they are
countries), and short codes ("ROK", "PNG", "UAE", "IOM", "U.S.") count only in upper case, so "us" or "png" in
running text never do. Adjectives and demonyms ("Malaysian", "Sri Lankan", "Filipino") are not mentions: they
describe people, laws or missions, they do not name a member, and counting them would tag every section of a
national law. The names themselves are data: ``ingest/vocabularies/members.csv``.
"""

from __future__ import annotations

import re

from ingest.vocabularies import MEMBERS, lookup_member


def _name_pattern(alias: str) -> str:
    # Spaces (and hyphens) inside a name may be line breaks in extracted text; apostrophes come in two styles.
    words = []
    for word in alias.split():
        parts = [re.escape(p).replace("'", "['’]") for p in word.split("-")]
        words.append(r"-\s*".join(parts))
    return r"\s+".join(words)


def _build_member_regexes() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    names = sorted({a for m in MEMBERS.values() for a in (m.name, *m.aliases) if a not in m.codes}, key=len, reverse=True)
    codes = {c: m.name for m in MEMBERS.values() for c in m.codes}
    # Not inside a word or a hyphenated compound; "Sri Lankan" is not "Sri Lanka", "Australia's" is.
    names_re = re.compile(r"(?<![\w-])(" + "|".join(map(_name_pattern, names)) + r")(?![\w-])", re.IGNORECASE)
    # Codes: upper case, whole tokens; "U.S." must not run into more letters ("U.S.C." is not "U.S.").
    codes_re = re.compile(r"(?<![\w.])(" + "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True)) + r")(?![\w])")
    return names_re, codes_re, codes


_NAMES_RE, _CODES_RE, _CODE_MAP = _build_member_regexes()


def detect_members(text: str) -> list[str]:
    """Canonical members and jurisdictions named in ``text``, in order of first mention, without repeats."""
    if not text:
        return []
    found: list[tuple[int, str]] = []
    for m in _NAMES_RE.finditer(text):
        matched = m.group(1)
        if matched.islower():  # "china", "turkey": ordinary words
            continue
        name = lookup_member(matched)
        if name:
            found.append((m.start(), name))
    for m in _CODES_RE.finditer(text):
        code = m.group(1)
        if code == "US" and not _us_is_the_country(text, m.start()):
            continue
        found.append((m.start(), _CODE_MAP[code]))
    found.sort()
    return list(dict.fromkeys(name for _, name in found))


def _us_is_the_country(text: str, pos: int) -> bool:
    # "US" in capitals is the country unless its line is shouted upper case ("LET US PROCEED").
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    letters = [c for c in text[start : end if end >= 0 else len(text)] if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) < 0.6
