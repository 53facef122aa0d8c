"""What a source's own fields say about a document: provision JSON's title, type, status, dates and URL.

Legislation APIs describe each act (``"type": "statute"``, ``"status": "repealed"``, ``"issued_date":
"2013-10-27"``, ``"url": "http://bdlaws.minlaw.gov.bd/act-1131.html"``); these fields beat anything inferred from
the text, and a manifest row beats them (except a blank or unknown status, which the file may fill).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import urlparse

from ingest.vocabularies import DOC_TYPES, STATUSES, UNKNOWN_STATUS, lookup_member

# An API's status words -> ours
_STATUS_WORDS = {
    "in force": "in_force", "inforce": "in_force", "force": "in_force", "current": "in_force",
    "active": "in_force", "valid": "in_force", "yururlukte": "in_force", "amended": "in_force",
    "repealed": "repealed", "revoked": "repealed", "expired": "repealed", "superseded": "repealed",
    "lapsed": "repealed", "mulga": "repealed", "not in force": "repealed", "no longer in force": "repealed",
}
# An API's document type -> ours (anything else: inferred from the text)
_TYPE_WORDS = {
    "statute": "law", "act": "law", "law": "law", "code": "law", "ordinance": "law", "decree": "law",
    "regulation": "law", "kanun": "law", "bill": "law", "convention": "convention", "treaty": "convention",
    "protocol": "protocol", "judicial_interpretation": "judicial_interpretation", "interpretation": "judicial_interpretation",
}
# The country-code domain of a government's legislation site -> the member whose law it is
_DOMAIN_MEMBERS = {
    "sg": "Singapore", "bd": "Bangladesh", "tr": "Türkiye", "th": "Thailand", "cn": "China", "my": "Malaysia",
    "id": "Indonesia", "ph": "Philippines", "lk": "Sri Lanka", "pk": "Pakistan", "au": "Australia",
    "nz": "New Zealand", "vn": "Viet Nam", "kh": "Cambodia", "la": "Lao PDR", "mm": "Myanmar", "np": "Nepal",
    "in": "India", "af": "Afghanistan", "ir": "Iran", "jp": "Japan", "kr": "Republic of Korea", "fj": "Fiji",
    "pg": "Papua New Guinea", "mn": "Mongolia", "bt": "Bhutan", "mv": "Maldives", "tl": "Timor-Leste",
}
_DOMAIN_MEMBERS = {tld: lookup_member(name) for tld, name in _DOMAIN_MEMBERS.items() if lookup_member(name)}
_DATE_YEAR = re.compile(r"^\s*(1[89]\d\d|2[01]\d\d)(?:[-/.]\d{1,2}){0,2}\s*$")


def ascii_digits(text: str) -> str:
    """``text`` with the decimal digits of every script (Thai ๒๕๕๑, Bengali ২০১২) as ASCII digits."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdigit() and unicodedata.decimal(ch, None) is not None else ch
                   for ch in text)


def canonical_status(value: Any) -> str | None:
    """Our status for a source's status value, or None when it says nothing we know."""
    if not isinstance(value, str) or not value.strip():
        return None
    ascii_key = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    status = _STATUS_WORDS.get(" ".join(re.sub(r"[-_]", " ", ascii_key).split()))
    return status if status in STATUSES and status != UNKNOWN_STATUS else None


def fields_meta(fields: dict[str, Any]) -> dict[str, Any]:
    """The metadata a source's document fields state: any of ``title``, ``doc_type``, ``status``, ``year``,
    ``jurisdiction``, ``language``; fields the source does not give (or gives in a form we do not know) are absent.
    """
    out: dict[str, Any] = {}
    title = str(fields.get("title") or "").strip()
    title_en = str(fields.get("title_en") or "").strip()
    if title:
        out["title"] = f"{title_en} - {title}" if title_en and title_en != title else title
    doc_type = _TYPE_WORDS.get(str(fields.get("type") or "").strip().lower())
    if doc_type in DOC_TYPES:
        out["doc_type"] = doc_type
    if status := canonical_status(fields.get("status")):
        out["status"] = status
    for key in ("issued_date", "date", "enacted", "year", "in_force_date"):
        m = _DATE_YEAR.match(ascii_digits(str(fields.get(key) or "")))
        if m:
            out["year"] = int(m.group(1))
            break
    host = urlparse(str(fields.get("url") or "")).hostname or ""
    member = _DOMAIN_MEMBERS.get(host.rsplit(".", 1)[-1]) if "." in host else None
    if member:
        out["jurisdiction"] = member
    lang = str(fields.get("language") or "").strip().lower()
    if 2 <= len(lang) <= 3 and lang.isalpha():
        out["language"] = lang
    return out
