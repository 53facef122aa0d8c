"""Sections of structured provision JSON: one section per provision, under one per chapter, nothing guessed from text.

Ids are ASCII and built from the designations: the chapter's (``PART 2A`` -> ``part-2a``, ``প্রথম অধ্যায়`` ->
``ch-1``) and the provision's (``5AA`` -> ``s-5aa``, ``Madde 60/A`` -> ``art-60-a``, ``ধারা ১৪ক`` -> ``s-14a``).
The designation printed at the head of a provision's content wins over the source's ``section`` field, which
some APIs fill with a running count (the Bangladesh 2013 Act's ``section`` 15 is printed ``১৪ক``). A designation
that repeats (Turkish law restarts its numbering for additional and provisional articles) takes a counter
(``art-1-2``), as in the text splitter. The designation as printed is the section's ``number`` (``Section 5A``,
``Madde 60/A``, ``ধারা ৫``).

A chapter is a container only when it reads as a heading; a fragment of some other text (Law 6458's ``chapter``
fields are mostly shreds of repealed articles: ``ga: 2/7/2018-KHK-703/71 md.)Geçici...``) is ignored. A
provision's ``title`` is its heading unless it is only the opening words of its content (Law 6458 again). Such a
source can still hold the headings, glued to the end of the content before them (Law 6458's ``Madde 97`` ends
"... dört saati geçemez.Taşıyıcıların yükümlülükleri", the heading of Madde 98, sometimes after a chapter's
"DÖRDÜNCÜ BÖLÜM..." too): each is moved to the provision it heads, and the chapter shreds are cut
(``split_glued_heading``). A web page's script scraped into a provision's content is cut (``strip_page_script``). A
repealed stub (``(Mülga: ...)``, ``[Repealed ...]``) is titled ``Repealed (...)`` and has status ``repealed``;
a provision with nothing but its designation is kept with empty text, as a section of kind ``heading``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata

from ingest.provisions import Provision, ProvisionSource
from ingest.schema import DocumentMeta, Section, slugify
from ingest.sections.numerals import CHINESE_NUMERAL, THAI_INSERTED, chinese_int, chinese_suffix, decimal_int, thai_suffix

# provision_ref prefix -> (keyword shown before the number, id prefix); tried in order
_REF_KINDS = (
    ("ek_madde", "Ek Madde", "ek-art"), ("gecici_madde", "Geçici Madde", "gecici-art"), ("madde", "Madde", "art"),
    ("article", "Article", "art"), ("art", "Article", "art"), ("pasal", "Pasal", "pasal"), ("section", "Section", "s"),
    ("sec", "Section", "s"), ("rule", "Rule", "r"), ("reg", "Regulation", "reg"), ("s", "Section", "s"),
)
_KEYWORD_SEG = {"Madde": "art", "Ek Madde": "ek-art", "Geçici Madde": "gecici-art", "ধারা": "s"}
_TR_LETTER = "A-Za-zÇĞİÖŞÜçğıöşü"
# The designation printed at the head of the content: "Madde 60/A -", "[১৪ক।", "5A. —(1)"
_PRINTED = (
    re.compile(rf"^\s*(?P<kw>(?:Ek\s+|Geçici\s+)?Madde)\s+(?P<num>\d+(?:\s*/\s*[{_TR_LETTER}])?)\s*[-–—]"),
    re.compile(r"^\s*\[?\s*(?P<num>[০-৯]+[\u0995-\u09b9]?)\s*।"),
    re.compile(r"^\s*\[?\s*(?P<num>\d{1,4}[A-Z]{0,3})\s*\.(?=[\s—–-])"),
)
# Thai and Chinese designations, whose numbers need their own numerals: "มาตรา ๕ ทวิ" -> s-5-bis,
# "第二百四十条之一" -> art-240-1 (the ids the text splitter gives the same designations)
_THAI_UNIT = re.compile(
    r"^\s*มาตรา\s*(?P<num>[๐-๙0-9]+)(?:\s*(?P<sub>" + "|".join(sorted(THAI_INSERTED, key=len, reverse=True))
    + r"|/\s*[๐-๙0-9]+))?(?![\u0e00-\u0e7f])"
)
_HAN_UNIT = re.compile(rf"^\s*第(?P<num>[{CHINESE_NUMERAL}]+)条(?P<sub>之[一二三四五六七八九十]+)?")
_BENGALI_LETTERS = dict(zip("কখগঘঙচছজঝঞ", "abcdefghij"))
_REPEALED = re.compile(r"^\W*(?:\d+\W+)?[(\[]\s*((?:Mülga|Repealed|Omitted|Deleted|বিলুপ্ত)\b[^)\]]{0,120})[)\]]", re.I)
_STUB_REST = 200  # a repeal marker followed by at most this many characters is a repealed stub

_CONTAINER = re.compile(
    r"^(?P<kw>PART|Part|CHAPTER|Chapter|DIVISION|Division|BAHAGIAN|Bahagian|BAB|Bab|KISIM|Kısım|BÖLÜM|Bölüm)\s+"
    r"(?P<num>\d{1,3}[A-Z]?|[IVXLC]{1,7}[A-Z]?)(?![\w])\s*[-–—:.]?\s*(?P<title>.*)$"
)
_CONTAINER_SEG = {"part": "part", "bahagian": "part", "chapter": "ch", "bab": "bab", "division": "div",
                  "kisim": "kisim", "kısım": "kisim", "bolum": "bolum", "bölüm": "bolum"}
_ORDINALS = {
    "অধ্যায়": ("ch", "প্রথম দ্বিতীয় তৃতীয় চতুর্থ পঞ্চম ষষ্ঠ সপ্তম অষ্টম নবম দশম একাদশ দ্বাদশ ত্রয়োদশ চতুর্দশ পঞ্চদশ"),
    "KISIM": ("kisim", "BİRİNCİ İKİNCİ ÜÇÜNCÜ DÖRDÜNCÜ BEŞİNCİ ALTINCI YEDİNCİ SEKİZİNCİ DOKUZUNCU ONUNCU"),
    "BÖLÜM": ("bolum", "BİRİNCİ İKİNCİ ÜÇÜNCÜ DÖRDÜNCÜ BEŞİNCİ ALTINCI YEDİNCİ SEKİZİNCİ DOKUZUNCU ONUNCU"),
}
_THAI_CONTAINER = re.compile(r"^(?P<kw>บรรพ|ภาค|ลักษณะ|หมวด|ส่วน)\s*(?P<num>[๐-๙0-9]+)\s*(?P<title>.*)$")
_HAN_CONTAINER = re.compile(rf"^第(?P<num>[{CHINESE_NUMERAL}]+)(?P<kw>分编|编|章|节)\s*(?P<title>.*)$")
_NATIVE_SEG = {"บรรพ": "bk", "ภาค": "pt", "ลักษณะ": "title", "หมวด": "ch", "ส่วน": "div",
               "编": "pt", "分编": "subpt", "章": "ch", "节": "sec"}  # as the text splitter names them
_ORDINAL_CONTAINER = re.compile(r"^(?P<ord>\S+)\s+(?P<kw>অধ্যায়|KISIM|BÖLÜM)\s*[-–—:ঃ]?\s*(?P<title>.*)$")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def ascii_number(number: str) -> str:
    """A designation number for an id: digits of any script in ASCII, Bengali letters as a, b, c..., then slugged
    (``60/A`` -> ``60-a``, ``১৪ক`` -> ``14a``, ``5AA`` -> ``5aa``)."""
    out = []
    for ch in _nfc(number):
        if ch.isdigit() and unicodedata.decimal(ch, None) is not None:
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(_BENGALI_LETTERS.get(ch, ch))
    return slugify("".join(out), max_len=40)


def build_provision_sections(doc: DocumentMeta, source: ProvisionSource) -> list[Section]:
    """The sections of a provision JSON document: a container per chapter that reads as a heading, and one
    section per provision, in the source's order."""
    capitalised = _capitalised_words(source)
    openings = titles_are_openings(source)
    provisions = [dataclasses.replace(p, content=strip_page_script(p.content)) for p in source.provisions]
    provisions = _move_glued_headings(provisions) if openings else [(p, False) for p in provisions]
    sections: list[Section] = []
    used: set[str] = set()
    containers: dict[str, Section | None] = {}  # chapter as given -> its section (None: not a heading)
    for provision, recovered in provisions:
        if provision.chapter not in containers:
            head = _container(provision.chapter, capitalised)
            containers[provision.chapter] = None
            if head is not None:
                seg, number, title = head
                container = _section(doc, _unique(seg, used), number, title, "", "chapter", len(sections), None, doc.status)
                container.heading_path = [doc.title, _label(number, title)]
                containers[provision.chapter] = container
                sections.append(container)
        sections.append(_provision_section(doc, provision, containers[provision.chapter], used, len(sections),
                                           openings and not recovered))
    return sections


