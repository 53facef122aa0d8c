"""The cross-lingual dev set (eval/xling_dev) on its real files, the designation resolver that built its qrels,
kb eval's per-language figures on a tiny run, query filters, and the Malaysian parallel pairs."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from eval.datasets import load_beir
from eval.metrics import per_query
from eval.run import format_table, language_breakdown, query_filters
from eval.scripts.build_xling import (
    DATASET_DIR,
    SOURCE_NAME,
    build,
    chinese_number,
    designation_keys,
    id_key,
    read_source,
    resolve,
)
from eval.scripts.parallel_check import section_pairs

NEW_LANGUAGES = ("th", "zh", "bn", "tr", "ms", "id")


@pytest.fixture(scope="module")
def ds():
    return load_beir(DATASET_DIR, "dev")


def test_every_judged_id_is_a_corpus_section_and_every_query_has_an_answer(ds):
    assert len(ds.queries) >= 70
    assert set(ds.qrels) == set(ds.queries), "every query is judged, every judged query exists"
    missing = sorted({sid for rels in ds.qrels.values() for sid in rels} - set(ds.corpus))
    assert not missing, f"qrels name sections that corpus.jsonl lacks: {missing[:5]}"
    without_answer = [q for q, rels in ds.qrels.items() if 2 not in rels.values()]
    assert not without_answer, f"queries without a grade-2 judgement: {without_answer}"
    assert all(g in (1, 2) for rels in ds.qrels.values() for g in rels.values())


def test_each_new_language_is_covered_both_ways(ds):
    pairs = Counter((m["language"], m["target_language"]) for m in ds.query_meta.values())
    for lang in NEW_LANGUAGES:
        assert pairs[("en", lang)] >= 8, f"English questions answered in {lang} law: {pairs[('en', lang)]}"
        assert pairs[(lang, "en")] >= 4, f"{lang} questions answered in English texts: {pairs[(lang, 'en')]}"
    assert pairs[("th", "th")] >= 1 and pairs[("zh", "zh")] >= 1


def test_cross_lingual_questions_quote_no_phrase(ds):
    """A quoted span is a phrase the searcher requires verbatim, which a text in another language never holds."""
    for qid, meta in ds.query_meta.items():
        if meta["language"] != meta["target_language"]:
            assert not any(q in ds.queries[qid] for q in '"“”'), qid


def test_target_language_is_the_language_of_the_grade_2_sections(ds):
    for qid, rels in ds.qrels.items():
        meta = ds.query_meta[qid]
        langs = {ds.corpus[sid]["metadata"]["language"] for sid, g in rels.items() if g == 2}
        assert langs == {meta["target_language"]}, qid
        assert meta["category"] in ("to_native", "to_english", "monolingual", "filtered")
        assert meta.get("note")


def test_filtered_questions_judge_only_sections_the_filter_keeps(ds):
    filtered = [q for q, m in ds.query_meta.items() if m.get("filters")]
    assert filtered
    for qid in filtered:
        f = query_filters(ds.query_meta[qid])
        assert f.languages
        assert all(ds.corpus[sid]["metadata"]["language"] in f.languages for sid in ds.qrels[qid]), qid


def test_bali_dev_filters_read_as_searcher_filters():
    f = query_filters({"filters": {"member": ["Sri Lanka"], "doc_type": ["law"], "year_from": 2020}})
    assert (f.members, f.doc_types, f.year_from, f.year_to) == (("Sri Lanka",), ("law",), 2020, None)
    assert query_filters({"filters": {"doc_type": ["work_plan"], "area": ["border_management"]}}).areas == ()
    assert query_filters({}).is_empty()


def test_committed_qrels_are_what_the_judgements_resolve_to_on_the_committed_corpus(ds):
    """build_xling's resolution, run over corpus.jsonl grouped by document, gives qrels/dev.tsv exactly (the check
    against a fresh split of the corpus is ``python -m eval.scripts.build_xling --check``)."""
    docs = defaultdict(list)
    for sid, entry in ds.corpus.items():
        docs[entry["metadata"]["doc_id"]].append({"_id": sid, **entry})
    qrels, problems, _ = build(read_source(DATASET_DIR / SOURCE_NAME), docs, {})
    assert not problems
    assert qrels == ds.qrels


def test_designations_as_printed_become_id_numbers():
    assert chinese_number("二百四十") == 240 and chinese_number("十二") == 12 and chinese_number("一百零五") == 105
    assert designation_keys("第二百四十条") == {"240"}
    assert designation_keys("第二百四十四条之一") == {"244-1"}
    assert designation_keys("มาตรา ๕๒") == {"52"}
    assert designation_keys("ধারা ২৮") == {"28"}
    assert designation_keys("Madde 60/A") == {"60a", "60-a"}
    assert designation_keys("Section 57B") == {"57b", "57-b"}
    assert designation_keys("§ 1593") == {"1593"}
    assert designation_keys("Article I") == {"i", "1"}
    assert id_key("cn-criminal-law-2023:pt-2.ch-4.art-240-1") == "240-1"
    assert id_key("th-atipa-2008:ch-1.s-6") == "6"
    assert id_key("cn-anti-organized-crime-law-2021:x-2") is None  # a generic heading is not a provision


def test_resolution_takes_the_first_numbered_section_and_fails_naming_what_it_sought():
    sections = [
        {"_id": "d:bab-iv.pasal-30", "text": "Pemberian bantuan hukum"},
        {"_id": "d:penjelasan.ii.pasal-30", "text": "Yang dimaksud dengan bantuan hukum"},
        {"_id": "d:art-1-2", "text": "Göçmen  kaçakçılığı\nsuçunun"},
    ]
    assert resolve("Pasal 30", sections) == "d:bab-iv.pasal-30"
    assert resolve("@penjelasan.ii.pasal-30", sections) == "d:penjelasan.ii.pasal-30"
    assert resolve("text:Göçmen kaçakçılığı suçunun", sections) == "d:art-1-2"
    with pytest.raises(LookupError, match="31"):
        resolve("Pasal 31", sections)


def test_language_breakdown_on_a_tiny_run(ds):
    """Chinese questions answered perfectly (every judged section, best grade first), the rest with nothing."""
    run = {
        qid: sorted(rels, key=lambda s: -rels[s]) if ds.query_meta[qid]["language"] == "zh" else []
        for qid, rels in ds.qrels.items()
    }
    out = language_breakdown(run, ds)
    by_question, by_target = out["question_language"], out["target_language"]
    n_zh = sum(m["language"] == "zh" for m in ds.query_meta.values())
    assert by_question["zh"] == {"ndcg@10": pytest.approx(1.0), "recall@10": pytest.approx(1.0), "queries": n_zh}
    assert by_question["en"]["ndcg@10"] == 0.0 and by_question["en"]["queries"] == sum(
        m["language"] == "en" for m in ds.query_meta.values())
    to_en = [q for q, m in ds.query_meta.items() if m["target_language"] == "en"]
    zh_to_en = [q for q in to_en if ds.query_meta[q]["language"] == "zh"]
    assert by_target["en"]["queries"] == len(to_en)
    assert by_target["en"]["ndcg@10"] == pytest.approx(len(zh_to_en) / len(to_en))
    assert by_target["zh"]["ndcg@10"] == pytest.approx(
        sum(per_query(run, ds.qrels)[q]["ndcg@10"] for q in ds.qrels if ds.query_meta[q]["target_language"] == "zh")
        / sum(m["target_language"] == "zh" for m in ds.query_meta.values()))
    table = format_table({"bm25": {"ndcg@10": 0.5, "recall@10": 0.5, "recall@100": 0.5, "mrr@10": 0.5, "by_language": out}})
    assert "bm25, by question language:" in table and f"| zh | {n_zh} | 1.000 | 1.000 |" in table
    json.dumps(out)  # the JSON output carries it as is


def test_datasets_without_language_metadata_have_no_breakdown():
    from eval.datasets import BeirDataset

    tiny = BeirDataset(corpus={"a": {"title": "", "text": "x", "metadata": {}}}, queries={"q": "x"},
                       qrels={"q": {"a": 2}}, query_meta={"q": {}})
    assert language_breakdown({"q": ["a"]}, tiny) == {}


def test_malaysian_parallel_pairs_match_section_numbers(ds):
    pairs = section_pairs(ds.corpus, "my-atip-bill-2007-en", "my-atip-bill-2007-ms")
    assert len(pairs) >= 60  # the bill's 68 sections, less any the splitter merged
    assert ("my-atip-bill-2007-en:part-iii.s-14", "my-atip-bill-2007-ms:part-iii.s-14") in pairs
    for en, ms in pairs:
        assert id_key(en) == id_key(ms)
        assert ds.corpus[en]["metadata"]["language"] == "en" and ds.corpus[ms]["metadata"]["language"] == "ms"
