"""Metrics against hand-computed numbers and against trec_eval (through ir-measures) on a real run of
``eval/bali_dev``; the BEIR loader on a tiny dataset (tests/data/beir_tiny); ``kb eval``'s settings."""

from __future__ import annotations

import hashlib
import math
import shutil
from pathlib import Path

import pytest

from eval.datasets import BeirDataset, DatasetFileNotFoundError, DatasetFormatError, dataset_hash, load_beir
from eval.metrics import METRICS, evaluate, mrr_at_k, ndcg_at_k, per_query, recall_at_k
from eval.run import build_eval_index, eval_searcher, evaluate_dataset, run_queries
from ingest.settings import PROJECT_ROOT, Settings

TINY = Path(__file__).parent / "data" / "beir_tiny"
BALI_DEV = PROJECT_ROOT / "eval" / "bali_dev"

# One query judged a=2, b=1, c=0 (c judged non-relevant); the run puts an unjudged x first.
RELS = {"a": 2, "b": 1, "c": 0}
RANKED = ["x", "b", "a", "c"]
LOG2_3 = math.log2(3)  # 1.5849625


def test_ndcg_uses_grade_as_gain_and_ideal_from_qrels():
    # DCG@10  = 0/log2(2) + 1/log2(3) + 2/log2(4) + 0/log2(5) = 0.6309298 + 1.0 = 1.6309298
    # IDCG@10 = 2/log2(2) + 1/log2(3)                           = 2.0 + 0.6309298 = 2.6309298
    # nDCG@10 = 1.6309298 / 2.6309298 = 0.6199062
    assert ndcg_at_k(RANKED, RELS, 10) == pytest.approx(0.6199062, abs=1e-6)
    # cut at 2: DCG@2 = 1/log2(3) = 0.6309298; IDCG@2 is still 2.6309298 -> 0.2398125
    assert ndcg_at_k(RANKED, RELS, 2) == pytest.approx((1 / LOG2_3) / (2 + 1 / LOG2_3))
    assert ndcg_at_k(RANKED, RELS, 2) == pytest.approx(0.2398125, abs=1e-6)


def test_ndcg_is_one_for_the_ideal_ranking_and_zero_without_relevant_docs():
    assert ndcg_at_k(["a", "b", "c"], RELS, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["a", "b"], {"a": 0}, 10) == 0.0
    assert ndcg_at_k([], RELS, 10) == 0.0


def test_ideal_dcg_is_cut_at_k_too():
    # 3 relevant docs of grade 1, k = 1, the first doc relevant: DCG@1 = 1, IDCG@1 = 1 (not 1 + 0.63 + 0.5)
    assert ndcg_at_k(["a"], {"a": 1, "b": 1, "c": 1}, 1) == pytest.approx(1.0)


def test_recall_counts_only_graded_relevant_docs():
    # relevant = {a, b} (c has grade 0); top 10 holds both -> 2/2; top 2 holds b only -> 1/2
    assert recall_at_k(RANKED, RELS, 10) == pytest.approx(1.0)
    assert recall_at_k(RANKED, RELS, 2) == pytest.approx(0.5)
    assert recall_at_k(RANKED, {"c": 0}, 10) == 0.0


def test_mrr_is_reciprocal_rank_of_first_relevant_within_k():
    # first relevant (b) at rank 2 -> 1/2; nothing relevant in the top 1 -> 0
    assert mrr_at_k(RANKED, RELS, 10) == pytest.approx(0.5)
    assert mrr_at_k(RANKED, RELS, 1) == 0.0
    # c is judged but grade 0: not relevant
    assert mrr_at_k(["c", "x", "a"], RELS, 10) == pytest.approx(1 / 3)


def test_a_repeated_doc_counts_once_at_its_first_rank():
    # ["b", "b", "a"] is read as ["b", "a"]: DCG = 1/log2(2) + 2/log2(3) = 1 + 1.2618595 = 2.2618595
    # nDCG = 2.2618595 / 2.6309298 = 0.8597196
    assert ndcg_at_k(["b", "b", "a"], RELS, 10) == pytest.approx(0.8597196, abs=1e-6)
    assert recall_at_k(["b", "b"], RELS, 2) == pytest.approx(0.5)


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        ndcg_at_k(RANKED, RELS, 0)


