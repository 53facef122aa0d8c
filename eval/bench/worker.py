"""Search latency, the bm25s + numpy floor and Haystack's InMemory store on one tier, in a fresh worker process."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from eval.bench.common import MODES, percentiles
from ingest.settings import PROJECT_ROOT, Settings


def run_worker(spec: dict) -> dict:
    """Open one tier, run every query in every mode, then the floor (and Haystack); report latencies and memory."""
    import psutil

    from search_api.searcher import Searcher

    settings = Settings(**spec["settings"])
    queries = spec["queries"]
    rounds = int(spec["rounds"])
    proc = psutil.Process()
    rss_start = proc.memory_info().rss

    t0 = time.perf_counter()
    searcher = Searcher(settings)
    searcher.warm_up()
    open_s = time.perf_counter() - t0
    gen = searcher.engine.generation()
    latency, load = _latency_rounds(searcher, queries, rounds)

    mem = proc.memory_full_info()  # Linux: uss and shared are always there
    memory = {
        "rss_bytes": int(mem.rss),
        "uss_bytes": int(mem.uss),
        "shared_bytes": int(mem.shared),  # file-backed pages: the memory-mapped index
        "rss_before_open_bytes": int(rss_start),
    }

    # The floor: bm25s + numpy with the same query vectors, no filters, no fusion, no hydration.
    qvecs = [searcher.embed(q["text"]) for q in queries]
    same_vector = _same_vector_rounds(searcher, queries, qvecs, rounds)
    k = settings.candidates
    floor = _floor_rounds(gen, queries, qvecs, rounds, k)
    paths = _embed_paths(searcher, queries)
    result = {
        "tier": gen.n_passages,
        "embed_paths": {k2: percentiles(v) for k2, v in paths.items()},
        "open_seconds": round(open_s, 2),
        "rounds": rounds,
        "queries": len(queries),
        "latency": latency,
        "floor": {k2: percentiles(v) for k2, v in floor.items()},
        "same_vector": {k2: percentiles(v) for k2, v in same_vector.items()},
        "memory": memory,
        "loadavg": [round(x, 2) for x in load],
    }
    if spec.get("haystack"):
        result["haystack"] = _haystack_compare(gen, queries, qvecs, rounds, k, searcher)
    return result


def _latency_rounds(searcher, queries: list[dict], rounds: int) -> tuple[dict, list[float]]:
    """Percentiles of each mode's timings over ``rounds`` passes after a warm-up pass, and the load average per round."""
    from search_api.filters import build_filters
    from search_api.searcher import SearchRequest

    filters = [build_filters(**q["bench_filters"]) if q["bench_filters"] else None for q in queries]

    def request(i: int, mode: str) -> SearchRequest:
        if mode == "hybrid+filters":
            return SearchRequest(queries[i]["text"], filters=filters[i], mode="hybrid")
        return SearchRequest(queries[i]["text"], mode=mode)  # type: ignore[arg-type]

    # Warm-up pass (first touches of memory-mapped pages, mask cache, model kernels): not recorded.
    for i in range(len(queries)):
        for mode in MODES:
            searcher.search(request(i, mode))
    # As `kb serve` does after start-up: what loading left behind is frozen out of the cyclic garbage collector,
    # whose full collections over it took 260-300 ms in the middle of a query.
    from search_api.app import freeze_start_up

    freeze_start_up()

    samples: dict[str, dict[str, list[float]]] = {m: {"total": [], "embed": [], "retrieve": [], "hydrate": []} for m in MODES}
    load = []
    for _ in range(rounds):
        load.append(os.getloadavg()[0])
        for i in range(len(queries)):
            for mode in MODES:  # interleaved, so noise from other processes spreads evenly over the modes
                t = searcher.search(request(i, mode))["timing_ms"]
                for k in samples[mode]:
                    samples[mode][k].append(t[k])
    latency = {m: {k: percentiles(v) for k, v in s.items()} for m, s in samples.items()}
    for m, s in samples.items():
        latency[m]["search"] = percentiles([a - b for a, b in zip(s["total"], s["embed"])])
    return latency, load


def _same_vector_rounds(searcher, queries: list[dict], qvecs: list, rounds: int) -> dict[str, list[float]]:
    """Ours with the same precomputed vectors as the floor, run just before it: `retrieve` is the part that does the
    floor's work (both legs' top candidates) plus fusion and grouping into sections; `search` adds the page
    (citations, highlights) and the facet counts.

    Not interleaved with the floor query by query: numpy's OpenBLAS threads spin on after each product and take the
    cores from torch's threads (interleaved, ours at 1M took 165 ms instead of 81).
    """
    from search_api.searcher import SearchRequest

    same_vector = {"retrieve": [], "search": []}
    for _ in range(rounds):
        for q, qv in zip(queries, qvecs):
            t = searcher.search(SearchRequest(q["text"], query_vector=qv))["timing_ms"]
            same_vector["retrieve"].append(t["retrieve"])
            same_vector["search"].append(t["total"])
    return same_vector


