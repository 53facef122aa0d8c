"""IR metrics against hand-computed numbers, and the BEIR loader on tests/data/beir_tiny."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from eval.datasets import DatasetError, dataset_hash, load_beir
from eval.metrics import evaluate, judged_queries, mrr_at_k, ndcg_at_k, per_query, recall_at_k

TINY = Path(__file__).parent / "data" / "beir_tiny"

# log2(2) = 1, log2(3) = 1.5849625, log2(4) = 2, log2(5) = 2.3219281
L3, L5 = math.log2(3), math.log2(5)


# --- nDCG ---------------------------------------------------------------------------------------------

def test_ndcg_binary_hand_computed():
    # relevant: a, b. ranking: x a y b
    # DCG  = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616064
    # IDCG = 1/log2(2) + 1/log2(3) = 1 + 0.6309298 = 1.6309298
    # nDCG = 1.0616064 / 1.6309298 = 0.6509209
    got = ndcg_at_k(["x", "a", "y", "b"], {"a": 1, "b": 1}, k=10)
    assert got == pytest.approx((1 / L3 + 1 / L5) / (1 + 1 / L3))
    assert got == pytest.approx(0.6509209, abs=1e-6)


def test_ndcg_graded_uses_linear_gain_and_ideal_from_qrels():
    # grades a=2, b=1, c=1 (c never retrieved). ranking: b a
    # DCG  = 1/log2(2) + 2/log2(3) = 1 + 1.2618595 = 2.2618595
    # IDCG = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.6309298 + 0.5 = 3.1309298
    # nDCG = 2.2618595 / 3.1309298 = 0.7224242
    got = ndcg_at_k(["b", "a"], {"a": 2, "b": 1, "c": 1}, k=10)
    assert got == pytest.approx(0.7224242, abs=1e-6)


def test_ndcg_cuts_at_k_but_ideal_counts_all_relevant_up_to_k():
    # relevant a, b; ranking: x a b, k = 1 -> DCG = 0 ; k = 2 -> DCG = 1/log2(3), IDCG@2 = 1 + 1/log2(3)
    judged = {"a": 1, "b": 1}
    assert ndcg_at_k(["x", "a", "b"], judged, k=1) == 0.0
    assert ndcg_at_k(["x", "a", "b"], judged, k=2) == pytest.approx((1 / L3) / (1 + 1 / L3))  # 0.3868528


def test_ndcg_perfect_ranking_is_one_and_zero_grade_is_not_relevant():
    assert ndcg_at_k(["a", "b"], {"a": 2, "b": 1}, k=10) == pytest.approx(1.0)
    # b judged 0: only a counts; a at rank 2 -> (1/log2(3)) / 1 = 0.6309298
    assert ndcg_at_k(["b", "a"], {"a": 1, "b": 0}, k=10) == pytest.approx(0.6309298, abs=1e-6)
    assert ndcg_at_k(["a"], {"a": 0}, k=10) == 0.0


def test_repeated_doc_counts_once_at_its_first_rank():
    # ranking a a b -> treated as a b ; relevant a, b -> perfect
    assert ndcg_at_k(["a", "a", "b"], {"a": 1, "b": 1}, k=2) == pytest.approx(1.0)
    assert recall_at_k(["a", "a", "a"], {"a": 1, "b": 1}, k=3) == 0.5


# --- Recall, MRR --------------------------------------------------------------------------------------

def test_recall_hand_computed():
    # relevant a, b, c ; ranking x a y b ; top 2 holds a -> 1/3 ; top 4 holds a, b -> 2/3
    judged = {"a": 1, "b": 2, "c": 1, "n": 0}
    assert recall_at_k(["x", "a", "y", "b"], judged, k=2) == pytest.approx(1 / 3)
    assert recall_at_k(["x", "a", "y", "b"], judged, k=4) == pytest.approx(2 / 3)
    assert recall_at_k([], judged, k=10) == 0.0


def test_mrr_hand_computed():
    # first relevant at rank 3 -> 1/3 ; cut at k=2 -> 0
    assert mrr_at_k(["x", "y", "a", "b"], {"a": 1, "b": 1}, k=10) == pytest.approx(1 / 3)
    assert mrr_at_k(["x", "y", "a"], {"a": 1}, k=2) == 0.0
    assert mrr_at_k(["a"], {"a": 3}, k=1) == 1.0


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be > 0, got 0"):
        ndcg_at_k(["a"], {"a": 1}, k=0)


# --- evaluate -----------------------------------------------------------------------------------------

def test_evaluate_means_over_judged_queries_and_scores_missing_runs_zero():
    qrels = {
        "q1": {"a": 1, "b": 1},  # run: x a y b
        "q2": {"c": 1},          # run: c
        "q3": {"d": 1},          # absent from the run -> every metric 0
        "q4": {"e": 0},          # no relevant doc -> not averaged over
    }
    run = {"q1": ["x", "a", "y", "b"], "q2": ["c"], "q9": ["z"]}
    got = evaluate(run, qrels)
    # nDCG@10: q1 0.6509209, q2 1, q3 0 -> 1.6509209 / 3 = 0.5503070
    assert got["ndcg@10"] == pytest.approx(0.5503070, abs=1e-6)
    # Recall@10: q1 2/2, q2 1/1, q3 0 -> 2/3 ; Recall@100 the same
    assert got["recall@10"] == pytest.approx(2 / 3)
    assert got["recall@100"] == pytest.approx(2 / 3)
    # MRR@10: q1 1/2, q2 1, q3 0 -> 1.5 / 3 = 0.5
    assert got["mrr@10"] == pytest.approx(0.5)
    assert judged_queries(qrels) == ["q1", "q2", "q3"]
    assert set(per_query(run, qrels, ks=(10,))) == {"q1", "q2", "q3"}


def test_evaluate_recall_at_100_sees_beyond_10():
    # relevant doc at rank 11: Recall@10 = 0, Recall@100 = 1, MRR@10 = 0, nDCG@10 = 0
    run = {"q": [f"x{i}" for i in range(10)] + ["a"]}
    got = evaluate(run, {"q": {"a": 1}})
    assert (got["recall@10"], got["recall@100"], got["mrr@10"], got["ndcg@10"]) == (0.0, 1.0, 0.0, 0.0)


def test_evaluate_without_relevant_judgements_is_an_error():
    with pytest.raises(ValueError, match="no judged query"):
        evaluate({"q": ["a"]}, {"q": {"a": 0}})


# --- load_beir ----------------------------------------------------------------------------------------

def test_load_beir_tiny_reads_corpus_queries_and_graded_qrels():
    ds = load_beir(TINY, "dev")
    assert len(ds.corpus) == 8 and len(ds.queries) == 5
    assert ds.corpus["d6"]["title"] == "Regional Support Office > Rule 3.2.1 Reporting"
    assert ds.corpus["d1"]["metadata"] == {"doc_id": "smuggling-protocol", "year": 2000}
    assert ds.corpus["d8"] == {"title": "", "text": ds.corpus["d8"]["text"], "metadata": {}}  # defaults
    assert ds.queries["q4"] == "Rule 3.2.1 reporting"
    assert ds.qrels == {"q1": {"d1": 2, "d2": 1}, "q2": {"d4": 2}, "q3": {"d5": 2, "d3": 0}, "q4": {"d6": 1}}
    assert ds.query_metadata["q1"] == {"category": "keyword"}


def test_perfect_run_on_tiny_scores_one():
    ds = load_beir(TINY)
    run = {q: sorted(j, key=lambda d: -j[d]) for q, j in ds.qrels.items()}
    assert evaluate(run, ds.qrels) == pytest.approx({f"{m}@{k}": 1.0 for m in ("ndcg", "recall", "mrr") for k in (10, 100)})


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "tiny"
    shutil.copytree(TINY, dest)
    return dest


def test_qrels_header_row_is_optional(tiny_copy: Path):
    qrels = tiny_copy / "qrels" / "dev.tsv"
    qrels.write_text("".join(qrels.read_text().splitlines(keepends=True)[1:]))
    assert load_beir(tiny_copy).qrels == load_beir(TINY).qrels


def test_malformed_corpus_line_names_file_and_line(tiny_copy: Path):
    corpus = tiny_copy / "corpus.jsonl"
    lines = corpus.read_text().splitlines()
    lines[2] = '{"_id": "d3", "text": '
    corpus.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:3: invalid JSON"):
        load_beir(tiny_copy)


def test_corpus_line_without_text_or_id_is_refused(tiny_copy: Path):
    corpus = tiny_copy / "corpus.jsonl"
    corpus.write_text(corpus.read_text() + json.dumps({"_id": "d9", "title": "t"}) + "\n")
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:9: missing 'text'"):
        load_beir(tiny_copy)
    corpus.write_text(json.dumps({"text": "no id"}) + "\n")
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:1: missing '_id'"):
        load_beir(tiny_copy)


def test_duplicate_corpus_id_is_refused(tiny_copy: Path):
    corpus = tiny_copy / "corpus.jsonl"
    corpus.write_text(corpus.read_text() + json.dumps({"_id": "d1", "text": "again"}) + "\n")
    with pytest.raises(DatasetError, match=r"corpus\.jsonl:9: duplicate _id 'd1' \(first on line 1\)"):
        load_beir(tiny_copy)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("q1\td1", r"dev\.tsv:8: expected 3 tab-separated columns"),
        ("q1\td7\trelevant", r"dev\.tsv:8: score must be an integer grade, got 'relevant'"),
        ("q1\td7\t0.5", r"dev\.tsv:8: score must be an integer grade, got '0\.5'"),
        ("q1\tnope\t1", r"corpus-id 'nope' \(query 'q1'\) is not in corpus\.jsonl"),
        ("qx\td1\t1", r"query-id 'qx' is not in queries\.jsonl"),
    ],
)
def test_malformed_qrels_row_names_the_problem(tiny_copy: Path, row: str, message: str):
    qrels = tiny_copy / "qrels" / "dev.tsv"
    qrels.write_text(qrels.read_text() + row + "\n")
    with pytest.raises(DatasetError, match=message):
        load_beir(tiny_copy)


def test_missing_split_file_is_named(tiny_copy: Path):
    with pytest.raises(FileNotFoundError, match=r"qrels/test\.tsv"):
        load_beir(tiny_copy, "test")
    with pytest.raises(ValueError, match="split must be a plain name"):
        load_beir(tiny_copy, "../dev")


def test_dataset_hash_follows_file_bytes_and_split(tiny_copy: Path):
    before = dataset_hash(tiny_copy, "dev")
    assert before == dataset_hash(TINY, "dev") and len(before) == 64
    shutil.copy(tiny_copy / "qrels" / "dev.tsv", tiny_copy / "qrels" / "test.tsv")
    assert dataset_hash(tiny_copy, "test") != before  # the split's name is part of the key
    (tiny_copy / "queries.jsonl").write_text((tiny_copy / "queries.jsonl").read_text() + "\n")
    assert dataset_hash(tiny_copy, "dev") != before
