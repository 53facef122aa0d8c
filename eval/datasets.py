"""Evaluation datasets in BEIR layout: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

- corpus.jsonl: one ``{"_id", "title", "text", "metadata"?}`` object per line;
- queries.jsonl: one ``{"_id", "text", "metadata"?}`` object per line (our dev set puts ``category`` and
  ``filters`` in the metadata);
- qrels/<split>.tsv: ``query-id <TAB> corpus-id <TAB> score`` per line, header row optional.

A malformed line raises :class:`DatasetFormatError` naming ``file:line``; a missing file raises
:class:`DatasetFileNotFoundError` naming the path.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import KBError


class DatasetFormatError(KBError, ValueError):
    """A line of a dataset file cannot be read. ``str(err)`` starts with ``file:line``."""

    def __init__(self, path: Path | str, line: int, detail: str) -> None:
        self.path = str(path)
        self.line = line
        self.detail = detail
        super().__init__(f"{self.path}:{line}: {detail}")


class DatasetFileNotFoundError(KBError, FileNotFoundError):
    """A file the BEIR layout requires is missing. ``str(err)`` names it."""

    def __init__(self, path: Path | str, detail: str = "missing") -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {detail}")


@dataclass
class BeirDataset:
    """A loaded BEIR dataset.

    :param corpus: entry id -> ``{"title", "text", "metadata"}``, in file order.
    :param queries: query id -> query text.
    :param qrels: query id -> {entry id -> grade} for the split.
    :param query_meta: query id -> the query's ``metadata`` object (``{}`` when it has none).
    """

    corpus: dict[str, dict]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    query_meta: dict[str, dict] = field(default_factory=dict)


def dataset_files(dataset_dir: Path | str, split: str = "dev") -> tuple[Path, Path, Path]:
    """The corpus, queries and qrels paths of a split; raises if the directory or a file is missing."""
    root = Path(dataset_dir)
    if not root.is_dir():
        raise DatasetFileNotFoundError(root, "no such dataset directory")
    files = (root / "corpus.jsonl", root / "queries.jsonl", root / "qrels" / f"{split}.tsv")
    for path in files:
        if not path.is_file():
            raise DatasetFileNotFoundError(path, f"missing (a BEIR dataset needs corpus.jsonl, queries.jsonl, qrels/{split}.tsv)")
    return files


def _read_jsonl(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetFormatError(path, lineno, f"not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise DatasetFormatError(path, lineno, f"expected a JSON object, got {type(obj).__name__}")
            for key in required:
                if key not in obj:
                    raise DatasetFormatError(path, lineno, f"no {key!r} field")
            if not isinstance(obj["_id"], (str, int)) or str(obj["_id"]) == "":
                raise DatasetFormatError(path, lineno, f"'_id' must be a non-empty string, got {obj['_id']!r}")
            meta = obj.get("metadata")
            if meta is not None and not isinstance(meta, dict):
                raise DatasetFormatError(path, lineno, f"'metadata' must be an object, got {type(meta).__name__}")
            rows.append((lineno, obj))
    return rows


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            cols = line.rstrip("\r\n").split("\t")
            if len(cols) != 3:
                raise DatasetFormatError(path, lineno, f"expected 3 tab-separated columns (query-id, corpus-id, score), got {len(cols)}")
            qid, did, grade = (c.strip() for c in cols)
            try:
                score = int(grade)
            except ValueError:
                if lineno == 1 and not grade.lstrip("-").isdigit():
                    continue  # header row ("query-id corpus-id score")
                raise DatasetFormatError(path, lineno, f"score must be an integer, got {grade!r}") from None
            if not qid or not did:
                raise DatasetFormatError(path, lineno, "empty query-id or corpus-id")
            qrels.setdefault(qid, {})[did] = score
    return qrels


def load_beir(dataset_dir: Path | str, split: str = "dev") -> BeirDataset:
    """Load a BEIR dataset's corpus, queries and the judgements of one split.

    :raises DatasetFileNotFoundError: a required file is missing.
    :raises DatasetFormatError: a line is malformed, or an id is repeated (names ``file:line``).
    """
    corpus_path, queries_path, qrels_path = dataset_files(dataset_dir, split)
    corpus: dict[str, dict] = {}
    for lineno, obj in _read_jsonl(corpus_path, ("_id", "text")):
        cid = str(obj["_id"])
        if cid in corpus:
            raise DatasetFormatError(corpus_path, lineno, f"duplicate _id {cid!r}")
        corpus[cid] = {"title": obj.get("title") or "", "text": obj.get("text") or "", "metadata": obj.get("metadata") or {}}
    queries: dict[str, str] = {}
    query_meta: dict[str, dict] = {}
    for lineno, obj in _read_jsonl(queries_path, ("_id", "text")):
        qid = str(obj["_id"])
        if qid in queries:
            raise DatasetFormatError(queries_path, lineno, f"duplicate _id {qid!r}")
        if not isinstance(obj["text"], str):
            raise DatasetFormatError(queries_path, lineno, f"'text' must be a string, got {type(obj['text']).__name__}")
        queries[qid] = obj["text"]
        query_meta[qid] = obj.get("metadata") or {}
    qrels = _read_qrels(qrels_path)
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels, query_meta=query_meta)


def dataset_hash(dataset_dir: Path | str, split: str = "dev") -> str:
    """sha256 over the bytes of the split's three files (corpus, queries, qrels), in that order."""
    h = hashlib.sha256()
    for path in dataset_files(dataset_dir, split):
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def corpus_hash(dataset_dir: Path | str) -> str:
    """sha256 of the bytes of ``corpus.jsonl``: what an index built from the dataset depends on (its questions and
    judgements do not)."""
    h = hashlib.sha256()
    with open(Path(dataset_dir) / "corpus.jsonl", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
