"""Writing a generation: from per-document artifacts to the files ``ingest.stores.Generation`` reads.

A new generation is written under a temporary name, fsynced, renamed, and only then named in CURRENT, so a
crash at any point leaves the previous generation complete and live.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from pathlib import Path

import numpy as np

from ingest.analysis import BM25_PARAMS, bm25_config, tokenize_for_bm25
from ingest.artifacts import DocArtifact
from ingest.durable import write_json
from ingest.errors import IndexWriteError
from ingest.index_dir import IndexDir
from ingest.schema import PRIORITY_AREAS, SCHEMA_VERSION, DocumentMeta, Passage, Section
from ingest.vocabularies import STATUSES, UNKNOWN_STATUS

AREA_IDS = list(PRIORITY_AREAS)  # bit i = area i stated; bit 8 + i = area i inferred
STATUS_IDS = list(STATUSES)  # p_status holds the index of a passage's status here (kept in manifest.json)
STATUS_CODES = {status: code for code, status in enumerate(STATUS_IDS)}
UNKNOWN_CODE = STATUS_CODES[UNKNOWN_STATUS]
UNKNOWN_YEAR = -1

# Generations store vectors as int8, each row with its own scale (its largest magnitude / 127): a quarter of
# float32's memory and bandwidth per query, half of float16's. Cosines move by ~3e-4 on average (at most ~2e-3);
# measured on the bundled corpus's vectors, 98-99% of the top 10 and 99.5% of the top 100 stay the same.
VECTOR_DTYPE = "int8"


def quantize_vectors(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float vectors as (int8 rows, float32 scale per row): ``row * scale`` approximates the vector."""
    v = np.asarray(vectors, dtype=np.float32)
    scales = (np.abs(v).max(axis=1) / 127.0 if v.size else np.zeros(len(v))).astype(np.float32)
    scales[scales == 0] = 1.0  # an all-zero vector stays zero
    rows = np.clip(np.rint(v / scales[:, None]), -127, 127).astype(np.int8)
    return rows, scales


# How a generation finds a query term's postings: a sorted array of 64-bit term keys beside the term ids, both
# memory-mapped. bm25s's own vocabulary is a Python dict loaded whole; with word pairs it holds 3.35M terms at
# 1M passages and cost 1.3 GB of resident memory.
TERM_DICTIONARY = "blake2b-64 sorted keys"


def bm25_manifest() -> dict:
    """The ``bm25`` block of a generation's manifest: the analyzer's configuration and the term dictionary."""
    return {**bm25_config(), "term_dictionary": TERM_DICTIONARY}


def built_with_other_code(manifest: dict) -> bool:
    """True when a generation's BM25 analyzer or vector storage is not what this code writes: rewrite it
    from the artifacts (no re-embedding) so queries are analysed and scored like the index."""
    return manifest.get("bm25") != bm25_manifest() or manifest.get("vectors", {}).get("dtype") != VECTOR_DTYPE


def term_key(term: str) -> int:
    """A BM25 term's 64-bit key in the term dictionary (blake2b: the same on every platform and in every run)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little")


def save_term_dictionary(bm25_dir: Path, vocab: dict[str, int]) -> None:
    """``term_keys.npy`` (sorted uint64) and ``term_ids.npy`` (the bm25s term id of each key)."""
    keys, ids = term_dictionary(bm25_dir, vocab)
    np.save(bm25_dir / "term_keys.npy", keys)
    np.save(bm25_dir / "term_ids.npy", ids)


def term_dictionary(bm25_dir: Path, vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The sorted term keys and their term ids, from bm25s's vocabulary."""
    keys = np.fromiter((term_key(t) for t in vocab), dtype=np.uint64, count=len(vocab))
    ids = np.fromiter(vocab.values(), dtype=np.int64, count=len(vocab))
    order = np.argsort(keys, kind="stable")
    keys, ids = keys[order], ids[order]
    if keys.size > 1 and bool((keys[1:] == keys[:-1]).any()):  # about 1 in 4 million at 3M terms
        i = int(np.flatnonzero(keys[1:] == keys[:-1])[0])
        clash = [t for t, j in vocab.items() if j in (ids[i], ids[i + 1])]
        raise IndexWriteError(f"two BM25 terms share a 64-bit key in {bm25_dir}: {clash}")
    return keys, ids.astype(np.int32 if len(ids) < 2**31 else np.int64)


