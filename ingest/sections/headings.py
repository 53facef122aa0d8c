"""Headings: Markdown ``#`` headings, bold and ALL-CAPS lines, numbered and Roman-numbered headings, the
titles that follow a designation, and the document's own title block."""

from __future__ import annotations

import re

from ingest.schema import slugify
from ingest.sections.designations import DESIGNATOR, NUMBERED, ROMAN
from ingest.sections.front_matter import TOC_END
from ingest.sections.nodes import Line, Node, Reading
from ingest.sections.text import BOLD_LINE, ITALIC_LINE, LIST_START, MD_HEADING, is_caps, plain, sentence_case, words

ROMAN_HEADING = re.compile(rf"^(?P<num>{ROMAN})\.\s+(?P<title>[A-Z][A-Z ,'’&-]{{2,80}})$")


class HeadingRules:
    """Parser steps for headings and titles (mixed into :class:`~.parser.Parser`, whose state they use:
    ``expect_title``, ``title_block``, ``seen_body``, ``legal``, ``pending``, ``has_md_headings``)."""

    # -- titles ------------------------------------------------------------------------------
    def _take_expected_title(self, r: Reading) -> bool:
        """The line right after a container / unit heading that has no title yet may be its title."""
        if self.expect_title is None:
            return False
        node, text = self.expect_title, r.plain
        if self._is_expected_title(node, r) and self.expect_title_lines < 3:
            addition = sentence_case(text) if is_caps(text, 14) else text
            if node.title and is_caps(text, 14):
                node.title = f"{node.title} {addition.lower()}"
            else:
                node.title = f"{node.title} {addition}".strip() if node.title else addition
            self.expect_title_lines += 1
            if not is_caps(text, 14):
                self.expect_title = None
            return True
        self.expect_title = None
        return False

    def _is_expected_title(self, node: Node, r: Reading) -> bool:
        text = r.plain
        if r.md and not self._is_structural(text) and not DESIGNATOR.match(text):
            return True
        if is_caps(text, 14) and not self._is_structural(text) and not TOC_END.match(text):
            return True
        return (
            node.kind in ("part", "chapter", "division", "heading")
            and not node.title
            and words(text) <= 10
            and text[:1].isupper()
            and not re.search(r"[.;:,]$", text)
            and not self._is_structural(text)
        )

    def _title_candidate(self, text: str, continuation: bool = False) -> bool:
        if not text or words(text) > 20 or (text[:1].islower() and not continuation):
            return False
        if re.search(r"[:;]$", text) or (text.endswith(",") and not self.legal):
            return False
        if text.endswith(".") and not text.endswith("etc.") and words(text) > 12:
            return False
        return not NUMBERED.match(text) and not self._is_structural(text)

    # -- headings ----------------------------------------------------------------------------
    def _take_roman_heading(self, r: Reading) -> bool:
        """``II. GENERAL PROVISIONS`` in a law or a zone."""
        m = ROMAN_HEADING.match(r.plain)
        if not m or not (self.legal or self.zone != "body") or r.md:
            return False
        node = Node(
            kind="heading", seg=slugify(m.group("num")), number=m.group("num"),
            title=sentence_case(m.group("title")), rank=0.8, zone=self.zone, page=r.line.page,
        )
        self._open(node)
        return True

    def _take_markdown_heading(self, r: Reading) -> bool:
        if not r.md:
            return False
        if not self.seen_body and not self.legal_structural_seen():
            self.title_block.append(r.line)
            return True
        if re.fullmatch(ROMAN, r.plain) and self.legal:  # "## IV" in a law is a chapter
            node = Node(kind="chapter", seg=f"ch-{r.plain.lower()}", number=r.plain, title="",
                        rank=self._container_rank("chapter"), zone=self.zone, page=r.line.page, md_level=r.md_level)
            self._open(node)
            self._expect(node)
            return True
        rank = 0.5 if self.legal else 10 + r.md_level
        self._open(self._heading_node(r.plain, r.md_level, rank, r.line.page))
        return True

    def _bold(self, r: Reading) -> bool:
        """Whether the line is set in bold or italics (a bold title may be broken over two lines)."""
        bold = BOLD_LINE.match(r.raw) or ITALIC_LINE.match(r.raw)
        if not bold and r.raw.startswith("**") and words(r.plain) <= 15:
            nxt = self._next_nonblank(r.index)  # "**Offence of ... by means of** threat," + "**force, etc.**"
            if nxt is not None and (BOLD_LINE.match(nxt.text.strip()) or re.match(r"^\*\*\d", nxt.text.strip())):
                bold = BOLD_LINE.match(f"**{r.plain}**")
        return bool(bold)

    def _take_legal_line(self, r: Reading, bold: bool) -> None:
        """In a law, bold lines are held back as the title of the next unit; the rest is body."""
        if bold and self._title_candidate(r.plain, continuation=bool(self.pending)) and (
            BOLD_LINE.match(r.raw) or r.raw.startswith("**") or self.pending
        ):
            self.pending.append(r.line)
            return
        if self.zone == "explanatory" and is_caps(r.plain, 5) and self._isolated(r.index):
            self._open(self._heading_node(r.plain, None, 0.8, r.line.page))
            return
        self._body(r.line)

    def _take_prose_line(self, r: Reading, bold: bool) -> None:
        """In prose, bold, ALL-CAPS and short standalone lines are headings; the rest is body."""
        rank = self._prose_heading_rank(r, bold)
        if rank is not None:
            if not self.seen_body:
                self.title_block.append(r.line)
                return
            self._open(self._heading_node(r.plain, None, rank, r.line.page))
            return
        if (
            not self.seen_body and self.fmt == "text" and self._standalone(r.index)
            and words(r.plain) <= 12 and not re.search(r"[.;:!?]$", r.plain)
        ):
            self.title_block.append(r.line)
            return
        self._body(r.line)

    def _prose_heading_rank(self, r: Reading, bold: bool) -> float | None:
        text, i = r.plain, r.index
        if is_caps(text, 8) and not LIST_START.match(text) and self._isolated_caps(i):
            return 18
        if bold and self._title_candidate(text) and self._standalone(i):
            return 19
        if not self.has_md_headings and self._short_heading(i, text):
            return 19
        return None

    def _heading_node(self, text: str, md_level: int | None, rank: float, page: int | None) -> Node:
        number = None
        title = text
        m = re.match(r"^(\(\d{1,3}\)|\d{1,3}[.)]|\([a-z]\))\s+(.+)$", text)
        if m:
            number, title = m.group(1), m.group(2)
        title = sentence_case(title) if is_caps(title, 12) else title
        seg = slugify(title) if title else slugify(number or "x")
        return Node(kind="heading", seg=seg, number=number, title=title, rank=rank, zone=self.zone, page=page,
                    md_level=md_level)

    def _fold_title_block(self) -> None:
        """Leading headings before any body text are the document's title: Markdown title headings are
        dropped (the title is in the metadata), title lines of plain text go to the introduction, and the
        last heading right before the body stays a heading when the block is long or it is a short
        ALL-CAPS label (as in brochures)."""
        block, self.title_block = self.title_block, []
        last = plain(block[-1].text.lstrip("#")) if block else ""
        keep_last = len(block) >= 3 or (
            len(block) >= 2 and is_caps(last, 4) and not MD_HEADING.match(block[-1].text)
        )
        md_last = MD_HEADING.match(block[-1].text) if block else None
        if keep_last and md_last:
            # a Markdown heading is kept only if it does not become the parent of every later heading
            start = next(k for k, line in enumerate(self.lines) if line is block[-1])
            later = next((MD_HEADING.match(line.text) for line in self.lines[start + 1:] if MD_HEADING.match(line.text)), None)
            keep_last = later is not None and len(later.group("hashes")) <= len(md_last.group("hashes"))
        for line in block[:-1] if keep_last else block:
            if not MD_HEADING.match(line.text):
                node = self._current(line)
                node.body.extend([Line(plain(line.text), line.page), Line("", line.page)])
        if keep_last:
            md = MD_HEADING.match(block[-1].text)
            rank = (0.5 if self.legal else 10 + len(md.group("hashes"))) if md else 18
            self._open(self._heading_node(last, len(md.group("hashes")) if md else None, rank, block[-1].page))

    # -- the lines around --------------------------------------------------------------------
    def _standalone(self, i: int) -> bool:
        before = self.lines[i - 1] if i > 0 else None
        after = self.lines[i + 1] if i + 1 < len(self.lines) else None
        return (before is None or before.blank) and (after is None or after.blank)

    def _isolated(self, i: int) -> bool:
        prev = next((self.lines[k] for k in range(i - 1, -1, -1) if not self.lines[k].blank), None)
        nxt = self._next_nonblank(i)
        return not (prev and is_caps(plain(prev.text), 14)) and not (nxt and is_caps(plain(nxt.text), 14))

    def _isolated_caps(self, i: int) -> bool:
        nxt = self._next_nonblank(i)
        return nxt is None or not (plain(nxt.text)[:1].islower())

    def _short_heading(self, i: int, text: str) -> bool:
        if self.fmt != "text" or not self._standalone(i):
            return False
        if words(text) > 10 or not text[:1].isupper() or re.search(r"[.;:,!?]$", text) or LIST_START.match(text):
            return False
        nxt = self._next_nonblank(i)
        return nxt is not None and ("\t" in nxt.text or words(plain(nxt.text)) >= 12 or is_caps(plain(nxt.text)))
