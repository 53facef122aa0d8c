"""Members, priority areas and document metadata: vocabularies, detection in text, and inference.

Members are matched on their names and aliases as whole words; short upper-case aliases ("ROK", "PNG",
"UAE", "IOM", "U.S.") only in upper case, so "us" or "png" in running text never count. Adjectives
("Malaysian") are not mentions: they describe, they do not name a member.

Priority areas use one taxonomy (``schema.PRIORITY_AREAS``) for the 2018 Strategy for Cooperation and
the 2023 Adelaide Strategy. A section's area is ``stated`` when the document itself says so (a heading
that is an area name, or a table's priority-area column) and ``inferred`` otherwise, from a small cue
lexicon, with the matched cues kept as evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import UnknownFilterValueError
from ingest.manifest import parse_period
from ingest.schema import PRIORITY_AREAS, AreaTag, DocumentMeta, Section, slugify


@dataclass(frozen=True)
class Member:
    name: str
    kind: str  # "state" | "organisation" | "other"
    aliases: tuple[str, ...] = ()  # matched case-insensitively
    codes: tuple[str, ...] = ()  # matched only in upper case, as whole tokens
    bali_process_member: bool = True


def _m(name, kind="state", aliases=(), codes=(), member=True) -> Member:
    return Member(name, kind, tuple(aliases), tuple(codes), member)


_MEMBER_LIST = [
    _m("Afghanistan"),
    _m("Australia"),
    _m("Bangladesh"),
    _m("Bhutan"),
    _m("Brunei Darussalam", aliases=("Brunei",)),
    _m("Cambodia"),
    _m("China", aliases=("People's Republic of China", "People’s Republic of China"), codes=("PRC",)),
    _m("DPR Korea", aliases=("Democratic People's Republic of Korea", "Democratic People’s Republic of Korea", "North Korea"), codes=("DPRK",)),
    _m("Fiji"),
    _m("France"),
    _m("Hong Kong SAR", aliases=("Hong Kong", "Hong Kong, China")),
    _m("India"),
    _m("Indonesia", aliases=("Republik Indonesia", "Republic of Indonesia")),
    _m("Iran", aliases=("Islamic Republic of Iran",)),
    _m("Iraq"),
    _m("Japan"),
    _m("Jordan"),
    _m("Kiribati"),
    _m("Lao PDR", aliases=("Lao People's Democratic Republic", "Lao People’s Democratic Republic", "Laos")),
    _m("Macau SAR", aliases=("Macau", "Macao", "Macao SAR")),
    _m("Malaysia"),
    _m("Maldives"),
    _m("Mongolia"),
    _m("Myanmar", aliases=("Burma",)),
    _m("Nauru"),
    _m("Nepal"),
    _m("New Zealand"),
    _m("Pakistan"),
    _m("Palau"),
    _m("Papua New Guinea", codes=("PNG",)),
    _m("Philippines", aliases=("Republic of the Philippines",)),
    _m("Republic of Korea", aliases=("South Korea", "Korea, Republic of"), codes=("ROK",)),
    _m("Samoa"),
    _m("Singapore"),
    _m("Solomon Islands"),
    _m("Sri Lanka", aliases=("Democratic Socialist Republic of Sri Lanka",)),
    _m("Syria", aliases=("Syrian Arab Republic",)),
    _m("Thailand"),
    _m("Timor-Leste", aliases=("East Timor", "Timor Leste")),
    _m("Tonga"),
    _m("Türkiye", aliases=("Turkiye", "Turkey")),
    _m("United Arab Emirates", codes=("UAE",)),
    _m("United States", aliases=("United States of America",), codes=("USA", "U.S.", "U.S.A.", "US")),
    _m("Vanuatu"),
    _m("Viet Nam", aliases=("Vietnam",)),
    _m("IOM", "organisation", aliases=("International Organization for Migration", "International Organisation for Migration"), codes=("IOM",)),
    _m("UNHCR", "organisation", aliases=("United Nations High Commissioner for Refugees", "Office of the United Nations High Commissioner for Refugees"), codes=("UNHCR",)),
    _m("UNODC", "organisation", aliases=("United Nations Office on Drugs and Crime", "UN Office on Drugs and Crime"), codes=("UNODC",)),
    _m("ILO", "organisation", aliases=("International Labour Organization", "International Labour Organisation"), codes=("ILO",)),
    # Jurisdictions of laws users may add that are not Bali Process members.
    _m("United Kingdom", "other", aliases=("Great Britain",), codes=("UK",), member=False),
    _m("Canada", "other", member=False),
]

MEMBERS: dict[str, Member] = {m.name: m for m in _MEMBER_LIST}

# Lookup for canonical_member: every name, alias and code, normalised.
_NORM = re.compile(r"[^a-z0-9]+")


def _norm(text: str) -> str:
    return _NORM.sub(" ", text.lower().replace("’", "'")).strip()


_MEMBER_LOOKUP: dict[str, str] = {}
for _mem in _MEMBER_LIST:
    for _alias in (_mem.name, *_mem.aliases, *_mem.codes):
        _MEMBER_LOOKUP[_norm(_alias)] = _mem.name
_MEMBER_LOOKUP.update({_norm(k): v for k, v in {
    "Korea": "Republic of Korea", "Vietnam": "Viet Nam", "Laos": "Lao PDR", "USA": "United States",
    "United States of America": "United States", "UN (international)": "United States",
}.items() if k != "UN (international)"})


def canonical_member(name: str) -> str:
    """The canonical name of a member or jurisdiction; unknown names raise ``UnknownFilterValueError``."""
    key = _norm(name or "")
    # manifest conventions such as "Indonesia (sub-national: DI Yogyakarta)" or "Australia (co-chairs)"
    if key not in _MEMBER_LOOKUP and "(" in (name or ""):
        key = _norm(name.split("(")[0])
    if key in _MEMBER_LOOKUP:
        return _MEMBER_LOOKUP[key]
    raise UnknownFilterValueError("member", name, sorted(MEMBERS))


def _alias_pattern(alias: str) -> str:
    # spaces in names may be line breaks in extracted text
    return r"\s+".join(re.escape(part) for part in alias.split())


def _build_member_regex() -> tuple[re.Pattern, re.Pattern, dict[str, str], dict[str, str]]:
    ci, cs = {}, {}
    for m in _MEMBER_LIST:
        for alias in (m.name, *m.aliases):
            if alias.isupper() and len(alias) <= 6:
                cs[alias] = m.name
            else:
                ci[_norm(alias)] = m.name
        for code in m.codes:
            cs[code] = m.name
    ci_alts = sorted({a for m in _MEMBER_LIST for a in (m.name, *m.aliases) if not (a.isupper() and len(a) <= 6)}, key=len, reverse=True)
    cs_alts = sorted(cs, key=len, reverse=True)
    ci_re = re.compile(r"(?<![\w-])(" + "|".join(_alias_pattern(a) for a in ci_alts) + r")(?![\w-]|'s\w)", re.IGNORECASE)
    # Codes: upper case, whole tokens; "U.S." must not run into more letters.
    cs_re = re.compile(r"(?<![\w.])(" + "|".join(re.escape(a) for a in cs_alts) + r")(?![\w])")
    return ci_re, cs_re, ci, cs


_CI_RE, _CS_RE, _CI_MAP, _CS_MAP = _build_member_regex()


def detect_members(text: str) -> list[str]:
    """Canonical members and jurisdictions named in ``text``, in order of first mention, without repeats."""
    if not text:
        return []
    found: list[tuple[int, str]] = []
    for m in _CI_RE.finditer(text):
        name = _CI_MAP.get(_norm(m.group(1)))
        if name:
            found.append((m.start(), name))
    for m in _CS_RE.finditer(text):
        code = m.group(1)
        if code == "US" and not _looks_like_us_country(text, m.start()):
            continue
        found.append((m.start(), _CS_MAP[code]))
    found.sort()
    return list(dict.fromkeys(name for _, name in found))


def _looks_like_us_country(text: str, pos: int) -> bool:
    # "US" in capitals is the country unless the whole surrounding line is shouted upper case ("LET US").
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    letters = [c for c in line if c.isalpha()]
    return not letters or sum(c.isupper() for c in letters) / len(letters) < 0.6


# ---------------------------------------------------------------------------------------------------------
# Priority areas

_AREA_NAMES: dict[str, tuple[str, ...]] = {
    "law_enforcement": ("law enforcement", "law enforcement and judicial cooperation"),
    "stakeholder_engagement": ("stakeholder engagement",),
    "information_sharing": ("information sharing", "information sharing and public information campaigns", "public information campaigns"),
    "border_management": ("border management",),
    "irregular_migration": ("irregular migration", "irregular migration and related transnational crime"),
    "victim_protection": ("victim protection and migration management", "victim protection", "protection of victims"),
    "returns_reintegration": ("returns and reintegration", "return and reintegration"),
    "coordination_support": ("coordination and support", "coordination", "regional coordination"),
}


def _area_key(text: str) -> str:
    text = re.sub(r"^\s*\(?\d+[.)]\s*", "", text)  # "(4) Border management" -> "Border management"
    return _norm(text.replace("&", " and "))


_AREA_LOOKUP = {_area_key(n): a for a, names in _AREA_NAMES.items() for n in names}
_AREA_LOOKUP.update({_area_key(a): a for a in PRIORITY_AREAS})
_AREA_LOOKUP.update({_area_key(label): a for a, label in PRIORITY_AREAS.items()})


def canonical_area(name: str) -> str:
    """Area id for an id, a label, or either strategy's name; unknown raises ``UnknownFilterValueError``."""
    key = _area_key(name or "")
    if key in _AREA_LOOKUP:
        return _AREA_LOOKUP[key]
    raise UnknownFilterValueError("priority_area", name, list(PRIORITY_AREAS))


