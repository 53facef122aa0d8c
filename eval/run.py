"""Run the searcher over a BEIR-layout dataset and score it: ``kb eval DATASET_DIR [--split dev] [--mode ...]``.

Each corpus entry becomes one section (its title as heading), cut into passages and embedded by the
same code as ingest; the built index is cached under ``var/eval-cache/`` by the dataset's content hash
and the passage fingerprint (schema, passage splitter, model), so re-running an evaluation costs only the queries.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from eval.datasets import BeirDataset, dataset_hash, load_beir
from eval.metrics import evaluate
from ingest.embedder import Embedder
from ingest.passages import load_tokenizer, split_passages
from ingest.pipeline import embed_passages, passage_fingerprint
from ingest.schema import DocumentMeta, Section
from ingest.settings import PROJECT_ROOT, Settings
from ingest.stores import DocArtifact, IndexDir, built_with_other_code, write_generation
from search_api.engine import EmbeddedEngine
from search_api.query_embedding import QueryEmbedder
from search_api.searcher import Searcher, SearchRequest

EVAL_CACHE = PROJECT_ROOT / "var" / "eval-cache"
# Modes reported by default: the two legs alone, the default hybrid, and RRF for comparison.
DEFAULT_MODES = ("bm25", "dense", "hybrid", "rrf")


def corpus_sections(ds: BeirDataset) -> tuple[DocumentMeta, list[Section], list[str]]:
    """One synthetic document whose sections are the dataset's entries; returns the entry id of each section."""
    meta = DocumentMeta(doc_id="beir", path="", title="", doc_type="other", sha256="-")
    sections, ids = [], []
    for i, (entry_id, entry) in enumerate(ds.corpus.items()):
        title = (entry.get("title") or "").strip()
        sections.append(
            Section(
                section_id=f"beir:e-{i}",
                doc_id="beir",
                path=f"e-{i}",
                heading_path=[title] if title else [],
                title=title,
                number=None,
                kind="paragraph",
                text=entry.get("text") or "",
                ordinal=i,
            )
        )
        ids.append(entry_id)
    return meta, sections, ids


def build_eval_index(dataset_dir: Path, split: str, settings: Settings, embedder: Embedder, log=print) -> tuple[Settings, list[str]]:
    """Build (or reuse) the index of a BEIR corpus; returns settings pointing at it and the section -> entry id map."""
    ds = load_beir(dataset_dir, split)
    key = f"{dataset_hash(dataset_dir, split)[:16]}-{passage_fingerprint(settings, embedder.info())}"
    root = EVAL_CACHE / key
    ids_path = root / "entry_ids.json"
    index_settings = settings.model_copy(update={"index_dir": root / "index"})
    cached = IndexDir(root / "index")
    if ids_path.exists() and (name := cached.current_name()):
        manifest = json.loads((cached.generations / name / "manifest.json").read_text("utf-8"))
        if built_with_other_code(manifest):  # same passages and vectors, another analyzer or vector storage
            log("rewriting the cached index for the current analyzer and vector storage")
            write_generation(cached, [DocArtifact.load(cached.docs / "beir")], embedder.info())
        return index_settings, json.loads(ids_path.read_text("utf-8"))
    meta, sections, ids = corpus_sections(ds)
    tokenizer = load_tokenizer(str(settings.resolved_model_path()))
    passages = [p for s in sections for p in split_passages(s, tokenizer, settings.max_passage_tokens)]
    log(f"embedding {len(passages)} passages of {len(sections)} entries (cached afterwards in {root})")
    t0 = time.perf_counter()
    vectors = embed_passages(embedder, [p.search_text for p in passages], None)
    log(f"embedded in {time.perf_counter() - t0:.0f} s")
    idx = IndexDir(root / "index")
    idx.ensure()
    art = DocArtifact(meta, sections, passages, vectors)
    art.save(idx.docs / "beir")
    write_generation(idx, [art], embedder.info())
    ids_path.write_text(json.dumps(ids), "utf-8")
    return index_settings, ids


def run_queries(searcher: Searcher, ds: BeirDataset, entry_ids: list[str], mode: str, k: int = 100,
                qvecs: dict[str, np.ndarray] | None = None) -> dict[str, list[str]]:
    """Ranked entry ids per judged query."""
    fusion = "rrf" if mode == "rrf" else None
    search_mode = "hybrid" if mode == "rrf" else mode
    run = {}
    for qid in ds.qrels:
        text = ds.queries.get(qid)
        if not text:
            continue
        req = SearchRequest(text, mode=search_mode, top_k=k, fusion=fusion, facets=False,
                            query_vector=None if qvecs is None else qvecs[qid])
        out = searcher.search(req)
        run[qid] = [entry_ids[int(r["section_id"].split(":e-")[1])] for r in out["results"]]
    return run


def eval_searcher(index_settings: Settings, embedder: Embedder) -> Searcher:
    """The product's searcher over an evaluation index: the embedded engine with the configured candidates and
    normalisation depth (``KB_CANDIDATES``, ``KB_NORM_DEPTH``), queries embedded with ``embedder``'s model."""
    engine = EmbeddedEngine(index_settings.index_dir, candidates=index_settings.candidates, norm_depth=index_settings.norm_depth)
    return Searcher(index_settings, engine=engine, embedder=QueryEmbedder(index_settings, embedder))


def evaluate_dataset(dataset_dir: Path, split: str, modes: list[str], settings: Settings,
                     embedder: Embedder | None = None, log=print) -> dict[str, dict[str, float]]:
    embedder = embedder or Embedder(settings)
    index_settings, entry_ids = build_eval_index(dataset_dir, split, settings, embedder, log)
    ds = load_beir(dataset_dir, split)
    searcher = eval_searcher(index_settings, embedder)
    qvecs = None
    if any(m != "bm25" for m in modes):
        qids = [q for q in ds.qrels if q in ds.queries]
        vecs = embedder.embed_passages([ds.queries[q] for q in qids])  # batch-encode all queries once
        qvecs = dict(zip(qids, vecs))
    results = {}
    for mode in modes:
        t0 = time.perf_counter()
        run = run_queries(searcher, ds, entry_ids, mode, qvecs=qvecs)
        scores = evaluate(run, ds.qrels)
        scores["queries"] = len(run)
        scores["ms_per_query"] = round((time.perf_counter() - t0) * 1000 / max(1, len(run)), 2)
        results[mode] = scores
        log(f"{mode}: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in scores.items()))
    return results


def format_table(results: dict[str, dict[str, float]]) -> str:
    cols = ["ndcg@10", "recall@10", "recall@100", "mrr@10"]
    lines = ["| mode | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for mode, s in results.items():
        lines.append(f"| {mode} | " + " | ".join(f"{s.get(c, float('nan')):.3f}" for c in cols) + " |")
    return "\n".join(lines)


def run_eval_cli(args: argparse.Namespace, settings: Settings) -> int:
    modes = args.mode or list(DEFAULT_MODES)
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    results = evaluate_dataset(Path(args.dataset_dir), args.split, modes, settings, log=log)
    if args.json:
        json.dump({"dataset": str(args.dataset_dir), "split": args.split, "results": results}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_table(results))
    return 0