def _provision_section(doc: DocumentMeta, p: Provision, container: Section | None, used: set[str], ordinal: int,
                       openings: bool) -> Section:
    keyword, seg = _ref_kind(p.ref)
    number, rest = p.section, p.content.strip()
    native = _native_designation(p.content)
    for rx in () if native else _PRINTED:
        m = rx.match(p.content)
        if m:
            number, rest = re.sub(r"\s+", "", m.group("num")), p.content[m.end():].strip()
            kw = " ".join(m.groupdict().get("kw", "").split())
            if kw:
                keyword, seg = kw, _KEYWORD_SEG.get(kw, seg)
            elif re.match(r"[০-৯]", number):
                keyword, seg = "ধারা", "s"
            break
    unit = f"{seg}-{ascii_number(number)}"
    if native:
        display, unit, rest = native
        keyword, number = "", display
    path = f"{container.path}.{unit}" if container else unit
    title, status, attributes = _title(p, rest, openings), "", {}
    text = p.content.strip()
    repealed = _REPEALED.match(rest)
    repealed = repealed if repealed and len(rest) - repealed.end() <= _STUB_REST else None
    if repealed:
        title, status = f"Repealed ({' '.join(repealed.group(1).split()).rstrip(' .;')})", "repealed"
        attributes["repealed"] = repealed.group(1).strip()
    kind = "section"
    if not repealed and not re.search(r"\w{2}", re.sub(r"(?i)\bMADDE\s+\d+\s*[-–—]?", "", rest)):
        text, kind = "", "heading"  # nothing but the designation (a stub such as "Ek Madde 1 - MADDE 1 –")
    display = f"{keyword} {number}".strip()
    section = _section(doc, _unique(path, used), display, title, text, kind, ordinal, container, status)
    section.heading_path = [doc.title, *(container.heading_path[1:] if container else []), _label(display, title)]
    section.attributes = {"provision_ref": p.ref, **attributes} if p.ref else attributes
    return section


