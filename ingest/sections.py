"""Split a loaded document into citable sections along its own structure.

The splitter reads the document line by line and recognises, without knowing which file it reads:

* Markdown headings (``#`` .. ``########``, also ``##Title`` without a space), bold and ALL-CAPS headings;
* legal containers -- Part/PART/BAHAGIAN, Chapter/BAB, Division, Title, Bagian -- and legal units --
  Article/Pasal, Section/SEC./Seksyen/§ and numbered clauses ``12. (1) ...`` / ``**5a.**`` -- with their
  titles (the line after a container, a bold line before a clause, or a PDF marginal note);
* zones that restart numbering: an arrangement of clauses / table of contents (one ``contents`` section,
  so clause 12 of the list never takes the id of the real clause 12), an explanatory statement or
  *Penjelasan* (kind ``explanatory``) and schedules;
* sections quoted inside amending provisions (they stay in the amending section: their numbers break the
  sequence of the Act's own numbering or they open with a quotation mark);
* tab-separated tables (one ``row`` section per action item, the other columns in ``attributes`` --
  ``priority_area``, ``lead``, ``status``, and ``theme`` from group rows -- and repeated at the end of the
  row's text as ``Priority area: ...; Lead: ...`` so that they are searchable);
* plain prose, grouped into paragraphs of a readable size.

Paths are built from the document's own designations (``part-iii.s-12``, ``bab-i.pasal-1``,
``penjelasan.ii.pasal-5``, ``actions.row-7``, ``law-enforcement``), so unchanged text always gives the same
ids. A counter suffix (``-2``) is used only to separate two units with the same designation.
"""

from __future__ import annotations

import html
import re
from contextvars import ContextVar
from dataclasses import dataclass, field

from ingest.loaders import LoadedDocument
from ingest.schema import DocumentMeta, Section, slugify

# Bump whenever the splitter's output (ids, titles, kinds, heading paths, text, pages, attributes) changes for
# the same input: the ingest fingerprint is built from it, so a bump re-splits and re-embeds every document.
SPLITTER_VERSION = 1

# A unit (article / section) longer than this many words is split into child sections at its
# top-level subdivisions "(a)", "(1)" ... when it has at least two of them.
LONG_UNIT_WORDS = 700
# Prose without headings is grouped into sections of roughly this many words.
PROSE_GROUP_WORDS = 250

# ------------------------------------------------------------------------------------------ patterns

_ROMAN = r"[IVXLC]+"
_ORDINAL_ID = r"Ke[a-z]+(?:\s+(?:Belas|Puluh))?"  # Indonesian "Kesatu", "Kedua Belas"
_CONTAINER_WORDS = {
    "part": "part",
    "p art": "part",
    "bahagian": "part",
    "b ahagian": "part",
    "chapter": "chapter",
    "bab": "bab",
    "division": "division",
    "title": "title",
    "subpart": "subpart",
    "bagian": "bagian",
    "paragraf": "paragraf",
}
_CONTAINER = re.compile(
    r"^(?P<kw>PART|Part|P ART|BAHAGIAN|Bahagian|B AHAGIAN|CHAPTER|Chapter|BAB|Bab|DIVISION|Division|TITLE|Title"
    r"|SUBPART|Subpart|BAGIAN|Bagian|PARAGRAF|Paragraf)\s+"
    rf"(?P<num>{_ORDINAL_ID}|{_ROMAN}[A-Za-z]?|\d{{1,3}}[A-Z]?|[A-Z])(?=$|[\s.:—–-])\.?(?P<rest>.*)$"
)
_SCHEDULE = re.compile(
    r"^(?:(?P<ord>FIRST|SECOND|THIRD|FOURTH|FIFTH|First|Second|Third|Fourth|Fifth)\s+|THE\s+|The\s+)?"
    r"(?P<kw>SCHEDULE|Schedule|JADUAL|Jadual|ANNEX|Annex|APPENDIX|Appendix|LAMPIRAN|Lampiran)"
    rf"(?:\s+(?P<num>{_ROMAN}|\d{{1,3}}|[A-Z])(?![\w]))?\.?(?P<rest>.*)$"
)
_UNIT = re.compile(
    r"^(?P<kw>Article|ARTICLE|Art\.|Pasal|PASAL|Artikel|Section|SECTION|Sec\.|SEC\.|Seksyen|SEKSYEN|Fasal|FASAL|§"
    r"|Rule|RULE|Regulation|REGULATION)\s*"
    rf"(?P<num>\d{{1,5}}(?:[-.]?[A-Za-z]{{1,2}})?(?:-\d+)?|{_ROMAN})(?![\w])(?P<rest>.*)$"
)
_UNIT_PREFIX = {
    "article": ("art", "article", "Article"),
    "art.": ("art", "article", "Article"),
    "artikel": ("art", "article", "Artikel"),
    "pasal": ("pasal", "article", "Pasal"),
    "section": ("s", "section", None),
    "sec.": ("s", "section", None),
    "seksyen": ("s", "section", "Seksyen"),
    "fasal": ("s", "section", "Fasal"),
    "§": ("s", "section", "§"),
    "rule": ("r", "section", "Rule"),
    "regulation": ("reg", "section", "Regulation"),
}
_NUMBERED = re.compile(r"^(?P<num>\d{1,4}[A-Za-z]{0,2})\.(?!\d)\s*(?P<rest>.*)$")
_DASH_TITLE = re.compile(r"^(?P<title>[A-Z][^—–]{2,150}?)\s*[.,]?\s*[—–]+\s*(?P<body>.*)$")
_ZONE_EXPLANATORY = re.compile(
    r"^(EXPLANATORY STATEMENT|EXPLANATORY MEMORANDUM|EXPLANATORY NOTES?|STATEMENT OF OBJECTS AND REASONS"
    r"|HURAIAN|PENJELASAN|MEMORANDUM PENJELASAN)\s*$"
)
_ZONE_CONTENTS = re.compile(
    r"^(ARRANGEMENT OF (CLAUSES|SECTIONS|ARTICLES|RULES|REGULATIONS)|SUSUNAN (FASAL|SEKSYEN)|TABLE OF CONTENTS"
    r"|CONTENTS|DAFTAR ISI)\s*$",
    re.I,
)
_TOC_END = re.compile(
    r"^(A BILL|AN ACT|An Act to|BE IT ENACTED|Be it enacted|ENACTED by|RANG UNDANG-UNDANG|DIPERBUAT|WHEREAS)\b"
)
_ROMAN_HEADING = re.compile(rf"^(?P<num>{_ROMAN})\.\s+(?P<title>[A-Z][A-Z ,'’&-]{{2,80}})$")
_DESIGNATOR = re.compile(r"^\((?P<d>[0-9]{1,3}[A-Za-z]?|[a-z]{1,2}|[A-Z]{1,2}|[ivxlc]{1,6})\)\s*(?P<rest>.*)$")
_LIST_START = re.compile(r"^(?:[-•*▪●◦]\s|\(\w{1,6}\)\s?|\w{1,4}\)\s|\d{1,4}[A-Za-z]{0,2}\.\s|[a-z]\.\s|[ivx]{1,5}\.\s)")
_MD_HEADING = re.compile(r"^(?P<hashes>#{1,8})\s*(?P<text>.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|={3,})\s*$")
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(?P<inner>.+?)(?:\*\*|__)\s*$")
_ITALIC_LINE = re.compile(r"^\s*(?:\*\*)?_(?P<inner>[^_]+)_(?:\*\*)?\s*(?P<pn>\d{1,4})?\s*$")
_BOLD_HEAD = re.compile(r"^\s*\*\*(?P<head>[^*]+?)\*\*\s*(?P<after>.*)$")
_TAGS = re.compile(r"<[^>]{1,200}>")
_OPEN_QUOTES = "\"“‘'«"
_AMENDS = re.compile(
    r"^(?P<target>(?:Sections?|Articles?|Subsections?)\s+[\w-]+(?:(?:,\s*|\s+and\s+|\s+to\s+)[\w-]+)*"
    r"\s+of\s+(?:the\s+)?(?:Republic Act|R\.\s?A\.|Act|Presidential Decree|Code)[^,;:]{0,40}?)"
    r"(?:,|\s+is\b|\s+are\b|\s+as\b)"
)
_QUOTED_HEADING = re.compile(
    r"^[\"“]\s*(?:SEC\.|SECTION|Section|Sec\.|Article|ARTICLE)\s*[\w-]+\.\s*(?P<title>[^—–]{2,120}?)\s*\.?\s*[—–]"
)