def stated_area_from_heading(heading: str) -> str | None:
    """The area a heading names ("(4) Border management" -> "border_management"), else None."""
    return _AREA_LOOKUP.get(_area_key(heading or ""))


# Cue lexicon: (regex, weight). Weight 2 = a strong multi-word cue that suffices alone; 1 = needs company.
_CUES: dict[str, list[tuple[str, int]]] = {
    "law_enforcement": [
        (r"law enforcement", 2), (r"prosecut\w*", 1), (r"investigat\w*", 1), (r"criminali[sz]\w*", 1),
        (r"offence|offense", 1), (r"imprisonment|penjara", 1), (r"penalt\w*|fine not exceeding", 1),
        (r"convict\w*", 1), (r"police|polis", 1), (r"disrupt\w* (?:and dismantl\w* )?(?:smuggling|trafficking|criminal)", 2),
        (r"mutual legal assistance|extradit\w*", 2), (r"money laundering|proceeds of crime|confiscat\w*|forfeit\w*", 1),
        (r"kesalahan|dihukum|pidana", 1),
    ],
    "stakeholder_engagement": [
        (r"private sector", 2), (r"civil society", 2), (r"supply chains?", 2), (r"business(?:es)?", 1),
        (r"non-governmental organi[sz]ations?|NGOs?\b", 2), (r"Government and Business Forum", 2), (r"ethical recruitment", 2),
    ],
    "information_sharing": [
        (r"information[- ]sharing|share information|sharing of information|exchange of information|exchange information", 2),
        (r"awareness", 1), (r"campaigns?", 1), (r"data|statistics", 1), (r"research", 1), (r"public information", 2),
    ],
    "border_management": [
        (r"border (?:control|management|officials?|officers?|security)", 2), (r"borders?", 1), (r"biometric\w*", 2),
        (r"travel (?:or identity )?documents?|identity documents?|passports?", 1), (r"immigration", 1),
        (r"visa", 1), (r"frontline", 1), (r"ports? of entry|checkpoints?", 2), (r"sempadan|imigresen", 1),
    ],
    "irregular_migration": [
        (r"irregular (?:migration|migrants?|movement|maritime)", 2), (r"smuggling of migrants|migrant smuggling|people smuggling|smuggled migrants?", 2),
        (r"smuggl\w*", 1), (r"mixed (?:migration )?flows", 2), (r"by sea|at sea|vessels?|maritime", 1), (r"penyeludupan", 2),
        (r"transnational (?:organi[sz]ed )?crime", 1),
    ],
    "victim_protection": [
        (r"victims?", 1), (r"protection", 1), (r"shelters?", 1), (r"assistance", 1), (r"non-punishment", 2),
        (r"victim[- ]centred|victim[- ]centered", 2), (r"identification of victims|identify(?:ing)? victims", 2),
        (r"witness(?:es)? protection|protection of (?:victims|witnesses)", 2), (r"mangsa|korban|perlindungan", 1),
        (r"rehabilitat\w*|recovery|counsel+ing", 1), (r"compensation|restitution|reparation", 1),
    ],
    "returns_reintegration": [
        (r"repatriat\w*", 2), (r"reintegrat\w*", 2), (r"voluntary return|return of (?:victims|smuggled|trafficked)", 2),
        (r"returns?\b|returned", 1), (r"readmission|pemulangan|penghantaran pulang", 2),
    ],
    "coordination_support": [
        (r"Regional Support Office|\bRSO\b", 2), (r"coordinat\w*", 1), (r"second(?:ing|ment)", 1),
        (r"capacity[- ]building|build(?:ing)? (?:member )?capacity", 1), (r"focal point", 1), (r"working groups?", 1),
        (r"Ad Hoc Group|Steering Group|co-chairs", 1),
    ],
}
_CUE_RES = {a: [(re.compile(r"(?<!\w)(?:" + p + r")", re.IGNORECASE), w) for p, w in cues] for a, cues in _CUES.items()}
INFERENCE_THRESHOLD = 3  # summed weights over distinct cues


