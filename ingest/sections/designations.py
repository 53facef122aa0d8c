"""Legal designations: containers (Part, BAHAGIAN, Chapter, BAB, Division ...) and units (Article, Pasal,
Section, SEC., §, numbered clauses ``12. (1) ...``), their numbers, titles and sequence.

Each way a law designates a container or a unit is one row of :data:`CONTAINERS` or :data:`UNITS`: the
keyword as printed, the id prefix, the section kind, the word shown in the section's number, the syntax of
the number and the numeral converter that orders numbers. A new language is new rows; a new numeral system
is a converter (``integer``: Thai digits, Chinese numerals, see :mod:`~ingest.sections.numerals`) and a
``number`` pattern; a designation whose keyword does not precede the number (``第二百四十条``) gives its own
``pattern``; a unit inserted between two others (``มาตรา ๕ ทวิ``, ``第一百二十条之一``) is matched as group
``sub`` and ordered and named by ``suffix``. Rows carry the script they are written in: the parser reads
``latin`` rows, :mod:`~ingest.sections.statutes` the ``thai`` and ``han`` rows. For example::

    Designation(("มาตรา",), "s", "section", "มาตรา", number="[๐-๙0-9]+", pattern=_THAI_UNIT, script="thai",
                integer=decimal_int, suffix=thai_suffix)   # มาตรา ๕ ทวิ -> s-5-bis, shown as printed
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.schema import slugify
from ingest.sections.nodes import Line, Node, Reading
from ingest.sections.numerals import (
    CHINESE_NUMERAL, THAI_INSERTED, chinese_int, chinese_suffix, decimal_int, number_key, roman_to_int, thai_suffix,
)
from ingest.sections.text import BOLD_HEAD, MD_HEADING, OPEN_QUOTES, is_caps, plain, sentence_case, words

ROMAN = r"[IVXLC]+"
_ORDINAL_ID = r"Ke[a-z]+(?:\s+(?:Belas|Puluh))?"  # Indonesian "Kesatu", "Kedua Belas"
CONTAINER_NUMBER = rf"{_ORDINAL_ID}|{ROMAN}[A-Za-z]?|\d{{1,3}}[A-Z]?|[A-Z]"
UNIT_NUMBER = rf"\d{{1,5}}(?:[-.]?[A-Za-z]{{1,2}})?(?:-\d+)?|{ROMAN}"
# {kw} and {num} are replaced by the row's keyword alternation and number syntax
CONTAINER_PATTERN = r"^(?P<kw>{kw})\s+(?P<num>{num})(?=$|[\s.:—–-])\.?(?P<rest>.*)$"
UNIT_PATTERN = r"^(?P<kw>{kw})\s*(?P<num>{num})(?![\w])(?P<rest>.*)$"


# ---------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Designation:
    """One way of designating a container or a unit."""

    spellings: tuple[str, ...]  # the keyword as printed, case-sensitive, tried in this order
    seg: str  # id prefix: "part" -> part-iii, "s" -> s-12
    kind: str  # Section.kind
    label: str | None  # word shown in the number ("Part III"); None keeps the keyword as printed ("SEC. 4")
    rank_class: str = ""  # containers: one class per level, ranked in order of first appearance
    prose_needs_title: bool = False  # outside laws, "Division 3" opens a container only with a title
    legal_only: bool = False  # outside laws, only as a Markdown heading
    number: str = UNIT_NUMBER  # regex of the number
    numeral: Callable[[str], tuple[int, str]] = number_key  # orders the numbers of one zone
    pattern: str = UNIT_PATTERN
    # scripts without capitals or word spaces (Thai, Chinese) are read by ingest.sections.statutes, not the parser
    script: str = "latin"
    integer: Callable[[str], int] | None = None  # the number's value; set, the id shows it in ASCII (s-6, art-240)
    suffix: Callable[[str], tuple[int, str]] | None = None  # group "sub" (ทวิ, /๔, 之一) -> (order, id part)
    rank: float | None = None  # containers of a fixed hierarchy (编 > 章 > 节); None: the top level seen so far

    def regex(self) -> re.Pattern[str]:
        kw = "|".join(re.escape(s) for s in self.spellings)
        return re.compile(self.pattern.replace("{kw}", kw).replace("{num}", f"(?:{self.number})"))


def _container(spellings: tuple[str, ...], rank_class: str, seg: str, kind: str, label: str, **kw) -> Designation:
    return Designation(spellings, seg, kind, label, rank_class=rank_class, number=CONTAINER_NUMBER,
                       pattern=CONTAINER_PATTERN, **kw)


# Thai: มาตรา ๖, มาตรา ๕ ทวิ, มาตรา ๒๘/๔ (the number may open the next line: joined before matching), หมวด ๑
_THAI_DIGITS = "[๐-๙0-9]{1,5}"
_THAI_INSERTED = "|".join(sorted(THAI_INSERTED, key=len, reverse=True))
_THAI_SUFFIX = rf"(?:{_THAI_INSERTED})(?=\s|\[|$)|/\s*[๐-๙0-9]{{1,3}}"
_THAI_UNIT = r"^(?P<kw>{kw})\s*(?P<num>{num})(?:\s*(?P<sub>" + _THAI_SUFFIX + r"))?(?P<rest>(?=\s|\[|$).*)$"
_THAI_CONTAINER = r"^(?P<kw>{kw})\s*(?:ที่\s*)?(?P<num>{num})(?P<rest>(?=\s|\[|$).*)$"
# Chinese: 第二百四十条, 第一百二十条之一, 第一编 / 第一分编 / 第一章 / 第一节 (the keyword follows the number)
_CN_NUMBER = f"[{CHINESE_NUMERAL}]{{1,12}}"
_CN_UNIT = r"^第\s*(?P<num>{num})\s*(?P<kw>{kw})(?:(?P<sub>之[一二三四五六七八九十]{1,3}))?(?P<rest>(?=\s|【|$).*)$"
_CN_CONTAINER = r"^第\s*(?P<num>{num})\s*(?P<kw>{kw})(?P<rest>(?=\s|$).*)$"
# a heading that is only a name (บทเฉพาะกาล, 附则) or a name and a number (附件一); the line holds nothing else
_NAMED = r"^(?P<kw>{kw})\s*(?P<num>{num})(?P<rest>)$"


def _thai(spellings: tuple[str, ...], seg: str, kind: str, pattern: str, **kw) -> Designation:
    return Designation(spellings, seg, kind, spellings[0], number=_THAI_DIGITS, pattern=pattern, script="thai",
                       integer=decimal_int, **kw)


def _chinese(spelling: str, seg: str, kind: str, pattern: str, **kw) -> Designation:
    return Designation((spelling,), seg, kind, None, number=_CN_NUMBER, pattern=pattern, script="han",
                       integer=chinese_int, **kw)


def _named(spelling: str, seg: str, kind: str, script: str, number: str = "") -> Designation:
    return Designation((spelling,), seg, kind, None, number=number, pattern=_NAMED, script=script,
                       integer=chinese_int if number else None)


CONTAINERS: tuple[Designation, ...] = (
    _container(("PART", "Part", "P ART"), "part", "part", "part", "Part"),
    _container(("BAHAGIAN", "Bahagian", "B AHAGIAN"), "part", "part", "part", "Bahagian"),
    _container(("CHAPTER", "Chapter"), "chapter", "ch", "chapter", "Chapter"),
    _container(("BAB", "Bab"), "bab", "bab", "chapter", "BAB", prose_needs_title=True),
    _container(("DIVISION", "Division"), "division", "div", "division", "Division", prose_needs_title=True),
    _container(("TITLE", "Title"), "title", "title", "heading", "Title", prose_needs_title=True, legal_only=True),
    _container(("SUBPART", "Subpart"), "subpart", "subpart", "part", "Subpart", prose_needs_title=True),
    _container(("BAGIAN", "Bagian"), "bagian", "bagian", "part", "Bagian", prose_needs_title=True),
    _container(("PARAGRAF", "Paragraf"), "paragraf", "paragraf", "division", "Paragraf", prose_needs_title=True),
    # Thai codes: บรรพ (book) > ภาค (part) > ลักษณะ (title) > หมวด (chapter) > ส่วน (division)
    _thai(("บรรพ",), "bk", "part", _THAI_CONTAINER, rank=1.0),
    _thai(("ภาค",), "pt", "part", _THAI_CONTAINER, rank=1.2),
    _thai(("ลักษณะ",), "title", "part", _THAI_CONTAINER, rank=1.4),
    _thai(("หมวด",), "ch", "chapter", _THAI_CONTAINER, rank=1.6),
    _thai(("ส่วน",), "div", "division", _THAI_CONTAINER, rank=1.8),
    _named("บทเฉพาะกาล", "transitional", "chapter", "thai"),  # transitional provisions
    # Chinese: 编 (part) > 分编 (sub-part) > 章 (chapter) > 节 (section)
    _chinese("编", "pt", "part", _CN_CONTAINER, rank=1.0),
    _chinese("分编", "subpt", "part", _CN_CONTAINER, rank=1.2),
    _chinese("章", "ch", "chapter", _CN_CONTAINER, rank=1.4),
    _chinese("节", "sec", "division", _CN_CONTAINER, rank=1.6),
    _named("总则", "general", "part", "han"),  # general provisions, as a heading of their own
    _named("分则", "specific", "part", "han"),  # specific provisions
    _named("附则", "supplementary", "chapter", "han"),  # supplementary provisions
    _named("附件", "annex", "schedule", "han", number=f"[{CHINESE_NUMERAL}]{{0,6}}"),
)
UNITS: tuple[Designation, ...] = (
    Designation(("Article", "ARTICLE", "Art."), "art", "article", "Article"),
    Designation(("Pasal", "PASAL"), "pasal", "article", "Pasal"),
    Designation(("Artikel",), "art", "article", "Artikel"),
    Designation(("Section", "SECTION", "Sec.", "SEC."), "s", "section", None),
    Designation(("Seksyen", "SEKSYEN"), "s", "section", "Seksyen"),
    Designation(("Fasal", "FASAL"), "s", "section", "Fasal"),
    Designation(("§",), "s", "section", "§"),
    Designation(("Rule", "RULE"), "r", "section", "Rule"),
    Designation(("Regulation", "REGULATION"), "reg", "section", "Regulation"),
    # มาตรา: sections of Thai Acts and Codes; ข้อ: clauses of Thai regulations, rules and orders
    _thai(("มาตรา",), "s", "section", _THAI_UNIT, suffix=thai_suffix),
    _thai(("ข้อ",), "cl", "section", _THAI_UNIT, suffix=thai_suffix),
    _chinese("条", "art", "article", _CN_UNIT, suffix=chinese_suffix),  # 第…条, sub-articles 第…条之一
)


def _regexes(table: tuple[Designation, ...], script: str) -> list[tuple[Designation, re.Pattern[str]]]:
    return [(row, row.regex()) for row in table if row.script == script]


_REGEXES = {
    (kind, script): _regexes(table, script)
    for kind, table in (("container", CONTAINERS), ("unit", UNITS))
    for script in ("latin", "thai", "han")
}


@dataclass(frozen=True)
class Designated:
    """A line that opens with a designation: which row, the keyword and number as printed, and the rest."""

    row: Designation
    kw: str
    num: str
    rest: str
    sub: str = ""  # the suffix of an inserted unit as printed: ทวิ, /๔, 之一
    printed: str = ""  # the designation as printed, spaces collapsed: มาตรา ๕ ทวิ, 第一百二十条之一

    @property
    def key(self) -> tuple[int, str]:
        if self.row.integer is None:
            return self.row.numeral(self.num)
        order = self.row.suffix(self.sub)[0] if self.sub and self.row.suffix else 0
        return self.row.integer(self.num), f"{order:03d}" if self.sub else ""

    @property
    def number(self) -> str:
        if self.row.script != "latin":
            return self.printed
        return f"{self.row.label or self.kw} {self.num}"

    @property
    def seg(self) -> str:
        if self.row.integer is None:
            return f"{self.row.seg}-{slugify(self.num)}" if self.num else self.row.seg
        seg = f"{self.row.seg}-{self.row.integer(self.num)}" if self.num else self.row.seg
        if self.sub and self.row.suffix:
            seg = f"{seg}-{self.row.suffix(self.sub)[1]}"
        return seg


def _match(table: list[tuple[Designation, re.Pattern[str]]], text: str) -> Designated | None:
    for row, regex in table:
        m = regex.match(text)
        if m:
            sub = m.groupdict().get("sub") or ""
            printed = re.sub(r"\s+", " ", text[: m.start("rest")]).strip()
            return Designated(row, m.group("kw"), m.group("num"), m.group("rest"), sub, printed)
    return None


def match_container(text: str, script: str = "latin") -> Designated | None:
    """The container designation a line opens with (``Part III``, ``หมวด ๑``, ``第一章``), if any."""
    return _match(_REGEXES[("container", script)], text)


def match_unit(text: str, script: str = "latin") -> Designated | None:
    """The unit designation a line opens with (``Section 12``, ``มาตรา ๖``, ``第二百四十条``), if any."""
    return _match(_REGEXES[("unit", script)], text)


# numbered clauses of Commonwealth bills: "12. (1) A person ..."; "**5a.** ..."
NUMBERED = re.compile(r"^(?P<num>\d{1,4}[A-Za-z]{0,2})\.(?!\d)\s*(?P<rest>.*)$")
DASH_TITLE = re.compile(r"^(?P<title>[A-Z][^—–]{2,150}?)\s*[.,]?\s*[—–]+\s*(?P<body>.*)$")
# subdivisions of a unit: "(1)", "(a)", "(iv)"
DESIGNATOR = re.compile(r"^\((?P<d>[0-9]{1,3}[A-Za-z]?|[a-z]{1,2}|[A-Z]{1,2}|[ivxlc]{1,6})\)\s*(?P<rest>.*)$")
_BOLD_NUMBER = re.compile(r"^\*\*\d{1,4}[A-Za-z]{0,2}\.")
_AMENDS = re.compile(
    r"^(?P<target>(?:Sections?|Articles?|Subsections?)\s+[\w-]+(?:(?:,\s*|\s+and\s+|\s+to\s+)[\w-]+)*"
    r"\s+of\s+(?:the\s+)?(?:Republic Act|R\.\s?A\.|Act|Presidential Decree|Code)[^,;:]{0,40}?)"
    r"(?:,|\s+is\b|\s+are\b|\s+as\b)"
)
_QUOTED_HEADING = re.compile(
    r"^[\"“]\s*(?:SEC\.|SECTION|Section|Sec\.|Article|ARTICLE)\s*[\w-]+\.\s*(?P<title>[^—–]{2,120}?)\s*\.?\s*[—–]"
)


def is_bold_number(raw: str) -> bool:
    """``**12.** ...``: a clause number set in bold, as bills print their own clauses."""
    return bool(_BOLD_NUMBER.match(raw))


# ------------------------------------------------------------------------------- titles after a designation


def unit_rest(rest: str, raw: str, md: bool = False) -> tuple[str, str] | None:
    """(title, body) of the text after a unit designation, or None if the line is not a heading."""
    rest = rest.strip()
    if not rest:
        return "", ""
    bold_head = BOLD_HEAD.match(raw)
    rest = re.sub(r"^[.:]\s*", "", rest)
    if bold_head and bold_head.group("after").strip():
        # "**SEC. 20. Separability Clause.** — text" / "**SECTION 1.** Section 1 of ..."
        m = match_unit(plain(bold_head.group("head")))
        title = re.sub(r"^[.:\s]+", "", m.rest).rstrip(" .") if m else ""
        body = re.sub(r"^[\s—–-]+", "", plain(bold_head.group("after")))
        return title, body
    if rest[:1].islower():
        return None
    if md:  # a Markdown heading is a heading whatever its length
        return rest.lstrip("—–- ").rstrip(" ."), ""
    if rest[:1] in "—–-":
        rest = rest.lstrip("—–- ")
    m = DASH_TITLE.match(rest)
    if m and words(m.group("title")) <= 15:
        return m.group("title").rstrip(" ."), m.group("body")
    m = re.match(r"^(?P<title>[A-Z][^.]{1,150}?)\.\s+(?P<body>[A-Z(\"“].*)$", rest)
    if m and words(m.group("title")) <= 12:
        return m.group("title"), m.group("body")
    if words(rest) <= 15 and not re.search(r"[;:,]$", rest):
        return rest.rstrip(" ."), ""
    return None


def container_rest(rest: str) -> str | None:
    """The title after a container designation ("" if none), or None if the line is not a heading."""
    rest = rest.strip()
    if not rest:
        return ""
    if rest[:1] in "—–-:.":
        return rest.lstrip("—–-:. ")
    if rest[:1].islower() or words(rest) > 16 or re.search(r"[.;]$", rest) and not is_caps(rest, 16):
        return None
    return rest


def is_designation(text: str) -> bool:
    """Whether a plain line opens a container or a unit (and so cannot be anybody's title)."""
    c = match_container(text)
    if c and container_rest(c.rest) is not None:
        return True
    u = match_unit(text)
    return bool(u and unit_rest(u.rest, text) is not None)


def amendment_title(text: str) -> str:
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


# ------------------------------------------------------------------------------------ parser rules


class DesignationRules:
    """Parser steps for containers, units and numbered clauses (mixed into :class:`~.parser.Parser`, whose
    state they use: ``zone``, ``legal``, ``numbered_regime``, ``articles``, ``last_unit``, ``quote_depth``, ``pending``)."""

    def _take_designation(self, r: Reading) -> bool:
        return (
            self._try_container(r.plain, r.raw, r.line)
            or self._try_unit(r.plain, r.raw, r.line, r.md_level)
            or self._try_numbered(r.plain, r.raw, r.line, r.md_level)
        )

    def _try_container(self, plain_text: str, raw: str, line: Line) -> bool:
        m = match_container(plain_text)
        if not m:
            return False
        title = container_rest(m.rest)
        if title is None or raw.startswith(tuple(OPEN_QUOTES)) or self.quote_depth > 0:
            return False
        row = m.row
        if row.legal_only and not (self.legal or MD_HEADING.match(raw)):
            return False
        if row.prose_needs_title and not m.kw.isupper() and not (title or MD_HEADING.match(raw)) and not self.legal:
            return False
        node = Node(
            kind=row.kind, seg=m.seg, number=m.number, title=sentence_case(title) if title else "",
            rank=self._container_rank(row.rank_class), zone=self.zone, page=line.page,
        )
        self._open(node)
        if not title:
            self._expect(node)
        return True

    def _try_unit(self, plain_text: str, raw: str, line: Line, md_level: int | None) -> bool:
        m = match_unit(plain_text)
        if not m:
            return False
        parsed = unit_rest(m.rest, raw.lstrip("#").strip(), md=md_level is not None)
        if parsed is None or raw.lstrip("#").strip().startswith(tuple(OPEN_QUOTES)):
            return False
        title, body = parsed
        if m.row.kind == "section" and re.fullmatch(ROMAN, m.num) and self.articles:
            return self._open_section_group(m, title, body, line, md_level)
        key = m.key
        last = self.last_unit.get(self.zone)
        if last is not None and key <= last:
            return False
        if self.quote_depth > 0 and not (last is not None and key[0] == last[0] + 1):
            return False
        node = Node(kind=m.row.kind, seg=m.seg, number=m.number, title=sentence_case(title),
                    rank=8, zone=self.zone, page=line.page, is_unit=True, md_level=md_level)
        self._attach_pending_title(node)
        self._open(node)
        self.last_unit[self.zone] = key
        if body:
            self._add_body(Line(body, line.page))
        if not node.title:
            self._expect(node)
        return True

    def _open_section_group(self, m: Designated, title: str, body: str, line: Line, md_level: int | None) -> bool:
        """``SECTION I`` above ``Article 1`` (as conventions group their articles) is a container, not a unit."""
        node = Node(kind="division", seg=f"sec-{slugify(m.num)}", number=m.number, title=sentence_case(title),
                    rank=self._container_rank("section-group"), zone=self.zone, page=line.page, md_level=md_level)
        self._open(node)
        if body:
            self._add_body(Line(body, line.page))
        if not node.title:
            self._expect(node)
        return True

    def _try_numbered(self, plain_text: str, raw: str, line: Line, md_level: int | None) -> bool:
        if self.zone != "body" or not self.numbered_regime:
            return False
        m = NUMBERED.match(plain_text)
        if not m or any(n.is_unit and n.kind == "article" for n in self.stack):
            return False
        if raw.lstrip("#").strip().startswith(tuple(OPEN_QUOTES)):
            return False
        num, rest = m.group("num"), m.group("rest")
        key = number_key(num)
        bold_number = is_bold_number(raw)
        strong = bool(
            bold_number or rest.startswith("(1)") or DASH_TITLE.match(rest)
            or self.pending or line.note or md_level
        )
        if not self._numbered_in_sequence(key, strong, rest):
            return False
        title, body = "", rest
        d = DASH_TITLE.match(rest)
        if d and words(d.group("title")) <= 15 and d.group("body").strip() and not self.pending and not bold_number:
            title, body = d.group("title").rstrip(" .,"), d.group("body")
        bold_head = BOLD_HEAD.match(raw)
        if bold_head and not title:
            body = plain(re.sub(r"^\s*\d{1,4}[A-Za-z]{0,2}\.\s*", "", bold_head.group("head")) + " " + bold_head.group("after"))
        node = Node(kind="section", seg=f"s-{slugify(num)}", number=num, title=title, rank=8,
                    zone=self.zone, page=line.page, is_unit=True)
        self._attach_pending_title(node)
        if not node.title:
            self._attach_margin_title(node, line)
        self._open(node)
        self.last_unit[self.zone] = key
        if line.note:
            self._add_body(Line("", line.page, line.note))
            line.note = None
        if body.strip():
            self._add_body(Line(body, line.page))
        return True

    def _numbered_in_sequence(self, key: tuple[int, str], strong: bool, rest: str) -> bool:
        """Whether clause ``key`` continues the zone's numbering (and is not a number quoted in an amendment)."""
        if key[0] >= 10000:
            return False
        last = self.last_unit.get(self.zone)
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
        return not (self.quote_depth > 0 and not (last is not None and key[0] == last[0] + 1 and not key[1] and strong))

    def _attach_margin_title(self, node: Node, line: Line) -> None:
        """A PDF marginal note level with (or a line or two below) the unit's first line is its title."""
        for offset in (0, 1, -1, 2):
            k = self._index + offset
            if not 0 <= k < len(self.lines):
                continue
            other = self.lines[k]
            if other.page != line.page or not other.note or other.note.startswith(tuple(OPEN_QUOTES)):
                continue
            if offset < 0 and self.nodes and self.nodes[-1].is_unit and not self.nodes[-1].title:
                continue
            node.title = re.sub(r"\s+", " ", other.note).strip().rstrip(".")
            other.note = None
            return

    def _attach_pending_title(self, node: Node) -> None:
        """Bold lines held back before a unit are its title."""
        if self.pending and not node.title:
            node.title = " ".join(plain(p.text) for p in self.pending).strip()
            node.title = sentence_case(node.title.rstrip(" ."))
            if self.pending[0].page is not None:
                node.page = self.pending[0].page
            self.pending = []