def _native_designation(content: str) -> tuple[str, str, str] | None:
    """A Thai or Chinese designation at the head of the content: (as printed, id segment, the rest)."""
    m = _THAI_UNIT.match(content)
    if m:
        unit = f"s-{decimal_int(m.group('num'))}" + (f"-{thai_suffix(m.group('sub').lstrip('/'))[1]}" if m.group("sub") else "")
    else:
        m = _HAN_UNIT.match(content)
        if not m:
            return None
        unit = f"art-{chinese_int(m.group('num'))}" + (f"-{chinese_suffix(m.group('sub'))[1]}" if m.group("sub") else "")
    return " ".join(m.group(0).split()), unit, content[m.end():].strip()


def _section(doc: DocumentMeta, path: str, number: str | None, title: str, text: str, kind: str, ordinal: int,
             parent: Section | None, status: str) -> Section:
    return Section(
        section_id=f"{doc.doc_id}:{path}", doc_id=doc.doc_id, path=path, heading_path=[doc.title], title=title,
        number=number, kind=kind, text=text, ordinal=ordinal, level=2 if parent else 1,
        parent_id=parent.section_id if parent else None, status=status,
    )


def _label(number: str | None, title: str) -> str:
    return " ".join(x for x in (number or "", title) if x)


def _unique(path: str, used: set[str]) -> str:
    candidate, n = path, 2
    while candidate in used:
        candidate = f"{path}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def _ref_kind(ref: str) -> tuple[str, str]:
    key = re.sub(r"[\s-]+", "_", unicodedata.normalize("NFKD", ref).encode("ascii", "ignore").decode().lower())
    for prefix, keyword, seg in _REF_KINDS:
        if re.match(rf"{prefix}_?\d", key):
            return keyword, seg
    return "Section", "s"


