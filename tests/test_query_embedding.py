"""Queries are embedded by onnxruntime over the exported model: the same vectors and rankings as PyTorch.

These tests are about a sentence-transformers model (the packaged all-MiniLM-L6-v2, ``embedding_model =
sentence-transformers``), whose export is checked against PyTorch and recorded; the default model's own ONNX
query path (multilingual-e5-small) is tested in tests/test_multilingual.py. The fixtures below override the
session's (which use the default model) with MiniLM and an index of a corpus slice embedded by it."""

from __future__ import annotations

import json
import logging
import os
import shutil

import numpy as np
import pytest

from search_api.onnx_query import OnnxQueryModel, record_path, text_tokenizer
from search_api.query_embedding import QueryEmbedder
from ingest.settings import PROJECT_ROOT, Settings
from search_api.searcher import SearchRequest

pytestmark = pytest.mark.integration

MINILM = Settings(embedding_model="sentence-transformers")


@pytest.fixture(scope="module")
def embedder():
    from ingest.embedder import Embedder

    e = Embedder(MINILM)
    e.warm_up()
    return e


@pytest.fixture(scope="module")
def query_embedder(embedder):
    return QueryEmbedder(MINILM, embedder)


@pytest.fixture(scope="module")
def indexed_corpus(tmp_path_factory, embedder) -> Settings:
    """A slice of the real corpus (English and Malay laws, a Protocol, a Bali Process plan) embedded by MiniLM."""
    from ingest.manifest import copy_slice
    from ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("minilm")
    corpus = copy_slice(PROJECT_ROOT / "corpus", root / "corpus", {
        "bali_process/bp_2018_strategy_for_cooperation_update.txt",
        "international/un_trafficking_protocol_2000_en.md",
        "laws/my_atip_bill_2007_en.md",
        "laws/us_8usc_1324_bringing_in_harboring_aliens.md",
    })
    settings = MINILM.model_copy(update={"index_dir": root / "index"})
    report = ingest([corpus], settings, embedder=embedder)
    assert report.ok, report.failed
    return settings


@pytest.fixture(scope="module")
def searcher(indexed_corpus, query_embedder):
    from search_api.searcher import Searcher

    return Searcher(indexed_corpus, embedder=query_embedder)

QUERIES = [json.loads(line)["text"] for line in (PROJECT_ROOT / "eval" / "bali_dev" / "queries.jsonl").open()]


def _pytorch_vector(embedder, text: str) -> np.ndarray:
    """The query vector as Haystack's sentence-transformers text embedder computes it in PyTorch."""
    _, component = embedder.components()
    return np.asarray(component.run(text=text)["embedding"], dtype=np.float32)


def test_queries_are_embedded_by_onnxruntime_with_pytorchs_vectors(query_embedder, embedder):
    vec = query_embedder.embed_query(QUERIES[0])
    assert query_embedder.active_query_runtime == "onnx"
    assert list((query_embedder.cache_dir / "onnx").glob("*.onnx")), "the export is cached for the next process"
    worst = 0.0
    for q in QUERIES:
        a, b = query_embedder.embed_query(q), _pytorch_vector(embedder, q)
        worst = max(worst, float(np.abs(a - b).max()))
    assert vec.dtype == np.float32 and vec.shape == (384,)
    assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5
    assert worst < 1e-5, f"ONNX and PyTorch query vectors differ by {worst}"


def test_the_exported_model_runs_onnxruntimes_fused_bert_operators(query_embedder):
    import onnx

    query_embedder.embed_query(QUERIES[0])
    graph = onnx.load(str(query_embedder.batcher().onnx.path)).graph
    ops = {n.op_type for n in graph.node}
    # one operator per attention block, embedding + LayerNorm, and residual + LayerNorm: not ~670 small ones
    assert {"Attention", "EmbedLayerNormalization", "SkipLayerNormalization"} <= ops, sorted(ops)
    assert len(graph.node) < 100


def test_every_dev_question_ranks_the_same_with_either_runtime(searcher, embedder):
    for q in QUERIES:
        onnx = searcher.search(SearchRequest(q, mode="hybrid", top_k=10, facets=False))
        torch = searcher.search(SearchRequest(q, mode="hybrid", top_k=10, facets=False, query_vector=_pytorch_vector(embedder, q)))
        assert [r["section_id"] for r in onnx["results"]] == [r["section_id"] for r in torch["results"]], q