def infer_areas(text: str) -> list[AreaTag]:
    """Areas the text is about, by cue evidence; each tag's evidence lists the matched cues."""
    if not text or not text.strip():
        return []
    tags = []
    for area, cues in _CUE_RES.items():
        hits: list[str] = []
        score = 0
        for rx, weight in cues:
            m = rx.search(text)
            if m:
                hits.append(" ".join(m.group(0).split()).lower())
                score += weight
        if score >= INFERENCE_THRESHOLD:
            tags.append(AreaTag(area, "inferred", "; ".join(dict.fromkeys(hits))))
    return tags


def annotate_sections(doc: DocumentMeta, sections: list[Section]) -> None:
    """Fill each section's ``members`` and ``priority_areas`` in place."""
    for s in sections:
        text = "\n".join([*s.heading_path[1:], s.text, *s.attributes.values()])
        members = detect_members(text)
        if doc.doc_type == "law" and doc.jurisdiction:
            members = [doc.jurisdiction, *members]
        s.members = list(dict.fromkeys(members))

        stated: dict[str, str] = {}
        column = s.attributes.get("priority_area") or s.attributes.get("priority area")
        if column:
            for part in re.split(r"\s*(?:;|\n|/)\s*", column):
                area = stated_area_from_heading(part) if part else None
                if area:
                    stated.setdefault(area, f"table column 'Priority Area': {part.strip()}")
        for heading in s.heading_path[1:]:
            area = stated_area_from_heading(heading)
            if area:
                stated.setdefault(area, f"heading '{heading.strip()}'")
        tags = [AreaTag(a, "stated", ev) for a, ev in stated.items()]
        tags += [t for t in infer_areas(text) if t.area not in stated]
        s.priority_areas = tags


