"""Build the cross-lingual dev set's ``corpus.jsonl`` and ``qrels/dev.tsv`` from judgements by designation.

The judgements of ``eval/xling_dev`` were made by reading the provisions, and are kept as
``judgements_src.tsv`` (``query-id, doc-id, designation, grade``) where the designation is the one printed in
the law (``มาตรา ๖``, ``第二百四十条之一``, ``ধারা ২৮``, ``Madde 60/A``, ``Pasal 30``, ``Article I``, ``§ 1593``).
Section ids come from our splitter, so this script loads and splits every manifest document with the real
ingest code (as ``eval.scripts.export_sections`` does), resolves each designation to the section id the
splitter gives it, and writes::

    eval/xling_dev/corpus.jsonl    one line per non-empty section of the whole corpus (the bali_dev format)
    eval/xling_dev/qrels/dev.tsv   query-id, corpus-id, grade

A designation resolves by its number: the Chinese ``第…条(之…)`` numerals, Thai and Bengali digits, a letter
suffix (``57B``, ``60/A``) and Roman numerals are read, and the section whose id ends in ``<kind>-<number>``
(``s-6``, ``art-240-1``, ``s-5a``, ``art-60-a``, ``pasal-30``, ``art-i``; not a chapter or a generic heading) is
taken; the first such section
in document order wins (a body article before its explanation). Two other forms name what has no number:
``@path`` (the last parts of a section id, e.g. ``@penjelasan.ii.pasal-30``, ``@s-1324.a``) and
``text:...`` (a piece of the section's own text, whitespace ignored; the shortest section holding it).

Anything that does not resolve (a document the loader cannot read yet, a number the splitter did not cut)
is listed with its query and the script exits 1 without writing; ``--check`` resolves and reports only.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from eval.scripts.export_sections import corpus_entry, load_cached, write_corpus
from ingest.manifest import MANIFEST_NAME, load_manifest
from ingest.sections import split_sections

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "corpus"
DATASET_DIR = ROOT / "eval" / "xling_dev"
SOURCE_NAME = "judgements_src.tsv"

_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙০১২৩৪৫৬৭৮৯０１２３４５６７８９", "0123456789" * 3)
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
_CN_ARTICLE = re.compile(r"第([零〇一二两三四五六七八九十百千]+)条(?:之([零〇一二两三四五六七八九十]+))?")
_NUMBER = re.compile(r"(\d+)\s*(?:/\s*)?([A-Za-z])?(?![A-Za-z])")
_ROMAN_WORD = re.compile(r"\b([IVXLC]+)\b")
# the kinds of id part that carry a provision number (not chapters, rows or generic headings such as x-2)
_PROVISION_KINDS = ("s", "sec", "section", "art", "article", "pasal", "madde", "fasal", "seksyen", "clause", "cl", "rule", "reg")
_ID_PART = re.compile(r"^(" + "|".join(_PROVISION_KINDS) + r")-(.+)$")


def chinese_number(text: str) -> int:
    """二百四十 -> 240, 十二 -> 12, 一百零五 -> 105."""
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + (digit or 0)


def roman_number(text: str) -> int:
    values = [_ROMAN[c] for c in text.lower()]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def designation_keys(designation: str) -> set[str]:
    """The id endings a printed designation may have: ``Madde 60/A`` -> {60a, 60-a}; ``第二百四十条之一`` -> {240-1}."""
    m = _CN_ARTICLE.search(designation)
    if m:
        n = chinese_number(m.group(1))
        return {f"{n}-{chinese_number(m.group(2))}"} if m.group(2) else {str(n)}
    text = designation.translate(_DIGITS)
    m = _NUMBER.search(text)
    if m:
        n, letter = m.group(1).lstrip("0") or "0", (m.group(2) or "").lower()
        return {f"{n}{letter}", f"{n}-{letter}"} if letter else {n}
    m = _ROMAN_WORD.search(designation)
    if m:
        return {m.group(1).lower(), str(roman_number(m.group(1)))}
    raise ValueError(f"no number in designation {designation!r}")


def id_key(section_id: str) -> str | None:
    """The number an id ends in: ``...ch-1.s-6`` -> ``6``, ``...art-240-1`` -> ``240-1``, ``...s-5a`` -> ``5a``."""
    last = section_id.split(":", 1)[-1].rsplit(".", 1)[-1]
    m = _ID_PART.match(last)
    return m.group(2) if m else None


def _squash(text: str) -> str:
    """Text without whitespace, NFC-normalised (Bengali য় and the like have two spellings)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


@dataclass
class Judgement:
    query_id: str
    doc_id: str
    designation: str
    grade: int
    line: int


def read_source(path: Path) -> list[Judgement]:
    """The judgements by designation; a malformed row raises naming its line."""
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if not row or line == 1 and row[0] == "query-id":
                continue
            if len(row) != 4 or not row[3].strip().lstrip("-").isdigit():
                raise SystemExit(f"{path}:{line}: expected query-id, doc-id, designation, grade; got {row!r}")
            out.append(Judgement(row[0].strip(), row[1].strip(), row[2].strip(), int(row[3]), line))
    return out


