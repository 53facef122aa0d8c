"""Run the searcher over a BEIR-layout dataset and score it: ``kb eval DATASET_DIR [--split dev] [--mode ...]``.

Each corpus entry becomes one section (its title as heading) of the document its ``metadata.doc_id`` names
(with that metadata's language, members, type, year and status, so per-language analysis and filters work as in
the product), cut into passages and embedded by the same code as ingest; the built index is cached under
``var/eval-cache/`` by the corpus's content hash and the passage fingerprint (schema, passage splitter, model), so
re-running an evaluation, or one with edited questions or judgements, costs only the queries.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from eval.datasets import BeirDataset, corpus_hash, load_beir
from eval.metrics import evaluate, per_query
from ingest.embedder import Embedder, MultilingualEmbedder, passage_embedder
from ingest.passages import split_passages
from ingest.pipeline import embed_passages, passage_fingerprint
from ingest.schema import DocumentMeta, Section, check_doc_id
from ingest.settings import PROJECT_ROOT, Settings
from ingest.stores import DocArtifact, IndexDir, rewrite_if_other_code, write_generation
from ingest.vocabularies import UNKNOWN_STATUS
from search_api.engine import EmbeddedEngine
from search_api.filters import SearchFilters, build_filters
from search_api.query_embedding import query_embedder
from search_api.query_language import dense_text
from search_api.searcher import Searcher, SearchRequest

EVAL_CACHE = PROJECT_ROOT / "var" / "eval-cache"
# Modes reported by default: the two legs alone, the default hybrid, and RRF for comparison.
DEFAULT_MODES = ("bm25", "dense", "hybrid", "rrf")
# The cached index's layout: 2 = one document per corpus metadata doc_id (language, members, status...), 1 = one
# synthetic document holding every entry. Part of the cache key.
INDEX_LAYOUT = "l2"
LANGUAGE_METRICS = ("ndcg@10", "recall@10")


def _entry_meta(metadata: dict) -> DocumentMeta | None:
    """The document an entry belongs to, from its ``metadata`` (doc_id, doc_type, year, members, language,
    status); ``None`` when it names no valid doc_id (such entries share one synthetic document)."""
    doc_id = metadata.get("doc_id")
    try:
        check_doc_id(doc_id)
    except (TypeError, ValueError):
        return None
    members = [m for m in metadata.get("members") or [] if isinstance(m, str)]
    year = metadata.get("year")
    return DocumentMeta(
        doc_id=doc_id, path="", title="", doc_type=metadata.get("doc_type") or "other", members=members,
        year=year if isinstance(year, int) else None, language=metadata.get("language") or "en",
        status=metadata.get("status") or UNKNOWN_STATUS, sha256="-",
    )


def corpus_sections(ds: BeirDataset) -> tuple[list[tuple[DocumentMeta, list[Section]]], list[str]]:
    """The dataset's entries as sections of documents: one document per ``metadata.doc_id`` (with its language,
    members, type, year and status, so the analyzers and filters see them as ingest would), the entries without
    one in a synthetic ``beir`` document. Returns the documents and the entry id of each section, by ordinal."""
    docs: dict[str, tuple[DocumentMeta, list[Section]]] = {}
    ids = []
    for i, (entry_id, entry) in enumerate(ds.corpus.items()):
        meta = _entry_meta(entry.get("metadata") or {}) or DocumentMeta(doc_id="beir", path="", title="", doc_type="other", sha256="-")
        doc = docs.setdefault(meta.doc_id, (meta, []))
        title = (entry.get("title") or "").strip()
        doc[1].append(
            Section(
                section_id=f"{meta.doc_id}:e-{i}",
                doc_id=meta.doc_id,
                path=f"e-{i}",
                heading_path=[title] if title else [],
                title=title,
                number=None,
                kind="paragraph",
                text=entry.get("text") or "",
                ordinal=len(doc[1]),
                status=meta.status,
            )
        )
        ids.append(entry_id)
    return list(docs.values()), ids


def build_eval_index(dataset_dir: Path, split: str, settings: Settings, embedder: Embedder | MultilingualEmbedder, log=print) -> tuple[Settings, list[str]]:
    """Build (or reuse) the index of a BEIR corpus; returns settings pointing at it and the section -> entry id map."""
    ds = load_beir(dataset_dir, split)
    # keyed by the corpus alone: editing a question or a judgement does not re-embed the corpus
    key = f"{corpus_hash(dataset_dir)[:16]}-{INDEX_LAYOUT}-{passage_fingerprint(settings, embedder.info())}"
    root = EVAL_CACHE / key
    ids_path = root / "entry_ids.json"
    index_settings = settings.model_copy(update={"index_dir": root / "index"})
    cached = IndexDir(root / "index")
    if ids_path.exists() and cached.current_name():
        if rewrite_if_other_code(cached):  # same passages and vectors, another analyzer or vector storage
            log("rewrote the cached index for the current analyzer and vector storage")
        return index_settings, json.loads(ids_path.read_text("utf-8"))
    docs, ids = corpus_sections(ds)
    tokenizer = embedder.tokenizer()
    per_doc = [[p for s in sections for p in split_passages(s, tokenizer, settings.max_passage_tokens)] for _, sections in docs]
    n_passages = sum(map(len, per_doc))
    log(f"embedding {n_passages} passages of {len(ids)} entries in {len(docs)} document(s) (cached afterwards in {root})")
    t0 = time.perf_counter()
    vectors = embed_passages(embedder, [p.search_text for passages in per_doc for p in passages], None)
    log(f"embedded in {time.perf_counter() - t0:.0f} s")
    idx = IndexDir(root / "index")
    idx.ensure()
    arts, start = [], 0
    for (meta, sections), passages in zip(docs, per_doc):
        art = DocArtifact(meta, sections, passages, vectors[start : start + len(passages)])
        start += len(passages)
        art.save(idx.docs / meta.doc_id)
        arts.append(art)
    write_generation(idx, arts, embedder.info())
    ids_path.write_text(json.dumps(ids), "utf-8")
    return index_settings, ids


def query_filters(meta: dict) -> SearchFilters:
    """A query's ``metadata.filters`` (bali_dev's vocabulary: member, doc_type, language, doc_id as lists, year_from,
    year_to) as searcher filters. ``area`` is left out: corpus entries carry no priority areas, so it would
    exclude everything."""
    f = meta.get("filters") or {}
    return build_filters(members=f.get("member"), doc_types=f.get("doc_type"), doc_ids=f.get("doc_id"),
                         languages=f.get("language"), year_from=f.get("year_from"), year_to=f.get("year_to"))


def run_queries(searcher: Searcher, ds: BeirDataset, entry_ids: list[str], mode: str, k: int = 100,
                qvecs: dict[str, np.ndarray] | None = None, use_filters: bool = False) -> dict[str, list[str]]:
    """Ranked entry ids per judged query; with ``use_filters`` each query's ``metadata.filters`` apply."""
    fusion = "rrf" if mode == "rrf" else None
    search_mode = "hybrid" if mode == "rrf" else mode
    run = {}
    for qid in ds.qrels:
        text = ds.queries.get(qid)
        if not text:
            continue
        filters = query_filters(ds.query_meta.get(qid, {})) if use_filters else SearchFilters()
        req = SearchRequest(text, filters=filters, mode=search_mode, top_k=k, fusion=fusion, facets=False,
                            query_vector=None if qvecs is None else qvecs[qid])
        out = searcher.search(req)
        run[qid] = [entry_ids[int(r["section_id"].rsplit(":e-", 1)[1])] for r in out["results"]]
    return run