# ---------------------------------------------------------------------------------------------------------
# Documents without a manifest entry

_LANG_WORDS = {
    "en": set("the of and to in shall be or any by for is this that with person act which under".split()),
    "ms": set("dan yang di dalam untuk ini dengan atau mana akta seksyen oleh hendaklah orang bagi".split()),
    "id": set("dan yang di dalam untuk ini dengan atau pasal ayat tentang adalah pada dari daerah huruf".split()),
}
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_PERIOD = re.compile(r"\b(?:19|20)\d\d\s*[-–]\s*(?:19|20)?\d\d\b")
_JURISDICTION_CUES = [
    (re.compile(r"Democratic Socialist Republic of\s+Sri\s+Lanka", re.I), "Sri Lanka"),
    (re.compile(r"Republic of the Philippines|Congress of the Philippines|Republic Act No", re.I), "Philippines"),
    (re.compile(r"Parliament of Malaysia|Parlimen Malaysia|Dewan Rakyat", re.I), "Malaysia"),
    (re.compile(r"Republik\s+Indonesia|Peraturan Daerah|Undang-Undang Nomor", re.I), "Indonesia"),
    (re.compile(r"U\.\s?S\.\s?C\.|United States Code|Congress of the United States", re.I), "United States"),
    (re.compile(r"Gazette of Pakistan|Majlis-e-Shoora|Islamic Republic of Pakistan", re.I), "Pakistan"),
    (re.compile(r"Parliament of Australia|Commonwealth of Australia", re.I), "Australia"),
    (re.compile(r"Parliament of New Zealand", re.I), "New Zealand"),
]
_TYPE_CUES = [
    ("protocol", re.compile(r"\b(protocol|convention)\b", re.I)),
    ("law", re.compile(r"\b(act|bill|republic act|peraturan|undang-undang|rang undang|code|ordinance|decree|statute|enacted)\b", re.I)),
    ("declaration", re.compile(r"\bdeclaration\b", re.I)),
    ("statement", re.compile(r"\b(co-chairs'? statement|statement)\b", re.I)),
    ("work_plan", re.compile(r"\b(work plan|action plan)\b", re.I)),
    ("strategy", re.compile(r"\bstrategy\b", re.I)),
    ("policy_guide", re.compile(r"\b(policy guide|guidelines?|handbook|toolkit)\b", re.I)),
    ("factsheet", re.compile(r"\b(fact ?sheet)\b", re.I)),
    ("report", re.compile(r"\breport\b", re.I)),
]


