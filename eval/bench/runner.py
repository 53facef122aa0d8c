"""The run: ingest rounds, tiers, one worker per tier, API load; writes report.json, report.md and latency.png."""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from pathlib import Path

from eval.bench.alignment_map import bench_map
from eval.bench.api_load import bench_api
from eval.bench.common import (API_REQUESTS_CORPUS, BENCH_CACHE, MODES, SMOKE_DOCS, SMOKE_QUERIES, SMOKE_TIER, TARGETS,
                               load_queries)
from eval.bench.ingest_rounds import INGEST_ROUNDS, bench_ingest, bf16_quality, cpu_features, embed_flops_per_passage, matmul_gflops
from eval.bench.report import plot_latency, render_markdown, verdicts
from eval.bench.tiers import build_tier, disk_usage
from eval.bench.worker import spawn_worker
from ingest.errors import IndexUnavailableError
from ingest.manifest import copy_slice
from ingest.settings import PROJECT_ROOT, Settings

DEFAULT_OBLIQA = PROJECT_ROOT.parent / "shared" / "benchmarks" / "obliqa"


def run_bench(out: Path, tiers: list[int], settings: Settings, smoke: bool = False, log=print, reuse_ingest: bool = False,
              obliqa_dir: Path | None = None) -> dict:
    """Measure everything and write the report files into ``out``; returns the report data.

    ``reuse_ingest``: keep the ingest measurements (and their indexes under ``var/bench/run``) of the report
    already in ``out`` and measure the rest again, after a change to the query path.
    """
    out.mkdir(parents=True, exist_ok=True)
    work = BENCH_CACHE / ("smoke" if smoke else "run")
    previous = json.loads((out / "report.json").read_text("utf-8")) if reuse_ingest else None
    if previous is None:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    queries = load_queries()
    if smoke:
        queries = queries[:SMOKE_QUERIES - 1] + [q for q in queries if q["filters"]][:1]
        tiers = [SMOKE_TIER]
    report: dict = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "smoke": smoke,
        "machine": _machine(),
        "queries": len(queries),
        "targets": TARGETS,
    }
    # 1. Ingest throughput on the real corpus, fp32 then bf16 (a small slice in smoke runs).
    _measure_ingest(report, settings, work, previous, obliqa_dir, log)
    # 2. and 3. Tiers built from the real corpus just ingested; latency, floor, Haystack and memory per tier.
    tiers = _measure_tiers(report, settings, tiers, queries, work, log)
    # 4. API load against the 100k tier (the largest tier up to 100k otherwise); not in smoke runs.
    if smoke:
        report["api"] = {"skipped": "smoke run"}
    else:
        report["api"] = {"tier": max((n for n in tiers if n <= 100_000), default=tiers[0])}
        _measure_api(report, settings, queries, log)
    # 5. The Protocol map of every instrument on the bundled corpus: computed cold, then served.
    report["map"] = bench_map(Path(report["ingest"]["runs"]["fp32"]["index_dir"]), settings, log)

    report["seconds"] = round(time.perf_counter() - started, 1)
    _write_report(out, report)
    return report


def _machine() -> dict:
    import psutil

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "cpu_features": cpu_features(),
    }


def _measure_ingest(report: dict, settings: Settings, work: Path, previous: dict | None, obliqa_dir: Path | None, log) -> None:
    """``report["ingest"]``: cold ingests in fp32 and bf16 (or the previous report's), the matmul ceiling, bf16's quality."""
    smoke = report["smoke"]
    corpus_dir = copy_slice(PROJECT_ROOT / "corpus", work / "corpus", SMOKE_DOCS) if smoke else settings.corpus_dir
    ingest_runs = {}
    if previous is not None:
        ingest_runs = previous["ingest"]["runs"]
        report["ingest_measured"] = previous.get("ingest_measured", previous["started"])  # a reused report keeps the first date
        log(f"reusing the ingest measured on {report['ingest_measured']}")
        from ingest.stores import IndexDir, rewrite_if_other_code

        for run in ingest_runs.values():  # its indexes, rewritten (not re-embedded) if this code stores them otherwise
            if rewrite_if_other_code(IndexDir(Path(run["index_dir"]))):
                log(f"rewrote {run['index_dir']} for the current analyzer and vector storage")
    else:
        for dtype in ("fp32", "bf16"):
            ingest_runs[dtype] = bench_ingest(settings, corpus_dir, work, dtype, log, rounds=1 if smoke else INGEST_ROUNDS)
            log(f"ingest {dtype}: {ingest_runs[dtype]['passages_per_s']} passages/s; stages {ingest_runs[dtype]['stage_seconds']}")
    fp32 = ingest_runs["fp32"]
    size = 256 if smoke else 1024
    ceiling = {"fp32": matmul_gflops("fp32", n=size), "bf16": matmul_gflops("bf16", n=size, reps=3)}
    flops = embed_flops_per_passage(settings.resolved_model_path(), fp32["tokens_per_passage"])
    report["ingest"] = {
        "corpus": str(corpus_dir.relative_to(PROJECT_ROOT)) if corpus_dir.is_relative_to(PROJECT_ROOT) else str(corpus_dir),
        "runs": ingest_runs,
        "embed_gflop_per_passage": round(flops / 1e9, 2),
        "embed_gflops_achieved": {d: round(flops * r["stage_passages_per_s"]["embed"] / 1e9, 1) for d, r in ingest_runs.items()},
        "matmul_gflops_ceiling": ceiling,
        "fp32_embed_ceiling_passages_per_s": round(ceiling["fp32"] * 1e9 / flops, 1),
        "bf16_quality": (previous["ingest"].get("bf16_quality") if previous is not None
                         else None if smoke else bf16_quality(obliqa_dir or DEFAULT_OBLIQA, settings, log)),
    }


