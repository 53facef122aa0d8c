"""The Protocol implementation map on the bundled corpus: how long each instrument's map takes to compute (the
first request after a new index generation), and how long a computed map takes to serve."""

from __future__ import annotations

import time
from pathlib import Path

from eval.bench.common import percentiles
from ingest.settings import Settings

SERVE_ROUNDS = 50


def bench_map(index_dir: Path, settings: Settings, log) -> dict:
    """Each instrument's map computed cold (a fresh searcher's map: the members' laws read and their concepts
    matched once, counted apart), then served ``SERVE_ROUNDS`` times: the cached map narrowed (whole, one member,
    one article) and serialised to JSON as ``GET /alignment`` does, without HTTP."""
    from pydantic_core import to_json

    from search_api.searcher import Searcher

    searcher = Searcher(settings.model_copy(update={"index_dir": index_dir, "backend": "embedded"}))
    amap = searcher.alignments  # the reviews in the corpus's alignments.csv, as the server reads them
    t0 = time.perf_counter()
    amap.member_laws(searcher.engine.documents())
    out: dict = {"index": str(index_dir), "laws_s": round(time.perf_counter() - t0, 2), "instruments": {}}
    for inst in sorted(i["doc_id"] for i in amap.instruments()):
        t0 = time.perf_counter()
        full = amap.get(inst)
        compute = time.perf_counter() - t0
        member = full["members"][:1] or None  # a corpus slice may hold no member's law
        article = next((r["article_id"] for r in full["articles"] if not r["final_clause"]), None)
        serve: dict[str, list[float]] = {"whole": [], "member": [], "article": []}
        for _ in range(SERVE_ROUNDS):
            for kind, args in (("whole", (None, None)), ("member", (member, None)), ("article", (None, article))):
                t1 = time.perf_counter()
                to_json(amap.get(inst, *args))
                serve[kind].append((time.perf_counter() - t1) * 1000)
        searched = sum(not r["final_clause"] for r in full["articles"])
        out["instruments"][inst] = {
            "articles": len(full["articles"]), "searched_articles": searched, "members": len(full["members"]),
            "compute_s": round(compute, 2), "serve_ms": {k: percentiles(v) for k, v in serve.items()},
        }
        log(f"map {inst}: {searched} articles x {len(full['members'])} members computed in {compute:.2f} s; "
            f"served whole p95 {out['instruments'][inst]['serve_ms']['whole']['p95']} ms")
    return out