def test_evaluate_averages_judged_queries_and_scores_missing_ones_zero():
    qrels = {
        "q1": RELS,
        "q2": {"d": 1},  # judged but absent from the run: counts as 0
        "q3": {"e": 0},  # no relevant doc: not averaged
    }
    run = {"q1": RANKED, "q9": ["a"]}  # q9 is not judged: ignored
    scores = evaluate(run, qrels)
    assert set(scores) == {"ndcg@10", "recall@10", "recall@100", "mrr@10"}
    # means over q1 and q2: (0.6199062 + 0) / 2, (1 + 0) / 2, (1 + 0) / 2, (0.5 + 0) / 2
    assert scores["ndcg@10"] == pytest.approx(0.6199062 / 2, abs=1e-6)
    assert scores["recall@10"] == pytest.approx(0.5)
    assert scores["recall@100"] == pytest.approx(0.5)
    assert scores["mrr@10"] == pytest.approx(0.25)


def test_evaluate_recall_at_100_sees_deeper_than_10():
    ranked = [f"n{i}" for i in range(50)] + ["a"]  # a at rank 51
    scores = evaluate({"q": ranked}, {"q": {"a": 1}})
    assert (scores["recall@10"], scores["recall@100"]) == (0.0, 1.0)


def test_evaluate_refuses_qrels_without_any_relevant_doc():
    with pytest.raises(ValueError, match="no query with a relevant"):
        evaluate({"q": ["a"]}, {"q": {"a": 0}})


# -- loader ---------------------------------------------------------------------------------------------


def test_load_beir_reads_corpus_queries_graded_qrels_and_metadata():
    ds = load_beir(TINY, "dev")
    assert isinstance(ds, BeirDataset)
    assert len(ds.corpus) == 8 and list(ds.corpus)[0] == "d1"
    assert ds.corpus["d6"]["title"] == "Rulebook > Rule 3.2.1 Reporting"
    assert ds.corpus["d6"]["metadata"] == {"doc": "rulebook"}
    assert len(ds.queries) == 5
    assert ds.query_meta["q2"] == {"category": "paraphrase"}
    assert ds.query_meta["q5"] == {}  # a query without metadata
    # header row skipped; grade 0 kept as a judgement
    assert ds.qrels == {"q1": {"d1": 2, "d2": 1}, "q2": {"d4": 2}, "q3": {"d5": 2, "d3": 0}, "q4": {"d6": 1}}


