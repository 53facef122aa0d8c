"""The driver: lines -> parser -> section tree -> :class:`~ingest.schema.Section` records with stable ids
built from the document's own designations, heading paths, readable text and pages."""

from __future__ import annotations

import re

from ingest.loaders import LoadedDocument
from ingest.schema import DocumentMeta, Section
from ingest.sections.clauses import split_long_units
from ingest.sections.designations import amendment_title
from ingest.sections.lines import prepare_lines
from ingest.sections.nodes import Line, Node
from ingest.sections.parser import Parser
from ingest.sections.scripts import dominant_script
from ingest.sections.statutes import split_statute
from ingest.sections.text import LIST_START, document_acronyms, is_caps, plain, words

# Prose without headings is grouped into sections of roughly this many words.
PROSE_GROUP_WORDS = 250


def split_sections(doc: DocumentMeta, loaded: LoadedDocument) -> list[Section]:
    """Split a loaded document into sections along its headings, legal units and table rows.

    :param doc: the document's metadata (``doc_id`` and ``title`` are used).
    :param loaded: the document's text as returned by :func:`ingest.loaders.load_file`.
    :returns: sections in document order, with stable structural ids.
    """
    if loaded.provisions is not None:  # structured provision JSON: the source gives the sections
        from ingest.provision_sections import build_provision_sections

        return build_provision_sections(doc, loaded.provisions)
    script = dominant_script(loaded.text)
    if script != "latin":  # Thai, Chinese: designations only, no capitals or spaces to read (ingest.sections.statutes)
        return _SectionBuilder(doc, split_statute(loaded, script), legal=False).build()
    lines = prepare_lines(loaded)
    with document_acronyms([line.text for line in lines]):
        parser = Parser(lines, loaded.format)
        nodes = parser.parse()
    nodes = split_long_units(nodes)
    nodes = _group_headingless(nodes)
    return _SectionBuilder(doc, nodes, parser.legal).build()


class _SectionBuilder:
    """Turns the node tree into sections: ids from the path of designations, a counter only to separate twins."""

    def __init__(self, doc: DocumentMeta, nodes: list[Node], legal: bool) -> None:
        self.doc = doc
        self.nodes = nodes
        self.legal = legal
        self.used: set[str] = set()
        self.ids: dict[int, str] = {}  # id(node) -> section id, for the nodes kept
        self.paths: dict[int, str] = {}

    def build(self) -> list[Section]:
        sections: list[Section] = []
        for node in self.nodes:
            text = compose(node.body, self.legal)
            if not text and node.kind in ("preamble", "paragraph") and not any(n.parent is node for n in self.nodes):
                continue
            parent = self._kept_parent(node)
            path = self._path(node, parent)
            section_id = f"{self.doc.doc_id}:{path}"
            self.ids[id(node)] = section_id
            chain = self._chain(node)
            heading_path = self._heading_path(chain)
            if node.kind in ("section", "article") and not node.title:
                node.title = amendment_title(text)
                if node.title:
                    heading_path[-1] = node.label()
            pages = [line.page for line in node.body if line.page is not None and not line.blank]
            if node.page is not None:
                pages.append(node.page)
            sections.append(
                Section(
                    section_id=section_id, doc_id=self.doc.doc_id, path=path, heading_path=heading_path,
                    title=node.title, number=node.number, kind=node.kind, text=text, ordinal=len(sections),
                    level=len(chain), parent_id=self.ids.get(id(parent)) if parent is not None else None,
                    page_start=min(pages) if pages else None, page_end=max(pages) if pages else None,
                    attributes=dict(node.attributes),
                )
            )
        return sections

    def _kept_parent(self, node: Node) -> Node | None:
        parent = node.parent
        while parent is not None and id(parent) not in self.ids:
            parent = parent.parent
        return parent

    def _path(self, node: Node, parent: Node | None) -> str:
        base = f"{self.paths[id(parent)]}.{node.seg}" if parent is not None else node.seg
        base = re.sub(r"[^a-z0-9.-]", "-", base.lower()).strip(".-") or "x"
        path, n = base, 2
        while path in self.used:
            path = f"{base}-{n}"
            n += 1
        self.used.add(path)
        self.paths[id(node)] = path
        return path

    def _chain(self, node: Node) -> list[Node]:
        """The kept nodes from the root down to ``node``."""
        chain: list[Node] = []
        walk: Node | None = node
        while walk is not None:
            if id(walk) in self.ids:
                chain.append(walk)
            walk = walk.parent
        chain.reverse()
        return chain

    def _heading_path(self, chain: list[Node]) -> list[str]:
        heading_path = [self.doc.title]
        for member in chain:
            heading_path.extend(member.extra_heading)
            label = member.label()
            if label:
                heading_path.append(label)
        return heading_path


