"""``kb search`` and ``kb serve``: the searcher from the command line (``--json`` prints exactly what the API returns),
and the API server with its worker processes."""

from __future__ import annotations

import argparse
import os
import sys

from ingest.cli import print_json
from ingest.settings import Settings


def run_search(args: argparse.Namespace, settings: Settings) -> int:
    from search_api.filters import build_filters  # on use: `kb ingest` and `kb --help` need not load Haystack
    from search_api.searcher import Searcher, SearchRequest

    filters = build_filters(
        members=args.member,
        areas=args.area,
        doc_types=args.doc_type,
        doc_ids=args.doc_id,
        languages=args.language,
        year_from=args.year_from,
        year_to=args.year_to,
        statuses=args.status,
    )
    searcher = Searcher(settings)
    req = SearchRequest(args.query, filters, mode=args.mode, top_k=args.top_k, offset=args.offset, group_by=args.group_by)
    out = searcher.search(req)
    if args.json:
        print_json(out)
        return 0
    print(f"{out['total']} matching sections; showing {len(out['results'])} ({out['mode']}, {out['timing_ms']['total']:.0f} ms)")
    for r in out["results"]:
        c = r["citation"]
        areas = ", ".join(f"{a['label']} ({a['basis']})" for a in r["priority_areas"])
        e = r["explanation"]
        print(f"\n{r['rank']:>2}. {c['text']}  [{r['section_id']}] ({r['status']})")
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


def run_align(args: argparse.Namespace, settings: Settings) -> int:
    from search_api.filters import build_filters
    from search_api.searcher import Searcher

    members = list(build_filters(members=args.member).members)
    out = Searcher(settings).alignments.get(args.instrument, members, args.article)
    if args.json:
        print_json(out)
        return 0
    print(f"{out['instrument']['title']}  [{out['instrument']['doc_id']}]  ({out['computed_ms'] / 1000:.1f} s to compute)")
    for row in out["articles"]:
        print(f"\n{row['number'] or ''} {row['title']}  [{row['article_id']}]")
        if row["final_clause"]:
            print("    final clause: not searched")
        for cell in row["cells"]:
            first = cell["provisions"][0] if cell["provisions"] else None
            where = "; ".join(_short(p) + (" (reviewed)" if p["reviewed"] else "") for p in cell["provisions"])
            if cell["confidence"] == "none found":
                where = f"closest: {_short(first)}" if first else ""
            print(f"    {cell['member']:<15} {cell['confidence']:<10} {cell['score']:6.3f}  {where}")
            if first and cell["confidence"] != "none found" and first["elements"]:
                print("        elements: " + "; ".join(f"{e['element']} ({e['evidence']})" for e in first["elements"]))
    return 0


def _short(provision: dict) -> str:
    """A provision as the map's text output names it: its document id and its designation and heading."""
    c = provision["citation"]
    return " ".join(x for x in (provision["doc_id"], c["section_number"] or "", c["section_title"] or "") if x)


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


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``search`` and ``serve`` to a ``kb`` parser's subcommands."""
    s = sub.add_parser("search", help="search the index")
    s.add_argument("query")
    s.add_argument("--member", action="append", default=[], help="any of these members (repeatable)")
    s.add_argument("--area", action="append", default=[], help="any of these priority areas (repeatable)")
    s.add_argument("--doc-type", action="append", default=[], dest="doc_type")
    s.add_argument("--doc-id", action="append", default=[], dest="doc_id")
    s.add_argument("--language", action="append", default=[])
    s.add_argument("--status", action="append", default=[], help="in_force, repealed or unknown (repeatable)")
    s.add_argument("--year-from", type=int, dest="year_from")
    s.add_argument("--year-to", type=int, dest="year_to")
    s.add_argument("--top-k", type=int, default=10, dest="top_k")
    s.add_argument("--offset", type=int, default=0)
    s.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    s.add_argument("--group-by", choices=["section", "document"], default="section", dest="group_by")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_search)

    s = sub.add_parser("align", help="the Protocol implementation map of an instrument: each member's provisions, article by article")
    s.add_argument("instrument", help="the instrument's document id, e.g. un-trafficking-protocol-2000")
    s.add_argument("--member", action="append", default=[], help="only these members (repeatable)")
    s.add_argument("--article", help="only this article: its section id or path (ch-i.art-3)")
    s.add_argument("--json", action="store_true", help="print exactly what GET /alignment returns")
    s.set_defaults(func=run_align)

    s = sub.add_parser("serve", help="serve the API and web UI")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=None, help="server processes (default: KB_WORKERS, 1)")
    s.set_defaults(func=cmd_serve)
