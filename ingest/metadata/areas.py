"""Priority areas of a section: ``stated`` when the document itself says so, else ``inferred`` from cues.

One taxonomy (``ingest.vocabularies.PRIORITY_AREAS``) for the 2018 Strategy for Cooperation and the 2023
Adelaide Strategy. An area is stated by a heading that is an area name or by a work plan's priority-area
column; otherwise it is inferred from a small cue lexicon, with the matched cues kept as evidence. An area is
never both.
"""

from __future__ import annotations

import re

from ingest.schema import AreaTag
from ingest.vocabularies import areas_named_in, lookup_area


def stated_area_from_heading(heading: str) -> str | None:
    """The area a heading names as a whole ("(4) Border management" -> "border_management"), else None."""
    return lookup_area(heading)


def stated_areas(headings: list[str], column: str = "") -> dict[str, str]:
    """Areas the document states for a section, with the evidence: its priority-area table cell, then its
    headings that are area names."""
    stated: dict[str, str] = {}
    for area in areas_named_in(column) if column else []:
        stated.setdefault(area, f"table column 'Priority Area': {' '.join(column.split())}")
    for heading in headings:
        area = stated_area_from_heading(heading)
        if area:
            stated.setdefault(area, f"heading '{' '.join(heading.split())}'")
    return stated


def section_areas(text: str, headings: list[str], column: str = "") -> list[AreaTag]:
    """A section's area tags: the stated ones first, then those inferred from ``text`` that are not stated."""
    stated = stated_areas(headings, column)
    tags = [AreaTag(a, "stated", evidence) for a, evidence in stated.items()]
    return tags + [t for t in infer_areas(text) if t.area not in stated]


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
