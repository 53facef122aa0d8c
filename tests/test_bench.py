"""`kb bench --smoke` runs every part of the benchmark on a tiny tier and writes a complete report; bad arguments
are named, not a traceback.

Timings depend on the machine and on whatever else it is doing, so nothing here asserts a number.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.settings import PROJECT_ROOT

SECTIONS = (
    "# Performance at scale",
    "## Targets",
    "## Query latency",
    "## Against the floor and Haystack",
    "## Ingest throughput",
    "## Memory and disk",
    "## API",
    "## Protocol map",
    "## Synthetic tiers",
)


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    kb = Path(sys.executable).with_name("kb")
    proc = subprocess.run([str(kb), "bench", "--smoke", "--out", str(out)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.slow
@pytest.mark.integration
def test_smoke_bench_writes_markdown_json_and_plot(smoke_report):
    for name in ("report.md", "report.json", "latency.png"):
        assert (smoke_report / name).stat().st_size > 0, name
    assert (smoke_report / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.integration
def test_smoke_report_has_every_section(smoke_report):
    md = (smoke_report / "report.md").read_text("utf-8")
    missing = [s for s in SECTIONS if s not in md]
    assert not missing, missing


@pytest.mark.slow
@pytest.mark.integration
def test_smoke_report_json_covers_every_mode_baseline_and_dtype(smoke_report):
    r = json.loads((smoke_report / "report.json").read_text("utf-8"))
    assert r["smoke"] is True
    (tier,) = r["tiers"].values()
    assert set(tier["latency"]) == {"bm25", "dense", "hybrid", "hybrid+filters"}
    for mode in tier["latency"].values():
        assert {"total", "embed", "search"} <= set(mode)
        assert {"p50", "p95", "p99"} <= set(mode["total"])
    assert {"bm25", "dense", "both"} == set(tier["floor"])
    # ours given the same query vector as the floor: up to fusion, and the whole search
    assert tier["same_vector"]["retrieve"]["p50"] <= tier["same_vector"]["search"]["p50"]
    assert "speedup_p50" in tier["haystack"]
    assert tier["memory"]["rss_bytes"] > 0 and tier["disk"]["total"] > 0
    assert set(r["ingest"]["runs"]) == {"fp32", "bf16"}
    for run in r["ingest"]["runs"].values():
        assert set(run["stage_seconds"]) >= {"load", "split", "embed", "write"}
        # CPU time cannot exceed cores x wall time, so the ceiling it implies is never below what was measured
        assert run["cpu_seconds"] > 0 and run["cpu_bound_passages_per_s"] >= 0.99 * run["passages_per_s"]
    assert "skipped" in r["api"]  # no API load in smoke runs
    assert r["map"]["instruments"] == {}  # the smoke slice holds no instrument: the map part runs and says so
    assert {v["target"] for v in r["verdicts"]}


@pytest.mark.parametrize("tiers", ["abc", "10000,x", "0", ""])
def test_bad_tiers_are_named_in_a_usage_error_not_a_traceback(tiers):
    kb = Path(sys.executable).with_name("kb")
    proc = subprocess.run([str(kb), "bench", "--tiers", tiers], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "argument --tiers: " in proc.stderr and repr(tiers) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_api_only_without_the_runs_indexes_names_them_instead_of_a_traceback(tmp_path):
    """A report whose indexes are gone (the committed one names var/bench/ of the machine that ran it)."""
    import json

    report = json.loads((PROJECT_ROOT / "eval" / "bench_results" / "report.json").read_text("utf-8"))
    report["ingest"]["runs"]["fp32"]["index_dir"] = str(tmp_path / "ingest-fp32")
    report["tiers"][str(report["api"]["tier"])]["index_dir"] = str(tmp_path / "tier")
    (tmp_path / "report.json").write_text(json.dumps(report), "utf-8")
    kb = Path(sys.executable).with_name("kb")
    proc = subprocess.run([str(kb), "bench", "--api-only", "--out", str(tmp_path)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "KB_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "ingest-fp32" in proc.stderr and "run kb bench" in proc.stderr