def _measure_tiers(report: dict, settings: Settings, tiers: list[int], queries: list[dict], work: Path, log) -> list[int]:
    """Build the tiers from the fp32 ingest's index, then measure each in a fresh worker process; returns the tiers
    measured (those not below the real corpus's size)."""
    from eval.synth import read_real_corpus
    from ingest.stores import open_current

    smoke = report["smoke"]
    gen = open_current(Path(report["ingest"]["runs"]["fp32"]["index_dir"]))
    real = read_real_corpus(gen)
    model_info = gen.manifest["model"]
    gen.close()
    tiers = sorted(t for t in tiers if t >= real.n_passages) or [max(real.n_passages, SMOKE_TIER)]
    report["real_passages"] = real.n_passages
    built = {n: build_tier(real, n, model_info, log) for n in tiers}
    tier_dirs = {n: b[0] for n, b in built.items()}
    report["tier_builds"] = {str(n): {**b[1], "current_source": real.fingerprint} for n, b in built.items()}
    # Haystack's InMemoryDocumentStore is compared at 10k (or the smallest tier up to that): beyond, it is too slow,
    # and loading every passage into it is what it cannot do at 1M.
    haystack_tier = 10_000 if 10_000 in tiers else (tiers[0] if tiers[0] <= 10_000 else None)
    report["tiers"] = {}
    for n in tiers:
        rounds = 2 if smoke or n >= 500_000 else 3
        spec = {
            "name": str(n),
            "settings": settings.model_copy(update={"index_dir": tier_dirs[n], "backend": "embedded", "embed_dtype": "fp32"}).model_dump(mode="json"),
            "queries": queries,
            "rounds": rounds,
            "haystack": n == haystack_tier,
        }
        log(f"measuring tier {n:,} ({rounds} rounds x {len(queries)} queries x {len(MODES)} modes)")
        res = spawn_worker(spec, work)
        res["disk"] = disk_usage(tier_dirs[n])
        res["index_dir"] = str(tier_dirs[n])
        report["tiers"][str(n)] = res
        lat = res["latency"]
        log(f"tier {n:,}: " + ", ".join(f"{m} p50 {lat[m]['total']['p50']} p95 {lat[m]['total']['p95']} ms" for m in MODES))
    return tiers


def _measure_api(report: dict, settings: Settings, queries: list[dict], log) -> None:
    """The API on the bundled corpus (the issue target: p95 under 100 ms with 8 clients; and the reliability load
    test: 5,000 hybrid searches from 32 concurrent clients, zero errors), then on the tier ``report["api"]`` names."""
    corpus_index = Path(report["ingest"]["runs"]["fp32"]["index_dir"])
    report["api_corpus"] = {"tier": report["real_passages"], **bench_api(corpus_index, settings, queries, log, API_REQUESTS_CORPUS)}
    tier = report["api"]["tier"]
    report["api"] = {"tier": tier, **bench_api(Path(report["tiers"][str(tier)]["index_dir"]), settings, queries, log)}


def _write_report(out: Path, report: dict) -> None:
    report["verdicts"] = verdicts(report)
    (out / "report.json").write_text(json.dumps(report, indent=1), "utf-8")
    (out / "report.md").write_text(render_markdown(report), "utf-8")
    plot_latency(report, out / "latency.png")


def _measure_again(out: Path, report: dict, option: str, needed: list[Path], measure, stamp: str) -> dict:
    """Measure one part again into ``report``, the full report in ``out``, on indexes that run left in
    ``var/bench/`` (``needed``), and record when: ``measure(report)`` fills the part in."""
    missing = [str(p) for p in needed if not (p / "CURRENT").is_file()]
    if missing:
        raise IndexUnavailableError(
            f"kb bench {option} measures again the indexes of the run in {out}, and these are gone: {', '.join(missing)} "
            "(a fresh checkout or machine); run kb bench (or kb bench --reuse-ingest) first")
    measure(report)
    report[stamp] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _write_report(out, report)
    return report


def _read_report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text("utf-8"))


def rerun_api(out: Path, settings: Settings, log=print) -> dict:
    """Measure the API again into an existing full report (after a change to the serving path), reusing the
    indexes that run left in ``var/bench/``; the report records when each part was measured."""
    report = _read_report(out)
    needed = [Path(report["ingest"]["runs"]["fp32"]["index_dir"]), Path(report["tiers"][str(report["api"]["tier"])]["index_dir"])]
    return _measure_again(out, report, "--api-only", needed, lambda r: _measure_api(r, settings, load_queries(), log), "api_measured")


def rerun_map(out: Path, settings: Settings, log=print) -> dict:
    """Measure the Protocol map again into an existing report, on the bundled corpus's index that run left."""
    report = _read_report(out)
    index = Path(report["ingest"]["runs"]["fp32"]["index_dir"])
    return _measure_again(out, report, "--map-only", [index], lambda r: r.update(map=bench_map(index, settings, log)), "map_measured")