# ------------------------------------------------------------------------------------ text assembly


def compose(lines: list[Line], legal: bool = False) -> str:
    """Readable text: lines of a paragraph joined, paragraphs separated by blank lines, list items kept apart."""
    paragraphs, attr_lines = _paragraphs(lines)
    out: list[str] = []
    for para in paragraphs:
        rows = _list_rows(para)
        if not rows:
            continue
        block = "\n".join(rows)
        if _continues_sentence(out, block, legal):  # a sentence broken by a blank line in converted text
            out[-1] = f"{out[-1]} {block}"
        else:
            out.append(block)
    text = "\n\n".join(out)
    if attr_lines:
        text = f"{text}\n\n{'; '.join(attr_lines)}" if text else "; ".join(attr_lines)
    return text.strip()


def _paragraphs(lines: list[Line]) -> tuple[list[list[str]], list[str]]:
    """The plain text of each paragraph, and the attribute lines (``\\x00Lead: ...``) set apart."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    attr_lines: list[str] = []
    for line in lines:
        if line.text.startswith("\x00"):
            attr_lines.append(line.text[1:])
            continue
        if line.blank:
            if current:
                paragraphs.append(current)
                current = []
            continue
        current.append(plain(line.text))
    if current:
        paragraphs.append(current)
    return paragraphs, attr_lines


def _list_rows(para: list[str]) -> list[str]:
    """A paragraph's lines joined, except that each list item starts a row of its own."""
    rows: list[str] = []
    for text in para:
        if not text:
            continue
        starts_item = bool(LIST_START.match(text)) or (
            rows and text[:1] in "“\"" and re.search(r"[;:—–-]\s*$", rows[-1])
        )
        if rows and not starts_item:
            rows[-1] = f"{rows[-1]} {text}"
        else:
            rows.append(text)
    return rows


def _continues_sentence(out: list[str], block: str, legal: bool) -> bool:
    open_end = out and not re.search(r"[.!?;:…)\]\"”’—–-]\s*$", out[-1])
    return bool(open_end and (
        re.match(r"^[a-z]", block)
        or (
            legal
            and not LIST_START.match(block)
            and not re.match(r"^\d{1,4}[A-Za-z]{0,2}\.\s", block)
            and not is_caps(out[-1].split("\n")[-1], 30)
            and not is_caps(block.split("\n")[0], 30)
            and block[:1] not in "\"“‘'"
            and out[-1][:1] not in "\"“‘'"
        )
    ))


# ---------------------------------------------------------------------------------- prose grouping


def _group_headingless(nodes: list[Node]) -> list[Node]:
    """A document with no structure at all becomes paragraph groups ``p-1``, ``p-4`` ... (paragraph numbers)."""
    if len(nodes) != 1 or nodes[0].kind != "paragraph":
        return nodes
    node = nodes[0]
    if sum(words(line.text) for line in node.body) <= PROSE_GROUP_WORDS * 1.6:
        return nodes
    out: list[Node] = []
    paragraph_no = 1
    for group in _group_prose(node):
        out.append(Node(kind="paragraph", seg=f"p-{paragraph_no}", number=None, title="", rank=1, zone="body",
                        page=group[0].page, body=group))
        paragraph_no += sum(1 for line in group if line.blank)
    return out


def _group_prose(node: Node) -> list[list[Line]]:
    """Split a long headingless body into groups of whole paragraphs of a readable size."""
    paragraphs: list[list[Line]] = []
    current: list[Line] = []
    for line in node.body:
        if line.blank:
            if current:
                paragraphs.append(current)
                current = []
        else:
            current.append(line)
    if current:
        paragraphs.append(current)
    groups: list[list[Line]] = []
    chunk: list[Line] = []
    count = 0
    for para in paragraphs:
        pw = sum(words(line.text) for line in para)
        if chunk and count + pw > PROSE_GROUP_WORDS * 1.6 and count >= PROSE_GROUP_WORDS * 0.6:
            groups.append(chunk)
            chunk, count = [], 0
        chunk.extend(para + [Line("", para[-1].page)])
        count += pw
    if chunk:
        groups.append(chunk)
    return groups
