"""The splitter's two working records: a line of the document and a node of the section tree being built."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Line:
    """One line of the document, with its page."""

    text: str  # raw line (markup kept) without trailing newline
    page: int | None
    note: str | None = None  # marginal note standing beside this line (PDF)

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@dataclass
class Node:
    """A section in the making: its designation, its place in the tree and the lines of its body."""

    kind: str
    seg: str  # path segment
    number: str | None
    title: str
    rank: float  # a node opens below the nearest open node of lower rank
    zone: str
    page: int | None
    label_override: str | None = None
    body: list[Line] = field(default_factory=list)
    parent: Node | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    extra_heading: list[str] = field(default_factory=list)  # e.g. the theme of a table row
    is_unit: bool = False
    md_level: int | None = None

    def label(self) -> str:
        """The node as its heading path shows it: ``12. Offence of trafficking``, ``Part III Enforcement``."""
        if self.label_override is not None:
            return self.label_override
        if self.number and self.title:
            sep = ". " if re.fullmatch(r"(§ |SEC\. |SECTION )?\d+[A-Za-z-]*", self.number) else " "
            return f"{self.number}{sep}{self.title}"
        return self.title or self.number or ""


@dataclass(frozen=True)
class Reading:
    """A non-blank line as the parser reads it."""

    line: Line
    index: int  # position in the parser's lines
    raw: str  # the line stripped, markup kept
    md_level: int | None  # number of hashes of a Markdown heading, None for other lines
    content: str  # raw without a Markdown heading's hashes
    plain: str  # content without markup

    @property
    def md(self) -> bool:
        return self.md_level is not None
