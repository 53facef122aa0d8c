"""Laws written in Thai or Chinese, split along their own designations.

These scripts have no capitals and no spaces between words, so the parser's cues for English, Malay and
Indonesian (capitals, bold titles, sentence ends) say nothing here; what does is the designation that opens a
line -- ``มาตรา ๖``, ``หมวด ๑``, ``第二百四十条``, ``第一编`` -- read from the ``thai`` and ``han`` rows of the
table in :mod:`~ingest.sections.designations`, and where it stands:

* a unit opens where a paragraph starts (after a blank line or a heading) when the document sets its units
  apart that way, and only with a number above the last one, so a cross-reference that a converter wrapped
  to the start of a line (``...ตามมาตรา`` / ``๖ ต้องระวางโทษ``) stays text;
* a keyword on a line of its own with the number opening the next line (``มาตรา`` / ``๖ ...``, ``หมวด`` /
  ``๖``), as the Thai Royal Gazette's text comes, is read as one designation;
* a container's title is the rest of its line or the line(s) right below; a heading that is only a name
  (``บทเฉพาะกาล``, ``附则``, ``附件一``) opens a container at the top level seen so far;
* Markdown front matter ends at ``<!-- INFO END -->``; the text before the first designation is the preamble;
* what follows the countersignature of a Thai Act (``ผู้รับสนองพระบรมราชโองการ``) is back matter -- the notes
  on the reasons for the Act, a schedule of fees, the amending Acts of a consolidated text and the Gazette
  footnotes -- never part of the last section;
* lines broken inside a paragraph are joined (without a space between two Thai letters or two Chinese
  characters); list items ``(๑)``, ``（一）`` and definitions ``“...”`` keep a paragraph of their own;
* a text with no designation at all is grouped into paragraph sections ``p-N`` of a readable size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.loaders import LoadedDocument
from ingest.sections.designations import CONTAINERS, UNITS, Designated, Designation, match_container, match_unit
from ingest.sections.lines import strip_front_matter
from ingest.sections.nodes import Line, Node
from ingest.sections.scripts import clean_line, compact_cjk, join_wrapped, size_in_words
from ingest.sections.text import MD_HEADING, plain

INFO_END = re.compile(r"^\s*<!--\s*INFO\s+END\s*-->\s*$", re.I)
_HTML_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")
_FOOTNOTE_MARK = re.compile(r"^\s*\[[๐-๙0-9]{1,3}\]\s*")  # a Gazette footnote reference after a number: ๒[๑]
_TRAILING_MARK = re.compile(r"\s*\[[๐-๙0-9]{1,3}\]\s*$")
# what follows a number at the start of a line when the line continues a cross-reference, not a new unit
_REFERENCE_GOES_ON = re.compile(
    r"^(?:วรรค|\(|และ|หรือ|แห่ง|ถึง|ประกอบ|ซึ่ง|ที่|ตาม|แล้วแต่|,|、|，|的|规定|款|项|至|和|或)"
)
# a paragraph of its own: a list item (๑) / （一） / (ก), a definition “...”, a footnote [๑], a numbered line 1．
_ROW_START = re.compile(
    r"^(?:[(（]\s*[0-9๐-๙a-zA-Zก-ฮ一二三四五六七八九十]{1,4}\s*[)）]|[“\"「]|\[[๐-๙0-9]{1,3}\]|[①-⑳]|\d{1,3}[．.]\s*\S)"
)
_LONG_TITLE = 120  # characters: a longer line after a container is its text, not its title
PROSE_GROUP_WORDS = 250


@dataclass(frozen=True)
class BackBlock:
    """A block of a Thai Act's back matter: the line that opens it, its id, kind and title."""

    opens: re.Pattern[str]
    seg: str
    kind: str
    title: str | None = None  # None: the opening line (and up to ``title_lines`` - 1 more) is the title
    title_lines: int = 4
    numbered: bool = False  # amendment-1, amendment-2 ...
    last: bool = False  # nothing opens after it (the footnotes close the file)


@dataclass(frozen=True)
class ScriptRules:
    preamble: str  # title of the text before the first designation, in the script's language
    end: re.Pattern[str] | None = None  # the line that closes the enacted text
    end_title: str = ""
    back: tuple[BackBlock, ...] = ()


