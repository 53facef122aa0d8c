"""Members, priority areas and document metadata: detection in text, and inference (the vocabularies themselves
live in ``ingest.vocabularies``).

Members are matched on their names and aliases as whole words, across line breaks. A name never counts when
written all in lower case ("turkey", "china", "jordan" are words before they are countries), and short codes
("ROK", "PNG", "UAE", "IOM", "U.S.") count only in upper case, so "us" or "png" in running text never do.
Adjectives and demonyms ("Malaysian", "Sri Lankan", "Filipino") are not mentions: they describe people, laws
or missions, they do not name a member, and counting them would tag every section of a national law.

Priority areas use one taxonomy (``ingest.vocabularies.PRIORITY_AREAS``) for the 2018 Strategy for Cooperation and the
2023 Adelaide Strategy. A section's area is ``stated`` when the document itself says so (a heading that is an
area name, or a work plan's priority-area column) and ``inferred`` otherwise, from a small cue lexicon, with
the matched cues kept as evidence.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.errors import UnknownFilterValueError
from ingest.schema import AreaTag, DocumentMeta, Section, slugify
from ingest.vocabularies import MEMBERS, areas_named_in, canonical_member, lookup_area, lookup_member, parse_period

# Bump when a change here alters what is inferred for a document or a section (members, areas, title, type,
# jurisdiction, years, language): the ingest fingerprint includes it, so every document is then re-annotated.
METADATA_VERSION = 1

# ---------------------------------------------------------------------------------------------------------
# Members


def _name_pattern(alias: str) -> str:
    # Spaces (and hyphens) inside a name may be line breaks in extracted text; apostrophes come in two styles.
    words = []
    for word in alias.split():
        parts = [re.escape(p).replace("'", "['’]") for p in word.split("-")]
        words.append(r"-\s*".join(parts))
    return r"\s+".join(words)


def _build_member_regexes() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    names = sorted({a for m in MEMBERS.values() for a in (m.name, *m.aliases) if a not in m.codes}, key=len, reverse=True)
    codes = {c: m.name for m in MEMBERS.values() for c in m.codes}
    # Not inside a word or a hyphenated compound; "Sri Lankan" is not "Sri Lanka", "Australia's" is.
    names_re = re.compile(r"(?<![\w-])(" + "|".join(map(_name_pattern, names)) + r")(?![\w-])", re.IGNORECASE)
    # Codes: upper case, whole tokens; "U.S." must not run into more letters ("U.S.C." is not "U.S.").
    codes_re = re.compile(r"(?<![\w.])(" + "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True)) + r")(?![\w])")
    return names_re, codes_re, codes


_NAMES_RE, _CODES_RE, _CODE_MAP = _build_member_regexes()


def detect_members(text: str) -> list[str]:
    """Canonical members and jurisdictions named in ``text``, in order of first mention, without repeats."""
    if not text:
        return []
    found: list[tuple[int, str]] = []
    for m in _NAMES_RE.finditer(text):
        matched = m.group(1)
        if matched.islower():  # "china", "turkey": ordinary words
            continue
        name = lookup_member(matched)
        if name:
            found.append((m.start(), name))
    for m in _CODES_RE.finditer(text):
        code = m.group(1)
        if code == "US" and not _us_is_the_country(text, m.start()):
            continue
        found.append((m.start(), _CODE_MAP[code]))
    found.sort()
    return list(dict.fromkeys(name for _, name in found))


def _us_is_the_country(text: str, pos: int) -> bool:
    # "US" in capitals is the country unless its line is shouted upper case ("LET US PROCEED").
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    letters = [c for c in text[start : end if end >= 0 else len(text)] if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) < 0.6


# ---------------------------------------------------------------------------------------------------------
# Priority areas: names

def stated_area_from_heading(heading: str) -> str | None:
    """The area a heading names as a whole ("(4) Border management" -> "border_management"), else None."""
    return lookup_area(heading)


# ---------------------------------------------------------------------------------------------------------
# Priority areas: inference

# Cue lexicon per area: (pattern, weight). Weight 2 is a specific multi-word cue that is evidence alone;
# weight 1 needs the company of another distinct cue. Patterns are whole words; English plus the main
# Malay (ms) and Indonesian (id) legal terms, since some laws are in those languages.
_CUES: dict[str, list[tuple[str, int]]] = {
    "law_enforcement": [
        (r"law enforcement|penegakan hukum|penguatkuasaan|pegawai penguat ?kuasa", 2),
        (r"mutual legal assistance|extradit\w*|joint operations?", 2),
        (r"disrupt\w* (?:and dismantl\w* )?(?:smuggling|trafficking|criminal)\w*", 2),
        (r"prosecut\w*|pendakwaan|penuntutan", 1), (r"investigat\w*|penyiasatan|penyidikan", 1),
        (r"criminali[sz]\w*", 1), (r"offen[cs]es?|kesalahan|tindak pidana", 1),
        (r"imprison\w*|penjara", 1), (r"penalt(?:y|ies)|fined?|denda", 1), (r"convict\w*", 1), (r"police|polis|polisi", 1),
        (r"money laundering|proceeds of crime|confiscat\w*|forfeit\w*", 1),
    ],
    "stakeholder_engagement": [
        (r"private sector|sektor swasta|dunia usaha", 2), (r"civil society", 2), (r"supply chains?", 2),
        (r"non-governmental organi[sz]ations?|NGOs?|lembaga swadaya masyarakat|organisasi bukan kerajaan", 2),
        (r"Government and Business Forum|ethical recruitment", 2), (r"business(?:es)?|industry", 1), (r"outreach", 1),
    ],
    "information_sharing": [
        (r"information[- ]sharing|shar(?:e|ing) (?:of )?information|exchange (?:of )?information", 2),
        (r"pertukaran (?:maklumat|informasi)|berbagi informasi", 2),
        (r"public information|information campaigns?|awareness[- ]raising|raise awareness", 2),
        (r"awareness|kesedaran|kesadaran|sosialisasi", 1), (r"campaigns?|kempen|kampanye", 1),
        (r"data|statistics|research", 1),
    ],
    "border_management": [
        (r"border (?:control|management|officials?|officers?|security|induction)", 2), (r"biometrics?", 2),
        (r"ports? of entry|checkpoints?|travel (?:or identity )?documents?|dokumen perjalanan", 2),
        (r"borders?|sempadan|perbatasan", 1), (r"passports?|pasport|paspor|visas?", 1),
        (r"immigration|imigresen|imigrasi", 1), (r"frontline", 1),
    ],
    "irregular_migration": [
        (r"irregular (?:migration|migrants?|movements?|maritime)", 2),
        (r"smuggling of migrants|migrant smuggling|people smuggling|smuggled migrants?", 2),
        (r"penyeludupan migran|penyelundupan migran|penyelundupan manusia", 2), (r"mixed (?:migration )?flows", 2),
        (r"smuggl\w*|penyeludup\w*|penyelundup\w*", 1), (r"by sea|at sea|vessels?|maritime", 1),
        (r"transnational (?:organi[sz]ed )?crime", 1),
    ],
    "victim_protection": [
        (r"non-punishment|victim[- ]cent(?:red|ered)|identification of victims|identify(?:ing)? victims", 2),
        (r"witness(?:es)? protection|protection of (?:the )?(?:victims|witnesses)|rumah perlindungan", 2),
        (r"perlindungan saksi|penanganan korban|perlindungan korban|pelindungan korban", 2),
        (r"victims?|mangsa|korban", 1), (r"protection|perlindungan|pelindungan", 1), (r"shelters?", 1),
        (r"assistance", 1), (r"rehabilitat\w*|rehabilitasi|recovery|pemulihan|counsell?ing", 1),
        (r"compensation|restitution|restitusi|reparation", 1),
    ],
    "returns_reintegration": [
        (r"repatriat\w*|reintegrat\w*|reintegrasi|readmission", 2), (r"voluntary returns?", 2),
        (r"pemulangan|penghantaran pulang|dipulangkan", 2), (r"returns?|returned", 1), (r"deport\w*", 1),
    ],
    "coordination_support": [
        (r"Regional Support Office|RSO", 2), (r"coordinat\w*|koordinasi|penyelarasan", 1),
        (r"second(?:ing|ment)", 1), (r"capacity[- ]building|build(?:ing)? (?:member )?capacity", 1),
        (r"focal points?", 1), (r"task ?force|gugus tugas", 1),
    ],
}
_CUE_RES = {
    area: [(re.compile(r"(?<!\w)(?:" + p + r")(?!\w)", re.IGNORECASE), w) for p, w in cues] for area, cues in _CUES.items()
}
INFERENCE_THRESHOLD = 2  # summed weights of distinct cues: one strong cue, or two weak ones

# Names of the forum and its bodies that contain cue words but say nothing about a section's topic.
_NOT_EVIDENCE = re.compile(
    r"(?:on\s+)?People\s+Smuggling,?\s+Trafficking\s+in\s+Persons,?\s+and\s+Related\s+Transnational\s+Crime"
    r"|Working\s+Group\s+on\s+[A-Z][\w ]*?Trafficking\s+in\s+Persons",
    re.IGNORECASE,
)


def infer_areas(text: str) -> list[AreaTag]:
    """Areas the text is about, from cue evidence; each tag's ``evidence`` lists the matched cues.

    An area is inferred when its distinct cues weigh at least ``INFERENCE_THRESHOLD``: one specific
    multi-word cue ("border officials", "non-punishment") or two general ones ("offence", "imprisonment").
    """
    if not text or not text.strip():
        return []
    text = _NOT_EVIDENCE.sub(" ", text)
    tags = []
    for area, cues in _CUE_RES.items():
        hits: dict[str, None] = {}
        score = 0
        for rx, weight in cues:
            m = rx.search(text)
            if m:
                hits[" ".join(m.group(0).split()).lower()] = None
                score += weight
        if score >= INFERENCE_THRESHOLD:
            tags.append(AreaTag(area, "inferred", "; ".join(hits)))
    return tags


def annotate_sections(doc: DocumentMeta, sections: list[Section]) -> None:
    """Fill each section's ``members`` and ``priority_areas`` in place.

    Members are those named in the section's headings, text and table cells (e.g. a work plan's lead),
    after the document's jurisdiction for a national law. Areas are ``stated`` by a priority-area column
    or an area-name heading, else ``inferred`` from cues; an area is never both.
    """
    jurisdiction = _canonical_or_none(doc.jurisdiction) if doc.doc_type == "law" else None
    for s in sections:
        headings = [h for h in s.heading_path if h and h != doc.title]
        cells = [v for k, v in s.attributes.items() if k != "priority_area" and v]
        text = "\n".join([*headings, s.text, *cells])
        members = detect_members(text)
        s.members = list(dict.fromkeys([jurisdiction, *members] if jurisdiction else members))

        stated: dict[str, str] = {}
        column = s.attributes.get("priority_area", "")
        for area in areas_named_in(column) if column else []:
            stated.setdefault(area, f"table column 'Priority Area': {' '.join(column.split())}")
        for heading in headings:
            area = stated_area_from_heading(heading)
            if area:
                stated.setdefault(area, f"heading '{' '.join(heading.split())}'")
        tags = [AreaTag(a, "stated", evidence) for a, evidence in stated.items()]
        s.priority_areas = tags + [t for t in infer_areas(text) if t.area not in stated]


def _canonical_or_none(name: str | None) -> str | None:
    try:
        return canonical_member(name) if name else None
    except UnknownFilterValueError:
        return None


# ---------------------------------------------------------------------------------------------------------
# Documents without a manifest entry

HEAD_CHARS = 6000  # the "first pages" that document-level inference reads

# Stop words per language. Malay and Indonesian share most function words; a few words tell them apart.
_EN = frozenset("the of and to in shall be or any by for is this that with which under such as".split())
_MALAY_FAMILY = frozenset("dan yang di dalam untuk ini dengan atau oleh bagi pada kepada orang tidak".split())
_MS_ONLY = frozenset("akta seksyen subseksyen hendaklah bolehlah pindaan kerajaan daripada berkenaan sesuatu jadual".split())
_ID_ONLY = frozenset("pasal ayat tentang huruf pemerintah tersebut sebagaimana dimaksud bahwa nomor".split())
# Only to recognise "not en/ms/id" (e.g. the Dutch titles of the UN protocols' bilingual source).
_OTHER = frozenset("de het van een voor les des du et la le der die und das el los las que".split())


def detect_language(text: str) -> str:
    """"en", "ms", "id" or "other" by a stop-word vote; "en" for text without words."""
    words = re.findall(r"[^\W\d_]+", text[:20000].lower())
    if not words:
        return "en"
    en = sum(w in _EN for w in words)
    ms, id_ = sum(w in _MS_ONLY for w in words), sum(w in _ID_ONLY for w in words)
    malay = sum(w in _MALAY_FAMILY for w in words) + ms + id_
    other = sum(w in _OTHER for w in words)
    best = max(en, malay, other)
    if best == 0 or best < 0.03 * len(words) or best == other:
        return "other"
    if best == en:
        return "en"
    return "id" if id_ > ms else "ms"


# Law-making bodies and official names that settle a law's jurisdiction (tried in order).
_JURISDICTION_CUES = [
    (r"Democratic Socialist Republic of Sri Lanka|Parliament of Sri Lanka", "Sri Lanka"),
    (r"Republic of the Philippines|Congress of the Philippines|Republic Act No", "Philippines"),
    (r"Parliament of Malaysia|Parlimen Malaysia|Dewan Rakyat|\bD\.\s?R\.\s?\d+/\d{4}", "Malaysia"),
    (r"Republik Indonesia|Peraturan Daerah|Undang-Undang Nomor|Lembaran Negara", "Indonesia"),
    (r"\bU\.\s?S\.\s?C\.|United States Code|Congress of the United States|\bPub(?:lic|\.) L(?:aw|\.) No", "United States"),
    (r"Gazette of Pakistan|Majlis-e-Shoora|Islamic Republic of Pakistan", "Pakistan"),
]
_JURISDICTION_RES = [(re.compile(p, re.IGNORECASE), name) for p, name in _JURISDICTION_CUES]
_ENACTING_BODY = re.compile(
    r"\b(?:Parliament|Congress|Parlimen|Government|Gazette|Kingdom|Commonwealth|Republic|Republik|State)\s+of\s+"
    r"((?:the\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,5})",
    re.IGNORECASE,
)

_LAW_TITLE = re.compile(r"\b(?:Act|Bill|Code|Ordinance|Decree|Statute|Akta|Undang-Undang|Peraturan|Perpu|Qanun)\b", re.I)
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
    ("protocol", re.compile(r"\b(?:protocol|convention)\b", re.I)),
    ("factsheet", re.compile(r"\bfact ?sheet\b", re.I)),
    ("policy_guide", re.compile(r"\b(?:policy guide|guidelines|handbook|toolkit)\b", re.I)),
    ("report", re.compile(r"\breport\b", re.I)),
]

_YEAR = r"(?:19[5-9]\d|20\d\d)"
_LAW_YEAR = re.compile(
    rf"\bNo\.?\s*\d+\s+of\s+({_YEAR})\b|\bTAHUN\s+({_YEAR})\b|\b(?:Act|Bill|Akta)\s+(?:of\s+)?({_YEAR})\b|\bD\.\s?R\.\s?\d+/({_YEAR})\b"
    rf"|\b(?:Act|Bill|Akta)\b[^\n.]{{0,40}}?\)\s+({_YEAR})\b",
    re.IGNORECASE,
)
_ANY_YEAR = re.compile(rf"(?<!\d)({_YEAR})(?!\d)")
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
        if len(line) > limit or (len(line) > 40 and _BODY_VERB.search(line)) or _PROVISION.match(line):
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
    m = _ID_TITLE.search(flat)
    if m:
        return _shorten(m.group(1))
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


def _doc_type(title: str, stem: str, head: str) -> str:
    named = f"{title}\n{stem}"
    if _LAW_TITLE.search(title) or _LAW_HEAD.search(head[:3000]):
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


def infer_document_meta(path: Path, text: str, corpus_root: Path | None = None) -> DocumentMeta:
    """Metadata for a file with no manifest entry, inferred from its name and first pages.

    Never raises on odd text: empty text gives the file-name title, ``doc_type`` "other", language "en".

    :param path: the file; its stem gives ``doc_id`` and is a fallback for title, type and year.
    :param text: the extracted text (only the first ``HEAD_CHARS`` characters are read).
    :param corpus_root: when given and ``path`` is under it, ``path`` is stored relative to it.
    :returns: the metadata, with ``inferred_fields`` naming every field that was inferred.
    """
    path = Path(path)
    head = (text or "")[:HEAD_CHARS]
    stem = re.sub(r"[_\s]+", " ", path.stem).strip()
    inferred = ["doc_id", "title", "doc_type", "language"]

    front, block, law_title = _front_matter_title(head), _title_block(head), _law_title(head)
    doc_type = _doc_type(front or block or law_title or stem, stem, head)
    # a law's own citation beats its cover lines; anyone else's citation is not the document's title
    title = (front or (law_title if doc_type == "law" else None) or block or stem or "Untitled")

    jurisdiction = _jurisdiction(head) if doc_type == "law" else None
    year = year_to = None
    if doc_type == "law":
        m = _LAW_YEAR.search(" ".join(f"{title}\n{head}".split()))
        found = next((g for g in m.groups() if g), None) if m else None
        m2 = _ANY_YEAR.search(f"{title} {stem}") or _ANY_YEAR.search(head)
        year = int(found) if found else (int(m2.group(1)) if m2 else None)
    else:
        span = _period(f"{title} {stem}")
        if span:
            year, year_to = span
        else:  # a non-law's body years are events it reports, not its own date
            m = _ANY_YEAR.search(f"{title} {stem}")
            year = int(m.group(1)) if m else None
    members = [jurisdiction] if jurisdiction else ([] if doc_type == "law" else detect_members(head))

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
        language=detect_language(head),
        inferred_fields=inferred,
    )
