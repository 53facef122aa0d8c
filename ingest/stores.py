"""The embedded index: immutable generations on disk, switched atomically, read memory-mapped.

Layout under ``index_dir``::

    CURRENT                  name of the live generation (replaced atomically with os.replace)
    LOCK                     held (flock) by the one ingest that may write
    docs/<doc_id>-<key>/     per-document artifacts (sections, passages, vectors), reused while unchanged
    generations/<name>/      one complete, immutable index:
        manifest.json        counts, model, vocabularies, documents and their content hashes
        store.sqlite         documents, sections and passages (text and metadata)
        vectors.npy          int8 [passages x dim], L2-normalised, memory-mapped (the artifacts keep float32)
        vector_scales.npy    float32 [passages]: a row times its scale approximates the vector
        bm25/                bm25s index, memory-mapped
        p_*.npy              per-passage columns for filtering and faceting (section, doc, year, type, ...)
        members_*.npy        member -> passages postings (CSR)

This module is the index contract both sides import: it reads a generation (``Generation``, ``open_current``)
and names what the others write: ``ingest.artifacts`` (``DocArtifact``), ``ingest.index_dir`` (``IndexDir``: lock,
CURRENT, garbage collection) and ``ingest.generation_writer`` (``write_generation``: a new generation is written
under a temporary name, fsynced, renamed, and only then named in CURRENT, so a crash at any point leaves the
previous generation complete and live).
"""

from __future__ import annotations

import json
import mmap
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import numpy as np

from ingest.artifacts import DocArtifact, artifact_key
from ingest.errors import IndexUnavailableError
from ingest.generation_writer import (
    AREA_IDS,
    UNKNOWN_YEAR,
    VECTOR_DTYPE,
    bm25_manifest,
    built_with_other_code,
    rewrite_if_other_code,
    term_dictionary,
    term_key,
    write_generation,
)
from ingest.index_dir import IndexDir
from ingest.schema import SCHEMA_VERSION, DocumentMeta, Passage, Section

__all__ = [
    "AREA_IDS", "UNKNOWN_YEAR", "VECTOR_DTYPE", "DocArtifact", "Generation", "IndexDir", "artifact_key", "rewrite_if_other_code",
    "bm25_manifest", "built_with_other_code", "open_current", "term_key", "write_generation",
]

T = TypeVar("T")


REQUIRED_FILES = (
    "manifest.json",
    "store.sqlite",
    "vectors.npy",
    "vector_scales.npy",
    "p_section.npy",
    "p_doc.npy",
    "p_year_from.npy",
    "p_year_to.npy",
    "p_type.npy",
    "p_lang.npy",
    "p_areas.npy",
    "p_status.npy",
    "members_indptr.npy",
    "members_rows.npy",
)


def _advise_random_access(bm25) -> None:
    """Tell the kernel the BM25 postings are read at random: no readahead around each term's postings.

    A query reads a few short postings scattered over two large memory-mapped arrays (1.2 GB at 1M passages with
    word pairs). With the default readahead each read pulled in its neighbourhood: resident memory at 1M passages
    rose by 0.85 GB of mapped pages that no query needed.
    """
    if not hasattr(mmap, "MADV_RANDOM"):
        return
    for name in ("data", "indices"):
        m = getattr(bm25.scores[name], "_mmap", None)
        if m is not None:
            m.madvise(mmap.MADV_RANDOM)


