"""Synthetic tiers of 10k-1M passages, built once per size and code version, and their size on disk."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from eval.bench.common import BENCH_CACHE


def build_tier(real, n: int, model_info: dict, log) -> tuple[Path, dict]:
    """The index root of a tier of ``n`` passages and its build record, built once per size and code version.

    The cache key is the code that shapes a tier, not the real corpus's exact state: a 1M tier takes ~35 min to
    build here, and a synthetic tier drawn from a slightly older corpus costs the same to search. The record
    names the corpus state it was drawn from.
    """
    from eval.synth import synth_artifacts, synth_version
    from ingest.stores import IndexDir, write_generation

    root = BENCH_CACHE / f"tier-{n}-{synth_version()}"
    idx = IndexDir(root / "index")
    record_path = root / "build.json"
    if idx.current_name() and record_path.exists():
        return root / "index", json.loads(record_path.read_text("utf-8"))
    for old in BENCH_CACHE.glob(f"tier-{n}-*"):  # stale versions of this tier: gigabytes at 1M
        shutil.rmtree(old, ignore_errors=True)
    log(f"building tier {n:,} (cached afterwards in {root})")
    t0 = time.perf_counter()
    arts = synth_artifacts(real, n)
    t1 = time.perf_counter()
    idx.ensure()
    write_generation(idx, arts, model_info)
    del arts
    record = {"synth_s": round(t1 - t0, 1), "write_s": round(time.perf_counter() - t1, 1), "source": real.fingerprint}
    log(f"tier {n:,}: synthesised in {record['synth_s']:.0f} s, written in {record['write_s']:.0f} s")
    record_path.write_text(json.dumps(record), "utf-8")
    return root / "index", record


def disk_usage(index_root: Path) -> dict[str, int]:
    from ingest.stores import IndexDir

    gen = IndexDir(index_root).current_path()
    parts = {"vectors": 0, "bm25": 0, "sqlite": 0, "columns": 0}
    for f in gen.rglob("*"):
        if not f.is_file():
            continue
        size = f.stat().st_size
        if f.name == "vectors.npy":
            parts["vectors"] += size
        elif "bm25" in f.parts:
            parts["bm25"] += size
        elif f.suffix == ".sqlite":
            parts["sqlite"] += size
        else:
            parts["columns"] += size
    parts["total"] = sum(parts.values())
    return parts