def language_breakdown(run: dict[str, list[str]], ds: BeirDataset) -> dict[str, dict[str, dict[str, float]]]:
    """nDCG@10 and Recall@10 per question language (``metadata.language``) and per target language
    (``metadata.target_language``, the language of the provisions judged to answer); ``{}`` when no query has them."""
    scores = per_query(run, ds.qrels)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for field, name in (("language", "question_language"), ("target_language", "target_language")):
        groups: dict[str, list[dict[str, float]]] = {}
        for qid, row in scores.items():
            lang = ds.query_meta.get(qid, {}).get(field)
            if isinstance(lang, str) and lang:
                groups.setdefault(lang, []).append(row)
        if groups:
            out[name] = {
                lang: {m: sum(r[m] for r in rows) / len(rows) for m in LANGUAGE_METRICS} | {"queries": len(rows)}
                for lang, rows in sorted(groups.items())
            }
    return out


def eval_searcher(index_settings: Settings, embedder: Embedder | MultilingualEmbedder) -> Searcher:
    """The product's searcher over an evaluation index: the embedded engine with the configured candidates and
    normalisation depth (``KB_CANDIDATES``, ``KB_NORM_DEPTH``), queries embedded with ``embedder``'s model."""
    engine = EmbeddedEngine(index_settings.index_dir, candidates=index_settings.candidates, norm_depth=index_settings.norm_depth)
    return Searcher(index_settings, engine=engine, embedder=query_embedder(index_settings, embedder))


