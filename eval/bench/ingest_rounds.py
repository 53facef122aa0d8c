"""Ingest throughput: cold ingests per embedding dtype, their CPU time, the matmul ceiling and bf16's quality."""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
from pathlib import Path

from ingest.settings import Settings


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads) and of its waited-for children (tesseract, pdftoppm)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


# Cold ingests per dtype; the fastest is reported (as timeit does: other jobs on the machine only ever add time).
INGEST_ROUNDS = 2


def bench_ingest(settings: Settings, corpus_dir: Path, work: Path, dtype: str, log, rounds: int = INGEST_ROUNDS) -> dict:
    """Cold ingests of ``corpus_dir``, each into a fresh index, with the given embedding dtype; the fastest of
    ``rounds``, with every round's throughput."""
    from ingest.embedder import passage_embedder
    from ingest.pipeline import ingest
    from ingest.stores import open_current

    index_dir = work / f"ingest-{dtype}"
    s = settings.model_copy(update={"index_dir": index_dir, "embed_dtype": dtype, "backend": "embedded"})
    t0 = time.perf_counter()
    embedder = passage_embedder(s)
    embedder.warm_up()
    load_model = time.perf_counter() - t0
    log(f"ingest {dtype}: model loaded in {load_model:.1f} s; ingesting {corpus_dir} {rounds} times")
    best, best_cpu, per_round = None, 0.0, []
    for _ in range(rounds):
        shutil.rmtree(index_dir, ignore_errors=True)
        cpu0 = _cpu_seconds()
        report = ingest([corpus_dir], s, embedder=embedder)
        cpu = _cpu_seconds() - cpu0
        if not report.ok:
            raise RuntimeError(f"bench ingest failed: {[f.error for f in report.failed]}")
        per_round.append(round(report.passages_embedded / report.seconds, 2))
        if best is None or report.seconds < best.seconds:
            best, best_cpu = report, cpu
    report = best
    cores = len(os.sched_getaffinity(0))
    gen = open_current(index_dir)
    tok = embedder.tokenizer()
    texts = [p.search_text for p in gen.passage_by_row(range(gen.n_passages)).values()]
    # Tokens the model actually sees: its pieces plus the two special tokens, truncated at the passage budget.
    tokens = sum(min(len(tok.encode(t).ids) + 2, s.max_passage_tokens) for t in texts)
    gen.close()
    n = report.passages_embedded
    st = report.stage_seconds
    return {
        "dtype": dtype,
        "documents": report.documents,
        "passages": n,
        "model_tokens": int(tokens),
        "tokens_per_passage": round(tokens / max(n, 1), 1),
        "pages_ocr": report.pages_ocr,
        "model_load_seconds": round(load_model, 2),
        "seconds": report.seconds,
        "stage_seconds": st,
        "passages_per_s": round(n / report.seconds, 2),
        "rounds_passages_per_s": per_round,
        "stage_passages_per_s": {k: round(n / v, 1) if v else None for k, v in st.items()},
        "embed_tokens_per_s": round(tokens / st["embed"], 0) if st.get("embed") else None,
        # The ingest's CPU time (all threads and OCR subprocesses) and what it implies: with every core busy for
        # the whole run, no schedule of this work could take less than cpu / cores seconds.
        "cpu_seconds": round(best_cpu, 2),
        "cores": cores,
        "cores_busy": round(best_cpu / report.seconds, 2) if report.seconds else None,
        "cpu_bound_passages_per_s": round(n / (best_cpu / cores), 1) if best_cpu else None,
        "index_dir": str(index_dir),
    }


def cpu_features() -> dict:
    """What this CPU does natively for the embedding's arithmetic (from /proc/cpuinfo; empty where unreadable)."""
    try:
        flags = set(next(ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")).split(":")[1].split())
    except (OSError, StopIteration):
        return {}
    return {"avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
            "bf16_native": bool(flags & {"avx512_bf16", "amx_bf16"}), "amx": "amx_bf16" in flags}


def bf16_quality(dataset_dir: Path, settings: Settings, log) -> dict | None:
    """ObliQA dev nDCG@10 (hybrid) with passages and queries embedded in fp32 and in bf16: the condition under which
    bf16 may become the default. None when the dataset is not on this machine. Indexes are cached in var/eval-cache."""
    from eval.run import evaluate_dataset

    if not (dataset_dir / "corpus.jsonl").exists():
        log(f"bf16 quality: no benchmark at {dataset_dir}; not measured")
        return None
    out = {"dataset": str(dataset_dir), "split": "dev"}
    for dtype in ("fp32", "bf16"):
        t0 = time.perf_counter()
        res = evaluate_dataset(dataset_dir, "dev", ["hybrid"], settings.model_copy(update={"embed_dtype": dtype}), log=log)
        out[dtype] = {"ndcg@10": round(res["hybrid"]["ndcg@10"], 4), "recall@10": round(res["hybrid"]["recall@10"], 4),
                      "seconds": round(time.perf_counter() - t0, 1)}
    out["ndcg_drop"] = round(out["fp32"]["ndcg@10"] - out["bf16"]["ndcg@10"], 4)
    return out


def matmul_gflops(dtype: str = "fp32", n: int = 1024, reps: int = 10) -> float:
    """Sustained matrix-multiply rate torch reaches on this CPU: the ceiling for embedding throughput."""
    import torch

    dt = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    a, b = torch.randn(n, n, dtype=dt), torch.randn(n, n, dtype=dt)
    with torch.inference_mode():
        a @ b
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        dt_s = time.perf_counter() - t
    return round(2 * n**3 * reps / dt_s / 1e9, 1)


def embed_flops_per_passage(model_path: Path, tokens: float) -> float:
    """Multiply-adds x 2 of one forward pass of a BERT encoder over ``tokens`` tokens (weights + attention)."""
    cfg = json.loads((Path(model_path) / "config.json").read_text("utf-8"))
    h, i, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    per_token = layers * (4 * h * h + 2 * h * i + 2 * tokens * h)  # QKVO, FFN, QK^T and AV
    return 2.0 * per_token * tokens
