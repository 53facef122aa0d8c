"""Ingest: files -> sections -> passages -> vectors -> a new index generation, incrementally.

Unchanged documents (same bytes, same pipeline) are reused from the artifact cache; changed ones are
reprocessed; documents that vanished from a directory being ingested are dropped. A file that fails is
reported with its reason and never removes what the index already had for it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from haystack import component

from ingest.embedder import Embedder
from ingest.errors import IndexUnavailableError, IngestError, KBError, ManifestError
from ingest.manifest import MANIFEST_NAME, find_manifest, load_manifest
from ingest.passages import load_tokenizer, split_passages
from ingest.schema import SCHEMA_VERSION, DocumentMeta, Passage, Section, slugify
from ingest.settings import PROJECT_ROOT, Settings
from ingest.stores import DocArtifact, IndexDir, artifact_key, built_with_other_code, write_generation

# Files in a corpus directory that describe documents rather than being documents.
NON_DOCUMENT_FILES = {MANIFEST_NAME, "SOURCES.tsv", "README.md", "LICENSE", ".gitkeep"}
# Documents loaded and split at once. Two: pypdf and splitting (Python, one core) go on beside a scanned PDF's
# OCR (tesseract processes, whose threads here only wait). The bundled corpus, its 5 OCR pages included, on 2
# cores: 8.9-9.3 s one at a time, 7.2-7.4 s two at a time, which is both cores busy (load + split cost ~14 s of
# CPU); ingest end to end 39.2-39.4 -> 39.9-41.1 passages/s in fp32.
DOCUMENT_WORKERS = 2
_FINGERPRINT_MODULES = ("schema.py", "loaders.py", "sections.py", "metadata.py", "passages.py")


@dataclass
class FileFailure:
    path: str
    error: str
    kind: str


@dataclass
class IngestReport:
    """What an ingest run did. ``ok`` is False when any file failed."""

    documents: int = 0  # in the index after the run
    sections: int = 0
    passages: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[FileFailure] = field(default_factory=list)
    inferred: dict[str, list[str]] = field(default_factory=dict)  # doc_id -> metadata fields inferred
    pages_ocr: int = 0
    passages_embedded: int = 0
    generation: str | None = None
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=lambda: {"load": 0.0, "split": 0.0, "documents": 0.0, "embed": 0.0, "write": 0.0})
    # load and split are summed over documents, which run DOCUMENT_WORKERS at a time; documents is their wall time

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def pipeline_fingerprint(settings: Settings, model_info: dict) -> str:
    """Changes whenever something that shapes a document's artifact changes: code, model, passage budget."""
    return _code_fingerprint(settings, model_info, _FINGERPRINT_MODULES)


def passage_fingerprint(settings: Settings, model_info: dict) -> str:
    """Changes whenever something that shapes given sections' passages and vectors changes: the schema, the
    passage splitter, the model and the passage budget (not the loaders, splitter or metadata, which eval
    corpora given as sections never go through)."""
    return _code_fingerprint(settings, model_info, ("schema.py", "passages.py"))


def _code_fingerprint(settings: Settings, model_info: dict, modules: tuple[str, ...]) -> str:
    h = hashlib.sha256(f"{SCHEMA_VERSION}|{sorted(model_info.items())}|{settings.max_passage_tokens}".encode())
    here = Path(__file__).parent
    for name in modules:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def display_path(path: Path) -> str:
    """Project-relative where possible, so an index is portable with its checkout."""
    path = path.resolve()
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def resolve_stored_path(stored: str) -> Path:
    p = Path(stored)
    return p if p.is_absolute() else (PROJECT_ROOT / p).resolve()


def collect_files(paths: list[Path]) -> tuple[list[Path], list[FileFailure]]:
    """Expand directories recursively; hidden files and manifest files are skipped."""
    files: list[Path] = []
    missing: list[FileFailure] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.name not in NON_DOCUMENT_FILES and not any(part.startswith(".") for part in f.relative_to(p).parts):
                    files.append(f.resolve())
        elif p.is_file():
            files.append(p.resolve())
        else:
            missing.append(FileFailure(str(p), f"{p}: no such file or directory", "NotFound"))
    # de-duplicate, keep order
    seen: set[Path] = set()
    return [f for f in files if not (f in seen or seen.add(f))], missing