SCRIPT_RULES = {
    "thai": ScriptRules(
        preamble="คำปรารภ",
        end=re.compile(r"^ผู้รับสนองพระบรมราชโองการ"),  # the Prime Minister's countersignature
        back=(
            BackBlock(re.compile(r"^\[(?:๑|1)\]"), "footnotes", "notes", title="เชิงอรรถ", last=True),
            BackBlock(re.compile(r"^(?:บัญชี|อัตราค่าธรรมเนียม)"), "schedule", "schedule", title_lines=2),
            # the amending Acts, decrees, announcements and orders listed after a consolidated text
            BackBlock(re.compile(r"^(?:พระราชบัญญัติ|พระราชกำหนด|ประกาศ|คำสั่ง)\S"), "amendment", "notes",
                      numbered=True),
        ),
    ),
    "han": ScriptRules(preamble="序言"),
}


def statute_lines(loaded: LoadedDocument) -> tuple[list[Line], int]:
    """The document's cleaned lines, with keyword and number brought onto one line, and how many of them are
    front matter (those before ``<!-- INFO END -->``; 0 without the marker)."""
    lines: list[Line] = []
    front_end = 0
    for p, page in enumerate(loaded.pages, start=1):
        for raw in page.split("\n"):
            lines.append(Line(clean_line(raw), p if loaded.paged else None))
    if not loaded.paged:
        lines = strip_front_matter(lines)
    out: list[Line] = []
    for line in lines:
        if INFO_END.match(line.text):
            front_end = len(out)
        elif not _HTML_COMMENT.match(line.text):
            out.append(line)
    return _join_split_designations(out), front_end


_SPLIT_KEYWORDS = {s for row in CONTAINERS + UNITS if row.script == "thai" and row.integer for s in row.spellings}
_SPLIT_KEYWORDS |= {f"{s}ที่" for s in _SPLIT_KEYWORDS}