class Generation:
    """One live generation, opened read-only: arrays memory-mapped, text in SQLite, BM25 via bm25s."""

    def __init__(self, path: Path) -> None:
        self.path = path
        for name in REQUIRED_FILES:
            if not (path / name).exists():
                raise IndexUnavailableError(f"{path / name} is missing: rebuild the index with `kb ingest`")
        try:
            self.manifest = json.loads((path / "manifest.json").read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexUnavailableError(f"{path / 'manifest.json'} is unreadable ({exc}): rebuild the index with `kb ingest`") from exc
        if self.manifest.get("schema_version") != SCHEMA_VERSION:
            raise IndexUnavailableError(
                f"{path / 'manifest.json'}: index schema {self.manifest.get('schema_version')} != {SCHEMA_VERSION}: "
                "rebuild the index with `kb ingest`"
            )
        counts = self.manifest["counts"]
        self.n_passages = int(counts["passages"])
        self.cols = {}
        for name in REQUIRED_FILES:
            if name.endswith(".npy"):
                try:
                    self.cols[name[:-4]] = np.load(path / name, mmap_mode="r")
                except (OSError, ValueError) as exc:
                    raise IndexUnavailableError(f"{path / name} is unreadable ({exc}): rebuild the index with `kb ingest`") from exc
        self.vectors = self.cols.pop("vectors")
        self.vector_scales = self.cols.pop("vector_scales")
        if self.vectors.dtype != np.dtype(VECTOR_DTYPE) or self.vector_scales.shape != (self.vectors.shape[0],):
            raise IndexUnavailableError(
                f"{path / 'vectors.npy'}: {self.vectors.dtype} vectors with {self.vector_scales.shape[0]} scales, expected "
                f"{VECTOR_DTYPE} with one scale per row: rebuild the index with `kb ingest`"
            )
        for name, arr in self.cols.items():
            if name.startswith("p_") and len(arr) != self.n_passages:
                raise IndexUnavailableError(f"{path / (name + '.npy')}: {len(arr)} rows, expected {self.n_passages}: rebuild the index with `kb ingest`")
        if self.vectors.shape[0] != self.n_passages:
            raise IndexUnavailableError(f"{path / 'vectors.npy'}: {self.vectors.shape[0]} rows, expected {self.n_passages}: rebuild the index with `kb ingest`")
        # Plain ndarrays over the same maps (no copy): np.memmap's per-access wrapping costs ~0.1 ms a call.
        self.cols = {name: np.asarray(arr) for name, arr in self.cols.items()}
        self.vectors = np.asarray(self.vectors)
        self.vector_scales = np.asarray(self.vector_scales)
        self.db = sqlite3.connect(f"file:{path / 'store.sqlite'}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        try:
            self.db.execute("SELECT count(*) FROM passages").fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexUnavailableError(f"{path / 'store.sqlite'} is corrupt ({exc}): rebuild the index with `kb ingest`") from exc
        self.bm25 = None
        if self.n_passages:
            import bm25s

            try:
                self.bm25 = bm25s.BM25.load(str(path / "bm25"), mmap=True, load_vocab=False)
                if (path / "bm25" / "term_keys.npy").exists():
                    self.term_keys = np.load(path / "bm25" / "term_keys.npy", mmap_mode="r")
                    self.term_ids_by_key = np.load(path / "bm25" / "term_ids.npy", mmap_mode="r")
                else:  # written before the term dictionary: build it in memory; the next `kb ingest` rewrites it
                    vocab = json.loads((path / "bm25" / "vocab.index.json").read_text("utf-8"))
                    self.term_keys, self.term_ids_by_key = term_dictionary(path / "bm25", vocab)
            except Exception as exc:  # bm25s raises a variety of errors on damaged files
                raise IndexUnavailableError(f"{path / 'bm25'} is unreadable ({exc}): rebuild the index with `kb ingest`") from exc
            _advise_random_access(self.bm25)
        self.doc_types: list[str] = self.manifest["doc_types"]
        self.languages: list[str] = self.manifest["languages"]
        self.statuses: list[str] = self.manifest["statuses"]  # p_status codes index this list
        self.members: list[str] = self.manifest["members"]
        self.member_code = {m: i for i, m in enumerate(self.members)}
        self._documents: dict[str, DocumentMeta] | None = None
        self._derived: dict[str, object] = {}

    def float_vectors(self, rows=None) -> np.ndarray:
        """The stored vectors (all, or those of ``rows``) as float32: each int8 row times its scale."""
        if rows is None:
            return self.vectors.astype(np.float32) * self.vector_scales[:, None]
        rows = np.asarray(rows, dtype=np.int64)
        return self.vectors[rows].astype(np.float32) * self.vector_scales[rows][..., None]

    def derived(self, name: str, build: Callable[[], T]) -> T:
        """A value derived from this generation (a tensor over its vectors, a column of its documents), built by
        ``build`` on first use and kept as long as the generation is open. Safe under concurrent searches: two
        that arrive together may both build it, and both get the one that was kept."""
        try:
            return self._derived[name]  # type: ignore[return-value]
        except KeyError:
            return self._derived.setdefault(name, build())  # type: ignore[return-value]

    def cached(self, name: str) -> object | None:
        """The value ``derived`` keeps under ``name``, or None before it is built."""
        return self._derived.get(name)

    def forget(self, name: str) -> None:
        """Drop a derived value; the next ``derived`` call builds it again."""
        self._derived.pop(name, None)

    def term_ids(self, terms: list[str]) -> list[tuple[str, int]]:
        """The terms the index holds, each with its bm25s term id (a binary search in the term dictionary)."""
        if self.bm25 is None or not terms:
            return []
        keys = np.fromiter((term_key(t) for t in terms), dtype=np.uint64, count=len(terms))
        pos = np.minimum(np.searchsorted(self.term_keys, keys), len(self.term_keys) - 1)
        found = np.asarray(self.term_keys[pos]) == keys
        ids = np.asarray(self.term_ids_by_key[pos])
        return [(t, int(i)) for t, i, ok in zip(terms, ids, found) if ok]

    @property
    def name(self) -> str:
        return self.path.name

    # -- metadata lookups --------------------------------------------------------------------------------

    def documents(self) -> dict[str, DocumentMeta]:
        if self._documents is None:
            rows = self.db.execute("SELECT data FROM documents ORDER BY row").fetchall()
            self._documents = {d.doc_id: d for d in (DocumentMeta.from_dict(json.loads(r[0])) for r in rows)}
        return self._documents

    def document_rows(self) -> list[str]:
        return list(self.documents())

    def section_by_row(self, rows: Iterable[int]) -> dict[int, Section]:
        rows = [int(r) for r in rows]
        if not rows:
            return {}
        q = f"SELECT row, data FROM sections WHERE row IN ({','.join('?' * len(rows))})"
        return {r: Section.from_dict(json.loads(d)) for r, d in self.db.execute(q, rows)}

    def passage_by_row(self, rows: Iterable[int]) -> dict[int, Passage]:
        rows = [int(r) for r in rows]
        if not rows:
            return {}
        q = f"SELECT row, data FROM passages WHERE row IN ({','.join('?' * len(rows))})"
        return {r: Passage.from_dict(json.loads(d)) for r, d in self.db.execute(q, rows)}

    def passage_search_texts(self, rows: Iterable[int]) -> dict[int, str]:
        """``Passage.search_text`` by row, read by SQLite's JSON functions: 100 passages in 0.23 ms against 0.55 for
        decoding them whole (the phrase check reads a leg's candidates on each search)."""
        rows = [int(r) for r in rows]
        if not rows:
            return {}
        q = (f"SELECT row, json_extract(data, '$.context'), json_extract(data, '$.text') FROM passages "
             f"WHERE row IN ({','.join('?' * len(rows))})")
        return {r: Passage.join_search_text(c, t) for r, c, t in self.db.execute(q, rows)}

    def section_row(self, section_id: str) -> int | None:
        r = self.db.execute("SELECT row FROM sections WHERE section_id=?", (section_id,)).fetchone()
        return r[0] if r else None

    def sections_of(self, doc_id: str) -> list[Section]:
        docs = self.document_rows()
        if doc_id not in docs:
            return []
        rows = self.db.execute(
            "SELECT data FROM sections WHERE doc_row=? ORDER BY ordinal", (docs.index(doc_id),)
        ).fetchall()
        return [Section.from_dict(json.loads(r[0])) for r in rows]

    def passages_of_sections(self, section_rows: list[int]) -> dict[int, list[Passage]]:
        if not section_rows:
            return {}
        q = f"SELECT section_row, data FROM passages WHERE section_row IN ({','.join('?' * len(section_rows))}) ORDER BY row"
        out: dict[int, list[Passage]] = {}
        for srow, data in self.db.execute(q, [int(r) for r in section_rows]):
            out.setdefault(srow, []).append(Passage.from_dict(json.loads(data)))
        return out

    def passage_rows_of_section(self, section_id: str) -> list[int]:
        """The rows of a section's passages, in order ([] for an unknown section)."""
        srow = self.section_row(section_id)
        if srow is None:
            return []
        return [r for (r,) in self.db.execute("SELECT row FROM passages WHERE section_row = ? ORDER BY row", (int(srow),))]

    def member_rows(self, member: str) -> np.ndarray:
        code = self.member_code[member]
        ptr = self.cols["members_indptr"]
        return self.cols["members_rows"][int(ptr[code]) : int(ptr[code + 1])]

    def close(self) -> None:
        self.db.close()


def open_current(index_root: Path) -> Generation:
    """Open the live generation of the index at ``index_root`` or explain how to build one."""
    idx = IndexDir(index_root)
    path = idx.current_path()
    if path is None:
        raise IndexUnavailableError(f"no index at {index_root}: build one with `kb ingest`")
    if not path.is_dir():
        raise IndexUnavailableError(f"{index_root / 'CURRENT'} names {path.name}, which is missing: rebuild with `kb ingest`")
    return Generation(path)
