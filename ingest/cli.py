"""The ``kb`` command: ingest, inspect, search, evaluate, serve, benchmark."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ingest.errors import KBError
from ingest.settings import Settings


def _print_json(data: object) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


# ---------------------------------------------------------------------------------------------------------
# kb ingest


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from ingest.pipeline import ingest

    bars: dict[str, tqdm] = {}

    def on_progress(stage: str, done: int, total: int) -> None:
        if args.json or not total:
            return
        label = {"load": "documents", "embed": "passages"}[stage]
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"{stage:>5}", unit=f" {label}", file=sys.stderr, leave=True)
        bar.update(done - bar.n)

    report = ingest([Path(p) for p in args.paths] or None, settings, on_progress=on_progress)
    for bar in bars.values():
        bar.close()
    if args.json:
        _print_json(report.to_dict())
    else:
        print(
            f"{report.documents} documents, {report.sections} sections, {report.passages} passages in the index "
            f"(generation {report.generation})"
        )
        print(
            f"added {len(report.added)}, updated {len(report.updated)}, unchanged (skipped) {len(report.unchanged)}, "
            f"deleted {len(report.deleted)}, failed {len(report.failed)}; "
            f"{report.passages_embedded} passages embedded, {report.pages_ocr} pages OCR'd, {report.seconds:.1f} s"
        )
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.stage_seconds.items())
        print(f"stages: {stages}")
        for doc_id, fields in sorted(report.inferred.items()):
            print(f"inferred metadata for {doc_id}: {', '.join(fields)} (no manifest entry)")
        for d in report.deleted:
            print(f"deleted {d} (its file is gone)")
        for f in report.failed:
            print(f"FAILED {f.error}", file=sys.stderr)
    return 0 if report.ok else 1


# ---------------------------------------------------------------------------------------------------------
# kb documents / kb show / kb delete


def cmd_documents(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.stores import open_current

    gen = open_current(settings.index_dir)
    docs = list(gen.documents().values())
    counts = dict(gen.db.execute("SELECT doc_row, count(*) FROM sections GROUP BY doc_row").fetchall())
    rows = []
    for i, d in enumerate(docs):
        rows.append({**d.to_dict(), "sections": counts.get(i, 0)})
    if args.json:
        _print_json(rows)
        return 0
    print(f"{'doc_id':36} {'type':10} {'year':9} {'lang':4} {'sections':>8}  title")
    for r in rows:
        year = f"{r['year'] or ''}" + (f"-{r['year_to']}" if r.get("year_to") else "")
        print(f"{r['doc_id']:36} {r['doc_type']:10} {year:9} {r['language']:4} {r['sections']:>8}  {r['title'][:70]}")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.errors import NotFoundError
    from ingest.stores import open_current

    gen = open_current(settings.index_dir)
    docs = gen.documents()
    if args.doc_id not in docs:
        raise NotFoundError(f"no document {args.doc_id!r} in the index; `kb documents` lists them")
    sections = gen.sections_of(args.doc_id)
    if args.json:
        _print_json({"document": docs[args.doc_id].to_dict(), "sections": [s.to_dict() for s in sections]})
        return 0
    d = docs[args.doc_id]
    print(f"{d.title}\n  id {d.doc_id} | {d.doc_type} | {d.year or ''} | {d.language} | {d.path}")
    for s in sections:
        pages = ""
        if s.page_start is not None:
            pages = f"  p. {s.page_start}" + (f"-{s.page_end}" if s.page_end and s.page_end != s.page_start else "")
        label = " ".join(x for x in (s.number or "", s.title) if x) or s.kind
        print(f"{'  ' * s.level}{label[:80]}  [{s.section_id}]{pages}")
    return 0


# ---------------------------------------------------------------------------------------------------------
# kb search / eval / serve / bench (implemented in search_api and eval)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from search_api.cli import run_search

    return run_search(args, settings)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from eval.run import run_eval_cli

    return run_eval_cli(args, settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from search_api.app import create_app

    workers = args.workers if args.workers is not None else settings.workers
    if workers > 1:
        # Each worker process builds the app from the same KB_* environment; the index maps are shared through
        # the page cache. Python work per request holds the GIL, so one process serves one request at a time.
        # The cores are shared out for query embedding too: with two workers on two cores, one embedding thread
        # each (onnxruntime's work on that thread alone) rather than two threads of two. Measured with 8 clients,
        # three interleaved runs: 18.8-25.3 ms of server CPU per search against 24.1-27.1, p95 120-161 ms
        # against 158-177; one client waits ~2 ms longer (p50 23 ms against 21).
        if settings.query_threads is None:
            os.environ["KB_QUERY_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
        _serve_workers(args.host, args.port, workers)
    else:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def _serve_workers(host: str, port: int, workers: int) -> None:
    """Like ``uvicorn.run(..., workers=N)``, with one listening socket per worker, all bound with SO_REUSEPORT.

    uvicorn's workers share one socket, and whichever wakes first accepts every connection waiting: measured
    here, 8 kept-alive clients all landed on one worker, which did 16.3 s of CPU while the other did 0.04 s.
    With a socket each, the kernel spreads new connections over the workers, and a worker holding more than its
    share asks one client at a time to reconnect (``search_api.balance``). The sockets are also made for TCP
    (uvicorn's say protocol 0, so asyncio never sets TCP_NODELAY and each response body waited for the delayed
    ACK of its headers: 28 ms searches took 64 ms over a kept-alive connection).
    """
    import socket

    import uvicorn
    from uvicorn.supervisors.multiprocess import Multiprocess, Process

    config = uvicorn.Config("search_api.app:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info")
    if not sys.platform.startswith("linux"):  # only Linux spreads connections over SO_REUSEPORT sockets
        Multiprocess(config, sockets=[config.bind_socket()]).run()  # what uvicorn.run does for workers > 1
        return
    family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)[0]
    sockets = []
    for _ in range(workers):
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.bind(addr if not sockets else sockets[0].getsockname())  # port 0: the first one's port for all
        except OSError as exc:
            sys.exit(f"kb serve: cannot listen on {host}:{port}: {exc}")
        sock.set_inheritable(True)
        sockets.append(sock)

    class OneSocketEach(Multiprocess):  # a worker uvicorn restarts listens on the first socket
        def init_processes(self) -> None:
            for sock in sockets:
                process = Process(self.config, [sock])
                process.start()
                self.processes.append(process)

    from search_api.balance import ENV

    bound = sockets[0].getsockname()[1]
    os.environ[ENV] = f"{bound}:{workers}"  # the workers (spawned with this environment) even out connections
    print(f"kb serve: {workers} workers on http://{host}:{bound}", file=sys.stderr)
    OneSocketEach(config, sockets=sockets[:1]).run()


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from eval.bench import run_bench_cli

    return run_bench_cli(args, settings)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kb", description="Bali Process knowledge base: ingest, search, evaluate, serve.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="ingest files or directories (default: corpus/) into the index")
    s.add_argument("paths", nargs="*", help="files or directories")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("documents", help="list the indexed documents")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_documents)

    s = sub.add_parser("show", help="print a document's section tree with ids and pages")
    s.add_argument("doc_id")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("search", help="search the index")
    s.add_argument("query")
    s.add_argument("--member", action="append", default=[], help="any of these members (repeatable)")
    s.add_argument("--area", action="append", default=[], help="any of these priority areas (repeatable)")
    s.add_argument("--doc-type", action="append", default=[], dest="doc_type")
    s.add_argument("--doc-id", action="append", default=[], dest="doc_id")
    s.add_argument("--language", action="append", default=[])
    s.add_argument("--year-from", type=int, dest="year_from")
    s.add_argument("--year-to", type=int, dest="year_to")
    s.add_argument("--top-k", type=int, default=10, dest="top_k")
    s.add_argument("--offset", type=int, default=0)
    s.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    s.add_argument("--group-by", choices=["section", "document"], default="section", dest="group_by")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("eval", help="evaluate retrieval on a BEIR-layout dataset")
    s.add_argument("dataset_dir")
    s.add_argument("--split", default="dev")
    s.add_argument("--mode", action="append", choices=["hybrid", "bm25", "dense", "rrf"], default=[])
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("serve", help="serve the API and web UI")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=None, help="server processes (default: KB_WORKERS, 1)")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("bench", help="run the benchmarks and write eval/bench_results/")
    s.add_argument("--tiers", default="10000,100000,1000000", help="corpus sizes in passages")
    s.add_argument("--out", default="eval/bench_results")
    s.add_argument("--smoke", action="store_true", help="a tiny tier only (CI)")
    s.add_argument("--api-only", action="store_true", help="re-measure only the API into the existing report in --out")
    s.add_argument("--obliqa", default=None, help="ObliQA (BEIR layout) for the bf16 quality check; default ../shared/benchmarks/obliqa")
    s.add_argument("--reuse-ingest", action="store_true", help="keep the ingest figures of the report in --out; measure the rest again")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        return args.func(args, settings)
    except KBError as exc:
        print(f"kb {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
