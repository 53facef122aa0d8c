"""Passages: bounded by the model's own token count, exact slices of their section, headings searchable."""

from __future__ import annotations

from hypothesis import given, settings as hsettings, strategies as st

from ingest.passages import build_context, load_tokenizer, split_passages
from ingest.schema import Section
from ingest.settings import Settings

TOKENIZER = load_tokenizer(str(Settings().resolved_model_path()))


def _section(text: str, heading_path=None) -> Section:
    return Section(
        section_id="doc-x:s-1",
        doc_id="doc-x",
        path="s-1",
        heading_path=heading_path or ["Anti-Trafficking in Persons Act", "Part III Offences", "12. Offence of trafficking in persons"],
        title="Offence of trafficking in persons",
        number="12",
        kind="section",
        text=text,
        ordinal=0,
        page_start=3,
        page_end=5,
    )


def _tokens(text: str) -> int:
    return len(TOKENIZER.encode(text).ids)  # with [CLS] and [SEP], as the model sees it


def test_long_section_becomes_passages_within_the_model_budget():
    text = "\n\n".join(
        f"({i}) Any person who recruits, transports, transfers, harbours or receives a person for the purpose of exploitation commits an offence."
        for i in range(60)
    )
    passages = split_passages(_section(text), TOKENIZER, max_tokens=256)
    assert len(passages) > 3
    for p in passages:
        assert _tokens(p.search_text) <= 256
        assert p.text in text  # an exact slice: quotable as it stands in the section
        assert p.section_id == "doc-x:s-1" and p.page_start == 3 and p.page_end == 5
    assert [p.passage_id for p in passages] == [f"doc-x:s-1#{i}" for i in range(len(passages))]


def test_passages_break_at_paragraphs_when_they_can():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(10))
    passages = split_passages(_section(text), TOKENIZER, max_tokens=128)
    assert all(p.text.startswith("Paragraph") for p in passages)


def test_heading_path_is_part_of_the_searchable_text():
    (p,) = split_passages(_section("A short clause."), TOKENIZER)
    assert "12. Offence of trafficking in persons" in p.search_text
    assert p.text == "A short clause."


def test_a_container_without_text_has_no_passages_its_heading_lives_in_its_children():
    assert split_passages(_section("   "), TOKENIZER) == []


def test_context_drops_outer_headings_first_when_too_long():
    path = ["A very long document title " * 10, "Part I", "Section 9. Powers of enforcement officers"]
    ctx = build_context(path, TOKENIZER)
    assert ctx.endswith("Section 9. Powers of enforcement officers")
    assert len(TOKENIZER.encode(ctx, add_special_tokens=False).ids) <= 48


@hsettings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=3000), st.integers(min_value=32, max_value=300))
def test_any_text_splits_into_bounded_exact_slices(text, budget):
    passages = split_passages(_section(text), TOKENIZER, max_tokens=budget)
    covered = "".join(p.text for p in passages)
    # nothing but whitespace is lost, and nothing is duplicated
    assert "".join(covered.split()) == "".join(text.split())
    for p in passages:
        assert p.text in text
        # a single unbreakable run longer than the budget is the only way past it, and that needs > budget chars
        assert _tokens(p.search_text) <= budget or len(p.text.split()) <= 1
