"""Per-document artifacts: everything ingest derives from one document, kept under ``docs/`` of the index and
reused while the file and the pipeline are unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.durable import fsync_dir, read_jsonl, write_json, write_jsonl
from ingest.errors import IndexUnavailableError, IndexWriteError
from ingest.schema import DocumentMeta, Passage, Section


@dataclass
class DocArtifact:
    """Everything ingest derives from one document; reused as long as the file and the pipeline are unchanged."""

    meta: DocumentMeta
    sections: list[Section]
    passages: list[Passage]
    vectors: np.ndarray  # float32 [len(passages) x dim]
    key: str = ""  # the artifact's directory name under docs/

    def save(self, directory: Path) -> None:
        """Write the artifact beside ``directory`` and move it into place.

        :raises IndexWriteError: the disk is full or the directory not writable (nothing half-written is left).
        """
        tmp = directory.with_name(directory.name + ".tmp")
        try:
            self._save(tmp, directory)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise IndexWriteError(
                f"could not write {directory} ({exc}): is the disk full or the directory not writable? "
                "The live index is unchanged"
            ) from exc

    def _save(self, tmp: Path, directory: Path) -> None:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        write_json(tmp / "meta.json", self.meta.to_dict())
        write_jsonl(tmp / "sections.jsonl", (s.to_dict() for s in self.sections))
        write_jsonl(tmp / "passages.jsonl", (p.to_dict() for p in self.passages))
        with open(tmp / "vectors.npy", "wb") as fh:
            np.save(fh, np.ascontiguousarray(self.vectors, dtype=np.float32))
            fh.flush()
            os.fsync(fh.fileno())
        fsync_dir(tmp)
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(tmp, directory)
        fsync_dir(directory.parent)
        self.key = directory.name

    @classmethod
    def load(cls, directory: Path) -> DocArtifact:
        meta = DocumentMeta.from_dict(json.loads((directory / "meta.json").read_text("utf-8")))
        sections = [Section.from_dict(d) for d in read_jsonl(directory / "sections.jsonl")]
        passages = [Passage.from_dict(d) for d in read_jsonl(directory / "passages.jsonl")]
        vectors = np.load(directory / "vectors.npy")
        if len(vectors) != len(passages):
            raise IndexUnavailableError(f"{directory}: {len(passages)} passages but {len(vectors)} vectors")
        return cls(meta, sections, passages, vectors, key=directory.name)


def artifact_key(sha256: str, pipeline_fingerprint: str) -> str:
    return hashlib.sha256(f"{sha256}:{pipeline_fingerprint}".encode()).hexdigest()[:20]
