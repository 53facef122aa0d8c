"""Writing systems of a document: which one dominates, how its lines are cleaned, how a line broken by the
converter is joined again (Thai and Chinese put no space between words, so a wrapped line joins without one),
and how much text a passage of it holds."""

from __future__ import annotations

import re

_THAI_LETTER = "\u0e01-\u0e2e\u0e30-\u0e3a\u0e40-\u0e45\u0e47-\u0e4e"  # not ฯ, ๆ, Thai digits
_THAI = "\u0e00-\u0e7f"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = _HAN + "\u3000-\u303f\uff00-\uffef"  # with CJK punctuation and full-width forms
_LATIN = "A-Za-z\u00c0-\u024f"
_COUNTS = {"thai": re.compile(f"[{_THAI_LETTER}]"), "han": re.compile(f"[{_HAN}]"), "latin": re.compile(f"[{_LATIN}]")}
# zero-width and directional marks, soft hyphen, byte-order mark: invisible, and they break designations apart
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Windows-1252 quotation marks decoded as C1 control characters (the Thai Gazette's “ ” come as U+0093/U+0094)
_C1_QUOTES = str.maketrans({"\x91": "‘", "\x92": "’", "\x93": "“", "\x94": "”"})
_THAI_END = re.compile(f"[{_THAI_LETTER}]$")
_THAI_START = re.compile(f"^[{_THAI_LETTER}]")
_THAI_ABBREVIATION = re.compile(r"^[\u0e01-\u0e2e]{1,2}\.")  # พ.ศ., ป.ร.: written after a space
_CJK_END = re.compile(f"[{_CJK}]$")
_CJK_START = re.compile(f"^[{_CJK}]")
_SPACE_IN_CJK = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")


def dominant_script(text: str) -> str:
    """``thai`` or ``han`` when most letters of ``text`` are Thai or Chinese, else ``latin`` (all other scripts)."""
    sample = text if len(text) <= 200_000 else text[:100_000] + text[-100_000:]
    counts = {script: len(regex.findall(sample)) for script, regex in _COUNTS.items()}
    best = max(("thai", "han"), key=lambda s: counts[s])
    total = sum(counts.values())
    return best if total and counts[best] > counts["latin"] and counts[best] >= 0.3 * total else "latin"


def clean_line(text: str) -> str:
    """A line without invisible marks, with its quotation marks repaired and its trailing spaces removed."""
    return INVISIBLE.sub("", text).translate(_C1_QUOTES).rstrip()


def join_wrapped(left: str, right: str) -> str:
    """Two pieces of one paragraph that a converter put on two lines, joined: without a space between two Thai
    letters or two Chinese characters, with one otherwise (before ๆ and an abbreviation such as พ.ศ., after ฯ,
    around numbers)."""
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left or right
    if (_THAI_END.search(left) and _THAI_START.match(right) and not _THAI_ABBREVIATION.match(right)) or (_CJK_END.search(left) and _CJK_START.match(right)):
        return left + right
    return f"{left} {right}"


def compact_cjk(text: str) -> str:
    """Spaces set between Chinese characters for typography (``总  则``) removed."""
    return _SPACE_IN_CJK.sub("", text).strip()


def size_in_words(text: str) -> float:
    """About how many words ``text`` holds, for scripts with and without spaces between words."""
    thai = len(re.findall(f"[{_THAI}]", text))
    han = len(re.findall(f"[{_HAN}]", text))
    spaced = len(re.findall(f"[^\\s{_THAI}{_HAN}]+", text))
    return spaced + thai / 6 + han / 1.6
