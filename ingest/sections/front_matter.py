"""Zones that restart a law's numbering: a bill's front matter and its arrangement of clauses / table of
contents (one ``contents`` section, so clause 12 of the list never takes the id of the real clause 12), the
explanatory statement or *Penjelasan* (kind ``explanatory``), and schedules, which sit at the back but
restart the numbering the same way."""

from __future__ import annotations

import re

from ingest.schema import slugify
from ingest.sections.designations import NUMBERED, ROMAN, match_container, number_key
from ingest.sections.nodes import Line, Node, Reading
from ingest.sections.text import OPEN_QUOTES, is_caps, sentence_case, words

ZONE_EXPLANATORY = re.compile(
    r"^(EXPLANATORY STATEMENT|EXPLANATORY MEMORANDUM|EXPLANATORY NOTES?|STATEMENT OF OBJECTS AND REASONS"
    r"|HURAIAN|PENJELASAN|MEMORANDUM PENJELASAN)\s*$"
)
ZONE_CONTENTS = re.compile(
    r"^(ARRANGEMENT OF (CLAUSES|SECTIONS|ARTICLES|RULES|REGULATIONS)|SUSUNAN (FASAL|SEKSYEN)|TABLE OF CONTENTS"
    r"|CONTENTS|DAFTAR ISI)\s*$",
    re.I,
)
# the enacting formula that ends a bill's table of contents
TOC_END = re.compile(
    r"^(A BILL|AN ACT|An Act to|BE IT ENACTED|Be it enacted|ENACTED by|RANG UNDANG-UNDANG|DIPERBUAT|WHEREAS)\b"
)
_SCHEDULE = re.compile(
    r"^(?:(?P<ord>FIRST|SECOND|THIRD|FOURTH|FIFTH|First|Second|Third|Fourth|Fifth)\s+|THE\s+|The\s+)?"
    r"(?P<kw>SCHEDULE|Schedule|JADUAL|Jadual|ANNEX|Annex|APPENDIX|Appendix|LAMPIRAN|Lampiran)"
    rf"(?:\s+(?P<num>{ROMAN}|\d{{1,3}}|[A-Z])(?![\w]))?\.?(?P<rest>.*)$"
)
_ORDINALS = {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5"}


def is_zone_heading(text: str) -> bool:
    return bool(ZONE_EXPLANATORY.match(text) or ZONE_CONTENTS.match(text))


class FrontMatterRules:
    """Parser steps for zones (mixed into :class:`~.parser.Parser`, whose state they use: ``zone``,
    ``stack``, ``preamble``, ``last_unit``, ``toc_seen``, ``toc_last``)."""

    def _take_zone_line(self, r: Reading) -> bool:
        """Open a zone, continue a table of contents, or open a schedule; False when the line is none of those."""
        zplain = r.plain.strip("_* ")
        if ZONE_CONTENTS.match(zplain) and self.zone == "body":
            self._start_zone("contents", zplain, r.line)
            return True
        if ZONE_EXPLANATORY.match(zplain) and (self.legal or self.zone != "body"):
            self._start_zone("explanatory", zplain, r.line)
            return True
        if self.zone == "contents":
            if self._toc_continues(r.plain, r.raw):
                self._add_body(r.line)
                return True
            self.zone = "body"
            self.stack = []
        sched = _SCHEDULE.match(zplain)
        if sched and self.legal and self._schedule_ok(sched) and not r.raw.startswith(tuple(OPEN_QUOTES)):
            self._start_schedule(sched, r.line)
            return True
        return False

    def _start_zone(self, zone: str, heading: str, line: Line) -> None:
        self._flush_pending()
        if self.title_block:
            self._fold_title_block()
        if zone == "contents" and self.preamble is not None and not self.stack:
            # what precedes a bill's arrangement of clauses is its front matter, not a preamble
            self.preamble.seg, self.preamble.title = "front", "Front matter"
            self.preamble = None
        self.stack = []
        self.zone = zone
        self.last_unit[zone] = None
        seg = {"contents": "contents"}.get(zone) or ("penjelasan" if heading.upper().startswith("PENJELASAN") else "explanatory")
        kind = "heading" if zone == "contents" else "explanatory"
        node = Node(kind=kind, seg=seg, number=None, title=sentence_case(heading), rank=0, zone=zone, page=line.page)
        self._open(node)
        self.toc_seen = set()
        self.toc_last = None

    def _toc_continues(self, text: str, raw: str) -> bool:
        """Whether a line is still an entry of the table of contents (its numbering only goes forward)."""
        if TOC_END.match(text):
            return False
        c = match_container(text)
        if c:
            key = f"{c.row.rank_class}-{c.num.upper()}"
            if key in self.toc_seen:
                return False
            self.toc_seen.add(key)
            return True
        n = NUMBERED.match(text)
        if n:
            if re.match(r"^\*\*\d", raw) or n.group("rest").startswith("(1)"):
                return False
            key = number_key(n.group("num"))
            if self.toc_last is not None and key <= self.toc_last:
                return False
            self.toc_last = key
            return True
        return words(text) <= 20

    @staticmethod
    def _schedule_ok(m: re.Match) -> bool:
        rest = m.group("rest").strip()
        kw = m.group("kw")
        if not (kw.isupper() or not rest):
            return False
        return not rest or rest[:1] in "([" or is_caps(rest, 14) or rest[:1] in "—–-:"

    def _start_schedule(self, m: re.Match, line: Line) -> None:
        self._flush_pending()
        self.stack = []
        self.zone = "schedule"
        self.last_unit["schedule"] = None
        ordinal = (m.group("ord") or "").lower()
        num = m.group("num") or _ORDINALS.get(ordinal)
        kw = m.group("kw").lower()
        base = "schedule" if kw in ("schedule", "jadual") else slugify(kw)
        seg = f"{base}-{slugify(num)}" if num else base
        rest = m.group("rest").strip(" .—–-:")
        title = sentence_case(rest) if rest and not rest.startswith(("(", "[")) else ""
        number = " ".join(p for p in ((m.group("ord") or "").title(), m.group("kw").title(), m.group("num")) if p)
        node = Node(kind="schedule", seg=seg, number=number, title=title, rank=0, zone="schedule", page=line.page)
        self._open(node)
        if rest.startswith(("(", "[")):
            self._add_body(Line(rest, line.page))
        if not title:
            self._expect(node)