def _title(p: Provision, rest: str, openings: bool) -> str:
    """The provision's own heading: its ``title`` without a leading running number (``15. ``); none when the
    source's titles are the opening words of the content (``openings``) and this one is."""
    title = re.sub(r"^\d+[A-Za-z]{0,3}\.\s+", "", p.title).strip()
    return "" if openings and _is_opening(title, rest) else title


def _is_opening(title: str, rest: str) -> bool:
    """Whether ``title`` is the start of ``rest`` (after a paragraph number such as ``(1)``), spacing aside."""
    probe = "".join(title.split())[:30].rstrip(".;:,–-")
    opening = "".join(re.sub(r"^\(\d+\)", "", rest.strip()).split())
    return bool(probe) and (opening.startswith(probe) or "".join(rest.split()).startswith(probe))


_UP, _LO = "A-ZÇĞİÖŞÜ", "a-zçğıöşüâîû"
_FOOTNOTE_TAIL = re.compile(r"(?:\s*\[\d+\])+\s*$")
_DESIGNATION_SHRED = re.compile(rf"(?<=[{_LO}.])[{_UP}]{{2,}}$")  # "...hükümleriGEÇİCİ": the next "GEÇİCİ MADDE 1"
# Where a glued heading can start: after a sentence's end with no space, or at a small letter run into a capital
_GLUE = re.compile(rf"[.;:)…\]](?=[^\s\d.;:)\]])|(?<=[{_LO}’'])(?=[{_UP}])")
_CHAPTER_SHRED = re.compile(rf"(?:\s*\[\d+\])*\s*[{_UP}]+\s*(?:KISIM|BÖLÜM).*$", re.S)
_MAX_HEADING = 90


# The web page's own script, scraped with the last provision's text (Law 6458's Madde 126 ends with 800 characters
# of "$(document).ready(function () {jQuery('table')...")
_PAGE_SCRIPT = re.compile(r"\$\(\s*document\s*\)\s*\.\s*ready\s*\(|<script\b|jQuery\s*\(\s*document\s*\)", re.I)


def strip_page_script(content: str) -> str:
    """The content without a web page's script run in at its end (from the script's first statement on)."""
    m = _PAGE_SCRIPT.search(content)
    return content[: m.start()].rstrip() if m else content


def split_glued_heading(content: str) -> tuple[str, str]:
    """(the content without a heading glued to its end, that heading), or (content, "") when its end reads as
    the provision's own words. A heading is the short run after the last glue point that starts with a capital
    and holds no sentence mark, bracket or digit; a chapter heading run in before it is cut too."""
    content = _DESIGNATION_SHRED.sub("", content.rstrip())
    body = _FOOTNOTE_TAIL.sub("", content)
    cut = None
    for m in _GLUE.finditer(body):
        cut = m.end()
    heading = " ".join(body[cut:].split()) if cut is not None else ""
    if not heading or len(heading) > _MAX_HEADING or not heading[0].isupper() or re.search(r"[.;:()\[\]\d]", heading):
        return content, ""
    kept = body[:cut].rstrip()
    sentence_end = max(kept.rfind("."), kept.rfind(")"))
    shred = _CHAPTER_SHRED.search(kept, sentence_end + 1)
    return (kept[: shred.start()].rstrip() if shred else kept), heading


