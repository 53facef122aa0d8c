"""Numerals of legal designations: Arabic and Roman (``12A``, ``IV``), Thai digits (``๒๔๐``), Chinese numerals
(``二百四十``), and the suffixes that insert a unit between two others (``ทวิ``/``ตรี`` = bis/ter, ``/๔``, ``之一``)."""

from __future__ import annotations

import re
import unicodedata

_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def roman_to_int(text: str) -> int:
    total, prev = 0, 0
    for ch in reversed(text.lower()):
        v = _ROMAN_VALUES.get(ch, 0)
        total += -v if v < prev else v
        prev = max(prev, v)
    return total


def number_key(num: str) -> tuple[int, str]:
    """Sort key of an Arabic or Roman designation number: ``12A`` -> (12, "a"), ``IV`` -> (4, "")."""
    m = re.match(r"(\d+)\s*[-.]?\s*([A-Za-z]*)", num)
    if m:
        return int(m.group(1)), m.group(2).lower()
    return roman_to_int(num), ""


def decimal_int(text: str) -> int:
    """A number written in any script's decimal digits (``๒๔๐``, ``240``, full-width ``２４０``); 0 if none."""
    digits = [unicodedata.decimal(ch, None) for ch in text]
    value = 0
    for d in digits:
        if d is not None:
            value = value * 10 + d
    return value


_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CHINESE_NUMERAL = "〇零一二三四五六七八九十百千万两0-9０-９"


def chinese_int(text: str) -> int:
    """A Chinese numeral as an int: ``二百四十`` -> 240, ``十二`` -> 12, ``一百零一`` -> 101, ``一〇一`` -> 101.

    Arabic and full-width digits are read as decimal; characters that are no numeral are ignored.
    """
    if any(unicodedata.decimal(ch, None) is not None for ch in text):
        return decimal_int(text)
    if not any(ch in _CN_UNITS or ch == "万" for ch in text):  # positional: 一〇一
        return int("".join(str(_CN_DIGITS[ch]) for ch in text if ch in _CN_DIGITS) or "0")
    total = section = 0
    digit = None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]  # 十二: a unit without a digit means one
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
    return total + section + (digit or 0)


# Latin multiplicative adverbs used for inserted units, as Thai writes them (มาตรา ๕ ทวิ = section 5 bis)
THAI_INSERTED = {
    "ทวิ": (2, "bis"), "ตรี": (3, "ter"), "จัตวา": (4, "quater"), "เบญจ": (5, "quinquies"), "ฉ": (6, "sexies"),
    "สัตต": (7, "septies"), "อัฏฐ": (8, "octies"), "นว": (9, "novies"), "ทศ": (10, "decies"),
    "เอกาทศ": (11, "undecies"), "ทวาทศ": (12, "duodecies"), "เตรส": (13, "terdecies"),
}


def thai_suffix(sub: str) -> tuple[int, str]:
    """(order, id part) of a Thai inserted unit's suffix: ``ทวิ`` -> (2, "bis"), ``/๔`` -> (4, "4")."""
    sub = sub.strip()
    if sub in THAI_INSERTED:
        return THAI_INSERTED[sub]
    n = decimal_int(sub)
    return n, str(n)


def chinese_suffix(sub: str) -> tuple[int, str]:
    """(order, id part) of a Chinese sub-article's suffix: ``之一`` -> (1, "1")."""
    n = chinese_int(sub.lstrip("之"))
    return n, str(n)
