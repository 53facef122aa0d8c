"""The index directory: the writers' lock, the generations, the CURRENT pointer, the artifact cache."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.durable import fsync_dir, fsync_tree
from ingest.errors import IndexLockedError, IndexUnavailableError

KEEP_GENERATIONS = 2


class IndexDir:
    """The on-disk home of the embedded index: generations, the CURRENT pointer, the artifact cache, the lock."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.generations = self.root / "generations"
        self.docs = self.root / "docs"

    def ensure(self) -> None:
        try:
            self.generations.mkdir(parents=True, exist_ok=True)
            self.docs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexUnavailableError(f"index directory {self.root} is not writable: {exc.strerror}") from exc
        if not os.access(self.root, os.W_OK):
            raise IndexUnavailableError(f"index directory {self.root} is not writable")

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise writers: a second concurrent ingest fails at once with a clear message."""
        self.ensure()
        path = self.root / "LOCK"
        fh = open(path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise IndexLockedError(f"the index at {self.root} is being written by {holder}; try again when it finishes") from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    def current_name(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def current_path(self) -> Path | None:
        name = self.current_name()
        return self.generations / name if name else None

    def new_generation_dir(self) -> Path:
        name = time.strftime("gen-%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}-{os.urandom(3).hex()}"
        path = self.generations / (name + ".partial")
        path.mkdir(parents=True)
        return path

    def publish(self, partial: Path) -> str:
        """Make a fully written generation live: rename it, then switch CURRENT atomically."""
        final = partial.with_name(partial.name.removesuffix(".partial"))
        fsync_tree(partial)
        os.replace(partial, final)
        fsync_dir(self.generations)
        tmp = self.root / "CURRENT.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(final.name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / "CURRENT")
        fsync_dir(self.root)
        return final.name

    def collect_garbage(self, live_artifacts: set[str]) -> None:
        """Drop partial and old generations (keeping the newest few) and unreferenced artifacts."""
        current = self.current_name()
        gens = sorted(p for p in self.generations.iterdir() if p.is_dir())
        complete = [p for p in gens if not p.name.endswith(".partial")]
        keep = {p.name for p in complete[-KEEP_GENERATIONS:]} | ({current} if current else set())
        for p in gens:
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)
        for p in self.docs.iterdir():
            if p.name not in live_artifacts:
                shutil.rmtree(p, ignore_errors=True)
