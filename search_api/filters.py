"""Search filters: validated once, then translated for each backend (numpy masks, Haystack/OpenSearch filters)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ingest.errors import UnknownFilterValueError
from ingest.schema import check_doc_id
from ingest.vocabularies import DOC_TYPES, STATUSES

MIN_YEAR, MAX_YEAR = 1800, 2200


@dataclass(frozen=True)
class SearchFilters:
    """Conjunction of fields; within a field, any of the values matches. Empty fields do not filter."""

    members: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    statuses: tuple[str, ...] = ()  # in_force | repealed | unknown: a section's (a repealed provision is repealed)

    def is_empty(self) -> bool:
        return not (self.members or self.areas or self.doc_types or self.doc_ids or self.languages or self.statuses) and (
            self.year_from is None and self.year_to is None
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


def build_filters(
    members: list[str] | None = None,
    areas: list[str] | None = None,
    doc_types: list[str] | None = None,
    doc_ids: list[str] | None = None,
    languages: list[str] | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    statuses: list[str] | None = None,
) -> SearchFilters:
    """Validate and canonicalise filter values; an unknown value raises ``UnknownFilterValueError`` naming it."""
    from ingest.vocabularies import canonical_area, canonical_member

    def uniq(values):
        return tuple(dict.fromkeys(values))

    ms = uniq(canonical_member(m) for m in (members or []) if m and m.strip())
    ars = uniq(canonical_area(a) for a in (areas or []) if a and a.strip())
    dts = []
    for t in doc_types or []:
        t = t.strip().lower()
        if not t:
            continue
        if t not in DOC_TYPES:
            raise UnknownFilterValueError("doc_type", t, list(DOC_TYPES))
        dts.append(t)
    ids = []
    for d in doc_ids or []:
        try:
            ids.append(check_doc_id(d.strip()))
        except ValueError:
            raise UnknownFilterValueError("doc_id", d) from None
    langs = []
    for lang in languages or []:
        lang = lang.strip().lower()
        if not lang:
            continue
        if not (2 <= len(lang) <= 3 and lang.isalpha()):
            raise UnknownFilterValueError("language", lang)
        langs.append(lang)
    sts = []
    for status in statuses or []:
        status = status.strip().lower().replace(" ", "_").replace("-", "_")
        if not status:
            continue
        if status not in STATUSES:
            raise UnknownFilterValueError("status", status, list(STATUSES))
        sts.append(status)
    for name, year in (("year_from", year_from), ("year_to", year_to)):
        if year is not None and not (MIN_YEAR <= year <= MAX_YEAR):
            raise UnknownFilterValueError(name, year)
    if year_from is not None and year_to is not None and year_from > year_to:
        raise UnknownFilterValueError("year_to", year_to, [f">= year_from ({year_from})"])
    return SearchFilters(ms, ars, uniq(dts), uniq(ids), uniq(langs), year_from, year_to, uniq(sts))


# Our list fields and the Haystack ``meta`` fields they filter, in both directions (``to_haystack_filters`` writes
# them; ``from_haystack_filters`` reads them, taking ``meta.priority_areas`` for areas too).
HAYSTACK_LIST_FIELDS = {
    "members": "meta.members",
    "areas": "meta.areas",
    "doc_types": "meta.doc_type",
    "doc_ids": "meta.doc_id",
    "languages": "meta.language",
    "statuses": "meta.status",
}
# A document covers the years [year, year_to]; it matches when that span overlaps the requested range.
HAYSTACK_YEAR_FIELDS = {"year_from": ("meta.year_to", ">="), "year_to": ("meta.year", "<=")}
_READ_LIST_FIELDS = {**{v: k for k, v in HAYSTACK_LIST_FIELDS.items()}, "meta.priority_areas": "areas"}
_READ_YEAR_FIELDS = {v: k for k, v in HAYSTACK_YEAR_FIELDS.items()}


def to_haystack_filters(f: SearchFilters) -> dict | None:
    """The same filters in Haystack's filter syntax (used by the OpenSearch backend)."""
    conditions: list[dict] = []
    for ours, meta in HAYSTACK_LIST_FIELDS.items():
        if values := getattr(f, ours):
            conditions.append({"field": meta, "operator": "in", "value": list(values)})
    for ours, (meta, op) in HAYSTACK_YEAR_FIELDS.items():
        if (year := getattr(f, ours)) is not None:
            conditions.append({"field": meta, "operator": op, "value": year})
    if not conditions:
        return None
    return {"operator": "AND", "conditions": conditions}


def from_haystack_filters(filters: dict) -> dict:
    """``build_filters`` keyword arguments from a Haystack filter (one condition, or an AND of conditions over the
    fields ``to_haystack_filters`` writes, with ``==`` or ``in``); anything else is an error naming it."""
    if "conditions" in filters:
        if filters.get("operator", "AND") != "AND":
            raise UnknownFilterValueError("filters.operator", filters.get("operator"), ["AND"])
        conditions = filters["conditions"]
    else:
        conditions = [filters]
    out: dict = {}
    for c in conditions:
        field, op, value = c.get("field"), c.get("operator"), c.get("value")
        if field in _READ_LIST_FIELDS and op in ("==", "in"):
            values = value if op == "in" else [value]
            if not isinstance(values, list):
                raise UnknownFilterValueError(field, value, ["a list of values with 'in'"])
            out.setdefault(_READ_LIST_FIELDS[field], []).extend(values)
        elif (field, op) in _READ_YEAR_FIELDS:
            out[_READ_YEAR_FIELDS[field, op]] = value
        else:
            known = sorted(_READ_LIST_FIELDS) + [f"{f} {o}" for f, o in _READ_YEAR_FIELDS]
            raise UnknownFilterValueError("filters", f"{field} {op}", known)
    return out
