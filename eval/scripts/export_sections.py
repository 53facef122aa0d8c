"""Export every section of our corpus as the BEIR corpus of the Bali Process dev set.

``python -m eval.scripts.export_sections`` loads each document of ``corpus/manifest.csv`` with our loader, splits
it with our splitter and writes one line per section to ``eval/bali_dev/corpus.jsonl``::

    {"_id": section_id, "title": " > ".join(heading_path), "text": ..., "metadata": {doc_id, doc_type,
     year, members, language, page_start, page_end}}

Section ids are the splitter's stable structural ids (``doc_id:path``), so the judgements in
``eval/bali_dev/qrels/*.tsv`` refer to them directly.

``python -m eval.scripts.export_sections --check`` re-splits the corpus with the current splitter *without writing
anything* and reports every judged id (qrels) that no longer exists, plus how the fresh export differs
from the committed ``corpus.jsonl``; it exits 1 when a judged id is missing or the corpus is stale.

Loading the scanned Pakistan PDF needs OCR (about a minute); ``--cache DIR`` keeps loaded documents in
DIR, keyed by the file's hash and the loader's source, so repeated runs are quick.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from pathlib import Path

from ingest.loaders import LoadedDocument, load_file
from ingest.manifest import MANIFEST_NAME, load_manifest
from ingest.schema import DocumentMeta, Section
from ingest.sections import split_sections

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "corpus"
DATASET_DIR = ROOT / "eval" / "bali_dev"


def _loader_key(path: Path) -> str:
    h = hashlib.sha256(path.read_bytes())
    for src in ("loaders.py", "settings.py"):
        p = ROOT / "ingest" / src
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:32]


def load_cached(path: Path, cache: Path | None) -> LoadedDocument:
    if cache is None:
        return load_file(path)
    cache.mkdir(parents=True, exist_ok=True)
    key = cache / f"{path.stem}-{_loader_key(path)}.pickle"
    if key.exists():
        with open(key, "rb") as fh:
            return pickle.load(fh)
    loaded = load_file(path)
    with open(key, "wb") as fh:
        pickle.dump(loaded, fh)
    return loaded


def corpus_entry(meta: DocumentMeta, s: Section) -> dict:
    """The BEIR corpus entry of one section: its id, heading path, text and its document's metadata (members
    followed by the jurisdiction, without repeats)."""
    return {
        "_id": s.section_id,
        "title": " > ".join(s.heading_path),
        "text": s.text,
        "metadata": {
            "doc_id": meta.doc_id,
            "doc_type": meta.doc_type,
            "year": meta.year,
            "members": list(dict.fromkeys(meta.members + ([meta.jurisdiction] if meta.jurisdiction else []))),
            "language": meta.language,
            "page_start": s.page_start,
            "page_end": s.page_end,
        },
    }


def export_entries(corpus_dir: Path = CORPUS_DIR, cache: Path | None = None, log=print) -> list[dict]:
    """One BEIR corpus entry per non-empty section, in manifest and document order."""
    entries: list[dict] = []
    for path, meta in load_manifest(corpus_dir / MANIFEST_NAME).items():  # in the manifest's order
        loaded = load_cached(path, cache)
        sections = split_sections(meta, loaded)
        kept = 0
        for s in sections:
            if not s.text.strip():
                continue
            kept += 1
            entries.append(corpus_entry(meta, s))
        log(f"{meta.doc_id}: {kept} sections ({len(sections) - kept} empty skipped)")
    ids = [e["_id"] for e in entries]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SystemExit(f"duplicate section ids from the splitter: {dupes[:10]}")
    return entries


def write_corpus(entries: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        for e in entries:
            fh.write(json.dumps(e, ensure_ascii=False) + "\n")


def read_qrels(dataset_dir: Path) -> list[tuple[str, str, str, int]]:
    """(file name, query id, corpus id, score) of every judgement in ``qrels/*.tsv``."""
    out = []
    for tsv in sorted((dataset_dir / "qrels").glob("*.tsv")):
        with open(tsv, encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                parts = line.rstrip("\n").split("\t")
                if i == 0 and parts[0] == "query-id":
                    continue
                if len(parts) == 3:
                    out.append((tsv.name, parts[0], parts[1], int(parts[2])))
    return out


def check(entries: list[dict], dataset_dir: Path) -> int:
    """Report judged ids missing from a fresh export, and drift against the committed corpus.jsonl."""
    fresh = {e["_id"]: e for e in entries}
    problems = 0
    missing = [(f, q, c, s) for f, q, c, s in read_qrels(dataset_dir) if c not in fresh]
    if missing:
        problems += len(missing)
        print(f"{len(missing)} judged section id(s) no longer produced by the splitter:")
        for f, q, c, s in missing:
            print(f"  {f}\t{q}\t{c}\t{s}")
    else:
        print("every judged section id exists in the fresh export")
    corpus_path = dataset_dir / "corpus.jsonl"
    committed = {}
    if corpus_path.exists():
        with open(corpus_path, encoding="utf-8") as fh:
            committed = {e["_id"]: e for e in map(json.loads, filter(str.strip, fh))}
    gone = sorted(set(committed) - set(fresh))
    new = sorted(set(fresh) - set(committed))
    changed = sorted(i for i in set(fresh) & set(committed) if fresh[i] != committed[i])
    if gone or new or changed:
        problems += 1
        print(
            f"corpus.jsonl is stale: {len(gone)} id(s) gone, {len(new)} new, {len(changed)} changed "
            "(re-run without --check to rewrite it)"
        )
        for label, ids in (("gone", gone), ("new", new), ("changed", changed)):
            for i in ids[:25]:
                print(f"  {label}: {i}")
            if len(ids) > 25:
                print(f"  ... {len(ids) - 25} more {label}")
    else:
        print(f"corpus.jsonl matches the fresh export ({len(fresh)} sections)")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.scripts.export_sections", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="re-split and report judged ids that no longer exist; write nothing")
    ap.add_argument("--corpus-dir", type=Path, default=CORPUS_DIR)
    ap.add_argument("--dataset-dir", type=Path, default=DATASET_DIR)
    ap.add_argument("--cache", type=Path, default=None, help="keep loaded documents here (e.g. /tmp/bali_dev_cache)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    log = (lambda *a, **k: None) if args.quiet else (lambda *a, **k: print(*a, file=sys.stderr, **k))
    entries = export_entries(args.corpus_dir, args.cache, log)
    if args.check:
        return check(entries, args.dataset_dir)
    write_corpus(entries, args.dataset_dir / "corpus.jsonl")
    log(f"wrote {len(entries)} sections to {args.dataset_dir / 'corpus.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