def evaluate_dataset(dataset_dir: Path, split: str, modes: list[str], settings: Settings,
                     embedder: Embedder | MultilingualEmbedder | None = None, log=print, use_filters: bool = False) -> dict[str, dict]:
    """Scores per mode: the metric means, ``queries``, ``ms_per_query`` and, for a dataset whose queries carry
    ``language``/``target_language`` metadata, ``by_language`` (see :func:`language_breakdown`)."""
    embedder = embedder or passage_embedder(settings)
    index_settings, entry_ids = build_eval_index(dataset_dir, split, settings, embedder, log)
    ds = load_beir(dataset_dir, split)
    searcher = eval_searcher(index_settings, embedder)
    qvecs = None
    if any(m != "bm25" for m in modes):
        qids = [q for q in ds.qrels if q in ds.queries]
        vecs = embedder.embed_queries([dense_text(ds.queries[q]) for q in qids])  # batch-encoded once, as a search would
        qvecs = dict(zip(qids, vecs))
    results = {}
    for mode in modes:
        t0 = time.perf_counter()
        run = run_queries(searcher, ds, entry_ids, mode, qvecs=qvecs, use_filters=use_filters)
        scores: dict = evaluate(run, ds.qrels)
        scores["queries"] = len(run)
        scores["ms_per_query"] = round((time.perf_counter() - t0) * 1000 / max(1, len(run)), 2)
        log(f"{mode}: " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in scores.items()))
        if by_language := language_breakdown(run, ds):
            scores["by_language"] = by_language
        results[mode] = scores
    return results


def format_table(results: dict[str, dict]) -> str:
    cols = ["ndcg@10", "recall@10", "recall@100", "mrr@10"]
    lines = ["| mode | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for mode, s in results.items():
        lines.append(f"| {mode} | " + " | ".join(f"{s.get(c, float('nan')):.3f}" for c in cols) + " |")
    for mode, s in results.items():
        for group, langs in (s.get("by_language") or {}).items():
            lines += ["", f"{mode}, by {group.replace('_', ' ')}:", "", "| language | queries | ndcg@10 | recall@10 |", "|---|---:|---:|---:|"]
            lines += [f"| {lang} | {r['queries']} | {r['ndcg@10']:.3f} | {r['recall@10']:.3f} |" for lang, r in langs.items()]
    return "\n".join(lines)


def run_eval_cli(args: argparse.Namespace, settings: Settings) -> int:
    modes = args.mode or list(DEFAULT_MODES)
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    results = evaluate_dataset(Path(args.dataset_dir), args.split, modes, settings, log=log, use_filters=args.filters)
    if args.json:
        json.dump({"dataset": str(args.dataset_dir), "split": args.split, "filters": args.filters, "results": results},
                  sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(format_table(results))
    return 0