def _floor_rounds(gen, queries: list[dict], qvecs: list, rounds: int, k: int) -> dict[str, list[float]]:
    """bm25s's scores over the query's term ids and ``vectors @ q``, each with an argpartition top-k, per query."""
    from ingest.analysis import analyze

    floor = {"bm25": [], "dense": [], "both": []}
    # The floor multiplies float32 in numpy (the plain way); the index stores int8 rows, scored by torch.
    vectors = gen.float_vectors()
    for _ in range(rounds):
        for q, qv in zip(queries, qvecs):
            ta = time.perf_counter()
            ids = [i for _, i in gen.term_ids(analyze(q["text"]))]
            if ids:
                b = gen.bm25.get_scores_from_ids(ids)
                btop = np.argpartition(-b, k)[:k]
                btop = btop[np.argsort(-b[btop])]
            tb = time.perf_counter()
            s = vectors @ qv
            top = np.argpartition(-s, k)[:k]
            top = top[np.argsort(-s[top])]
            tc = time.perf_counter()
            floor["bm25"].append((tb - ta) * 1000)
            floor["dense"].append((tc - tb) * 1000)
            floor["both"].append((tc - ta) * 1000)
    return floor


def _embed_paths(searcher, queries: list[dict]) -> dict[str, list[float]]:
    """Query embedding as the Haystack component does it (process-wide torch threads) vs QueryEmbedder.embed_query."""
    passages = searcher.embedder.passages
    # a sentence-transformers model has Haystack's text embedder to compare with; multilingual-e5-small has not
    component = passages.components()[1] if hasattr(passages, "components") else None
    paths = {"haystack_component": [], "embed_query": []}
    for q in queries:
        ta = time.perf_counter()
        if component is not None:
            component.run(text=q["text"])
        tb = time.perf_counter()
        searcher.embed(q["text"])
        tc = time.perf_counter()
        paths["haystack_component"].append((tb - ta) * 1000)
        paths["embed_query"].append((tc - tb) * 1000)
    return paths


def _haystack_compare(gen, queries, qvecs, rounds, k, searcher) -> dict:
    """Haystack's InMemoryDocumentStore on the same passages: BM25 + embedding retrievers + RRF joiner."""
    from haystack import Document
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    from search_api.searcher import SearchRequest

    store = InMemoryDocumentStore(bm25_algorithm="BM25Okapi", shared=False, return_embedding=False)
    rows = gen.passage_by_row(range(gen.n_passages))
    vectors = gen.float_vectors()
    t0 = time.perf_counter()
    store.write_documents(
        [Document(id=f"p{r}", content=p.search_text, embedding=vectors[r].tolist(), meta={"doc_id": p.doc_id}) for r, p in rows.items()]
    )
    build_s = time.perf_counter() - t0
    bm25 = InMemoryBM25Retriever(store, top_k=k)
    dense = InMemoryEmbeddingRetriever(store, top_k=k)
    joiner = DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=k)
    qlists = [qv.tolist() for qv in qvecs]
    for q, ql in zip(queries, qlists):  # warm-up
        joiner.run(documents=[bm25.run(query=q["text"])["documents"], dense.run(query_embedding=ql)["documents"]])
    hay, ours = [], []
    for _ in range(rounds):
        for q, qv, ql in zip(queries, qvecs, qlists):
            t = time.perf_counter()
            joiner.run(documents=[bm25.run(query=q["text"])["documents"], dense.run(query_embedding=ql)["documents"]])
            hay.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            searcher.search(SearchRequest(q["text"], mode="hybrid", query_vector=qv))
            ours.append((time.perf_counter() - t) * 1000)
    h, o = percentiles(hay), percentiles(ours)
    return {
        "build_seconds": round(build_s, 2),
        "haystack_hybrid": h,
        "ours_hybrid": o,
        "speedup_p50": round(h["p50"] / o["p50"], 1),
        "speedup_p95": round(h["p95"] / o["p95"], 1),
    }


def spawn_worker(spec: dict, scratch: Path) -> dict:
    """Run :func:`run_worker` on ``spec`` in a fresh process (``python -m eval.bench.worker``); returns its result."""
    scratch.mkdir(parents=True, exist_ok=True)
    spec_path = scratch / f"worker-{spec['name']}.json"
    out_path = scratch / f"worker-{spec['name']}.out.json"
    spec_path.write_text(json.dumps({**spec, "out": str(out_path)}), "utf-8")
    proc = subprocess.run([sys.executable, "-m", "eval.bench.worker", "--worker", str(spec_path)], cwd=PROJECT_ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark worker for {spec['name']} failed with exit code {proc.returncode}")
    return json.loads(out_path.read_text("utf-8"))


def _worker_main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text("utf-8"))
    result = run_worker(spec)
    Path(spec["out"]).write_text(json.dumps(result), "utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="benchmark worker (started by kb bench)")
    parser.add_argument("--worker", required=True)
    _worker_main(parser.parse_args().worker)
