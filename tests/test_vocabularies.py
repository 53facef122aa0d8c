"""The vocabulary files (ingest/vocabularies/*.csv): read raw, so a duplicate the loader's dicts would hide fails."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import ingest.vocabularies as vocab
from ingest.errors import UnknownFilterValueError

DATA = Path(vocab.__file__).parent


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _items(cell: str) -> list[str]:
    return [x.strip() for x in cell.split(";") if x.strip()]


@pytest.mark.parametrize("name, key", [("members.csv", "name"), ("areas.csv", "id"), ("doc_types.csv", "id")])
def test_ids_are_unique_and_every_row_is_loaded(name, key):
    ids = [r[key].strip() for r in _rows(name)]
    assert all(ids) and len(ids) == len(set(ids))
    loaded = {"members.csv": vocab.MEMBERS, "areas.csv": vocab.PRIORITY_AREAS, "doc_types.csv": vocab.DOC_TYPES}[name]
    assert list(loaded) == ids  # in file order: facets list areas and the UI lists types in this order


@pytest.mark.parametrize("name", ["areas.csv", "doc_types.csv"])
def test_every_id_has_a_label(name):
    rows = _rows(name)
    assert all(r["label"].strip() for r in rows)
    assert len({r["label"].strip().lower() for r in rows}) == len(rows)


def test_every_member_name_alias_and_code_resolves_to_that_member_only():
    seen: dict[str, str] = {}
    for row in _rows("members.csv"):
        assert row["kind"] in vocab.MEMBER_KINDS and row["bali_process_member"] in ("yes", "no"), row
        for alias in [row["name"], *_items(row["aliases"]), *_items(row["codes"])]:
            # resolving to its own member proves no other member is known by the same name
            assert vocab.canonical_member(alias) == row["name"], alias
            assert seen.setdefault(alias.lower(), row["name"]) == row["name"], f"{alias!r} listed twice"


def test_every_area_name_and_label_resolves_to_its_area():
    for row in _rows("areas.csv"):
        for name in [row["id"], row["label"], *_items(row["names"])]:
            assert vocab.canonical_area(name) == row["id"], name
            assert vocab.areas_named_in(f"(3) {name}") == [row["id"]]


def test_an_unknown_name_is_a_filter_error_naming_the_field():
    with pytest.raises(UnknownFilterValueError) as member:
        vocab.canonical_member("Atlantis")
    with pytest.raises(UnknownFilterValueError) as area:
        vocab.canonical_area("space exploration")
    assert (member.value.field, area.value.field) == ("member", "priority_area")


@pytest.mark.parametrize("value, span", [("2017-2019", (2017, 2019)), ("2024-26", (2024, 2026)), (" 1999 – 2001 ", (1999, 2001))])
def test_parse_period(value, span):
    assert vocab.parse_period(value) == span


@pytest.mark.parametrize("value", ["2019-17", "2017", "2017-2019-2021", "twenty"])
def test_parse_period_rejects_what_is_not_a_period(value):
    with pytest.raises(ValueError, match="period"):
        vocab.parse_period(value)


def test_languages_have_unique_codes_names_and_a_lang_tag_of_their_own_code():
    rows = _rows("languages.csv")
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes)) and list(vocab.LANGUAGES) == codes
    assert {"en", "ms", "id", "th", "zh", "bn", "tr", "nl", "und"} <= set(codes)  # the codes the corpus uses
    assert len({r["name"].lower() for r in rows}) == len(rows)
    for r in rows:
        assert r["name"] and r["native_name"] and r["direction"] in ("ltr", "rtl"), r
        assert r["tag"].split("-")[0] == r["code"], r  # the lang attribute names the same language
    th, zh = vocab.LANGUAGES["th"], vocab.LANGUAGES["zh"]
    assert (th.name, th.native_name, th.script) == ("Thai", "ไทย", "Thai")
    assert (zh.name, zh.native_name, zh.tag) == ("Chinese", "中文", "zh-Hans")
