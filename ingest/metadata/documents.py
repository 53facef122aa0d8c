"""Metadata of a document with no manifest entry, inferred from its file name and first pages: title, type,
jurisdiction, year or period, members and language; for provision JSON, from its document fields first (title,
type, status, dates, the URL's country) and its text for the rest."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ingest.metadata.language import UNDETERMINED, detect_language
from ingest.metadata.members import detect_members
from ingest.metadata.sources import ascii_digits, fields_meta
from ingest.schema import DocumentMeta, slugify
from ingest.vocabularies import MEMBERS, lookup_member, parse_period

HEAD_CHARS = 6000  # the "first pages" that document-level inference reads
NATIONAL_TYPES = ("law", "judicial_interpretation")  # types whose document belongs to one jurisdiction
TREATY_TYPES = ("protocol", "convention")

# Stop words, only to recognise a title line in another language than the body's (the Dutch titles of the UN
# protocols' bilingual source); the document's language itself is detected by lingua (ingest.metadata.language).
_EN = frozenset("the of and to in shall be or any by for is this that with which under such as".split())
_MALAY_FAMILY = frozenset("dan yang di dalam untuk ini dengan atau oleh bagi pada kepada orang tidak".split())
_OTHER = frozenset("de het van een voor les des du et la le der die und das el los las que".split())


# Law-making bodies and official names that settle a law's jurisdiction (tried in order).
_JURISDICTION_CUES = [
    (r"Democratic Socialist Republic of Sri Lanka|Parliament of Sri Lanka", "Sri Lanka"),
    (r"Republic of the Philippines|Congress of the Philippines|Republic Act No", "Philippines"),
    (r"Parliament of Malaysia|Parlimen Malaysia|Dewan Rakyat|\bD\.\s?R\.\s?\d+/\d{4}", "Malaysia"),
    (r"Republik Indonesia|Peraturan Daerah|Undang-Undang Nomor|Lembaran Negara", "Indonesia"),
    (r"\bU\.\s?S\.\s?C\.|United States Code|Congress of the United States|\bPub(?:lic|\.) L(?:aw|\.) No", "United States"),
    (r"Gazette of Pakistan|Majlis-e-Shoora|Islamic Republic of Pakistan", "Pakistan"),
    # laws in their own languages name their state or its law-making bodies
    (r"ราชอาณาจักรไทย|พระราชบัญญัติ|ราชกิจจานุเบกษา|พระบาทสมเด็จพระ", "Thailand"),
    (r"中华人民共和国|全国人民代表大会|最高人民法院|最高人民检察院|国务院", "China"),
    (r"বাংলাদেশ|জাতীয় সংসদ", "Bangladesh"),
    (r"Türkiye|Cumhuriyeti|Cumhurbaşkan|Bakanlar Kurulu|Türk vatandaş", "Türkiye"),
]
_JURISDICTION_RES = [(re.compile(p, re.IGNORECASE), name) for p, name in _JURISDICTION_CUES]
_ENACTING_BODY = re.compile(
    r"\b(?:Parliament|Congress|Parlimen|Government|Gazette|Kingdom|Commonwealth|Republic|Republik|State)\s+of\s+"
    r"((?:the\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,5})",
    re.IGNORECASE,
)

_LAW_TITLE = re.compile(
    r"\b(?:Act|Bill|Code|Ordinance|Decree|Statute|Akta|Undang-Undang|Peraturan|Perpu|Qanun|Kanun(?:u|namesi)?)\b"
    r"|พระราชบัญญัติ|พระราชกำหนด|আইন|অধ্যাদেশ|法$|条例$", re.I)
# A judicial interpretation (China's Supreme People's Court or Procuratorate): binding, but not a statute
_INTERPRETATION = re.compile(r"最高人民(?:法院|检察院).{0,80}解释|\bjudicial interpretation\b", re.I | re.S)
_LAW_HEAD = re.compile(
    r"\bbe it (?:therefore )?enacted\b|\benacted by\b|\bDIPERBUAT oleh\b|\bAct,?\s+No\.?\s*\d+|\bRepublic Act No"
    r"|\bRANG UNDANG-UNDANG\b|\bUNDANG-UNDANG\s+(?:REPUBLIK|NOMOR)|\bPERATURAN\s+(?:DAERAH|PEMERINTAH|PRESIDEN|MENTERI)\b"
    r"|\bU\.\s?S\.\s?C\.|\bA BILL\b|\bmay be cited as\b|\bbolehlah dinamakan\b",
    re.IGNORECASE,
)
# Non-law types, tried in order on the title and file name, then on the opening text.
_TYPE_CUES = [
    ("work_plan", re.compile(r"\b(?:work ?plan|action plan|plan of action)\b", re.I)),
    ("statement", re.compile(r"\b(?:co-chairs['’]? statement|chairs['’]? statement|joint statement|statement)\b", re.I)),
    ("declaration", re.compile(r"\bdeclaration\b", re.I)),
    ("strategy", re.compile(r"\bstrategy\b", re.I)),
    ("protocol", re.compile(r"\bprotocol\b", re.I)),
    ("convention", re.compile(r"\bconvention\b", re.I)),
    ("factsheet", re.compile(r"\bfact ?sheet\b", re.I)),
    ("policy_guide", re.compile(r"\b(?:policy guide|guidelines|handbook|toolkit)\b", re.I)),
    ("report", re.compile(r"\breport\b", re.I)),
]

_YEAR = r"(?:19\d\d|20\d\d)"  # the ILO's Forced Labour Convention is of 1930
_LAW_YEAR = re.compile(
    rf"\bNo\.?\s*\d+\s+of\s+({_YEAR})\b|\bTAHUN\s+({_YEAR})\b|\b(?:Act|Bill|Akta)\s+(?:of\s+)?({_YEAR})\b|\bD\.\s?R\.\s?\d+/({_YEAR})\b"
    rf"|\b(?:Act|Bill|Akta)\b[^\n.]{{0,40}}?\)\s+({_YEAR})\b",
    re.IGNORECASE,
)
_CITED_AS = re.compile(r"\bmay be cited as\s+(?:the\s+)?(.{0,80})", re.I | re.S)
_ANY_YEAR = re.compile(rf"(?<!\d)({_YEAR})(?!\d)")
# A Buddhist Era year (Thai laws: พ.ศ. ๒๕๕๑ = 2008), and a year of a Chinese date (2021年)
_BE_YEAR = re.compile(r"(?:พ\.\s?ศ\.|B\.\s?E\.)\s*(2[45]\d\d)(?!\d)")
_CJK_YEAR = re.compile(rf"(?<!\d)({_YEAR})\s*年")
_PERIOD = re.compile(rf"(?<!\d)({_YEAR})\s*[-–_/]\s*(\d{{2}}|{_YEAR})(?!\d)")

# "This Act may be cited as the X Act, No. 9 of 2019." -- the title runs to a closing quote or the full stop.
_SHORT_TITLE = re.compile(
    r"(?:may be cited as|shall be known as|bolehlah dinamakan|dapat disebut)\s+(?:the\s+)?[\"“'‘]*"
    r"(.{5,200}?)(?:[\"”’';]|(?<!\bno)\.(?:\s|$)|\s+(?:and\s+)?shall\b)",
    re.IGNORECASE | re.DOTALL,
)
_ID_TITLE = re.compile(
    r"\b((?:UNDANG-UNDANG|PERATURAN)\b.{0,80}?\bNOMOR\s+\d+\s+TAHUN\s+\d{4}\s+TENTANG\s+.{5,200}?)"
    r"(?=\s+(?:DENGAN RAHMAT|Menimbang|PRESIDEN|GUBERNUR|BUPATI|WALI ?KOTA)\b|$)",
    re.DOTALL,
)
# A Thai Act's title: พระราชบัญญัติ, its name, its Buddhist Era year (the Gazette prints each on its own line)
_TH_TITLE = re.compile(r"(?:พระราชบัญญัติ\s+)?(พระราชบัญญัติ|พระราชกำหนด)\s*(\S[^\n]{2,150}?)\s+(พ\.\s?ศ\.\s*[0-9๐-๙]{4})")
# A date opening a line ("1979年7月1日 ... 通过"): adoption notes after a Chinese title, not part of it
_DATE_LINE = re.compile(r"^(?:1[89]|20)\d\d\s*年|^\d{1,2}[./]\d{1,2}[./](?:1[89]|20)\d\d\b")
_FRONT_MATTER = re.compile(r"\A\s*---\s*\n.*?\n---[ \t]*\n", re.DOTALL)
_NOISE_LINE = re.compile(r"^\s*(?:<[^>]*>\s*$|<!--|-{3,}|\d+\s*$|\[\s*\]\s*$)")
# Title lines are noun phrases; a line with a finite verb has started the body ("The RSO was established in").
_PROVISION = re.compile(r"^(?:§|Sec(?:tion)?\.?\s*\d|Article\s+\d|Pasal\s+\d|\d+\.\s)", re.IGNORECASE)
_BODY_VERB = re.compile(r"\b(?:is|are|was|were|will|has|have|had|shall|sets out|adalah|ialah)\b")


def _front_matter_title(text: str) -> str | None:
    while m := _FRONT_MATTER.match(text):
        t = re.search(r"^Title:\s*(.+)$", m.group(0), re.MULTILINE)
        if t:
            return t.group(1).strip()
        text = text[m.end() :]
    return None


def _clean_line(line: str) -> str:
    line = re.sub(r"<[^>]*>", "", line)
    line = re.sub(r"^\s*#+\s*|[*_`]+", "", line)
    return " ".join(line.split()).strip(" -–—:")


def _foreign(line: str) -> bool:
    words = re.findall(r"[^\W\d_]+", line.lower())
    other = sum(w in _OTHER for w in words)
    return other > 0 and other > sum(w in _EN or w in _MALAY_FAMILY for w in words)


def _title_block(text: str) -> str | None:
    """The leading short lines of a document (its cover or heading block), joined; None if it opens with prose."""
    while m := _FRONT_MATTER.match(text):
        text = text[m.end() :]
    lines: list[str] = []
    for raw in text.splitlines()[:80]:
        if not raw.strip() or _NOISE_LINE.match(raw):
            continue
        line = _clean_line(raw)
        if len(line) < 3 or not re.search(r"[^\W\d_]{2}", line) or _foreign(line):
            continue  # page furniture, or the other-language title of a bilingual source
        limit = 250 if raw.lstrip().startswith("#") else 160
        if len(line) > limit or (len(line) > 40 and _BODY_VERB.search(line)) or _PROVISION.match(line) or _DATE_LINE.match(line):
            break
        lines.append(line)
        if len(lines) >= 6 or sum(map(len, lines)) > 200:
            break
    if not lines:
        return None
    title = lines[0]
    for line in lines[1:]:
        title += (" " if line[:1].islower() else " - ") + line
    return _shorten(title, 250)


def _shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _law_title(head: str) -> str | None:
    flat = " ".join(head.split())
    m = _ID_TITLE.search(flat) or _TH_TITLE.search(flat)
    if m:
        return _shorten(" ".join(g for g in m.groups() if g))
    m = _SHORT_TITLE.search(flat)
    if m:
        title = m.group(1).strip(" \"”’'.,")
        ra = re.search(r"\bREPUBLIC ACT NO\.?\s*(\d+)", flat, re.IGNORECASE)
        if ra and ra.group(1) not in title:
            title = f"Republic Act No. {ra.group(1)} - {title}"
        return _shorten(title)
    return None


def _jurisdiction(head: str) -> str | None:
    flat = " ".join(head.split())
    for rx, name in _JURISDICTION_RES:
        if rx.search(flat):
            return name
    for m in _ENACTING_BODY.finditer(flat):
        words = m.group(1).split()
        for n in range(len(words), 0, -1):
            for candidate in (" ".join(words[:n]), f"{m.group(0).split()[0]} of {' '.join(words[:n])}"):
                name = lookup_member(candidate)
                if name and MEMBERS[name].kind != "organisation":
                    return name
    states = [n for n in detect_members(flat[:1500]) if MEMBERS[n].kind != "organisation"]
    return states[0] if states else None


def _doc_type(title: str, stem: str, head: str, law_title: str | None = None) -> str:
    named = f"{title}\n{stem}"
    if _INTERPRETATION.search(title) or _INTERPRETATION.search(head[:300]):
        return "judicial_interpretation"
    if _LAW_TITLE.search(title) or (law_title and _LAW_TITLE.search(law_title)):
        return "law"
    cited = _CITED_AS.search(head[:3000])  # "may be cited as the Forced Labour Convention, 1930"
    for doc_type, rx in ((t, rx) for t, rx in _TYPE_CUES if t in TREATY_TYPES):
        if rx.search(title) or (cited and rx.search(cited.group(1)) and not _LAW_TITLE.search(cited.group(1))):
            return doc_type
    if _LAW_HEAD.search(head[:3000]):
        return "law"
    for source in (named, head[:800]):
        for doc_type, rx in _TYPE_CUES:
            if rx.search(source):
                return doc_type
    return "other"


def _period(text: str) -> tuple[int, int] | None:
    for m in _PERIOD.finditer(text):
        try:
            start, end = parse_period(f"{m.group(1)}-{m.group(2)}")
        except ValueError:  # "2019-17" and the like: not a period
            continue
        if end - start <= 10:
            return start, end
    return None


def _years(doc_type: str, title: str, stem: str, head: str) -> tuple[int | None, int | None]:
    """A law's year (its citation's, else the first year named); a non-law's period or year from its title
    or file name only."""
    if doc_type in NATIONAL_TYPES:
        m = _LAW_YEAR.search(" ".join(f"{title}\n{head}".split()))
        found = next((g for g in m.groups() if g), None) if m else None
        if found:
            return int(found), None
        m2 = _ANY_YEAR.search(f"{title} {stem}")
        if m2:
            return int(m2.group(1)), None
        be = _BE_YEAR.search(f"{title}\n{head}")
        if be:
            return int(be.group(1)) - 543, None
        m2 = _CJK_YEAR.search(head) or _ANY_YEAR.search(head)
        return (int(m2.group(1)) if m2 else None), None
    span = _period(f"{title} {stem}")
    if span:
        return span
    # a non-law's body years are events it reports, not its own date; a treaty's own citation gives its year
    cited = _CITED_AS.search(head[:3000]) if doc_type in TREATY_TYPES else None
    m = _ANY_YEAR.search(f"{title} {stem}") or (_ANY_YEAR.search(cited.group(1)) if cited else None)
    return (int(m.group(1)) if m else None), None


def infer_document_meta(path: Path, text: str, corpus_root: Path | None = None,
                        fields: dict[str, Any] | None = None) -> DocumentMeta:
    """Metadata for a file with no manifest entry, inferred from its name and first pages.

    Never raises on odd text: empty text gives the file-name title, ``doc_type`` "other", language "und".

    :param path: the file; its stem gives ``doc_id`` and is a fallback for title, type and year.
    :param text: the extracted text (the first ``HEAD_CHARS`` characters are read; language detection samples
        the whole text).
    :param corpus_root: when given and ``path`` is under it, ``path`` is stored relative to it.
    :param fields: the source's own document fields (provision JSON), which beat what the text suggests.
    :returns: the metadata, with ``inferred_fields`` naming every field that was inferred (or taken from
        ``fields``); ``language`` is ``und`` when no language can be told.
    """
    path = Path(path)
    head = (text or "")[:HEAD_CHARS]
    stem = re.sub(r"[_\s]+", " ", path.stem).strip()
    given = fields_meta(fields or {})
    inferred = ["doc_id", "title", "doc_type", "language", *(["status"] if "status" in given else [])]

    front, block, law_title = _front_matter_title(head), _title_block(head), _law_title(head)
    doc_type = given.get("doc_type") or _doc_type(given.get("title") or front or block or law_title or stem, stem, head,
                                                   law_title)
    head = ascii_digits(head)  # years in Thai or Bengali digits
    # a law's own citation beats its cover lines; anyone else's citation is not the document's title
    title = (given.get("title") or front or (law_title if doc_type == "law" else None) or block or stem or "Untitled")

    national = doc_type in NATIONAL_TYPES
    jurisdiction = given.get("jurisdiction") or (_jurisdiction(head) if national else None)
    year, year_to = (given["year"], None) if "year" in given else _years(doc_type, ascii_digits(title), stem, head)
    members = [jurisdiction] if jurisdiction else ([] if national else detect_members(head))

    for name, value in (("jurisdiction", jurisdiction), ("members", members), ("year", year), ("year_to", year_to)):
        if value:
            inferred.append(name)
    root = Path(corpus_root) if corpus_root else None
    rel = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
    return DocumentMeta(
        doc_id=slugify(path.stem or "document", max_len=80),
        path=rel,
        title=title,
        doc_type=doc_type,
        members=members,
        jurisdiction=jurisdiction,
        year=year,
        year_to=year_to,
        language=given.get("language") or detect_language(text or ""),
        status=given.get("status", "unknown"),
        inferred_fields=inferred,
    )


def adopt_source_fields(meta: DocumentMeta, fields: dict[str, Any] | None) -> DocumentMeta:
    """A manifest row's metadata, with the status the file itself gives where the row leaves it unknown."""
    status = fields_meta(fields or {}).get("status")
    if status and meta.status == "unknown":
        meta.status = status
    return meta


def is_undetermined(meta: DocumentMeta) -> bool:
    """Whether the document's language could not be told (it is indexed as ``und``)."""
    return meta.language == UNDETERMINED