def write_generation(index_dir: IndexDir, artifacts: list[DocArtifact], model_info: dict) -> str:
    """Write a complete generation from per-document artifacts and make it live. Returns its name."""
    artifacts = sorted(artifacts, key=lambda a: a.meta.doc_id)
    partial = index_dir.new_generation_dir()
    try:
        _write_generation_files(partial, artifacts, model_info)
        return index_dir.publish(partial)
    except (OSError, sqlite3.Error) as exc:
        shutil.rmtree(partial, ignore_errors=True)  # frees what the partial generation took
        raise IndexWriteError(
            f"could not write a new index generation in {partial.parent} ({exc}): is the disk full or the directory "
            f"not writable? The live index ({index_dir.current_name() or 'none yet'}) is unchanged"
        ) from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def rewrite_if_other_code(index_dir: IndexDir) -> bool:
    """Rewrite the live generation from its artifacts (no re-embedding) when it was written by other code (see
    ``built_with_other_code``); True when it was."""
    name = index_dir.current_name()
    if not name:
        return False
    manifest = json.loads((index_dir.generations / name / "manifest.json").read_text("utf-8"))
    if not built_with_other_code(manifest):
        return False
    arts = [DocArtifact.load(d) for d in sorted(index_dir.docs.iterdir()) if d.is_dir() and not d.name.endswith(".tmp")]
    write_generation(index_dir, arts, manifest["model"])
    return True


class _Rows:
    """The generation's rows: documents, sections and passages in artifact order, and each id's row."""

    def __init__(self, artifacts: list[DocArtifact]) -> None:
        self.documents: list[DocumentMeta] = [a.meta for a in artifacts]
        self.sections: list[Section] = [s for a in artifacts for s in a.sections]
        self.passages: list[Passage] = [p for a in artifacts for p in a.passages]
        self.doc_index = {d.doc_id: i for i, d in enumerate(self.documents)}
        self.section_index = {s.section_id: i for i, s in enumerate(self.sections)}
        self.doc_types = sorted({d.doc_type for d in self.documents})
        self.languages = sorted({d.language for d in self.documents})
        self.members = sorted({m for s in self.sections for m in s.members} | {m for d in self.documents for m in d.members})


def _write_generation_files(out: Path, artifacts: list[DocArtifact], model_info: dict) -> None:
    rows = _Rows(artifacts)
    _write_store(out / "store.sqlite", rows)
    columns = _passage_columns(rows)
    columns.update(_member_postings(rows, columns["p_section"]))
    for name, arr in columns.items():
        np.save(out / f"{name}.npy", arr)
    dim = int(model_info["dim"])
    vectors = np.concatenate([a.vectors for a in artifacts]) if artifacts else np.zeros((0, dim), np.float32)
    rows8, scales = quantize_vectors(vectors)
    np.save(out / "vectors.npy", rows8)
    np.save(out / "vector_scales.npy", scales)
    language = {d.doc_id: d.language for d in rows.documents}
    _write_bm25(out / "bm25", rows.passages, [language[p.doc_id] for p in rows.passages])
    write_json(out / "manifest.json", _manifest(rows, artifacts, model_info))


def _write_store(path: Path, rows: _Rows) -> None:
    """SQLite: text and metadata, looked up only for the final results."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE documents (row INTEGER PRIMARY KEY, doc_id TEXT UNIQUE NOT NULL, data TEXT NOT NULL);
        CREATE TABLE sections (row INTEGER PRIMARY KEY, section_id TEXT UNIQUE NOT NULL, doc_row INTEGER NOT NULL,
                               ordinal INTEGER NOT NULL, data TEXT NOT NULL);
        CREATE TABLE passages (row INTEGER PRIMARY KEY, passage_id TEXT UNIQUE NOT NULL, section_row INTEGER NOT NULL,
                               data TEXT NOT NULL);
        """
    )
    db.executemany(
        "INSERT INTO documents VALUES (?,?,?)",
        ((i, d.doc_id, json.dumps(d.to_dict(), ensure_ascii=False)) for i, d in enumerate(rows.documents)),
    )
    db.executemany(
        "INSERT INTO sections VALUES (?,?,?,?,?)",
        (
            (i, s.section_id, rows.doc_index[s.doc_id], s.ordinal, json.dumps(s.to_dict(), ensure_ascii=False))
            for i, s in enumerate(rows.sections)
        ),
    )
    db.executemany(
        "INSERT INTO passages VALUES (?,?,?,?)",
        (
            (i, p.passage_id, rows.section_index[p.section_id], json.dumps(p.to_dict(), ensure_ascii=False))
            for i, p in enumerate(rows.passages)
        ),
    )
    db.execute("CREATE INDEX sections_by_doc ON sections(doc_row, ordinal)")
    db.commit()
    db.close()