def _copy_tiny(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    shutil.copytree(TINY, root)
    return root


def test_qrels_without_header_row_load_the_same(tmp_path):
    root = _copy_tiny(tmp_path)
    qrels = root / "qrels" / "dev.tsv"
    qrels.write_text("".join(qrels.read_text().splitlines(keepends=True)[1:]))
    assert load_beir(root).qrels == load_beir(TINY).qrels


def test_malformed_qrels_line_names_file_and_line(tmp_path):
    root = _copy_tiny(tmp_path)
    qrels = root / "qrels" / "dev.tsv"
    with open(qrels, "a") as fh:
        fh.write("q4\td7\n")  # line 8: two columns
    with pytest.raises(DatasetFormatError) as err:
        load_beir(root)
    assert str(err.value).startswith(f"{qrels}:8: expected 3 tab-separated columns")
    assert (err.value.path, err.value.line) == (str(qrels), 8)
    assert isinstance(err.value, ValueError)


def test_non_integer_grade_names_file_and_line(tmp_path):
    root = _copy_tiny(tmp_path)
    qrels = root / "qrels" / "dev.tsv"
    with open(qrels, "a") as fh:
        fh.write("q4\td7\thigh\n")
    with pytest.raises(DatasetFormatError, match=rf"dev.tsv:8: score must be an integer, got 'high'"):
        load_beir(root)


def test_malformed_corpus_json_names_file_and_line(tmp_path):
    root = _copy_tiny(tmp_path)
    corpus = root / "corpus.jsonl"
    lines = corpus.read_text().splitlines(keepends=True)
    lines[2] = '{"_id": "d3", "text": "unterminated\n'
    corpus.write_text("".join(lines))
    with pytest.raises(DatasetFormatError, match=r"corpus.jsonl:3: not valid JSON"):
        load_beir(root)


def test_query_without_id_names_file_and_line(tmp_path):
    root = _copy_tiny(tmp_path)
    queries = root / "queries.jsonl"
    with open(queries, "a") as fh:
        fh.write('{"text": "no id"}\n')
    with pytest.raises(DatasetFormatError, match=r"queries.jsonl:6: no '_id' field"):
        load_beir(root)


def test_missing_split_file_is_named(tmp_path):
    root = _copy_tiny(tmp_path)
    with pytest.raises(DatasetFileNotFoundError) as err:
        load_beir(root, "test")
    assert str(root / "qrels" / "test.tsv") in str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    with pytest.raises(FileNotFoundError, match="no such dataset directory"):
        load_beir(tmp_path / "nowhere")


def test_dataset_hash_is_sha256_of_the_three_files_and_follows_their_content(tmp_path):
    root = _copy_tiny(tmp_path)
    expected = hashlib.sha256(b"".join(p.read_bytes() for p in (root / "corpus.jsonl", root / "queries.jsonl", root / "qrels" / "dev.tsv")))
    assert dataset_hash(root, "dev") == expected.hexdigest() == dataset_hash(TINY, "dev")
    with open(root / "qrels" / "dev.tsv", "a") as fh:
        fh.write("q4\td8\t1\n")
    assert dataset_hash(root, "dev") != dataset_hash(TINY, "dev")


def _quiet(*_args, **_kwargs) -> None:
    pass


@pytest.fixture(scope="module")
def bali_dev_bm25_run(embedder) -> tuple[BeirDataset, dict[str, list[str]]]:
    """``eval/bali_dev`` and the ranked entry ids of each of its questions, top 100, through the product as
    ``kb eval --mode bm25`` runs it (the index is cached under var/eval-cache)."""
    settings = Settings()
    index_settings, entry_ids = build_eval_index(BALI_DEV, "dev", settings, embedder, log=_quiet)
    ds = load_beir(BALI_DEV, "dev")
    return ds, run_queries(eval_searcher(index_settings, embedder), ds, entry_ids, "bm25")


@pytest.mark.integration
@pytest.mark.slow
def test_metrics_agree_with_trec_eval_on_a_real_bali_dev_run(bali_dev_bm25_run):
    import ir_measures
    from ir_measures import RR, R, nDCG

    ds, run = bali_dev_bm25_run
    judged = {q: rels for q, rels in ds.qrels.items() if any(g > 0 for g in rels.values())}
    assert len(run) == len(judged) == 77 and {g for rels in judged.values() for g in rels.values()} == {1, 2}
    qrels = [ir_measures.Qrel(q, d, g) for q, rels in judged.items() for d, g in rels.items()]
    # trec_eval ranks by score (ties by doc id): strictly falling scores keep our order
    scored = [ir_measures.ScoredDoc(q, d, float(len(ranked) - i)) for q, ranked in run.items() for i, d in enumerate(ranked)]
    measures = {"ndcg@10": nDCG @ 10, "recall@10": R @ 10, "recall@100": R @ 100, "mrr@10": RR @ 10}
    names = {m: name for name, m in measures.items()}
    theirs: dict[str, dict[str, float]] = {}
    for row in ir_measures.iter_calc(list(measures.values()), qrels, scored):
        theirs.setdefault(row.query_id, {})[names[row.measure]] = row.value
    ours = per_query(run, judged)
    assert set(ours) == set(theirs)
    for q in ours:
        for m in METRICS:
            assert ours[q][m] == pytest.approx(theirs[q][m], abs=1e-6), (q, m)
    means = ir_measures.calc_aggregate(list(measures.values()), qrels, scored)
    mine = evaluate(run, judged)
    for name, m in measures.items():
        assert mine[name] == pytest.approx(means[m], abs=1e-6), name
    assert 0.4 < mine["ndcg@10"] < 0.7  # a real run, not an empty one


@pytest.mark.integration
@pytest.mark.slow
def test_kb_eval_uses_the_configured_normalisation_depth(monkeypatch, embedder):
    """KB_NORM_DEPTH reaches the engine ``kb eval`` searches with: hybrid figures follow it."""
    monkeypatch.setenv("KB_NORM_DEPTH", "5")
    shallow = Settings()
    assert shallow.norm_depth == 5
    index_settings, _ = build_eval_index(BALI_DEV, "dev", shallow, embedder, log=_quiet)
    assert eval_searcher(index_settings, embedder).engine.norm_depth == 5
    deep = shallow.model_copy(update={"norm_depth": 1000})
    at_5 = evaluate_dataset(BALI_DEV, "dev", ["hybrid"], shallow, embedder=embedder, log=_quiet)["hybrid"]
    at_1000 = evaluate_dataset(BALI_DEV, "dev", ["hybrid"], deep, embedder=embedder, log=_quiet)["hybrid"]
    assert [at_5[m] for m in METRICS] != [at_1000[m] for m in METRICS]
