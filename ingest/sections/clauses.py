"""Clauses: a very long article or section gets child sections at its top-level subdivisions "(a)", "(1)" ..."""

from __future__ import annotations

import re

from ingest.schema import slugify
from ingest.sections.designations import DESIGNATOR, roman_to_int
from ingest.sections.nodes import Line, Node
from ingest.sections.text import plain, words

# A unit (article / section) longer than this many words is split into child sections at its
# top-level subdivisions "(a)", "(1)" ... when it has at least two of them.
LONG_UNIT_WORDS = 700


def split_long_units(nodes: list[Node]) -> list[Node]:
    """Give very long articles/sections child sections at their top-level subdivisions "(a)", "(1)" ..."""
    out: list[Node] = []
    for node in nodes:
        out.append(node)
        if not node.is_unit or node.kind == "explanatory":
            continue
        starts = _split_points(node)
        if not starts:
            continue
        children = [_clause(node, n, starts) for n in range(len(starts))]
        node.body = node.body[: starts[0][0]]
        out.extend(children)
    return out


def _split_points(node: Node) -> list[tuple[int, str]]:
    """The subdivisions to split a long unit at, or [] when it is short or not really divided at them."""
    total = sum(words(line.text) for line in node.body)
    if total <= LONG_UNIT_WORDS:
        return []
    starts = _subdivision_starts(node.body)
    if len(starts) < 2 or sum(words(line.text) for line in node.body[: starts[0][0]]) > 80:
        return []
    bounds = [index for index, _d in starts] + [len(node.body)]
    sizes = [sum(words(line.text) for line in node.body[a:b]) for a, b in zip(bounds, bounds[1:])]
    if max(sizes) > 0.7 * total:
        return []  # the "subdivisions" are really items nested inside one part of the unit
    return starts


def _clause(node: Node, n: int, starts: list[tuple[int, str]]) -> Node:
    index, designator = starts[n]
    end = starts[n + 1][0] if n + 1 < len(starts) else len(node.body)
    chunk = node.body[index:end]
    first = plain(chunk[0].text)
    rest = DESIGNATOR.match(first).group("rest") if DESIGNATOR.match(first) else ""
    title = ""
    if rest and words(rest) <= 12 and not re.search(r"[.;:,—–-]$", rest) and (
        index + 1 >= len(node.body) or node.body[index + 1].blank
    ):
        title = rest
    elif rest:
        term = re.match(r"^(?P<t>[^—–]{2,80}?)\s*[—–]\s*\S", rest)  # "(a) Trafficking in Persons — refers to"
        if term and words(term.group("t")) <= 8 and not term.group("t")[:1].islower():
            title = term.group("t").strip(" ,.")
    return Node(
        kind="clause", seg=slugify(designator), number=f"{node.number}({designator})", title=title,
        rank=node.rank + 0.5, zone=node.zone, page=chunk[0].page, body=chunk, parent=node, is_unit=False,
        label_override=f"({designator}) {title}".strip(),
    )


def _subdivision_starts(body: list[Line]) -> list[tuple[int, str]]:
    candidates = []
    depth = 0  # subdivisions of provisions quoted in an amendment are not this unit's subdivisions
    for index, line in enumerate(body):
        m = DESIGNATOR.match(plain(line.text))
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
        return roman_to_int(d)
    return None