def detect_language(text: str) -> str:
    words = re.findall(r"[a-z]+", text.lower()[:20000])
    if not words:
        return "en"
    votes = Counter()
    for w in words:
        for lang, vocab in _LANG_WORDS.items():
            if w in vocab:
                votes[lang] += 1
    if not votes:
        return "other"
    return votes.most_common(1)[0][0]


def _guess_title(text: str, fallback: str) -> str:
    for line in text.splitlines()[:60]:
        line = line.strip().strip("#*_ ").strip()
        if len(line) < 8 or line.startswith("---") or ":" in line[:12] and not line.lower().startswith("republic"):
            continue
        if re.search(r"[A-Za-z]{3}", line):
            return re.sub(r"\s+", " ", line)[:200]
    return fallback


def infer_document_meta(path: Path, text: str, corpus_root: Path | None = None) -> DocumentMeta:
    """Metadata for a file with no manifest entry, inferred from its name and first pages."""
    path = Path(path)
    head = (text or "")[:6000]
    inferred = ["doc_id", "title", "doc_type", "jurisdiction", "members", "year", "language"]
    title = _guess_title(head, path.stem.replace("_", " "))
    doc_type = "other"
    probe = f"{path.stem.replace('_', ' ')}\n{head[:1500]}"
    for t, rx in _TYPE_CUES:
        if rx.search(probe):
            doc_type = t
            break
    jurisdiction = None
    for rx, name in _JURISDICTION_CUES:
        if rx.search(head):
            jurisdiction = name
            break
    year = year_to = None
    period = _PERIOD.search(f"{path.stem.replace('_', ' ')} {title}")
    span = None
    if period and doc_type in ("work_plan", "strategy"):
        try:
            span = parse_period(period.group(0))
        except ValueError:  # "2019-17" and the like: not a period
            span = None
    if span:
        year, year_to = span
    else:
        m = _YEAR.search(f"{title} {path.stem.replace('_', ' ')}") or _YEAR.search(head)
        year = int(m.group(1)) if m else None
    members = [jurisdiction] if (doc_type == "law" and jurisdiction) else detect_members(head)[:10]
    rel = str(path.relative_to(corpus_root)) if corpus_root and path.is_relative_to(corpus_root) else str(path)
    return DocumentMeta(
        doc_id=slugify(path.stem, max_len=80),
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
