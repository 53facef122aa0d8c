"""Reviewed cells of the Protocol implementation map: ``alignments.csv`` beside the corpus's manifest.

Each row is a person's verdict on one provision for one article and one member::

    article,member,section_id,verdict,note
    un-trafficking-protocol-2000:ch-i.art-3,Singapore,sg-phta-2014:part-2.s-3,confirmed,read against Art 3(a)

``confirmed`` puts the provision first in its cell, marked as reviewed; ``rejected`` keeps it out of the cell for
good. Section ids are stable across re-ingests of unchanged text, so the reviews outlive the index; a row whose
article or section is no longer in the index is reported by ``kb ingest`` (and kept in the file). A malformed row
is an error naming the file, the line and the field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import KBError
from ingest.schema import check_doc_id
from ingest.vocabularies import lookup_member

ALIGNMENTS_NAME = "alignments.csv"
HEADER = ["article", "member", "section_id", "verdict", "note"]
VERDICTS = ("confirmed", "rejected")


class AlignmentsError(KBError, ValueError):
    """A malformed ``alignments.csv``: the message names the file, the line and the field."""


@dataclass(frozen=True)
class Review:
    """One verdict on one provision (``section_id``) for one article and member; ``line`` is its row's line."""

    article: str
    member: str
    section_id: str
    verdict: str
    note: str
    line: int


def _section_id(value: str, field: str, where: str) -> str:
    doc_id, sep, path = (value or "").strip().partition(":")
    try:
        check_doc_id(doc_id)
    except (TypeError, ValueError):
        raise AlignmentsError(f"{where}: {field} {value!r} does not start with a document id") from None
    if not sep or not path:
        raise AlignmentsError(f"{where}: {field} {value!r} is not a section id (document:path)")
    return f"{doc_id}:{path}"


def read_alignments(path: Path) -> list[Review]:
    """The reviews of an ``alignments.csv``, checked row by row (see the module's docstring)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AlignmentsError(f"{path}: unreadable ({exc})") from exc
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != HEADER:
        raise AlignmentsError(f"{path}:1: the header must be {','.join(HEADER)}, got {','.join(reader.fieldnames or [])}")
    reviews: list[Review] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if None in row or any(row[f] is None for f in HEADER[:4]):
            raise AlignmentsError(f"{where}: expected {len(HEADER)} fields ({','.join(HEADER)})")
        article = _section_id(row["article"], "article", where)
        section = _section_id(row["section_id"], "section_id", where)
        if article.split(":")[0] == section.split(":")[0]:
            raise AlignmentsError(f"{where}: section_id {section!r} is in the instrument itself, not a member's law")
        member = lookup_member(row["member"].strip())
        if member is None:
            raise AlignmentsError(f"{where}: member {row['member']!r} is not a known member")
        verdict = row["verdict"].strip()
        if verdict not in VERDICTS:
            raise AlignmentsError(f"{where}: verdict {verdict!r} must be one of {', '.join(VERDICTS)}")
        key = (article, member, section)
        if key in seen:
            raise AlignmentsError(f"{where}: {article} / {member} / {section} was already reviewed on line {seen[key]}")
        seen[key] = reader.line_num
        reviews.append(Review(article, member, section, verdict, (row.get("note") or "").strip(), reader.line_num))
    return reviews


def stale_reviews(path: Path, reviews: list[Review], gen) -> list[str]:
    """A message for each review whose article or section is not in the generation ``gen``, or whose section is
    not a law of the member it names: these apply to nothing until the text comes back."""
    documents = gen.documents()
    sections: dict[str, set[str]] = {}  # the section ids of each document looked at
    out = []
    for r in reviews:
        for field, sid in (("article", r.article), ("section_id", r.section_id)):
            doc_id = sid.split(":")[0]
            if doc_id not in documents:
                out.append(f"{path}:{r.line}: {field} {sid}: no document {doc_id} in the index; the review applies to nothing")
                break
            if doc_id not in sections:
                sections[doc_id] = {s.section_id for s in gen.sections_of(doc_id)}
            if sid not in sections[doc_id]:
                out.append(f"{path}:{r.line}: {field} {sid} is not in the index (re-split or removed?); the review applies to nothing")
                break
        else:
            if r.member not in documents[r.section_id.split(":")[0]].members:
                out.append(f"{path}:{r.line}: section_id {r.section_id} is not a law of {r.member}")
    return out