def resolve(designation: str, sections: list[dict]) -> str:
    """The id of the section a designation names, among one document's ``sections`` (corpus entries, in order).

    :raises LookupError: nothing matches (the message says what was looked for).
    """
    if designation.startswith("@"):
        tail = designation[1:]
        hits = [s["_id"] for s in sections if s["_id"].split(":", 1)[1] == tail or s["_id"].endswith("." + tail)]
        if not hits:
            raise LookupError(f"no section id ends in {tail!r}")
        return hits[0]
    if designation.startswith("text:"):
        piece = _squash(designation[5:])
        hits = [s for s in sections if piece in _squash(s["text"])]
        if not hits:
            raise LookupError(f"no section text holds {designation[5:]!r}")
        return min(hits, key=lambda s: len(s["text"]))["_id"]
    keys = designation_keys(designation)
    hits = [s["_id"] for s in sections if id_key(s["_id"]) in keys]
    if not hits:
        raise LookupError(f"no section id ends in a number {sorted(keys)}")
    return hits[0]


def load_corpus(corpus_dir: Path, cache: Path | None, log) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Corpus entries per document (bali_dev's entry format, plus ``status`` when the metadata has it), and the
    error of every document that could not be loaded or split."""
    docs: dict[str, list[dict]] = {}
    failed: dict[str, str] = {}
    for path, meta in load_manifest(corpus_dir / MANIFEST_NAME).items():
        try:
            sections = split_sections(meta, load_cached(path, cache))
        except Exception as exc:  # report every document, not only the first that fails
            failed[meta.doc_id] = f"{type(exc).__name__}: {exc}"
            log(f"{meta.doc_id}: NOT LOADED ({failed[meta.doc_id]})")
            continue
        entries = []
        for s in sections:
            if not s.text.strip():
                continue
            entry = corpus_entry(meta, s)
            if meta.status:
                entry["metadata"]["status"] = meta.status
            entries.append(entry)
        docs[meta.doc_id] = entries
        log(f"{meta.doc_id}: {len(entries)} sections")
    return docs, failed


def build(judgements: list[Judgement], docs: dict[str, list[dict]], failed: dict[str, str]):
    """(qrels {query: {section id: grade}}, problems [text], resolution [(judgement, section id)])."""
    qrels: dict[str, dict[str, int]] = {}
    problems, resolution = [], []
    for j in judgements:
        where = f"line {j.line}: {j.query_id} {j.doc_id} {j.designation!r}"
        if j.doc_id in failed:
            problems.append(f"{where}: document not loaded ({failed[j.doc_id]})")
            continue
        if j.doc_id not in docs:
            problems.append(f"{where}: no document {j.doc_id!r} in the manifest")
            continue
        try:
            sid = resolve(j.designation, docs[j.doc_id])
        except (LookupError, ValueError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        grades = qrels.setdefault(j.query_id, {})
        if sid in grades:
            problems.append(f"{where}: resolves to {sid}, already judged for this query")
            continue
        grades[sid] = j.grade
        resolution.append((j, sid))
    return qrels, problems, resolution


def write_qrels(qrels: dict[str, dict[str, int]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, grades in qrels.items():
            for sid, grade in grades.items():
                fh.write(f"{qid}\t{sid}\t{grade}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.scripts.build_xling", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="resolve and report; write nothing")
    ap.add_argument("--corpus-dir", type=Path, default=CORPUS_DIR)
    ap.add_argument("--dataset-dir", type=Path, default=DATASET_DIR)
    ap.add_argument("--cache", type=Path, default=None, help="keep loaded documents here (e.g. /tmp/xling_cache)")
    ap.add_argument("--show", action="store_true", help="print every designation with the section id it resolved to")
    args = ap.parse_args(argv)
    log = lambda *a: print(*a, file=sys.stderr)  # noqa: E731
    judgements = read_source(args.dataset_dir / SOURCE_NAME)
    docs, failed = load_corpus(args.corpus_dir, args.cache, log)
    qrels, problems, resolution = build(judgements, docs, failed)
    if args.show:
        for j, sid in resolution:
            print(f"{j.query_id}\t{j.designation}\t{sid}\t{j.grade}")
    queries = {json.loads(line)["_id"] for line in open(args.dataset_dir / "queries.jsonl", encoding="utf-8") if line.strip()}
    problems += [f"query {q} has no judgement" for q in sorted(queries - {j.query_id for j in judgements})]
    problems += [f"judged query {q} is not in queries.jsonl" for q in sorted({j.query_id for j in judgements} - queries)]
    print(f"{len(resolution)} of {len(judgements)} judgements resolved; {len(failed)} document(s) not loaded")
    if problems:
        print(f"{len(problems)} problem(s):")
        for p in problems:
            print(f"  {p}")
        return 1
    if not args.check:
        write_corpus([e for entries in docs.values() for e in entries], args.dataset_dir / "corpus.jsonl")
        write_qrels(qrels, args.dataset_dir / "qrels" / "dev.tsv")
        print(f"wrote corpus.jsonl ({sum(map(len, docs.values()))} sections) and qrels/dev.tsv ({len(resolution)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
