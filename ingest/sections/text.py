"""Inline text helpers of the splitter: markup removal, capitals, word counts and readable section text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

TAGS = re.compile(r"<[^>]{1,200}>")
OPEN_QUOTES = "\"“‘'«"
LIST_START = re.compile(r"^(?:[-•*▪●◦]\s|\(\w{1,6}\)\s?|\w{1,4}\)\s|\d{1,4}[A-Za-z]{0,2}\.\s|[a-z]\.\s|[ivx]{1,5}\.\s)")


def plain(text: str) -> str:
    """Inline Markdown/HTML markup removed, quotes normalised, spaces collapsed."""
    text = text.replace("``", '"').replace("''", '"')
    text = re.sub(r"<sup>(.*?)</sup>", r"\1", text, flags=re.I)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.I)
    text = TAGS.sub("", text)
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


@contextmanager
def document_acronyms(lines: list[str]) -> Iterator[None]:
    """While active, :func:`sentence_case` keeps the words these lines write in capitals inside lower-case text."""
    acronyms: set[str] = set()
    for text in lines:
        letters = [c for c in text if c.isalpha()]
        if letters and sum(c.isupper() for c in letters) / len(letters) < 0.4:
            acronyms.update(re.findall(r"\b[A-Z]{2,6}\b", text))
    token = _ACRONYMS.set(frozenset(acronyms))
    try:
        yield
    finally:
        _ACRONYMS.reset(token)


def sentence_case(title: str) -> str:
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


def is_caps(text: str, max_words: int = 12) -> bool:
    """Whether ``text`` is a short line written in capitals (a heading or label, not a shouted sentence)."""
    letters = [c for c in text if c.isalpha()]
    return (
        len(letters) >= 3
        and sum(c.isupper() for c in letters) / len(letters) > 0.85
        and len(text.split()) <= max_words
        and (not re.search(r"[.;,]$", text) or re.search(r"\b[A-Za-z]{2,4}\.$", text) is not None)
        and re.search(r"[A-Za-z]{3,}", text) is not None
    )


def words(text: str) -> int:
    return len(text.split())


def short_title(text: str, limit: int = 80) -> str:
    """The first sentence of ``text``, cut at a word boundary to about ``limit`` characters."""
    first = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].strip()
    if len(first) <= limit:
        return first.rstrip(".;")
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;") + "…"


# ---------------------------------------------------------------------------------- Markdown line markup

MD_HEADING = re.compile(r"^(?P<hashes>#{1,8})\s*(?P<text>.*?)\s*#*\s*$")
RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|={3,})\s*$")
BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(?P<inner>.+?)(?:\*\*|__)\s*$")
ITALIC_LINE = re.compile(r"^\s*(?:\*\*)?_(?P<inner>[^_]+)_(?:\*\*)?\s*(?P<pn>\d{1,4})?\s*$")
BOLD_HEAD = re.compile(r"^\s*\*\*(?P<head>[^*]+?)\*\*\s*(?P<after>.*)$")
