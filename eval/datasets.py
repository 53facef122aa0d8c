"""BEIR-layout retrieval datasets: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

- corpus.jsonl: one JSON object a line, ``{"_id", "text", "title"?, "metadata"?}``.
- queries.jsonl: one JSON object a line, ``{"_id", "text", ...}``.
- qrels/<split>.tsv: tab-separated ``query-id, corpus-id, score`` (integer grade); a header row is optional.

Malformed input raises :class:`DatasetError` naming the file and line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATASET_FILES = ("corpus.jsonl", "queries.jsonl")


class DatasetError(ValueError):
    """A dataset file is missing a field, malformed, or inconsistent with the others."""


@dataclass
class BeirDataset:
    """A loaded BEIR dataset.

    :param corpus: doc id -> ``{"title": str, "text": str, "metadata": dict}``, in file order.
    :param queries: query id -> query text (every query in queries.jsonl, not only the split's).
    :param qrels: query id -> {doc id -> grade} for the split.
    """

    corpus: dict[str, dict[str, Any]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    split: str = "dev"
    query_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)


def _split_path(dataset_dir: Path, split: str) -> Path:
    if not split or "/" in split or "\\" in split or split.startswith("."):
        raise ValueError(f"split must be a plain name like 'dev', got {split!r}")
    return dataset_dir / "qrels" / f"{split}.tsv"


def _require(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"BEIR dataset file not found: {path}")


def _read_jsonl(path: Path):
    """Yield (line number, object) for each non-blank line."""
    _require(path)
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{n}: invalid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise DatasetError(f"{path}:{n}: expected a JSON object, got {type(obj).__name__}")
            yield n, obj


def _field_str(obj: dict, key: str, path: Path, n: int, required: bool) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise DatasetError(f"{path}:{n}: missing {key!r}")
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "_id":
        return str(value)  # some BEIR sets write numeric ids
    if not isinstance(value, str):
        raise DatasetError(f"{path}:{n}: {key!r} must be a string, got {type(value).__name__}")
    return value


def _id(obj: dict, path: Path, n: int) -> str:
    doc_id = _field_str(obj, "_id", path, n, required=True)
    if not doc_id:
        raise DatasetError(f"{path}:{n}: empty '_id'")
    return doc_id


def _load_corpus(path: Path) -> dict[str, dict[str, Any]]:
    corpus: dict[str, dict[str, Any]] = {}
    first_line: dict[str, int] = {}
    for n, obj in _read_jsonl(path):
        doc_id = _id(obj, path, n)
        if doc_id in corpus:
            raise DatasetError(f"{path}:{n}: duplicate _id {doc_id!r} (first on line {first_line[doc_id]})")
        metadata = obj.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise DatasetError(f"{path}:{n}: 'metadata' must be an object, got {type(metadata).__name__}")
        corpus[doc_id] = {
            "title": _field_str(obj, "title", path, n, required=False),
            "text": _field_str(obj, "text", path, n, required=True),
            "metadata": metadata,
        }
        first_line[doc_id] = n
    return corpus


def _load_queries(path: Path) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    queries: dict[str, str] = {}
    metadata: dict[str, dict[str, Any]] = {}
    for n, obj in _read_jsonl(path):
        qid = _id(obj, path, n)
        if qid in queries:
            raise DatasetError(f"{path}:{n}: duplicate query _id {qid!r}")
        queries[qid] = _field_str(obj, "text", path, n, required=True)
        if isinstance(obj.get("metadata"), dict):
            metadata[qid] = obj["metadata"]
    return queries, metadata


def _parse_grade(score: str) -> int | None:
    """The integer grade in a score column ("1", "2.0"), else None."""
    try:
        return int(score)
    except ValueError:
        pass
    try:
        value = float(score)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None


def _load_qrels(path: Path) -> dict[str, dict[str, int]]:
    _require(path)
    qrels: dict[str, dict[str, int]] = {}
    first = True
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            cols = [c.strip() for c in line.split("\t")]
            if len(cols) != 3:
                raise DatasetError(
                    f"{path}:{n}: expected 3 tab-separated columns (query-id, corpus-id, score), got {len(cols)}"
                )
            qid, doc_id, score = cols
            grade = _parse_grade(score)
            if grade is None:
                if first:  # a header row such as "query-id corpus-id score"
                    first = False
                    continue
                raise DatasetError(f"{path}:{n}: score must be an integer grade, got {score!r}")
            first = False
            if not qid or not doc_id:
                raise DatasetError(f"{path}:{n}: empty query-id or corpus-id")
            judged = qrels.setdefault(qid, {})
            if judged.get(doc_id, grade) != grade:
                raise DatasetError(f"{path}:{n}: ({qid!r}, {doc_id!r}) judged twice with different scores")
            judged[doc_id] = grade
    return qrels


def _check_references(qrels: dict[str, dict[str, int]], corpus: dict, queries: dict, path: Path) -> None:
    # A judgement on a doc or query that does not exist would silently lower every score: refuse it.
    for qid, judged in qrels.items():
        if qid not in queries:
            raise DatasetError(f"{path}: query-id {qid!r} is not in queries.jsonl")
        for doc_id in judged:
            if doc_id not in corpus:
                raise DatasetError(f"{path}: corpus-id {doc_id!r} (query {qid!r}) is not in corpus.jsonl")


def load_beir(dataset_dir: str | Path, split: str = "dev") -> BeirDataset:
    """Load a BEIR-layout dataset directory.

    :param dataset_dir: the directory holding corpus.jsonl, queries.jsonl and qrels/.
    :param split: which qrels file to read, ``qrels/<split>.tsv``.
    :raises FileNotFoundError: if a file is missing.
    :raises DatasetError: on malformed lines, duplicate ids, or qrels naming unknown queries or docs.
    """
    root = Path(dataset_dir)
    qrels_path = _split_path(root, split)
    for path in (root / "corpus.jsonl", root / "queries.jsonl", qrels_path):
        _require(path)
    corpus = _load_corpus(root / "corpus.jsonl")
    queries, query_metadata = _load_queries(root / "queries.jsonl")
    qrels = _load_qrels(qrels_path)
    _check_references(qrels, corpus, queries, qrels_path)
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels, split=split, query_metadata=query_metadata)


def dataset_hash(dataset_dir: str | Path, split: str = "dev") -> str:
    """sha256 (hex) over the bytes of corpus.jsonl, queries.jsonl and qrels/<split>.tsv: a key for caches."""
    root = Path(dataset_dir)
    h = hashlib.sha256()
    for rel, path in [(name, root / name) for name in DATASET_FILES] + [(f"qrels/{split}.tsv", _split_path(root, split))]:
        _require(path)
        h.update(rel.encode() + b"\0")
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()
