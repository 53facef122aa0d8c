"""``kb eval``, ``kb eval-align`` and ``kb bench``: retrieval quality on a BEIR-layout dataset, the Protocol map's
accuracy on its judged cells, and the benchmarks."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ingest.settings import Settings


def tier_sizes(value: str) -> list[int]:
    """``--tiers``: comma-separated corpus sizes in passages (``10000,100_000``), each > 0."""
    try:
        tiers = [int(x.strip().replace("_", "")) for x in value.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated passage counts such as 10000,100000, got {value!r}") from None
    if not tiers or any(n <= 0 for n in tiers):
        raise argparse.ArgumentTypeError(f"expected one or more tiers, each > 0 passages, got {value!r}")
    return tiers


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.parallel:
        from eval.scripts.parallel_check import run_cli

        args.mode = (args.mode or ["hybrid"])[0]
        return run_cli(args, settings)
    from eval.run import run_eval_cli

    return run_eval_cli(args, settings)


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Run the benchmarks (or only the API or the Protocol map part), print the verdicts and where the report went."""
    from eval.bench.runner import rerun_api, rerun_map, run_bench

    out = Path(args.out)

    def log(msg: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    if args.api_only:
        report = rerun_api(out, settings, log=log)
    elif args.map_only:
        report = rerun_map(out, settings, log=log)
    else:
        report = run_bench(out, args.tiers, settings, smoke=args.smoke, log=log, reuse_ingest=args.reuse_ingest,
                           obliqa_dir=Path(args.obliqa) if args.obliqa else None)
    for v in report["verdicts"]:
        met = "n/a" if v["met"] is None else ("met" if v["met"] else "MISSED")
        print(f"{v['target']}: {v['value']} {v['unit']} (limit {v['limit']}) {met}")
    print(f"report written to {out}/report.md, report.json, latency.png")
    return 0


def cmd_eval_align(args: argparse.Namespace, settings: Settings) -> int:
    from eval.alignment import run

    return run(args, settings)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``eval``, ``eval-align`` and ``bench`` to a ``kb`` parser's subcommands."""
    s = sub.add_parser("eval", help="evaluate retrieval on a BEIR-layout dataset")
    s.add_argument("dataset_dir")
    s.add_argument("--split", default="dev")
    s.add_argument("--mode", action="append", choices=["hybrid", "bm25", "dense", "rrf"], default=[])
    s.add_argument("--json", action="store_true")
    s.add_argument("--filters", action="store_true",
                   help="apply each query's metadata.filters (member, doc_type, language, years; not area) to its search")
    s.add_argument("--parallel", action="store_true",
                   help="instead of the questions, the parallel-text check over the dataset's corpus: each section of "
                   "--source, searched with --language, must find the same-numbered section of --target (hit@1, hit@5)")
    s.add_argument("--source", default="my-atip-bill-2007-en", help="with --parallel: the text whose sections are queries")
    s.add_argument("--target", default="my-atip-bill-2007-ms", help="with --parallel: its translation")
    s.add_argument("--language", default="ms", help="with --parallel: the language filter of the searches")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("eval-align", help="score the Protocol map on a judged set (top-1, top-3, none found)")
    from eval.alignment import add_arguments

    add_arguments(s)
    s.set_defaults(func=cmd_eval_align)

    s = sub.add_parser("bench", help="run the benchmarks and write eval/bench_results/")
    s.add_argument("--tiers", type=tier_sizes, default="10000,100000,1000000", help="corpus sizes in passages")
    s.add_argument("--out", default="eval/bench_results")
    s.add_argument("--smoke", action="store_true", help="a tiny tier only (CI)")
    s.add_argument("--api-only", action="store_true", help="re-measure only the API into the existing report in --out")
    s.add_argument("--map-only", action="store_true", help="re-measure only the Protocol map into the existing report in --out")
    s.add_argument("--obliqa", default=None, help="ObliQA (BEIR layout) for the bf16 quality check; default ../shared/benchmarks/obliqa")
    s.add_argument("--reuse-ingest", action="store_true", help="keep the ingest figures of the report in --out; measure the rest again")
    s.set_defaults(func=cmd_bench)
