"""The parser: one pass over the lines that decides for each whether it opens a section, titles one, or is
body, and builds the section tree. The rules of each structure family live in their own module and are
mixed in: headings, legal designations, front matter and zones, tables."""

from __future__ import annotations

import re

from ingest.sections.designations import (
    DASH_TITLE, DESIGNATOR, NUMBERED, DesignationRules, is_bold_number, is_designation, match_unit, unit_rest,
)
from ingest.sections.front_matter import FrontMatterRules, is_zone_heading
from ingest.sections.headings import HeadingRules
from ingest.sections.nodes import Line, Node, Reading
from ingest.sections.tables import TableRules
from ingest.sections.text import BOLD_LINE, MD_HEADING, plain


class Parser(HeadingRules, DesignationRules, FrontMatterRules, TableRules):
    """One pass over the lines: decides for each whether it opens a section, titles one, or is body."""

    def __init__(self, lines: list[Line], fmt: str) -> None:
        self.lines = lines
        self.fmt = fmt
        self.nodes: list[Node] = []
        self.stack: list[Node] = []  # the open nodes, outermost first
        self.zone = "body"
        self.last_unit: dict[str, tuple[int, str] | None] = {}  # per zone: the key of the last unit opened
        self.quote_depth = 0  # open quotation marks in the current unit: quoted provisions are its text
        self.pending: list[Line] = []  # bold lines that may title the next unit
        self.expect_title: Node | None = None
        self.expect_title_lines = 0
        self.container_order: list[str] = []
        self.seen_body = False
        self.title_block: list[Line] = []
        self.has_md_headings = any(MD_HEADING.match(line.text) for line in lines)
        self.legal, self.numbered_regime = self._prescan()
        self.articles = sum(  # a law numbered by articles: a "Section" with a Roman number groups them
            1 for line in lines if (u := match_unit(plain(line.text.strip().lstrip("#").strip()))) and u.row.kind == "article"
        ) >= 2
        self.preamble: Node | None = None
        self.toc_seen: set[str] = set()
        self.toc_last: tuple[int, str] | None = None
        self._index = 0

    def _prescan(self) -> tuple[bool, bool]:
        """(is this a law, are its units numbered clauses ``12. (1) ...``): two designations or strong clauses."""
        explicit = strong = 0
        prev_bold = False
        for line in self.lines:
            raw = line.text.strip()
            if not raw:
                continue
            text = plain(raw.lstrip("#").strip())
            m = match_unit(text)
            if m and unit_rest(m.rest, raw) is not None:
                explicit += 1
            n = NUMBERED.match(text)
            if n and int(re.match(r"\d+", n.group("num")).group(0)) < 1000:
                rest = n.group("rest")
                if is_bold_number(raw) or rest.startswith("(1)") or DASH_TITLE.match(rest) or prev_bold or line.note:
                    strong += 1
            prev_bold = bool(BOLD_LINE.match(raw)) and not re.search(r"[:;]\**$", raw)
        return explicit >= 2 or strong >= 2, strong >= 2

    # -- main loop ----------------------------------------------------------------------------
    def parse(self) -> list[Node]:
        i = 0
        lines = self.lines
        while i < len(lines):
            line = lines[i]
            if "\t" in line.text:
                i = self._table(i)
                continue
            self._index = i
            self._line(line, i)
            i += 1
        self._flush_pending()
        if self.title_block:  # a document that is nothing but headings
            for line in self.title_block:
                self._add_body(Line(plain(line.text.lstrip("#")), line.page))
        return self.nodes

    def _line(self, line: Line, i: int) -> None:
        """Each family in turn may take the line; what none takes is body text."""
        r = self._read(line, i)
        if r is None:
            return
        if self._take_expected_title(r) or self._take_zone_line(r):
            return
        if r.md and DESIGNATOR.match(r.plain) and self._in_unit():
            self._body(Line(r.content, line.page, line.note))  # "###### (a) Whoever ..." is text of its section
            return
        if self._take_designation(r) or self._take_roman_heading(r) or self._take_markdown_heading(r):
            return
        bold = self._bold(r)
        if self.legal:
            self._take_legal_line(r, bold)
        else:
            self._take_prose_line(r, bold)

    def _read(self, line: Line, i: int) -> Reading | None:
        """The line split into its markup and its text; None (after keeping a paragraph break) if it has no text."""
        raw = line.text.strip()
        if not raw:
            if not self.pending and (self.stack or self.preamble):
                self._current(line).body.append(line)
            return None
        md = MD_HEADING.match(raw)
        content = md.group("text") if md else raw
        text = plain(content)
        if not text:
            return None
        return Reading(line, i, raw, len(md.group("hashes")) if md else None, content, text)

    # -- tree ---------------------------------------------------------------------------------
    def _open(self, node: Node) -> Node:
        self._flush_pending()
        while self.stack and self.stack[-1].rank >= node.rank:
            self.stack.pop()
        node.parent = self.stack[-1] if self.stack else None
        if node.zone != "body" and node.kind not in ("row",):
            node.kind = "explanatory" if node.zone == "explanatory" else node.kind
        self.stack.append(node)
        self.nodes.append(node)
        self.quote_depth = 0
        self.seen_body = True
        return node

    def _current(self, line: Line) -> Node:
        if self.stack:
            return self.stack[-1]
        if self.preamble is None:
            kind, seg, title = ("preamble", "preamble", "Preamble") if self.legal else ("paragraph", "intro", "Introduction")
            self.preamble = Node(kind=kind, seg=seg, number=None, title=title, rank=-1, zone="body", page=line.page)
            self.nodes.append(self.preamble)
        return self.preamble

    def _body(self, line: Line) -> None:
        self._flush_pending()
        self._add_body(line)

    def _add_body(self, line: Line) -> None:
        if line.note:
            note, line.note = line.note, None
            self._add_body(Line("", line.page))
            self._add_body(Line(re.sub(r"\s+", " ", note).strip(), line.page))
            self._add_body(Line("", line.page))
        if not line.blank:
            self.seen_body = True
            if self.title_block:
                self._fold_title_block()
        node = self._current(line)
        node.body.append(line)
        self.quote_depth += line.text.count("“") - line.text.count("”")
        if re.search(r"”\s*\.?\s*[;.]?\s*$", line.text) and line.text.rstrip().endswith(("”.", "”.”.", ".”.", "”;")):
            self.quote_depth = max(0, self.quote_depth) if self.quote_depth < 0 else 0

    def _flush_pending(self) -> None:
        pending, self.pending = self.pending, []
        for line in pending:
            self._add_body(line)
        if pending:
            self._current(pending[-1]).body.append(Line("", pending[-1].page))

    def _container_rank(self, cls: str) -> float:
        if cls not in self.container_order:
            self.container_order.append(cls)
        return 1 + self.container_order.index(cls) * 0.5

    def _expect(self, node: Node) -> None:
        self.expect_title = node
        self.expect_title_lines = 0

    # -- questions the families ask ---------------------------------------------------------------
    def _next_nonblank(self, i: int) -> Line | None:
        for k in range(i + 1, min(len(self.lines), i + 8)):
            if not self.lines[k].blank:
                return self.lines[k]
        return None

    def _in_unit(self) -> bool:
        return any(n.is_unit for n in self.stack)

    def legal_structural_seen(self) -> bool:
        return any(n.kind != "heading" for n in self.nodes)

    def _is_structural(self, text: str) -> bool:
        return is_designation(text) or is_zone_heading(text)