def _passage_columns(rows: _Rows) -> dict[str, np.ndarray]:
    """Per-passage columns for filters and facets: section, document, years, type, language, areas, status."""
    documents, passages = rows.documents, rows.passages
    n = len(passages)
    p_section = np.fromiter((rows.section_index[p.section_id] for p in passages), dtype=np.int32, count=n)
    p_doc = np.fromiter((rows.doc_index[p.doc_id] for p in passages), dtype=np.int32, count=n)
    year_from = np.array([d.year if d.year is not None else UNKNOWN_YEAR for d in documents], dtype=np.int16)
    year_to = np.array(
        [d.year_to if d.year_to is not None else (d.year if d.year is not None else UNKNOWN_YEAR) for d in documents],
        dtype=np.int16,
    )
    type_code = np.array([rows.doc_types.index(d.doc_type) for d in documents], dtype=np.int16)
    lang_code = np.array([rows.languages.index(d.language) for d in documents], dtype=np.int16)
    s_areas = np.zeros(len(rows.sections), dtype=np.uint16)
    for i, s in enumerate(rows.sections):
        for tag in s.priority_areas:
            bit = AREA_IDS.index(tag.area) + (0 if tag.basis == "stated" else 8)
            s_areas[i] |= np.uint16(1 << bit)
    return {
        "p_section": p_section,
        "p_doc": p_doc,
        "p_year_from": year_from[p_doc] if n else np.zeros(0, np.int16),
        "p_year_to": year_to[p_doc] if n else np.zeros(0, np.int16),
        "p_type": type_code[p_doc] if n else np.zeros(0, np.int16),
        "p_lang": lang_code[p_doc] if n else np.zeros(0, np.int16),
        "p_areas": s_areas[p_section] if n else np.zeros(0, np.uint16),
        # a passage's status is its section's (a repealed provision of a law in force is repealed)
        "p_status": np.fromiter((STATUS_CODES.get(p.status, UNKNOWN_CODE) for p in passages), dtype=np.int8, count=n),
    }


def _member_postings(rows: _Rows, p_section: np.ndarray) -> dict[str, np.ndarray]:
    """member -> passages postings (CSR): a passage belongs to its section's members (which include a law's
    jurisdiction)."""
    member_code = {m: i for i, m in enumerate(rows.members)}
    postings: list[list[int]] = [[] for _ in rows.members]
    section_members = [[member_code[m] for m in s.members] for s in rows.sections]
    for row, srow in enumerate(p_section):
        for code in section_members[srow]:
            postings[code].append(row)
    return {
        "members_indptr": np.cumsum([0] + [len(p) for p in postings], dtype=np.int64),
        "members_rows": np.array([r for p in postings for r in p], dtype=np.int32),
    }


def _write_bm25(bm25_dir: Path, passages: list[Passage], languages: list[str]) -> None:
    """The BM25 index of the passages, each analysed in its document's language."""
    import bm25s

    if not passages:
        bm25_dir.mkdir()
        return
    retriever = bm25s.BM25(**BM25_PARAMS)
    retriever.index(tokenize_for_bm25([p.search_text for p in passages], languages), show_progress=False)
    retriever.save(str(bm25_dir), show_progress=False)
    save_term_dictionary(bm25_dir, retriever.vocab_dict)


def _manifest(rows: _Rows, artifacts: list[DocArtifact], model_info: dict) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": model_info,
        "bm25": bm25_manifest(),
        "vectors": {"dtype": VECTOR_DTYPE, "scales": "per row"},
        "counts": {"documents": len(rows.documents), "sections": len(rows.sections), "passages": len(rows.passages)},
        "doc_types": rows.doc_types,
        "languages": rows.languages,
        "members": rows.members,
        "areas": AREA_IDS,
        "statuses": STATUS_IDS,
        "documents": {a.meta.doc_id: {"sha256": a.meta.sha256, "path": a.meta.path, "artifact": a.key} for a in artifacts},
    }