@component
class DocumentProcessor:
    """Load a file, split it into sections, tag members and priority areas, and cut passages."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @component.output_types(meta=DocumentMeta, sections=list[Section], passages=list[Passage], timings=dict)
    def run(self, path: Path, meta: DocumentMeta | None = None) -> dict:
        from ingest.loaders import load_file
        from ingest.metadata import annotate_sections, infer_document_meta
        from ingest.sections import split_sections

        t0 = time.perf_counter()
        loaded = load_file(path, self.settings)
        t1 = time.perf_counter()
        if meta is None:
            meta = infer_document_meta(path, "\n".join(loaded.pages))
        meta.pages = len(loaded.pages) if loaded.paged else None
        meta.ocr_pages = len(loaded.ocr_pages)
        sections = split_sections(meta, loaded)
        if not sections:
            raise IngestError(path, "no sections could be made from the extracted text")
        annotate_sections(meta, sections)
        tokenizer = load_tokenizer(str(self.settings.resolved_model_path()))
        passages = [p for s in sections for p in split_passages(s, tokenizer, self.settings.max_passage_tokens)]
        t2 = time.perf_counter()
        return {"meta": meta, "sections": sections, "passages": passages, "timings": {"load": t1 - t0, "split": t2 - t1}}


def ingest(
    paths: list[Path] | None,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    metas: dict[Path, DocumentMeta] | None = None,
) -> IngestReport:
    """Ingest files and directories into the index at ``settings.index_dir``; returns the report.

    :param paths: files and directories; default ``settings.corpus_dir``.
    :param metas: metadata supplied by the caller (e.g. an API upload), by resolved path; wins over manifests.
    :param on_progress: called as (stage, done, total).
    """
    started = time.perf_counter()
    report = IngestReport()
    paths = [Path(p) for p in (paths or [settings.corpus_dir])]
    index_dir = IndexDir(settings.index_dir)
    index_dir.ensure()
    with index_dir.lock():
        _ingest_locked(paths, settings, index_dir, report, embedder, on_progress, metas or {})
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _ingest_locked(paths, settings, index_dir, report, embedder, on_progress, metas) -> None:
    from ingest.stores import open_current

    files, missing = collect_files(paths)
    report.failed.extend(missing)
    embedder = embedder or Embedder(settings)
    model_info = embedder.info()
    fingerprint = pipeline_fingerprint(settings, model_info)

    current = None
    current_docs: dict[str, dict] = {}
    if index_dir.current_name():
        try:
            current = open_current(settings.index_dir)
            current_docs = current.manifest["documents"]
        except KBError:
            current = None  # a damaged index is rebuilt from the files and the artifact cache

    manifests: dict[Path, dict[Path, DocumentMeta]] = {}
    artifacts: dict[str, DocArtifact] = {}
    seen_ids: dict[str, Path] = {}
    todo: list[tuple[Path, DocumentMeta | None, str, str]] = []  # path, meta, sha, doc_id

    # 1. Decide, per file, whether it is new, changed or unchanged.
    for path in files:
        try:
            if path.stat().st_size > settings.max_file_bytes:
                from ingest.errors import FileTooLargeError

                raise FileTooLargeError(path, f"{path.stat().st_size} bytes > limit {settings.max_file_bytes} (KB_MAX_FILE_BYTES)")
            meta = metas.get(path)
            if meta is None:
                mf = find_manifest(path)
                if mf is not None:
                    if mf not in manifests:
                        manifests[mf] = load_manifest(mf)
                    meta = manifests[mf].get(path)
            if meta is not None:
                meta = DocumentMeta.from_dict(meta.to_dict())  # never mutate the caller's copy
            doc_id = meta.doc_id if meta else slugify(path.stem, max_len=80)
            if doc_id in seen_ids and seen_ids[doc_id] != path:
                doc_id = f"{doc_id}-{hashlib.sha1(str(path).encode()).hexdigest()[:6]}"
                if meta:
                    meta.doc_id = doc_id
            seen_ids[doc_id] = path
            sha = file_sha256(path)
            key = f"{doc_id}-{artifact_key(sha, fingerprint)}"
            cached = index_dir.docs / key
            if doc_id in current_docs and current_docs[doc_id]["sha256"] == sha and cached.is_dir() and meta_matches(cached, meta):
                report.unchanged.append(doc_id)
                artifacts[doc_id] = None  # loaded lazily below, only if a new generation is needed
            else:
                todo.append((path, meta, sha, doc_id))
        except ManifestError as exc:
            report.failed.append(FileFailure(str(path), str(exc), type(exc).__name__))
            seen_ids.setdefault(f"__failed__{path}", path)
        except (IngestError, OSError) as exc:
            report.failed.append(FileFailure(str(path), str(exc) if isinstance(exc, IngestError) else f"{path}: {exc}", type(exc).__name__))

    # Documents that vanished from a directory being ingested are deleted; others are kept as they are.
    dirs = [p.resolve() for p in paths if p.is_dir()]
    failed_paths = {Path(f.path).resolve() for f in report.failed}
    seen_paths = set(files)
    queued = {t[3] for t in todo}
    for doc_id, info in current_docs.items():
        if doc_id in artifacts or doc_id in queued:
            continue
        stored = resolve_stored_path(info["path"])
        under_ingested_dir = any(stored == d or d in stored.parents for d in dirs)
        if under_ingested_dir and stored not in seen_paths and stored not in failed_paths:
            report.deleted.append(doc_id)
        else:
            artifacts[doc_id] = None  # keep: not part of this run, or failed this time

    # 2. Process new and changed files, DOCUMENT_WORKERS at a time (see there); the model loads meanwhile.
    if todo:
        threading.Thread(target=_warm_up_quietly, args=(embedder,), name="kb-model-load", daemon=True).start()
    pending: list[tuple[DocumentMeta, list[Section], list[Passage], str]] = []
    processor = DocumentProcessor(settings)
    t0 = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=DOCUMENT_WORKERS, thread_name_prefix="kb-document")
    try:
        # The largest files start first (a scanned PDF's OCR is the long pole); results are taken in file order.
        futures = {j: pool.submit(processor.run, path=todo[j][0], meta=todo[j][1])
                   for j in sorted(range(len(todo)), key=lambda j: -_size(todo[j][0]))}
        for i, (path, meta, sha, doc_id) in enumerate(todo):
            if on_progress:
                on_progress("load", i, len(todo))
            try:
                out = futures[i].result()
            except IngestError as exc:
                report.failed.append(FileFailure(str(path), str(exc), type(exc).__name__))
                if doc_id in current_docs:
                    artifacts[doc_id] = None  # keep the version already indexed
                continue
            except Exception as exc:  # a bug or a library failure on one file must not sink the run
                report.failed.append(FileFailure(str(path), f"{path}: unexpected {type(exc).__name__}: {exc}", type(exc).__name__))
                if doc_id in current_docs:
                    artifacts[doc_id] = None
                continue
            report.stage_seconds["load"] += out["timings"]["load"]
            report.stage_seconds["split"] += out["timings"]["split"]
            m: DocumentMeta = out["meta"]
            m.doc_id = doc_id
            m.sha256 = sha
            m.path = display_path(path)
            if m.inferred_fields:
                report.inferred[doc_id] = list(m.inferred_fields)
            report.pages_ocr += m.ocr_pages
            pending.append((m, out["sections"], out["passages"], sha))
            (report.updated if doc_id in current_docs else report.added).append(doc_id)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # interrupted: documents not started are not read
    report.stage_seconds["documents"] = time.perf_counter() - t0
    if on_progress and todo:
        on_progress("load", len(todo), len(todo))

    # 3. Embed all new passages in one pass (the model batches by length across documents).
    texts = [p.search_text for _, _, ps, _ in pending for p in ps]
    t0 = time.perf_counter()
    vectors = embed_passages(embedder, texts, on_progress)
    report.stage_seconds["embed"] = time.perf_counter() - t0
    report.passages_embedded = len(texts)
    offset = 0
    for meta, sections, passages, sha in pending:
        art = DocArtifact(meta, sections, passages, vectors[offset : offset + len(passages)])
        offset += len(passages)
        art.save(index_dir.docs / f"{meta.doc_id}-{artifact_key(sha, fingerprint)}")
        artifacts[meta.doc_id] = art

    # 4. A new generation only when something changed (or the index settings did).
    t0 = time.perf_counter()
    index_settings_changed = current is None or current.manifest.get("model") != model_info or built_with_other_code(current.manifest)
    if pending or report.deleted or index_settings_changed:
        for doc_id in list(artifacts):
            if artifacts[doc_id] is None:
                artifacts[doc_id] = _load_kept(index_dir, doc_id, current_docs[doc_id], fingerprint)
        live = list(artifacts.values())
        report.generation = write_generation(index_dir, live, model_info)
        index_dir.collect_garbage({a.key for a in live})
    else:
        report.generation = current.name if current else None
    report.stage_seconds["write"] = time.perf_counter() - t0
    report.stage_seconds = {k: round(v, 3) for k, v in report.stage_seconds.items()}

    final = open_current(settings.index_dir)
    report.documents = final.manifest["counts"]["documents"]
    report.sections = final.manifest["counts"]["sections"]
    report.passages = final.manifest["counts"]["passages"]
    final.close()
    if current is not None:
        current.close()
    if settings.backend == "opensearch":  # mirror the live generation; the local index stays the source of truth
        from ingest.opensearch_store import sync_generation

        t0 = time.perf_counter()
        sync_generation(settings)
        report.stage_seconds["opensearch"] = round(time.perf_counter() - t0, 3)


def meta_matches(cached_dir: Path, meta: DocumentMeta | None) -> bool:
    """A cached artifact is reusable only if the manifest metadata it was built with is unchanged."""
    if meta is None:
        return True
    import json

    old = json.loads((cached_dir / "meta.json").read_text("utf-8"))
    fields = ("title", "doc_type", "members", "jurisdiction", "year", "year_to", "language", "source", "licence")
    return all(old.get(f) == getattr(meta, f) for f in fields)


def _load_kept(index_dir: IndexDir, doc_id: str, info: dict, fingerprint: str) -> DocArtifact:
    """The artifact of a document kept as it is: the current pipeline's if there is one, else the one indexed."""
    fresh = index_dir.docs / f"{doc_id}-{artifact_key(info['sha256'], fingerprint)}"
    recorded = index_dir.docs / info.get("artifact", "")
    for path in (fresh, recorded):
        if info.get("artifact") and path.is_dir():
            return DocArtifact.load(path)
    raise IndexUnavailableError(
        f"the artifact of {doc_id!r} is missing from {index_dir.docs}: re-ingest its file ({info['path']})"
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported when it is read


def _warm_up_quietly(embedder: Embedder) -> None:
    """Load the model while documents are read; a failure here is raised again, and reported, when embedding."""
    try:
        embedder.warm_up()
    except Exception:  # noqa: BLE001 - the embed stage calls warm_up again and reports the error
        pass


def embed_passages(embedder: Embedder, texts: list[str], on_progress: Callable[[str, int, int], None] | None = None) -> "np.ndarray":
    """Passage vectors in ``texts``' order, embedded shortest first (batches pad little), reporting progress as
    ("embed", done, total)."""
    import numpy as np

    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    chunk = 256
    for start in range(0, len(order), chunk):
        idx = order[start : start + chunk]
        out[idx] = embedder.embed_passages([texts[i] for i in idx])
        if on_progress:
            on_progress("embed", min(start + chunk, len(order)), len(order))
    return out