def _plain(text: str) -> str:
    """Inline Markdown/HTML markup removed, quotes normalised, spaces collapsed."""
    text = text.replace("``", '"').replace("''", '"')
    text = re.sub(r"<sup>(.*?)</sup>", r"\1", text, flags=re.I)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.I)
    text = _TAGS.sub("", text)
    text = html.unescape(text)
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?<![\w\\])_(\S(?:[^_]*?\S)?)_(?![\w])", r"\1", text)
    text = re.sub(r"(?<![\w*\\])\*(\S(?:[^*]*?\S)?)\*(?![\w*])", r"\1", text)
    text = re.sub(r"\\([*_#\[\]()`])", r"\1", text)
    text = re.sub(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ", text)
    text = text.replace("\u200b", "").replace("\ufeff", "")
    return text.strip()


# acronyms of the document being split (set per call in split_sections; a ContextVar keeps threads apart)
_ACRONYMS: ContextVar[frozenset[str]] = ContextVar("acronyms", default=frozenset())


def _sentence_case(title: str) -> str:
    """An ALL-CAPS title in sentence case, keeping the acronyms the document itself writes in capitals."""
    letters = [c for c in title if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8 and len(letters) > 3:
        words = title.lower().split(" ")
        originals = title.split(" ")
        acronyms = _ACRONYMS.get()
        out = [orig if re.sub(r"\W", "", orig) in acronyms else word for word, orig in zip(words, originals)]
        text = " ".join(out)
        return text[:1].upper() + text[1:]
    return title


def _is_caps(text: str, max_words: int = 12) -> bool:
    letters = [c for c in text if c.isalpha()]
    return (
        len(letters) >= 3
        and sum(c.isupper() for c in letters) / len(letters) > 0.85
        and len(text.split()) <= max_words
        and (not re.search(r"[.;,]$", text) or re.search(r"\b[A-Za-z]{2,4}\.$", text) is not None)
        and re.search(r"[A-Za-z]{3,}", text) is not None
    )


def _words(text: str) -> int:
    return len(text.split())


def _num_key(num: str) -> tuple[int, str]:
    m = re.match(r"(\d+)\s*[-.]?\s*([A-Za-z]*)", num)
    if m:
        return int(m.group(1)), m.group(2).lower()
    return _roman_to_int(num), ""


def _roman_to_int(text: str) -> int:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    total, prev = 0, 0
    for ch in reversed(text.lower()):
        v = values.get(ch, 0)
        total += -v if v < prev else v
        prev = max(prev, v)
    return total


# ------------------------------------------------------------------------------------------- lines


@dataclass
class _Line:
    text: str  # raw line (markup kept) without trailing newline
    page: int | None
    note: str | None = None  # marginal note standing beside this line (PDF)

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def _prepare_lines(loaded: LoadedDocument) -> list[_Line]:
    """All lines of the document with page numbers; front matter, rules and running heads dropped."""
    notes: dict[tuple[int, int], str] = {}
    for note in getattr(loaded, "margin_notes", []) or []:
        key = (note.page, note.line)
        notes[key] = f"{notes[key]} {note.text}" if key in notes else note.text
    lines: list[_Line] = []
    for p, page in enumerate(loaded.pages, start=1):
        raw = page.split("\n")
        # blank lines at page edges are furniture left by the loader, not paragraph breaks
        first = next((i for i, line in enumerate(raw) if line.strip()), len(raw))
        last = max((i for i, line in enumerate(raw) if line.strip()), default=-1)
        for i, line in enumerate(raw):
            if loaded.paged and (i < first or i > last):
                continue
            lines.append(_Line(line.rstrip("\r"), p if loaded.paged else None, notes.get((p, i))))
    if loaded.format == "text":
        for line in lines:
            if re.match(r"^ \S", line.text) and not _is_caps(line.text.strip()):
                line.text = "- " + line.text[1:]  # bullets lost in PDF-to-text conversion leave one space
    if not loaded.paged:
        lines = _strip_front_matter(lines)
        lines = _drop_markdown_furniture(lines)
    out: list[_Line] = []
    for line in lines:
        text = line.text
        stripped = text.strip()
        if re.fullmatch(r"<!--.*-->|<meta[^>]*>|</?(html|body|head|div|span)[^>]*>", stripped, flags=re.I):
            continue
        # letter-spaced words of a converted PDF: "_i n t i t u l e d_"
        if re.fullmatch(r"[_*]*(?:[A-Za-z] ){3,}[A-Za-z][_*]*", stripped):
            text = stripped.replace(" ", "")
        # an amending section's heading glued to the previous line ("x x x**SEC. 11.**")
        parts = re.split(r"(?<=[^\s\"“])(?=\*\*(?:SEC\.|SECTION)\s+\d+[A-Z-]*\.\*\*)", text)
        for part in parts:
            out.append(_Line(part, line.page, line.note if part is parts[0] else None))
    return out


def _strip_front_matter(lines: list[_Line]) -> list[_Line]:
    i = 0
    while True:
        j = i
        while j < len(lines) and lines[j].blank:
            j += 1
        if j < len(lines) and lines[j].text.strip() == "---":
            end = next((k for k in range(j + 1, min(len(lines), j + 60)) if lines[k].text.strip() == "---"), None)
            if end is not None and all(
                re.match(r"^\s*([\w .-]+:.*|[\w./ -]*)$", lines[k].text) for k in range(j + 1, end)
            ):
                i = end + 1
                continue
        return lines[i:]


def _running_head_key(text: str) -> str:
    return re.sub(r"[^a-z]", "", _plain(text.lstrip("#")).lower())


def _drop_markdown_furniture(lines: list[_Line]) -> list[_Line]:
    """Drop page-break rules and the running head that follows each of them in PDF-converted Markdown."""
    breaks = [i for i, line in enumerate(lines) if _RULE.match(line.text) and line.text.strip().startswith("--")]
    if len(breaks) < 2:
        return lines

    def first_after(i: int) -> int | None:
        for k in range(i + 1, min(len(lines), i + 6)):
            if not lines[k].blank:
                return k
        return None

    def head_like(k: int) -> bool:
        text = lines[k].text.strip()
        plain = _plain(text.lstrip("#"))
        if not plain or _words(plain) > 9 or _DESIGNATOR.match(plain):
            return False
        if re.fullmatch(r"\d{1,4}", plain):
            return True
        return bool(
            _ITALIC_LINE.match(text)
            or re.fullmatch(r"\d{1,4}\s+(?:\*\*)?_[^_]+_(?:\*\*)?", text)
            or text.startswith("#")
        )

    keys: dict[str, int] = {}
    for b in breaks:
        k = first_after(b)
        if k is not None:
            keys[_running_head_key(lines[k].text)] = keys.get(_running_head_key(lines[k].text), 0) + 1
    drop: set[int] = set(breaks)
    starts = breaks + [-1]  # the document start (after front matter) is a page start too
    for b in starts:
        k = first_after(b)
        if k is None:
            continue
        key = _running_head_key(lines[k].text)
        if head_like(k) and (keys.get(key, 0) >= 2 or _ITALIC_LINE.match(lines[k].text.strip())):
            drop.add(k)
            nxt = k + 1  # a running head wrapped onto a second italic line, with no blank between
            if nxt < len(lines) and not lines[nxt].blank and _ITALIC_LINE.match(lines[nxt].text.strip()) and head_like(nxt):
                drop.add(nxt)
    return [line for i, line in enumerate(lines) if i not in drop]


# ------------------------------------------------------------------------------------------- nodes


@dataclass
class _Node:
    kind: str
    seg: str  # path segment
    number: str | None
    title: str
    rank: float
    zone: str
    page: int | None
    label_override: str | None = None
    body: list[_Line] = field(default_factory=list)
    parent: _Node | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    extra_heading: list[str] = field(default_factory=list)  # e.g. the theme of a table row
    is_unit: bool = False
    md_level: int | None = None

    def label(self) -> str:
        if self.label_override is not None:
            return self.label_override
        if self.number and self.title:
            sep = ". " if re.fullmatch(r"(§ |SEC\. |SECTION )?\d+[A-Za-z-]*", self.number) else " "
            return f"{self.number}{sep}{self.title}"
        return self.title or self.number or ""


@dataclass
class _Pending:
    lines: list[_Line] = field(default_factory=list)


class _Parser:
    """One pass over the lines: decides for each whether it opens a section, titles one, or is body."""

    def __init__(self, lines: list[_Line], fmt: str) -> None:
        self.lines = lines
        self.fmt = fmt
        self.nodes: list[_Node] = []
        self.stack: list[_Node] = []
        self.zone = "body"
        self.last_unit: dict[str, tuple[int, str] | None] = {}
        self.unit_style: dict[str, str] = {}
        self.quote_depth = 0
        self.pending: list[_Line] = []
        self.expect_title: _Node | None = None
        self.expect_title_lines = 0
        self.container_order: list[str] = []
        self.seen_body = False
        self.title_block: list[_Line] = []
        self.has_md_headings = any(_MD_HEADING.match(line.text) for line in lines)
        self.legal, self.numbered_regime = self._prescan()
        self.preamble: _Node | None = None
        self.toc_seen: set[str] = set()
        self.toc_last: tuple[int, str] | None = None

    # -- pre-scan -----------------------------------------------------------------------------
    def _prescan(self) -> tuple[bool, bool]:
        explicit = strong = 0
        prev_bold = False
        for line in self.lines:
            raw = line.text.strip()
            if not raw:
                continue
            plain = _plain(raw.lstrip("#").strip())
            m = _UNIT.match(plain)
            if m and self._unit_rest(m.group("rest"), raw) is not None:
                explicit += 1
            n = _NUMBERED.match(plain)
            if n and int(re.match(r"\d+", n.group("num")).group(0)) < 1000:
                rest = n.group("rest")
                if (
                    re.match(r"^\*\*\d{1,4}[A-Za-z]{0,2}\.", raw)
                    or rest.startswith("(1)")
                    or _DASH_TITLE.match(rest)
                    or prev_bold
                    or line.note
                ):
                    strong += 1
            prev_bold = bool(_BOLD_LINE.match(raw)) and not re.search(r"[:;]\**$", raw)
        return explicit >= 2 or strong >= 2, strong >= 2

    @staticmethod
    def _unit_rest(rest: str, raw: str, md: bool = False) -> tuple[str, str] | None:
        """(title, body) of the text after a unit designation, or None if the line is not a heading."""
        rest = rest.strip()
        if not rest:
            return "", ""
        bold_head = _BOLD_HEAD.match(raw)
        rest = re.sub(r"^[.:]\s*", "", rest)
        if bold_head and bold_head.group("after").strip():
            # "**SEC. 20. Separability Clause.** — text" / "**SECTION 1.** Section 1 of ..."
            head_plain = _plain(bold_head.group("head"))
            m = _UNIT.match(head_plain)
            title = re.sub(r"^[.:\s]+", "", m.group("rest")).rstrip(" .") if m else ""
            body = re.sub(r"^[\s—–-]+", "", _plain(bold_head.group("after")))
            return title, body
        if rest[:1].islower():
            return None
        if md:  # a Markdown heading is a heading whatever its length
            return rest.lstrip("—–- ").rstrip(" ."), ""
        if rest[:1] in "—–-":
            rest = rest.lstrip("—–- ")
        m = _DASH_TITLE.match(rest)
        if m and _words(m.group("title")) <= 15:
            return m.group("title").rstrip(" ."), m.group("body")
        m = re.match(r"^(?P<title>[A-Z][^.]{1,150}?)\.\s+(?P<body>[A-Z(\"“].*)$", rest)
        if m and _words(m.group("title")) <= 12:
            return m.group("title"), m.group("body")
        if _words(rest) <= 15 and not re.search(r"[;:,]$", rest):
            return rest.rstrip(" ."), ""
        return None

    # -- tree helpers -------------------------------------------------------------------------
    def _open(self, node: _Node) -> _Node:
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

    def _current(self, line: _Line) -> _Node:
        if self.stack:
            return self.stack[-1]
        if self.preamble is None:
            kind, seg, title = ("preamble", "preamble", "Preamble") if self.legal else ("paragraph", "intro", "Introduction")
            self.preamble = _Node(kind=kind, seg=seg, number=None, title=title, rank=-1, zone="body", page=line.page)
            self.nodes.append(self.preamble)
        return self.preamble

    def _body(self, line: _Line) -> None:
        self._flush_pending()
        self._add_body(line)

    def _add_body(self, line: _Line) -> None:
        if line.note:
            note, line.note = line.note, None
            self._add_body(_Line("", line.page))
            self._add_body(_Line(re.sub(r"\s+", " ", note).strip(), line.page))
            self._add_body(_Line("", line.page))
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
            self._current(pending[-1]).body.append(_Line("", pending[-1].page))

    def _fold_title_block(self) -> None:
        """Leading headings before any body text are the document's title: Markdown title headings are
        dropped (the title is in the metadata), title lines of plain text go to the introduction, and the
        last heading right before the body stays a heading when the block is long or it is a short
        ALL-CAPS label (as in brochures)."""
        block, self.title_block = self.title_block, []
        last = _plain(block[-1].text.lstrip("#")) if block else ""
        keep_last = len(block) >= 3 or (
            len(block) >= 2 and _is_caps(last, 4) and not _MD_HEADING.match(block[-1].text)
        )
        md_last = _MD_HEADING.match(block[-1].text) if block else None
        if keep_last and md_last:
            # a Markdown heading is kept only if it does not become the parent of every later heading
            start = next(k for k, line in enumerate(self.lines) if line is block[-1])
            later = next((_MD_HEADING.match(line.text) for line in self.lines[start + 1:] if _MD_HEADING.match(line.text)), None)
            keep_last = later is not None and len(later.group("hashes")) <= len(md_last.group("hashes"))
        for line in block[:-1] if keep_last else block:
            if not _MD_HEADING.match(line.text):
                node = self._current(line)
                node.body.extend([_Line(_plain(line.text), line.page), _Line("", line.page)])
        if keep_last:
            md = _MD_HEADING.match(block[-1].text)
            rank = (0.5 if self.legal else 10 + len(md.group("hashes"))) if md else 18
            self._open(self._heading_node(last, len(md.group("hashes")) if md else None, rank, block[-1].page))

    def _heading_node(self, text: str, md_level: int | None, rank: float, page: int | None) -> _Node:
        number = None
        title = text
        m = re.match(r"^(\(\d{1,3}\)|\d{1,3}[.)]|\([a-z]\))\s+(.+)$", text)
        if m:
            number, title = m.group(1), m.group(2)
        title = _sentence_case(title) if _is_caps(title, 12) else title
        seg = slugify(title) if title else slugify(number or "x")
        kind = "heading"
        node = _Node(kind=kind, seg=seg, number=number, title=title, rank=rank, zone=self.zone, page=page, md_level=md_level)
        return node

    def _container_rank(self, cls: str) -> float:
        if cls not in self.container_order:
            self.container_order.append(cls)
        return 1 + self.container_order.index(cls) * 0.5

    # -- main loop ----------------------------------------------------------------------------
    def parse(self) -> list[_Node]:
        i = 0
        lines = self.lines
        while i < len(lines):
            line = lines[i]
            if "\t" in line.text:
                i = self._table(i)
                continue
            self._index = i
            self._line(line, lines, i)
            i += 1
        self._flush_pending()
        if self.title_block:  # a document that is nothing but headings
            for line in self.title_block:
                self._add_body(_Line(_plain(line.text.lstrip("#")), line.page))
        return self.nodes

    def _next_nonblank(self, i: int) -> _Line | None:
        for k in range(i + 1, min(len(self.lines), i + 8)):
            if not self.lines[k].blank:
                return self.lines[k]
        return None

    def _line(self, line: _Line, lines: list[_Line], i: int) -> None:
        raw = line.text.strip()
        if not raw:
            if self.pending:
                return
            if self.stack or self.preamble:
                self._current(line).body.append(line)
            return
        md = _MD_HEADING.match(raw)
        md_level = len(md.group("hashes")) if md else None
        content = md.group("text") if md else raw
        plain = _plain(content)
        if not plain:
            return

        # a title expected right after a container / unit heading
        if self.expect_title is not None:
            node = self.expect_title
            is_title = False
            if md and not self._is_structural(plain) and not _DESIGNATOR.match(plain):
                is_title = True
            elif _is_caps(plain, 14) and not self._is_structural(plain) and not _TOC_END.match(plain):
                is_title = True
            elif (
                node.kind in ("part", "chapter", "division", "heading")
                and not node.title
                and _words(plain) <= 10
                and plain[:1].isupper()
                and not re.search(r"[.;:,]$", plain)
                and not self._is_structural(plain)
            ):
                is_title = True
            if is_title and self.expect_title_lines < 3:
                addition = _sentence_case(plain) if _is_caps(plain, 14) else plain
                if node.title and _is_caps(plain, 14):
                    node.title = f"{node.title} {addition.lower()}"
                else:
                    node.title = f"{node.title} {addition}".strip() if node.title else addition
                self.expect_title_lines += 1
                if not _is_caps(plain, 14):
                    self.expect_title = None
                return
            self.expect_title = None

        # zones
        zplain = plain.strip("_* ")
        if _ZONE_CONTENTS.match(zplain) and self.zone == "body":
            self._start_zone("contents", zplain, line)
            return
        if _ZONE_EXPLANATORY.match(zplain) and (self.legal or self.zone != "body"):
            self._start_zone("explanatory", zplain, line)
            return
        if self.zone == "contents":
            if self._toc_continues(plain, raw):
                self._add_body(line)
                return
            self.zone = "body"
            self.stack = []

        sched = _SCHEDULE.match(zplain)
        if sched and self.legal and self._schedule_ok(sched) and not raw.startswith(tuple(_OPEN_QUOTES)):
            self._start_schedule(sched, line)
            return

        # headings and units
        if md and _DESIGNATOR.match(plain) and self._in_unit():
            self._body(_Line(content, line.page, line.note))  # "###### (a) Whoever ..." is text of its section
            return
        if self._try_container(plain, raw, line):
            return
        if self._try_unit(plain, raw, line, md_level):
            return
        if self._try_numbered(plain, raw, line, md_level):
            return
        m = _ROMAN_HEADING.match(plain)
        if m and (self.legal or self.zone != "body") and not md:
            node = _Node(
                kind="heading", seg=slugify(m.group("num")), number=m.group("num"),
                title=_sentence_case(m.group("title")), rank=0.8, zone=self.zone, page=line.page,
            )
            self._open(node)
            return
        if md:
            if not self.seen_body and not self.legal_structural_seen():
                self.title_block.append(line)
                return
            if re.fullmatch(_ROMAN, plain) and self.legal:
                node = _Node(kind="chapter", seg=f"ch-{plain.lower()}", number=plain, title="",
                             rank=self._container_rank("chapter"), zone=self.zone, page=line.page, md_level=md_level)
                self._open(node)
                self._expect(node)
                return
            rank = 0.5 if self.legal else 10 + md_level
            self._open(self._heading_node(plain, md_level, rank, line.page))
            return
        bold = _BOLD_LINE.match(raw) or _ITALIC_LINE.match(raw)
        if not bold and raw.startswith("**") and _words(plain) <= 15:
            nxt = self._next_nonblank(i)  # "**Offence of ... by means of** threat," + "**force, etc.**"
            if nxt is not None and (_BOLD_LINE.match(nxt.text.strip()) or re.match(r"^\*\*\d", nxt.text.strip())):
                bold = _BOLD_LINE.match(f"**{plain}**")
        if self.legal:
            if bold and self._title_candidate(plain, continuation=bool(self.pending)) and (
                _BOLD_LINE.match(raw) or raw.startswith("**") or self.pending
            ):
                self.pending.append(line)
                return
            if self.zone == "explanatory" and _is_caps(plain, 5) and self._isolated(i):
                self._open(self._heading_node(plain, None, 0.8, line.page))
                return
            self._body(line)
            return
        # prose documents: bold, ALL-CAPS and short standalone lines are headings
        if _is_caps(plain, 8) and not _LIST_START.match(plain) and self._isolated_caps(i):
            if not self.seen_body:
                self.title_block.append(line)
                return
            self._open(self._heading_node(plain, None, 18, line.page))
            return
        if bold and self._title_candidate(plain) and self._standalone(i):
            if not self.seen_body:
                self.title_block.append(line)
                return
            self._open(self._heading_node(plain, None, 19, line.page))
            return
        if not self.has_md_headings and self._short_heading(i, plain):
            if not self.seen_body:
                self.title_block.append(line)
                return
            self._open(self._heading_node(plain, None, 19, line.page))
            return
        if not self.seen_body and self.fmt == "text" and self._standalone(i) and _words(plain) <= 12 and not re.search(r"[.;:!?]$", plain):
            self.title_block.append(line)
            return
        self._body(line)

    def legal_structural_seen(self) -> bool:
        return any(n.kind != "heading" for n in self.nodes)

    def _is_structural(self, plain: str) -> bool:
        return bool(
            _CONTAINER.match(plain) and self._container_rest(_CONTAINER.match(plain).group("rest")) is not None
            or (_UNIT.match(plain) and self._unit_rest(_UNIT.match(plain).group("rest"), plain) is not None)
            or _ZONE_EXPLANATORY.match(plain)
            or _ZONE_CONTENTS.match(plain)
        )

    def _title_candidate(self, plain: str, continuation: bool = False) -> bool:
        if not plain or _words(plain) > 20 or (plain[:1].islower() and not continuation):
            return False
        if re.search(r"[:;]$", plain) or (plain.endswith(",") and not self.legal):
            return False
        if plain.endswith(".") and not plain.endswith("etc.") and _words(plain) > 12:
            return False
        return not _NUMBERED.match(plain) and not self._is_structural(plain)

    def _standalone(self, i: int) -> bool:
        before = self.lines[i - 1] if i > 0 else None
        after = self.lines[i + 1] if i + 1 < len(self.lines) else None
        return (before is None or before.blank) and (after is None or after.blank)

    def _isolated(self, i: int) -> bool:
        prev = next((self.lines[k] for k in range(i - 1, -1, -1) if not self.lines[k].blank), None)
        nxt = self._next_nonblank(i)
        return not (prev and _is_caps(_plain(prev.text), 14)) and not (nxt and _is_caps(_plain(nxt.text), 14))

    def _isolated_caps(self, i: int) -> bool:
        nxt = self._next_nonblank(i)
        return nxt is None or not (_plain(nxt.text)[:1].islower())

    def _short_heading(self, i: int, plain: str) -> bool:
        if self.fmt != "text" or not self._standalone(i):
            return False
        if _words(plain) > 10 or not plain[:1].isupper() or re.search(r"[.;:,!?]$", plain) or _LIST_START.match(plain):
            return False
        nxt = self._next_nonblank(i)
        return nxt is not None and ("\t" in nxt.text or _words(_plain(nxt.text)) >= 12 or _is_caps(_plain(nxt.text)))

    def _in_unit(self) -> bool:
        return any(n.is_unit for n in self.stack)

    def _expect(self, node: _Node) -> None:
        self.expect_title = node
        self.expect_title_lines = 0

    # -- zones --------------------------------------------------------------------------------
    def _start_zone(self, zone: str, heading: str, line: _Line) -> None:
        self._flush_pending()
        if self.title_block:
            self._fold_title_block()
        if zone == "contents" and self.preamble is not None and not self.stack:
            self.preamble.seg, self.preamble.title = "front", "Front matter"
            self.preamble = None
        self.stack = []
        self.zone = zone
        self.last_unit[zone] = None
        seg = {"contents": "contents"}.get(zone) or ("penjelasan" if heading.upper().startswith("PENJELASAN") else "explanatory")
        kind = "heading" if zone == "contents" else "explanatory"
        node = _Node(kind=kind, seg=seg, number=None, title=_sentence_case(heading), rank=0, zone=zone, page=line.page)
        self._open(node)
        self.toc_seen = set()
        self.toc_last = None

    def _toc_continues(self, plain: str, raw: str) -> bool:
        if _TOC_END.match(plain):
            return False
        c = _CONTAINER.match(plain)
        if c:
            key = f"{_CONTAINER_WORDS.get(c.group('kw').lower(), 'x')}-{c.group('num').upper()}"
            if key in self.toc_seen:
                return False
            self.toc_seen.add(key)
            return True
        n = _NUMBERED.match(plain)
        if n:
            if re.match(r"^\*\*\d", raw) or n.group("rest").startswith("(1)"):
                return False
            key = _num_key(n.group("num"))
            if self.toc_last is not None and key <= self.toc_last:
                return False
            self.toc_last = key
            return True
        return _words(plain) <= 20

    def _schedule_ok(self, m: re.Match) -> bool:
        rest = m.group("rest").strip()
        kw = m.group("kw")
        if not (kw.isupper() or not rest):
            return False
        return not rest or rest[:1] in "([" or _is_caps(rest, 14) or rest[:1] in "—–-:"

    def _start_schedule(self, m: re.Match, line: _Line) -> None:
        self._flush_pending()
        self.stack = []
        self.zone = "schedule"
        self.last_unit["schedule"] = None
        ordinal = (m.group("ord") or "").lower()
        num = m.group("num") or {"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5"}.get(ordinal)
        kw = m.group("kw").lower()
        base = "schedule" if kw in ("schedule", "jadual") else slugify(kw)
        seg = f"{base}-{slugify(num)}" if num else base
        rest = m.group("rest").strip(" .—–-:")
        title = _sentence_case(rest) if rest and not rest.startswith(("(", "[")) else ""
        number = " ".join(p for p in ((m.group("ord") or "").title(), m.group("kw").title(), m.group("num")) if p)
        node = _Node(kind="schedule", seg=seg, number=number, title=title, rank=0, zone="schedule", page=line.page)
        self._open(node)
        if rest.startswith(("(", "[")):
            self._add_body(_Line(rest, line.page))
        if not title:
            self._expect(node)

    # -- legal units --------------------------------------------------------------------------
    @staticmethod
    def _container_rest(rest: str) -> str | None:
        rest = rest.strip()
        if not rest:
            return ""
        if rest[:1] in "—–-:.":
            return rest.lstrip("—–-:. ")
        if rest[:1].islower() or _words(rest) > 16 or re.search(r"[.;]$", rest) and not _is_caps(rest, 16):
            return None
        return rest

    def _try_container(self, plain: str, raw: str, line: _Line) -> bool:
        m = _CONTAINER.match(plain)
        if not m:
            return False
        title = self._container_rest(m.group("rest"))
        if title is None or raw.startswith(tuple(_OPEN_QUOTES)) or self.quote_depth > 0:
            return False
        kw = m.group("kw")
        cls = _CONTAINER_WORDS[kw.lower()]
        if cls == "title" and not (self.legal or _MD_HEADING.match(raw)):
            return False
        if kw in ("Bagian", "Bab", "Paragraf", "Title", "Division", "Subpart") and not (title or _MD_HEADING.match(raw)) and not self.legal:
            return False
        num = m.group("num")
        prefix = {"part": "part", "chapter": "ch", "bab": "bab", "division": "div", "title": "title",
                  "subpart": "subpart", "bagian": "bagian", "paragraf": "paragraf"}[cls]
        kind = {"part": "part", "bagian": "part", "subpart": "part", "chapter": "chapter", "bab": "chapter",
                "title": "heading", "division": "division", "paragraf": "division"}[cls]
        word = {"part": "Part", "p art": "Part", "bahagian": "Bahagian", "b ahagian": "Bahagian"}.get(kw.lower(), kw.title() if kw.isupper() else kw)
        if kw.upper() in ("BAB",):
            word = "BAB"
        node = _Node(
            kind=kind, seg=f"{prefix}-{slugify(num)}", number=f"{word} {num}", title=_sentence_case(title) if title else "",
            rank=self._container_rank(cls), zone=self.zone, page=line.page,
        )
        self._open(node)
        if not title:
            self._expect(node)
        return True

    def _try_unit(self, plain: str, raw: str, line: _Line, md_level: int | None) -> bool:
        m = _UNIT.match(plain)
        if not m:
            return False
        parsed = self._unit_rest(m.group("rest"), raw.lstrip("#").strip(), md=md_level is not None)
        if parsed is None or raw.lstrip("#").strip().startswith(tuple(_OPEN_QUOTES)):
            return False
        title, body = parsed
        num = m.group("num")
        kw = m.group("kw")
        prefix, kind, word = _UNIT_PREFIX[kw.lower()]
        key = _num_key(num)
        last = self.last_unit.get(self.zone)
        if last is not None and key <= last:
            return False
        if self.quote_depth > 0 and not (last is not None and key[0] == last[0] + 1):
            return False
        if word is None:
            word = kw
        number = f"{word} {num}" if word != "§" else f"§ {num}"
        node = _Node(kind=kind, seg=f"{prefix}-{slugify(num)}", number=number, title=_sentence_case(title),
                     rank=8, zone=self.zone, page=line.page, is_unit=True, md_level=md_level)
        self._attach_pending_title(node)
        self._open(node)
        self.last_unit[self.zone] = key
        if body:
            self._add_body(_Line(body, line.page))
        if not node.title:
            self._expect(node)
        return True

    def _try_numbered(self, plain: str, raw: str, line: _Line, md_level: int | None) -> bool:
        if self.zone != "body" or not self.numbered_regime:
            return False
        m = _NUMBERED.match(plain)
        if not m or any(n.is_unit and n.kind == "article" for n in self.stack):
            return False
        if raw.lstrip("#").strip().startswith(tuple(_OPEN_QUOTES)):
            return False
        num, rest = m.group("num"), m.group("rest")
        key = _num_key(num)
        if key[0] >= 10000:
            return False
        last = self.last_unit.get(self.zone)
        bold_number = bool(re.match(r"^\*\*\d{1,4}[A-Za-z]{0,2}\.", raw))
        strong = bool(
            bold_number or rest.startswith("(1)") or _DASH_TITLE.match(rest)
            or self.pending or line.note or md_level
        )
        if last is None:
            if not (strong or key[0] <= 2):
                return False
        else:
            if key <= last:
                return False
            if key[1] and key[0] != last[0]:
                return False  # "5a" right after "4" is an inserted provision quoted in an amendment
            if not key[1] and key[0] > last[0] + 3:
                return False
        if not strong and not (rest[:1].isupper() or rest[:1] in "(\"“"):
            return False
        if self.quote_depth > 0 and not (last is not None and key[0] == last[0] + 1 and not key[1] and strong):
            return False
        title, body = "", rest
        d = _DASH_TITLE.match(rest)
        if d and _words(d.group("title")) <= 15 and d.group("body").strip() and not self.pending and not bold_number:
            title, body = d.group("title").rstrip(" .,"), d.group("body")
        bold_head = _BOLD_HEAD.match(raw)
        if bold_head and not title:
            body = _plain(re.sub(r"^\s*\d{1,4}[A-Za-z]{0,2}\.\s*", "", bold_head.group("head")) + " " + bold_head.group("after"))
        node = _Node(kind="section", seg=f"s-{slugify(num)}", number=num, title=title, rank=8,
                     zone=self.zone, page=line.page, is_unit=True)
        self._attach_pending_title(node)
        if not node.title:
            self._attach_margin_title(node, line)
        self._open(node)
        self.last_unit[self.zone] = key
        if line.note:
            self._add_body(_Line("", line.page, line.note))
            line.note = None
        if body.strip():
            self._add_body(_Line(body, line.page))
        return True

    def _attach_margin_title(self, node: _Node, line: _Line) -> None:
        """A PDF marginal note level with (or a line or two below) the unit's first line is its title."""
        for offset in (0, 1, -1, 2):
            k = self._index + offset
            if not 0 <= k < len(self.lines):
                continue
            other = self.lines[k]
            if other.page != line.page or not other.note or other.note.startswith(tuple(_OPEN_QUOTES)):
                continue
            if offset < 0 and self.nodes and self.nodes[-1].is_unit and not self.nodes[-1].title:
                continue
            node.title = re.sub(r"\s+", " ", other.note).strip().rstrip(".")
            other.note = None
            return

    def _attach_pending_title(self, node: _Node) -> None:
        if self.pending and not node.title:
            node.title = " ".join(_plain(p.text) for p in self.pending).strip()
            node.title = _sentence_case(node.title.rstrip(" ."))
            if self.pending[0].page is not None:
                node.page = self.pending[0].page
            self.pending = []

    # -- tables -------------------------------------------------------------------------------
    def _table(self, i: int) -> int:
        self._flush_pending()
        rows: list[tuple[list[str], _Line]] = []
        k = i
        while k < len(self.lines):
            line = self.lines[k]
            if "\t" in line.text:
                rows.append(([_cell(c) for c in line.text.split("\t")], line))
                k += 1
                continue
            if line.blank:
                nxt = next((j for j in range(k, min(len(self.lines), k + 4)) if not self.lines[j].blank), None)
                if nxt is not None and "\t" in self.lines[nxt].text:
                    k = nxt
                    continue
            break
        _TableBuilder(self, rows).build()
        self.expect_title = None
        return k


def _cell(text: str) -> str:
    text = re.sub(r"</p>\s*<p>", "\n", text, flags=re.I)
    return _plain(text)


class _TableBuilder:
    """Turns a tab-separated action table into one ``row`` section per item."""

    def __init__(self, parser: _Parser, rows: list[tuple[list[str], _Line]]) -> None:
        self.p = parser
        self.rows = rows

    @staticmethod
    def _attr_key(header: str, index: int) -> str:
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

    def build(self) -> None:
        p = self.p
        header, first_line = self.rows[0]
        has_header = all(c and _words(c) <= 8 and not re.match(r"^\d", c) for c in header) and len(self.rows) > 1
        body_rows = self.rows[1:] if has_header else self.rows
        if not has_header:
            header = [f"Column {n + 1}" for n in range(max(len(r[0]) for r in self.rows))]
        keys = [self._attr_key(h, n) for n, h in enumerate(header)]
        canonical = {"priority_area": "Priority area", "lead": "Lead", "status": "Status", "theme": "Theme"}
        labels = [canonical.get(k, _sentence_case(h)) for k, h in zip(keys, header)]
        seg = "actions" if re.match(r"action", header[0], re.I) else "table"
        # a heading with no text right before the table names it (its number too, which would otherwise be lost)
        title = "Action items" if seg == "actions" else "Table"
        prev = p.stack[-1] if p.stack else None
        if prev is not None and prev.kind == "heading" and not any(not b.blank for b in prev.body) and prev in p.nodes:
            title = prev.label()
            p.nodes.remove(prev)
            p.stack.pop()
        while p.stack:
            p.stack.pop()
        container = _Node(kind="heading", seg=seg, number=None, title=title, rank=0, zone=p.zone, page=first_line.page)
        p._open(container)
        if has_header:  # the column names, so that no text of the table is lost
            container.body.append(_Line(" | ".join(h for h in header if h), first_line.page))
        theme = ""
        item: _Node | None = None
        parent_item: _Node | None = None
        header_norm = [h.lower() for h in header]
        for cells, line in body_rows:
            cells = cells + [""] * (len(header) - len(cells))
            if [c.lower() for c in cells[: len(header)]] == header_norm:
                continue  # header repeated on a new page
            first, others = cells[0], cells[1:]
            if not first and not any(others):
                continue
            m = re.match(r"^(?P<num>\d{1,3}|[a-z])(?P<punct>[.)])\s+(?P<text>.+)$", first, flags=re.S)
            if not any(others) and not m and first and _words(first) <= 12:
                theme = first.rstrip(" .:")
                continue
            if m is None:
                if item is not None:  # continuation of the previous item (e.g. its description)
                    item.body.append(_Line(first, line.page))
                    self._add_attrs(item, keys, labels, others)
                    continue
                m_text, number = first, None
            else:
                m_text, number = m.group("text"), m.group("num") + m.group("punct")
            if number and number[0].isdigit():
                seg_row = f"row-{number[:-1]}"
                parent = container
            elif number:
                seg_row = number[:-1]
                parent = parent_item or container
            else:
                seg_row, parent = "row", container
            node = _Node(kind="row", seg=seg_row, number=number, title="", rank=9, zone=p.zone, page=line.page)
            text = m_text.strip()
            if not any(others) and _words(text) <= 12 and not re.search(r"[.;:]$", text):
                node.title = text  # an item heading; its description follows in the next row
            else:
                node.body.append(_Line(text, line.page))
                node.title = _short_title(text)
            node.parent = parent
            node.attributes = {}
            if theme:
                node.attributes["theme"] = theme
                node.extra_heading = [theme]
            self._add_attrs(node, keys, labels, others)
            p.nodes.append(node)
            item = node
            if number and number[0].isdigit():
                parent_item = node
        p.stack = [container]
        p.seen_body = True

    @staticmethod
    def _add_attrs(node: _Node, keys: list[str], labels: list[str], others: list[str]) -> None:
        for key, label, value in zip(keys[1:], labels[1:], others):
            value = value.strip()
            if not value:
                continue
            if key in node.attributes and key != "theme":
                node.attributes[key] = f"{node.attributes[key]} {value}"
            else:
                node.attributes[key] = value
            node.body.append(_Line(f"\x00{label}: {value}", None))


def _short_title(text: str, limit: int = 80) -> str:
    first = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].strip()
    if len(first) <= limit:
        return first.rstrip(".;")
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;") + "…"


# ------------------------------------------------------------------------------------ text assembly


def _compose(lines: list[_Line], legal: bool = False) -> str:
    """Readable text: lines of a paragraph joined, paragraphs separated by blank lines, list items kept apart."""
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
        current.append(_plain(line.text))
    if current:
        paragraphs.append(current)
    out: list[str] = []
    for para in paragraphs:
        rows: list[str] = []
        for text in para:
            if not text:
                continue
            starts_item = bool(_LIST_START.match(text)) or (
                rows and text[:1] in "“\"" and re.search(r"[;:—–-]\s*$", rows[-1])
            )
            if rows and not starts_item:
                rows[-1] = f"{rows[-1]} {text}"
            else:
                rows.append(text)
        if not rows:
            continue
        block = "\n".join(rows)
        # a sentence broken by a blank line in converted text: join it back
        open_end = out and not re.search(r"[.!?;:…)\]\"”’—–-]\s*$", out[-1])
        if open_end and (
            re.match(r"^[a-z]", block)
            or (
                legal
                and not _LIST_START.match(block)
                and not re.match(r"^\d{1,4}[A-Za-z]{0,2}\.\s", block)
                and not _is_caps(out[-1].split("\n")[-1], 30)
                and not _is_caps(block.split("\n")[0], 30)
                and block[:1] not in "\"“‘'"
                and out[-1][:1] not in "\"“‘'"
            )
        ):
            out[-1] = f"{out[-1]} {block}"
        else:
            out.append(block)
    text = "\n\n".join(out)
    if attr_lines:
        text = f"{text}\n\n{'; '.join(attr_lines)}" if text else "; ".join(attr_lines)
    return text.strip()


# ------------------------------------------------------------------------------------- long units


def _split_long_units(nodes: list[_Node]) -> list[_Node]:
    """Give very long articles/sections child sections at their top-level subdivisions "(a)", "(1)" ..."""
    out: list[_Node] = []
    for node in nodes:
        out.append(node)
        if not node.is_unit or node.kind == "explanatory":
            continue
        words = sum(_words(line.text) for line in node.body)
        if words <= LONG_UNIT_WORDS:
            continue
        starts = _subdivision_starts(node.body)
        if len(starts) < 2 or sum(_words(line.text) for line in node.body[: starts[0][0]]) > 80:
            continue
        bounds = [index for index, _d in starts] + [len(node.body)]
        sizes = [sum(_words(line.text) for line in node.body[a:b]) for a, b in zip(bounds, bounds[1:])]
        if max(sizes) > 0.7 * words:
            continue  # the "subdivisions" are really items nested inside one part of the unit
        children: list[_Node] = []
        for n, (index, designator) in enumerate(starts):
            end = starts[n + 1][0] if n + 1 < len(starts) else len(node.body)
            chunk = node.body[index:end]
            first = _plain(chunk[0].text)
            rest = _DESIGNATOR.match(first).group("rest") if _DESIGNATOR.match(first) else ""
            title = ""
            if rest and _words(rest) <= 12 and not re.search(r"[.;:,—–-]$", rest) and (
                index + 1 >= len(node.body) or node.body[index + 1].blank
            ):
                title = rest
            elif rest:
                term = re.match(r"^(?P<t>[^—–]{2,80}?)\s*[—–]\s*\S", rest)  # "(a) Trafficking in Persons — refers to"
                if term and _words(term.group("t")) <= 8 and not term.group("t")[:1].islower():
                    title = term.group("t").strip(" ,.")
            child = _Node(
                kind="clause", seg=slugify(designator), number=f"{node.number}({designator})", title=title,
                rank=node.rank + 0.5, zone=node.zone, page=chunk[0].page, body=chunk, parent=node, is_unit=False,
                label_override=f"({designator}) {title}".strip(),
            )
            children.append(child)
        node.body = node.body[: starts[0][0]]
        out.extend(children)
    return out


def _subdivision_starts(body: list[_Line]) -> list[tuple[int, str]]:
    candidates = []
    depth = 0  # subdivisions of provisions quoted in an amendment are not this unit's subdivisions
    for index, line in enumerate(body):
        m = _DESIGNATOR.match(_plain(line.text))
        if m and depth <= 0 and (index == 0 or body[index - 1].blank or line.page is not None):
            candidates.append((index, m.group("d")))
        depth += line.text.count("“") - line.text.count("”")
    if not candidates:
        return []
    style = _style(candidates[0][1])
    picked: list[tuple[int, str]] = []
    last_value = None
    for n, (index, d) in enumerate(candidates):
        if _style(d) != style and not (style == "lower" and d in ("i", "v", "x")):
            continue
        value = _designator_value(d, style)
        if value is None:
            continue
        if style == "lower" and d in ("i", "v", "x"):
            nxt = candidates[n + 1][1] if n + 1 < len(candidates) else ""
            if nxt in ("ii", "vi", "xi"):
                continue  # a roman sub-item, not the letter
        if last_value is None or 0 < value - last_value <= 8:
            picked.append((index, d))
            last_value = value
    return picked


def _style(d: str) -> str:
    if d[0].isdigit():
        return "digit"
    if re.fullmatch(r"[ivxlc]{2,}", d):
        return "roman"
    if d.islower():
        return "lower"
    return "upper"


def _designator_value(d: str, style: str) -> int | None:
    if style == "digit":
        return int(re.match(r"\d+", d).group(0))
    if style in ("lower", "upper") and len(d) == 1:
        return ord(d.lower()) - 96
    if style == "roman":
        return _roman_to_int(d)
    return None


# ---------------------------------------------------------------------------------- prose grouping


def _group_prose(node: _Node) -> list[list[_Line]]:
    """Split a long headingless body into groups of whole paragraphs of a readable size."""
    paragraphs: list[list[_Line]] = []
    current: list[_Line] = []
    for line in node.body:
        if line.blank:
            if current:
                paragraphs.append(current)
                current = []
        else:
            current.append(line)
    if current:
        paragraphs.append(current)
    groups: list[list[_Line]] = []
    chunk: list[_Line] = []
    words = 0
    for para in paragraphs:
        pw = sum(_words(line.text) for line in para)
        if chunk and words + pw > PROSE_GROUP_WORDS * 1.6 and words >= PROSE_GROUP_WORDS * 0.6:
            groups.append(chunk)
            chunk, words = [], 0
        chunk.extend(para + [_Line("", para[-1].page)])
        words += pw
    if chunk:
        groups.append(chunk)
    return groups


# ---------------------------------------------------------------------------------------- public


def split_sections(doc: DocumentMeta, loaded: LoadedDocument) -> list[Section]:
    """Split a loaded document into sections along its headings, legal units and table rows.

    :param doc: the document's metadata (``doc_id`` and ``title`` are used).
    :param loaded: the document's text as returned by :func:`ingest.loaders.load_file`.
    :returns: sections in document order, with stable structural ids.
    """
    lines = _prepare_lines(loaded)
    acronyms: set[str] = set()
    for line in lines:  # words written in capitals inside mostly lower-case text
        letters = [c for c in line.text if c.isalpha()]
        if letters and sum(c.isupper() for c in letters) / len(letters) < 0.4:
            acronyms.update(re.findall(r"\b[A-Z]{2,6}\b", line.text))
    token = _ACRONYMS.set(frozenset(acronyms))
    try:
        parser = _Parser(lines, loaded.format)
        nodes = parser.parse()
    finally:
        _ACRONYMS.reset(token)
    nodes = _split_long_units(nodes)
    nodes = _group_headingless(nodes, loaded)

    sections: list[Section] = []
    used: set[str] = set()
    ids: dict[int, str] = {}
    paths: dict[int, str] = {}
    for node in nodes:
        text = _compose(node.body, parser.legal)
        if not text and node.kind in ("preamble", "paragraph") and not any(n.parent is node for n in nodes):
            continue
        parent = node.parent
        while parent is not None and id(parent) not in ids:
            parent = parent.parent
        base = f"{paths[id(parent)]}.{node.seg}" if parent is not None else node.seg
        base = re.sub(r"[^a-z0-9.-]", "-", base.lower()).strip(".-") or "x"
        path, n = base, 2
        while path in used:
            path = f"{base}-{n}"
            n += 1
        used.add(path)
        paths[id(node)] = path
        section_id = f"{doc.doc_id}:{path}"
        ids[id(node)] = section_id
        chain: list[_Node] = []
        walk: _Node | None = node
        while walk is not None:
            if id(walk) in ids:
                chain.append(walk)
            walk = walk.parent
        chain.reverse()
        heading_path = [doc.title]
        for member in chain:
            heading_path.extend(member.extra_heading)
            label = member.label()
            if label:
                heading_path.append(label)
        if node.kind in ("section", "article") and not node.title:
            node.title = _amendment_title(text)
            if node.title:
                heading_path[-1] = node.label()
        pages = [line.page for line in node.body if line.page is not None and not line.blank]
        if node.page is not None:
            pages.append(node.page)
        sections.append(
            Section(
                section_id=section_id,
                doc_id=doc.doc_id,
                path=path,
                heading_path=heading_path,
                title=node.title,
                number=node.number,
                kind=node.kind,
                text=text,
                ordinal=len(sections),
                level=len(chain),
                parent_id=ids.get(id(parent)) if parent is not None else None,
                page_start=min(pages) if pages else None,
                page_end=max(pages) if pages else None,
                attributes=dict(node.attributes),
            )
        )
    return sections


def _amendment_title(text: str) -> str:
    """For an amending section without a heading: "<amended section's title> (amending <target>)"."""
    inner = None
    for para in text.split("\n"):
        m = _QUOTED_HEADING.match(para.strip())
        if m:
            inner = m.group("title").strip(" .")
            break
    if inner is None:
        return ""
    target = _AMENDS.match(text.strip())
    return f"{inner} (amending {target.group('target').strip()})" if target else f"{inner} (as amended)"


def _group_headingless(nodes: list[_Node], loaded: LoadedDocument) -> list[_Node]:
    """A document with no structure at all becomes paragraph groups ``p-1``, ``p-4`` ... (paragraph numbers)."""
    if len(nodes) != 1 or nodes[0].kind != "paragraph":
        return nodes
    node = nodes[0]
    if sum(_words(line.text) for line in node.body) <= PROSE_GROUP_WORDS * 1.6:
        return nodes
    out: list[_Node] = []
    paragraph_no = 1
    for group in _group_prose(node):
        out.append(_Node(kind="paragraph", seg=f"p-{paragraph_no}", number=None, title="", rank=1, zone="body",
                         page=group[0].page, body=group))
        paragraph_no += sum(1 for line in group if line.blank)
    return out