def _move_glued_headings(provisions: list[Provision]) -> list[tuple[Provision, bool]]:
    """Each provision with the heading found at the end of the one before it, if any (then True: a heading
    that also opens its content, as Madde 5's "Türkiye’ye giriş ve Türkiye’den çıkış" does, stays its heading)."""
    out, heading = [], ""
    for i, p in enumerate(provisions):
        content, next_heading = split_glued_heading(p.content) if i + 1 < len(provisions) else (p.content, "")
        out.append((dataclasses.replace(p, content=content, title=heading or p.title), bool(heading)))
        heading = next_heading
    return out


def titles_are_openings(source: ProvisionSource) -> bool:
    """Whether the source fills ``title`` with each provision's first words rather than a heading (most of its
    titles start their content); a real heading that happens to open its section does not decide it."""
    titled = [p for p in source.provisions if p.title.strip()]
    starts = sum(_is_opening(re.sub(r"^\d+[A-Za-z]{0,3}\.\s+", "", p.title), _after_designation(p)) for p in titled)
    return bool(titled) and starts > len(titled) / 2


def _after_designation(p: Provision) -> str:
    for rx in _PRINTED:
        m = rx.match(p.content)
        if m:
            return p.content[m.end():].strip()
    return p.content.strip()


def _container(chapter: str, capitalised: set[str]) -> tuple[str, str, str] | None:
    """A chapter value as (id segment, designation, title), or None when it does not read as a heading."""
    chapter = " ".join(_nfc(chapter).split())
    if not chapter or len(chapter) > 160 or re.search(r"(?i)\bMADDE\s+\d", chapter) or chapter[0].islower():
        return None
    if not (chapter[0].isupper() or not chapter[0].isascii()):
        return None
    m = _CONTAINER.match(chapter)
    if m:
        kw = m.group("kw")
        seg = _CONTAINER_SEG[kw.lower()]
        return f"{seg}-{ascii_number(m.group('num'))}", f"{kw.capitalize()} {m.group('num')}", _clean_title(m.group("title"), capitalised)
    for rx, number in ((_THAI_CONTAINER, decimal_int), (_HAN_CONTAINER, chinese_int)):
        m = rx.match(chapter)
        if m:
            designation = chapter[: m.start("title")].strip()
            return f"{_NATIVE_SEG[m.group('kw')]}-{number(m.group('num'))}", designation, m.group("title").strip()
    m = _ORDINAL_CONTAINER.match(chapter)
    if m:
        seg, ordinals = _ORDINALS[_nfc(m.group("kw"))]
        words = [_nfc(w) for w in ordinals.split()]
        if _nfc(m.group("ord")) in words:
            n = words.index(_nfc(m.group("ord"))) + 1
            return f"{seg}-{n}", f"{m.group('ord')} {m.group('kw')}", _clean_title(m.group("title"), capitalised)
    slug = slugify(chapter, max_len=40)
    if slug == "x":  # an unnumbered name without Latin letters: a short stable ASCII name from its text
        slug = f"ch-{hashlib.sha1(chapter.encode()).hexdigest()[:8]}"
    return slug, "", chapter


def _clean_title(title: str, capitalised: set[str]) -> str:
    title = re.sub(r"^\d+\s*\[(.*?)\]?$", r"\1", title.strip()).strip(" []")  # a footnote mark: "5 [Title]"
    letters = [c for c in title if c.isalpha() and c.isascii()]
    if len(letters) > 3 and all(c.isupper() for c in letters):
        words = title.lower().split()
        words = [w.capitalize() if w.capitalize() in capitalised else w for w in words]
        title = " ".join(words)
        title = title[:1].upper() + title[1:]
    return title


def _capitalised_words(source: ProvisionSource) -> set[str]:
    """Words the document writes capitalised and never in lower case (names: "Singapore"), for sentence-casing
    ALL-CAPS chapter titles."""
    text = " ".join(p.content for p in source.provisions[:400])
    caps = set(re.findall(r"(?<=[a-z,;] )[A-Z][a-z]+", text))
    lower = set(re.findall(r"\b[a-z]+\b", text))
    return {w for w in caps if w.lower() not in lower}