def test_a_model_onnx_cannot_reproduce_stays_in_pytorch_and_says_why(embedder, tmp_path, caplog):
    # The packaged model with CLS pooling declared: the ONNX path implements mean pooling only.
    model_dir = tmp_path / "cls-model"
    shutil.copytree(embedder.model_path, model_dir, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    cfg = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    cfg.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (model_dir / "1_Pooling" / "config.json").write_text(json.dumps(cfg))
    st_model = embedder.components()[1].embedding_backend.model
    with caplog.at_level(logging.WARNING, logger="search_api.onnx_query"):
        assert OnnxQueryModel.load(st_model, model_dir, tmp_path / "cache", threads=1) is None
    assert "pooling ['pooling_mode_cls_token'], not mean" in caplog.text
    assert not (tmp_path / "cache").exists(), "nothing is exported for a model that cannot use it"


def test_query_runtime_torch_is_a_setting(indexed_corpus):
    e = QueryEmbedder(MINILM.model_copy(update={"query_runtime": "torch"}))
    vec = e.embed_query(QUERIES[1])
    assert e.active_query_runtime == "torch"
    assert float(vec @ _pytorch_vector(e.passages, QUERIES[1])) > 0.99999


def test_the_tokenizer_makes_the_sentence_transformers_features(embedder):
    """Queries are tokenized by ``tokenizers`` directly: the ids, mask and type ids of the SentenceTransformer's own
    preprocessing, for every dev question in one padded batch and for texts at the edges (empty, spaces, accents,
    CJK, longer than the model's 256 tokens)."""
    from pathlib import Path

    st_model = embedder.components()[1].embedding_backend.model
    ours = text_tokenizer(Path(embedder.model_path))
    edge = ["", "   ", "  Viet Nam\t", "İstanbul ÉTAT café", "人口贩卖 trafficking", "Art. 3(a) & §1589", "word " * 400]
    for batch in (QUERIES, edge, *([t] for t in edge)):
        want = st_model.preprocess(batch)
        got = ours(batch)
        for name in ("input_ids", "attention_mask", "token_type_ids"):
            assert np.array_equal(got[name], want[name].numpy()), (name, batch[:2])


def test_a_verified_export_serves_queries_without_pytorchs_model(query_embedder, embedder, indexed_corpus, tmp_path):
    """Once a process has checked the export against PyTorch, later processes open it directly: the same vectors,
    and the SentenceTransformer (and transformers) never loaded. A record made under other terms is not trusted."""
    import subprocess
    import sys

    query_embedder.embed_query(QUERIES[0])
    verified = query_embedder.batcher().onnx.path
    assert record_path(verified).exists()
    model_dir = query_embedder.model_path
    direct = OnnxQueryModel.open_verified(model_dir, query_embedder.cache_dir, threads=1)
    assert direct is not None
    ref = np.stack([_pytorch_vector(embedder, q) for q in QUERIES[:20]])
    assert float(np.abs(direct.encode(QUERIES[:20]) - ref).max()) < 1e-5

    cache = tmp_path / "cache"
    (cache / "onnx").mkdir(parents=True)
    shutil.copy(verified, cache / "onnx" / verified.name)
    assert OnnxQueryModel.open_verified(model_dir, cache, threads=1) is None, "an export nobody verified"
    record = json.loads(record_path(verified).read_text())
    record_path(cache / "onnx" / verified.name).write_text(json.dumps({**record, "tolerance": 1.0}))
    assert OnnxQueryModel.open_verified(model_dir, cache, threads=1) is None, "verified under a looser tolerance"

    code = (
        "import sys, numpy as np\n"
        "from ingest.settings import Settings\n"
        "from search_api.searcher import Searcher, SearchRequest\n"
        "s = Searcher(Settings())\n"
        "out = s.search(SearchRequest(sys.argv[1], mode='hybrid', facets=False))\n"
        "print(s.embedder.active_query_runtime,\n"
        "      [m for m in ('sentence_transformers', 'transformers') if m in sys.modules])\n"
    )
    env = {**os.environ, "KB_INDEX_DIR": str(indexed_corpus.index_dir), "KB_CACHE_DIR": str(query_embedder.cache_dir),
           "KB_EMBEDDING_MODEL": "sentence-transformers"}
    done = subprocess.run([sys.executable, "-c", code, QUERIES[0]], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-2] == "onnx []", done.stdout
