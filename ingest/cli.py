"""``kb ingest``, ``kb documents``, ``kb show``: ingest's own subcommands; and the parser and dispatch that every
package's commands share.

Each package registers its own subcommands (``register(subparsers)``); the ``kb`` command itself
(``eval/kb.py``) only collects them, because only ``eval`` may import all three packages.
``python -m ingest`` runs this package's subcommands alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ingest.errors import KBError
from ingest.settings import Settings

Register = Callable[[argparse._SubParsersAction], None]


def print_json(data: object) -> None:
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
        print_json(report.to_dict())
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
        for w in report.warnings:
            print(f"WARNING {w}", file=sys.stderr)
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
        print_json(rows)
        return 0
    print(f"{'doc_id':36} {'type':10} {'year':9} {'lang':4} {'status':9} {'sections':>8}  title")
    for r in rows:
        year = f"{r['year'] or ''}" + (f"-{r['year_to']}" if r.get("year_to") else "")
        print(f"{r['doc_id']:36} {r['doc_type']:10} {year:9} {r['language']:4} {r['status']:9} {r['sections']:>8}  {r['title'][:70]}")
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
        print_json({"document": docs[args.doc_id].to_dict(), "sections": [s.to_dict() for s in sections]})
        return 0
    d = docs[args.doc_id]
    print(f"{d.title}\n  id {d.doc_id} | {d.doc_type} | {d.year or ''} | {d.language} | {d.status} | {d.path}")
    for s in sections:
        pages = ""
        if s.page_start is not None:
            pages = f"  p. {s.page_start}" + (f"-{s.page_end}" if s.page_end and s.page_end != s.page_start else "")
        label = " ".join(x for x in (s.number or "", s.title) if x) or s.kind
        print(f"{'  ' * s.level}{label[:80]}  [{s.section_id}]{pages}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``ingest``, ``documents`` and ``show`` to a ``kb`` parser's subcommands."""
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


def build_parser(registers: list[Register], prog: str = "kb", description: str = "") -> argparse.ArgumentParser:
    """A parser whose subcommands are those the ``registers`` add, in order."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    sub = p.add_subparsers(dest="command", required=True)
    for add in registers:
        add(sub)
    return p


def dispatch(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; a :class:`KBError` becomes a one-line message and exit status 2."""
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        return args.func(args, settings)
    except KBError as exc:
        print(f"{parser.prog} {args.command}: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """``python -m ingest``: ingest's subcommands only (``kb`` has them all)."""
    parser = build_parser([register], prog="python -m ingest", description="Ingest and inspect the index.")
    return dispatch(parser, argv)
