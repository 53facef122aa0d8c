"""The parallel-text check: each section of a bill, searched with its own text and a language filter, must find its
translation. ``kb eval eval/xling_dev --parallel`` (or ``python -m eval.scripts.parallel_check``).

The Malaysian Anti-Trafficking in Persons Bill 2007 exists in English (``my-atip-bill-2007-en``) and Malay
(``my-atip-bill-2007-ms``), clause by clause. For every numbered section of the English text, its text is the
query, searched with the product's searcher and ``language = ms``; the hit is the Malay section of the same
number (``...s-14`` <-> ``...s-14``: Section 14 <-> Seksyen 14, computed from the two documents' section ids).
Quotation marks are blanked in the query, since the searcher reads a quoted span as a phrase required verbatim.
Reported: hit@1 and hit@5 (the share of sections whose counterpart is first, or in the first five), and the misses.

The index is the one ``kb eval`` builds over a BEIR corpus with document metadata (by default
``eval/xling_dev``'s, the whole corpus split by our splitter), cached in ``var/eval-cache``; the search is
:class:`search_api.searcher.Searcher` with its default hybrid fusion unless ``--mode`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from ingest.settings import PROJECT_ROOT, Settings

# The searcher, the model and the corpus loaders are imported where they are used, so that `kb` registering this
# subcommand's arguments stays cheap.

DEFAULT_DATASET = PROJECT_ROOT / "eval" / "xling_dev"
# Quotation marks in a provision ("“child” means ...") would make the query a required exact phrase (the
# searcher's quoted-phrase syntax), which a translation never holds: they are blanked in the query.
_QUOTES = re.compile(r'["“”„‟]')
SOURCE, TARGET, LANGUAGE = "my-atip-bill-2007-en", "my-atip-bill-2007-ms", "ms"


def section_pairs(corpus: dict[str, dict], source: str, target: str) -> list[tuple[str, str]]:
    """(source section id, target section id) for every numbered section of ``source`` whose number ``target``
    also has (the first of each number in document order), in the source's order."""
    from eval.scripts.build_xling import id_key

    def numbered(doc_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for entry_id, entry in corpus.items():
            if (entry.get("metadata") or {}).get("doc_id") == doc_id and (key := id_key(entry_id)) is not None:
                out.setdefault(key, entry_id)
        return out

    src, tgt = numbered(source), numbered(target)
    return [(sid, tgt[key]) for key, sid in src.items() if key in tgt]


def check_parallel(dataset_dir: Path, settings: Settings, source: str = SOURCE, target: str = TARGET,
                   language: str = LANGUAGE, mode: str = "hybrid", embedder=None, log=print) -> dict:
    """Search every source section's text with the language filter; hit@1, hit@5 and the misses."""
    from eval.datasets import load_beir
    from eval.run import build_eval_index, eval_searcher
    from ingest.embedder import passage_embedder
    from search_api.filters import build_filters
    from search_api.searcher import SearchRequest

    embedder = embedder or passage_embedder(settings)
    index_settings, entry_ids = build_eval_index(dataset_dir, "dev", settings, embedder, log)
    ds = load_beir(dataset_dir, "dev")
    pairs = section_pairs(ds.corpus, source, target)
    if not pairs:
        raise SystemExit(f"no numbered sections shared by {source} and {target} in {dataset_dir}/corpus.jsonl")
    searcher = eval_searcher(index_settings, embedder)
    filters = build_filters(languages=[language])
    rows = []
    for sid, counterpart in pairs:
        query = _QUOTES.sub(" ", ds.corpus[sid]["text"])
        out = searcher.search(SearchRequest(query, filters=filters, mode="hybrid" if mode == "rrf" else mode,
                                            fusion="rrf" if mode == "rrf" else None, top_k=5, facets=False))
        ranked = [entry_ids[int(r["section_id"].rsplit(":e-", 1)[1])] for r in out["results"]]
        rank = ranked.index(counterpart) + 1 if counterpart in ranked else None
        rows.append({"source": sid, "counterpart": counterpart, "rank": rank, "top": ranked[:1]})
    n = len(rows)
    return {
        "source": source, "target": target, "language": language, "mode": mode, "sections": n,
        "hit@1": sum(r["rank"] == 1 for r in rows) / n,
        "hit@5": sum(r["rank"] is not None for r in rows) / n,
        "misses": [r for r in rows if r["rank"] != 1],
    }


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    report = check_parallel(Path(args.dataset_dir), settings, args.source, args.target, args.language, args.mode, log=log)
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"{report['source']} -> {report['target']} (language {report['language']}, {report['mode']}): "
          f"{report['sections']} sections, hit@1 {report['hit@1']:.3f}, hit@5 {report['hit@5']:.3f}")
    for r in report["misses"]:
        where = f"rank {r['rank']}" if r["rank"] else "not in the top 5"
        print(f"  {r['source']}: counterpart {r['counterpart']} {where}; first {r['top'][0] if r['top'] else '-'}")
    return 0


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The module's own command line (``kb eval --parallel`` has the same options)."""
    ap.add_argument("dataset_dir", nargs="?", default=str(DEFAULT_DATASET), help="BEIR dataset whose corpus holds both texts")
    ap.add_argument("--source", default=SOURCE, help="doc_id of the text whose sections are the queries")
    ap.add_argument("--target", default=TARGET, help="doc_id of its translation")
    ap.add_argument("--language", default=LANGUAGE, help="language filter of the searches")
    ap.add_argument("--mode", default="hybrid", choices=["hybrid", "bm25", "dense", "rrf"])
    ap.add_argument("--json", action="store_true")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.scripts.parallel_check", description=__doc__.split("\n\n")[0])
    add_arguments(ap)
    return run_cli(ap.parse_args(argv), Settings())


if __name__ == "__main__":
    sys.exit(main())
