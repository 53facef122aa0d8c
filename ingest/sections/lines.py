"""The document's lines as the parser reads them: pages numbered, marginal notes attached, and YAML front
matter, page-break rules, running heads and HTML furniture dropped."""

from __future__ import annotations

import re

from ingest.loaders import LoadedDocument
from ingest.sections.designations import DESIGNATOR
from ingest.sections.nodes import Line
from ingest.sections.text import ITALIC_LINE, RULE, is_caps, plain, words


def prepare_lines(loaded: LoadedDocument) -> list[Line]:
    """All lines of the document with page numbers; front matter, rules and running heads dropped."""
    lines = _page_lines(loaded)
    if loaded.format == "text":
        for line in lines:
            if re.match(r"^ \S", line.text) and not is_caps(line.text.strip()):
                line.text = "- " + line.text[1:]  # bullets lost in PDF-to-text conversion leave one space
    if not loaded.paged:
        lines = strip_front_matter(lines)
        lines = drop_markdown_furniture(lines)
    out: list[Line] = []
    for line in lines:
        out.extend(_cleaned(line))
    return out


def _page_lines(loaded: LoadedDocument) -> list[Line]:
    notes: dict[tuple[int, int], str] = {}
    for note in getattr(loaded, "margin_notes", []) or []:
        key = (note.page, note.line)
        notes[key] = f"{notes[key]} {note.text}" if key in notes else note.text
    lines: list[Line] = []
    for p, page in enumerate(loaded.pages, start=1):
        raw = page.split("\n")
        # blank lines at page edges are furniture left by the loader, not paragraph breaks
        first = next((i for i, line in enumerate(raw) if line.strip()), len(raw))
        last = max((i for i, line in enumerate(raw) if line.strip()), default=-1)
        for i, line in enumerate(raw):
            if loaded.paged and (i < first or i > last):
                continue
            lines.append(Line(line.rstrip("\r"), p if loaded.paged else None, notes.get((p, i))))
    return lines


def _cleaned(line: Line) -> list[Line]:
    text = line.text
    stripped = text.strip()
    if re.fullmatch(r"<!--.*-->|<meta[^>]*>|</?(html|body|head|div|span)[^>]*>", stripped, flags=re.I):
        return []
    # letter-spaced words of a converted PDF: "_i n t i t u l e d_"
    if re.fullmatch(r"[_*]*(?:[A-Za-z] ){3,}[A-Za-z][_*]*", stripped):
        text = stripped.replace(" ", "")
    # an amending section's heading glued to the previous line ("x x x**SEC. 11.**")
    parts = re.split(r"(?<=[^\s\"“])(?=\*\*(?:SEC\.|SECTION)\s+\d+[A-Z-]*\.\*\*)", text)
    return [Line(part, line.page, line.note if part is parts[0] else None) for part in parts]


def strip_front_matter(lines: list[Line]) -> list[Line]:
    """The lines after the YAML front matter blocks (``---`` .. ``---``) that open a Markdown file."""
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
    return re.sub(r"[^a-z]", "", plain(text.lstrip("#")).lower())


def drop_markdown_furniture(lines: list[Line]) -> list[Line]:
    """Drop page-break rules and the running head that follows each of them in PDF-converted Markdown."""
    breaks = [i for i, line in enumerate(lines) if RULE.match(line.text) and line.text.strip().startswith("--")]
    if len(breaks) < 2:
        return lines
    keys: dict[str, int] = {}
    for b in breaks:
        k = _first_after(lines, b)
        if k is not None:
            keys[_running_head_key(lines[k].text)] = keys.get(_running_head_key(lines[k].text), 0) + 1
    drop: set[int] = set(breaks)
    starts = breaks + [-1]  # the document start (after front matter) is a page start too
    for b in starts:
        k = _first_after(lines, b)
        if k is None:
            continue
        key = _running_head_key(lines[k].text)
        if _head_like(lines, k) and (keys.get(key, 0) >= 2 or ITALIC_LINE.match(lines[k].text.strip())):
            drop.add(k)
            nxt = k + 1  # a running head wrapped onto a second italic line, with no blank between
            if nxt < len(lines) and not lines[nxt].blank and ITALIC_LINE.match(lines[nxt].text.strip()) and _head_like(lines, nxt):
                drop.add(nxt)
    return [line for i, line in enumerate(lines) if i not in drop]


def _first_after(lines: list[Line], i: int) -> int | None:
    for k in range(i + 1, min(len(lines), i + 6)):
        if not lines[k].blank:
            return k
    return None


def _head_like(lines: list[Line], k: int) -> bool:
    """Whether line ``k`` looks like a running head: a page number, a short italic line or a heading."""
    text = lines[k].text.strip()
    text_plain = plain(text.lstrip("#"))
    if not text_plain or words(text_plain) > 9 or DESIGNATOR.match(text_plain):
        return False
    if re.fullmatch(r"\d{1,4}", text_plain):
        return True
    return bool(
        ITALIC_LINE.match(text)
        or re.fullmatch(r"\d{1,4}\s+(?:\*\*)?_[^_]+_(?:\*\*)?", text)
        or text.startswith("#")
    )