def _join_split_designations(lines: list[Line]) -> list[Line]:
    """``มาตรา`` alone on a line and the number opening the next line become one line, ``มาตรา ๖ ...``."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        word = line.text.strip()
        nxt = lines[i + 1].text.strip() if i + 1 < len(lines) else ""
        if word in _SPLIT_KEYWORDS and nxt[:1].isdecimal():
            out.append(Line(f"{word} {nxt}", line.page, line.note))
            i += 2
            continue
        out.append(line)
        i += 1
    return out


class StatuteParser:
    """One pass over the lines of a Thai or Chinese law that builds the section tree."""

    def __init__(self, lines: list[Line], script: str, fmt: str, front_end: int = 0) -> None:
        self.lines = lines
        self.script = script
        self.markdown = fmt == "markdown"
        self.front_end = front_end
        self.rules = SCRIPT_RULES[script]
        self.nodes: list[Node] = []
        self.stack: list[Node] = []
        self.preamble: Node | None = None
        self.zone = "body"
        self.last_key: tuple[int, str] | None = None
        self.top_rank: float | None = None  # the highest level of container seen: named headings open there
        self.title_for: Node | None = None
        self.title_budget = 0
        self.counters: dict[str, int] = {}
        self.units = 0
        self.signature = False  # in the lines under a countersignature
        self.strict, self.unit_row = self._prescan()

    def _prescan(self) -> tuple[bool, Designation | None]:
        """(do units open only at a paragraph start, which unit designation does the document number by)."""
        total: dict[Designation, int] = {}
        apart: dict[Designation, int] = {}
        prev_break = True
        for line in self.lines[self.front_end:]:
            text = plain(line.text.strip().lstrip("#"))
            if not text:
                prev_break = True
                continue
            d = match_unit(text, self.script)
            if d is not None:
                total[d.row] = total.get(d.row, 0) + 1
                apart[d.row] = apart.get(d.row, 0) + int(prev_break)
            prev_break = match_container(text, self.script) is not None or line.text.lstrip().startswith("#")
        if not total:
            return False, None
        n_apart, n_total = sum(apart.values()), sum(total.values())
        strict = n_apart >= 2 and n_apart >= 0.5 * n_total
        row = max(total, key=lambda r: (apart[r], total[r]) if strict else (total[r], apart[r]))
        return strict, row

    # -- the pass -------------------------------------------------------------------------------
    def parse(self) -> list[Node]:
        after_break = True
        for i, line in enumerate(self.lines):
            if i < self.front_end:
                self._front(line)
                continue
            if line.blank:
                if self.title_for is not None and self.title_for.title:
                    self.title_for = None  # a title ends at a blank line; a missing one may stand below it
                self.signature = False
                if self.stack or self.preamble:
                    self._current(line).body.append(line)
                after_break = True
                continue
            after_break = self._line(line, after_break)
        return self.nodes

    def _front(self, line: Line) -> None:
        raw = line.text.strip()
        md = MD_HEADING.match(raw) if self.markdown else None
        self._current(line).body.append(Line(plain(md.group("text") if md else raw), line.page))

    def _line(self, line: Line, after_break: bool) -> bool:
        """Read one non-blank line; True when it was a heading (so that a unit may follow it)."""
        raw = line.text.strip()
        md = MD_HEADING.match(raw) if self.markdown else None
        text = plain(md.group("text") if md else raw)
        if not text:
            return after_break
        if self.title_for is not None and self._take_title(text):
            return True
        if self.zone == "back":
            return self._back_line(line, text, after_break)
        if self.rules.end is not None and self.units and self.rules.end.match(text):
            self.zone = "back"
            node = self._open(Node(kind="notes", seg="notes", number=None, title=text, rank=0, zone="back",
                                   page=line.page))
            node.body.extend([Line(text, line.page), Line("", line.page)])
            self.signature = True
            return True
        at_break = after_break or md is not None or not self.strict
        if self._container(line, text, at_break) or self._unit(line, text, at_break):
            return True
        if md is not None:
            if md.group("hashes") == "#" and not self.units and not self.stack:
                self._body(Line(text, line.page))  # the document's own title heading
                return True
            self.counters["h"] = self.counters.get("h", 0) + 1
            self._open(Node(kind="heading", seg=f"h-{self.counters['h']}", number=None, title=text, rank=0.9,
                            zone="body", page=line.page))
            return True
        self._body(Line(text, line.page))
        return False

    def _container(self, line: Line, text: str, at_break: bool) -> bool:
        d = match_container(text, self.script)
        if d is None and self.script == "han" and len(text) <= 12:
            d = match_container(compact_cjk(text), self.script)  # 附  则
        if d is None or not at_break:
            return False
        rest = _TRAILING_MARK.sub("", _FOOTNOTE_MARK.sub("", d.rest)).strip()
        if len(rest) > _LONG_TITLE or re.search(r"[。；;：:，,]$", rest):
            return False
        named = d.row.rank is None
        if named:
            rank = self.top_rank if self.top_rank is not None else 1.0
            number, title = None, compact_cjk(d.printed)
        else:
            rank = d.row.rank
            self.top_rank = rank if self.top_rank is None else min(self.top_rank, rank)
            number, title = d.printed, compact_cjk(rest) if self.script == "han" else rest
        node = self._open(Node(kind=d.row.kind, seg=d.seg, number=number, title=title, rank=rank, zone="body",
                               page=line.page))
        if not title:
            self.title_for, self.title_budget = node, 2
        return True

    def _unit(self, line: Line, text: str, at_break: bool) -> bool:
        d = match_unit(text, self.script)
        if d is None or d.row is not self.unit_row or not at_break:
            return False
        rest = _FOOTNOTE_MARK.sub("", d.rest).strip()
        if not self.strict and _REFERENCE_GOES_ON.match(rest):
            return False
        if not self._in_sequence(d):
            return False
        title = ""
        bracket = re.match(r"^【([^】]{1,60})】\s*(.*)$", rest)  # 第一条【立法目的】: a title some editions print
        if bracket:
            title, rest = bracket.group(1), bracket.group(2)
        node = self._open(Node(kind=d.row.kind, seg=d.seg, number=d.printed, title=title, rank=8, zone="body",
                               page=line.page, is_unit=True))
        self.last_key = d.key
        self.units += 1
        if rest:
            node.body.append(Line(rest, line.page))
        return True

    def _in_sequence(self, d: Designated) -> bool:
        """Numbers only go up; without paragraph breaks to trust, they go up by little."""
        key = d.key
        if self.last_key is None:
            return True
        if key <= self.last_key:
            return False
        return self.strict or key[0] - self.last_key[0] <= 10

    def _back_line(self, line: Line, text: str, after_break: bool) -> bool:
        current = self.stack[-1] if self.stack else None
        if after_break and not (current is not None and current.seg == "footnotes"):
            for block in self.rules.back:
                if block.opens.match(text) and len(text) <= 150:
                    self._open_block(block, line, text)
                    return True
        self._body(Line(text, line.page))
        if self.signature:  # the names and offices under the countersignature: one line each
            self._body(Line("", line.page))
        return False

    def _open_block(self, block: BackBlock, line: Line, text: str) -> None:
        seg = block.seg
        if block.numbered:
            self.counters[seg] = self.counters.get(seg, 0) + 1
            seg = f"{seg}-{self.counters[seg]}"
        title = block.title if block.title is not None else _TRAILING_MARK.sub("", text)
        node = self._open(Node(kind=block.kind, seg=seg, number=None, title=title, rank=0, zone="back",
                               page=line.page))
        if block.title is not None:
            node.body.append(Line(text, line.page))
        else:
            self.title_for, self.title_budget = node, block.title_lines - 1

    def _take_title(self, text: str) -> bool:
        """A line right below a heading that is still missing (part of) its title."""
        node = self.title_for
        if node is None or self.title_budget <= 0 or len(text) > _LONG_TITLE or match_unit(text, self.script) or (
            match_container(text, self.script)
        ):
            self.title_for = None
            return False
        addition = _TRAILING_MARK.sub("", text)
        node.title = join_wrapped(node.title, addition) if node.title else addition
        self.title_budget -= 1
        return True

    # -- the tree -------------------------------------------------------------------------------
    def _open(self, node: Node) -> Node:
        if node.rank < 8:
            while self.stack and self.stack[-1].kind == "heading" and node.kind != "heading":
                self.stack.pop()  # a container closes a plain heading instead of nesting in it
        while self.stack and self.stack[-1].rank >= node.rank:
            self.stack.pop()
        node.parent = self.stack[-1] if self.stack else None
        self.stack.append(node)
        self.nodes.append(node)
        self.title_for = None
        return node

    def _current(self, line: Line) -> Node:
        if self.stack:
            return self.stack[-1]
        if self.preamble is None:
            self.preamble = Node(kind="preamble", seg="preamble", number=None, title=self.rules.preamble, rank=-1,
                                 zone="body", page=line.page)
            self.nodes.append(self.preamble)
        return self.preamble

    def _body(self, line: Line) -> None:
        self._current(line).body.append(line)


def split_statute(loaded: LoadedDocument, script: str) -> list[Node]:
    """The section tree of a Thai or Chinese law (or of any text in these scripts)."""
    lines, front_end = statute_lines(loaded)
    parser = StatuteParser(lines, script, loaded.format, front_end)
    nodes = parser.parse()
    for node in nodes:
        node.body = join_paragraph_lines(node.body)
    if not parser.units and all(n.kind == "preamble" for n in nodes):
        return [group for node in nodes for group in group_paragraphs(node)]
    return nodes


def join_paragraph_lines(body: list[Line]) -> list[Line]:
    """Lines broken inside a paragraph joined again; each paragraph, list item or definition one line, with a
    blank line between them."""
    out: list[Line] = []
    current: Line | None = None
    for line in body:
        text = line.text.strip()
        if not text or (current is not None and _ROW_START.match(text)):
            if current is not None:
                out.extend([current, Line("", current.page)])
                current = None
            if not text:
                continue
        if current is None:
            current = Line(text, line.page)
        else:
            current.text = join_wrapped(current.text, text)
    if current is not None:
        out.append(current)
    while out and out[-1].blank:
        out.pop()
    return out


def group_paragraphs(node: Node) -> list[Node]:
    """A text without designations: its paragraphs in groups of a readable size, ``p-1``, ``p-4`` ...
    (numbered by their first paragraph)."""
    groups: list[Node] = []
    chunk: list[Line] = []
    size = 0.0
    paragraph_no = first_no = 1
    for line in node.body:
        if line.blank:
            continue
        weight = size_in_words(line.text)
        if chunk and size + weight > PROSE_GROUP_WORDS * 1.6 and size >= PROSE_GROUP_WORDS * 0.6:
            groups.append(_group(chunk, first_no))
            chunk, size, first_no = [], 0.0, paragraph_no
        chunk.extend([line, Line("", line.page)])
        size += weight
        paragraph_no += 1
    if chunk:
        groups.append(_group(chunk, first_no))
    return groups


def _group(lines: list[Line], first_no: int) -> Node:
    return Node(kind="paragraph", seg=f"p-{first_no}", number=None, title="", rank=1, zone="body",
                page=lines[0].page, body=lines[:-1])
