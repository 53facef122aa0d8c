"""``kb search``: the searcher from the command line; ``--json`` prints exactly what the API returns."""

from __future__ import annotations

import argparse
import json
import sys

from ingest.settings import Settings
from search_api.filters import build_filters
from search_api.searcher import Searcher, SearchRequest


def run_search(args: argparse.Namespace, settings: Settings) -> int:
    filters = build_filters(
        members=args.member,
        areas=args.area,
        doc_types=args.doc_type,
        doc_ids=args.doc_id,
        languages=args.language,
        year_from=args.year_from,
        year_to=args.year_to,
    )
    searcher = Searcher(settings)
    req = SearchRequest(args.query, filters, mode=args.mode, top_k=args.top_k, offset=args.offset, group_by=args.group_by)
    out = searcher.search(req)
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{out['total']} matching sections; showing {len(out['results'])} ({out['mode']}, {out['timing_ms']['total']:.0f} ms)")
    for r in out["results"]:
        c = r["citation"]
        areas = ", ".join(f"{a['label']} ({a['basis']})" for a in r["priority_areas"])
        e = r["explanation"]
        print(f"\n{r['rank']:>2}. {c['text']}  [{r['section_id']}]")
        if areas:
            print(f"    areas: {areas}")
        print(f"    why: bm25 #{e['bm25']['rank']} ({e['bm25']['score']}), dense #{e['dense']['rank']} ({e['dense']['score']}), fused {e['fused']}")
        snippet = " ".join(r["text"].split())
        print(f"    {snippet[:300]}{'...' if len(snippet) > 300 else ''}")
    if out["facets"]:
        print("\nfacets:")
        for name, counts in out["facets"].items():
            top = ", ".join(f"{k} {v}" for k, v in list(counts.items())[:8])
            print(f"  {name}: {top}")
    return 0
