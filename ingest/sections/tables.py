"""Tab-separated tables (as work plans print their action items): one ``row`` section per item, the other
columns in ``attributes`` -- ``priority_area``, ``lead``, ``status``, and ``theme`` from group rows -- and
repeated at the end of the row's text as ``Priority area: ...; Lead: ...`` so that they are searchable.
Cells may hold HTML paragraphs (``<p>..</p>``) from converted documents."""

from __future__ import annotations

import re

from ingest.schema import slugify
from ingest.sections.nodes import Line, Node
from ingest.sections.text import plain, sentence_case, short_title, words

_ITEM = re.compile(r"^(?P<num>\d{1,3}|[a-z])(?P<punct>[.)])\s+(?P<text>.+)$", flags=re.S)
_CANONICAL_LABELS = {"priority_area": "Priority area", "lead": "Lead", "status": "Status", "theme": "Theme"}


def table_cell(text: str) -> str:
    """A cell's text: HTML paragraphs as lines, other markup removed."""
    text = re.sub(r"</p>\s*<p>", "\n", text, flags=re.I)
    return plain(text)


def attribute_key(header: str, index: int) -> str:
    """The attribute a column fills: the known columns by name, the others by their slugified header."""
    h = header.lower()
    if "priority area" in h or h.startswith("area"):
        return "priority_area"
    if "lead" in h:
        return "lead"
    if "status" in h:
        return "status"
    if "theme" in h:
        return "theme"
    return slugify(header).replace("-", "_") if header else f"column_{index + 1}"


class TableRules:
    """Parser step for tables (mixed into :class:`~.parser.Parser`)."""

    def _table(self, i: int) -> int:
        """Read the table starting at line ``i`` (blank lines between its rows included); return the next line."""
        self._flush_pending()
        rows: list[tuple[list[str], Line]] = []
        k = i
        while k < len(self.lines):
            line = self.lines[k]
            if "\t" in line.text:
                rows.append(([table_cell(c) for c in line.text.split("\t")], line))
                k += 1
                continue
            if line.blank:
                nxt = next((j for j in range(k, min(len(self.lines), k + 4)) if not self.lines[j].blank), None)
                if nxt is not None and "\t" in self.lines[nxt].text:
                    k = nxt
                    continue
            break
        TableBuilder(self, rows).build()
        self.expect_title = None
        return k


class TableBuilder:
    """Turns a tab-separated action table into one ``row`` section per item."""

    def __init__(self, parser, rows: list[tuple[list[str], Line]]) -> None:
        self.p = parser
        self.rows = rows
        self.theme = ""
        self.item: Node | None = None  # the last row opened (continuation rows add to it)
        self.parent_item: Node | None = None  # the last numbered row (lettered rows go below it)

    def build(self) -> None:
        header, first_line = self.rows[0]
        has_header = all(c and words(c) <= 8 and not re.match(r"^\d", c) for c in header) and len(self.rows) > 1
        body_rows = self.rows[1:] if has_header else self.rows
        if not has_header:
            header = [f"Column {n + 1}" for n in range(max(len(r[0]) for r in self.rows))]
        self.header = header
        self.keys = [attribute_key(h, n) for n, h in enumerate(header)]
        self.labels = [_CANONICAL_LABELS.get(k, sentence_case(h)) for k, h in zip(self.keys, header)]
        self.container = self._open_container(first_line)
        if has_header:  # the column names, so that no text of the table is lost
            self.container.body.append(Line(" | ".join(h for h in header if h), first_line.page))
        header_norm = [h.lower() for h in header]
        for cells, line in body_rows:
            cells = cells + [""] * (len(header) - len(cells))
            if [c.lower() for c in cells[: len(header)]] == header_norm:
                continue  # header repeated on a new page
            self._row(cells, line)
        self.p.stack = [self.container]
        self.p.seen_body = True

    def _open_container(self, first_line: Line) -> Node:
        p = self.p
        seg = "actions" if re.match(r"action", self.header[0], re.I) else "table"
        # a heading with no text right before the table names it (its number too, which would otherwise be lost)
        title = "Action items" if seg == "actions" else "Table"
        prev = p.stack[-1] if p.stack else None
        if prev is not None and prev.kind == "heading" and not any(not b.blank for b in prev.body) and prev in p.nodes:
            title = prev.label()
            p.nodes.remove(prev)
            p.stack.pop()
        while p.stack:
            p.stack.pop()
        container = Node(kind="heading", seg=seg, number=None, title=title, rank=0, zone=p.zone, page=first_line.page)
        p._open(container)
        return container

    def _row(self, cells: list[str], line: Line) -> None:
        first, others = cells[0], cells[1:]
        if not first and not any(others):
            return
        m = _ITEM.match(first)
        if not any(others) and not m and first and words(first) <= 12:
            self.theme = first.rstrip(" .:")  # a group row: the theme of the rows below it
            return
        if m is None:
            if self.item is not None:  # continuation of the previous item (e.g. its description)
                self.item.body.append(Line(first, line.page))
                self._add_attrs(self.item, others)
                return
            text, number = first, None
        else:
            text, number = m.group("text"), m.group("num") + m.group("punct")
        node = self._row_node(number, text.strip(), others, line)
        self.p.nodes.append(node)
        self.item = node
        if number and number[0].isdigit():
            self.parent_item = node

    def _row_node(self, number: str | None, text: str, others: list[str], line: Line) -> Node:
        if number and number[0].isdigit():
            seg, parent = f"row-{number[:-1]}", self.container
        elif number:
            seg, parent = number[:-1], self.parent_item or self.container
        else:
            seg, parent = "row", self.container
        node = Node(kind="row", seg=seg, number=number, title="", rank=9, zone=self.p.zone, page=line.page)
        if not any(others) and words(text) <= 12 and not re.search(r"[.;:]$", text):
            node.title = text  # an item heading; its description follows in the next row
        else:
            node.body.append(Line(text, line.page))
            node.title = short_title(text)
        node.parent = parent
        node.attributes = {}
        if self.theme:
            node.attributes["theme"] = self.theme
            node.extra_heading = [self.theme]
        self._add_attrs(node, others)
        return node

    def _add_attrs(self, node: Node, others: list[str]) -> None:
        for key, label, value in zip(self.keys[1:], self.labels[1:], others):
            value = value.strip()
            if not value:
                continue
            if key in node.attributes and key != "theme":
                node.attributes[key] = f"{node.attributes[key]} {value}"
            else:
                node.attributes[key] = value
            node.body.append(Line(f"\x00{label}: {value}", None))
