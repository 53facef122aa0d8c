"""The elements of a Protocol article, and which of them a provision covers, in the provision's own language.

Some articles ask for several things at once: Article 3 of the Trafficking Protocol defines trafficking by an
act, a means and a purpose (and a child needs no means); Article 6 asks for privacy, information, housing,
medical help and compensation. ``ingest/vocabularies/protocol_elements.csv`` lists them, one row per element,
each with the term bank's concepts that name it. A provision covers an element when it names one of those
concepts in its own language (``ingest.termbank``): the words that matched are the evidence, quoted as the
provision writes them, in Thai, Chinese, Bengali, Malay or any other language the term bank holds.

This is a checklist to read, not a verdict: a provision that names "coercion" covers the means by these words,
whatever it says about them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from ingest.termbank import load_termbank

ELEMENTS_FILE = "protocol_elements.csv"
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class ElementsError(ValueError):
    """The elements file is malformed: the message names the line and the field."""


@dataclass(frozen=True)
class Element:
    """One element of an article: its id, what it asks for, and the term bank concepts that name it."""

    instrument: str
    article: str  # the article's section path in the instrument (``ch-i.art-3``)
    element: str
    label: str
    concepts: tuple[str, ...]


@dataclass(frozen=True)
class Covered:
    """An element a provision covers, and the provision's own words that show it."""

    element: str
    label: str
    evidence: str  # the provision's text that named one of the element's concepts
    start: int  # where it is in the text
    end: int


def read_elements(text: str, where: str = ELEMENTS_FILE) -> dict[tuple[str, str], list[Element]]:
    """(instrument, article path) -> its elements in file order, from the CSV text, checked row by row: ids in
    lower-case ASCII, a label, concepts that the term bank holds, no element twice in an article."""
    reader = csv.DictReader(io.StringIO(text))
    needed = ["instrument", "article", "element", "label", "concepts"]
    if reader.fieldnames != needed:
        raise ElementsError(f"{where}: the header must be {','.join(needed)}, got {','.join(reader.fieldnames or [])}")
    known = load_termbank().concepts
    out: dict[tuple[str, str], list[Element]] = {}
    for row in reader:
        line = f"{where}:{reader.line_num}"
        for field in ("instrument", "article", "element"):
            if not _ID.match(row[field] or ""):
                raise ElementsError(f"{line}: {field} {row[field]!r} is not a lower-case id")
        if not (row["label"] or "").strip():
            raise ElementsError(f"{line}: label is empty")
        concepts = tuple(c.strip() for c in (row["concepts"] or "").split(";") if c.strip())
        if not concepts:
            raise ElementsError(f"{line}: concepts is empty")
        unknown = [c for c in concepts if c not in known]
        if unknown:
            raise ElementsError(f"{line}: concepts {', '.join(unknown)} are not in the term bank")
        key = (row["instrument"], row["article"])
        if any(e.element == row["element"] for e in out.get(key, [])):
            raise ElementsError(f"{line}: element {row['element']!r} is given twice for {key[0]}:{key[1]}")
        out.setdefault(key, []).append(Element(*key, row["element"], row["label"].strip(), concepts))
    return out


@lru_cache(maxsize=1)
def load_elements() -> dict[tuple[str, str], list[Element]]:
    """The bundled elements, read once."""
    return read_elements(files("ingest.vocabularies").joinpath(ELEMENTS_FILE).read_text(encoding="utf-8"))


def elements_of(article_id: str) -> list[Element]:
    """The elements of an article given by its section id (``un-trafficking-protocol-2000:ch-i.art-3``); [] for
    an article without a checklist."""
    instrument, _, path = article_id.partition(":")
    return load_elements().get((instrument, path), [])


def covered(article_id: str, text: str, language: str) -> list[Covered]:
    """The article's elements that ``text`` (a provision, written in ``language``) covers, in the article's
    order, each with the first words of the provision that name it."""
    elements = elements_of(article_id)
    if not elements:
        return []
    matches = sorted(load_termbank().concepts_in(text, language), key=lambda m: m.start)
    out = []
    for e in elements:
        hit = next((m for m in matches if m.concept in e.concepts), None)
        if hit is not None:
            out.append(Covered(e.element, e.label, text[hit.start : hit.end], hit.start, hit.end))
    return out
