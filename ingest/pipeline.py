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

from ingest.alignments import ALIGNMENTS_NAME, AlignmentsError, read_alignments, stale_reviews
from ingest.embedder import Embedder, MultilingualEmbedder, passage_embedder
from ingest.errors import IndexUnavailableError, IngestError, KBError, ManifestError
from ingest.manifest import MANIFEST_NAME, find_manifest, load_manifest
from ingest.processing import DocumentProcessor, ProcessedDocument
from ingest.schema import SCHEMA_VERSION, DocumentMeta, slugify
from ingest.settings import PROJECT_ROOT, Settings
from ingest.stores import DocArtifact, Generation, IndexDir, artifact_key, built_with_other_code, open_current, write_generation

# Files in a corpus directory that describe documents rather than being documents.
NON_DOCUMENT_FILES = {MANIFEST_NAME, ALIGNMENTS_NAME, "SOURCES.tsv", "README.md", "LICENSE", ".gitkeep"}
# Documents loaded and split at once. Two: pypdf and splitting (Python, one core) go on beside a scanned PDF's
# OCR (tesseract processes, whose threads here only wait). The bundled corpus, its 5 OCR pages included, on 2
# cores: 8.9-9.3 s one at a time, 7.2-7.4 s two at a time, which is both cores busy (load + split cost ~14 s of
# CPU); ingest end to end 39.2-39.4 -> 39.9-41.1 passages/s in fp32.
DOCUMENT_WORKERS = 2


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
    warnings: list[str] = field(default_factory=list)  # indexed, but worth a look (e.g. no identifiable language)
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


def stage_versions() -> dict[str, int]:
    """The version of each stage that shapes a document's artifact; each module bumps its own when its output
    changes (tests/test_ingest.py's corpus digest fails until it does)."""
    from ingest.loaders import LOADER_VERSION
    from ingest.metadata import METADATA_VERSION
    from ingest.passages import PASSAGE_VERSION
    from ingest.sections import SPLITTER_VERSION

    return {"schema": SCHEMA_VERSION, "loader": LOADER_VERSION, "splitter": SPLITTER_VERSION,
            "metadata": METADATA_VERSION, "passages": PASSAGE_VERSION}


def pipeline_fingerprint(settings: Settings, model_info: dict) -> str:
    """Changes whenever something that shapes a document's artifact changes: a stage's version, the model, the
    passage budget."""
    return _fingerprint(settings, model_info, stage_versions())


def passage_fingerprint(settings: Settings, model_info: dict) -> str:
    """Changes whenever something that shapes given sections' passages and vectors changes: the schema, the
    passage cutter, the model and the passage budget (not the loaders, splitter or metadata, which eval
    corpora given as sections never go through)."""
    versions = stage_versions()
    return _fingerprint(settings, model_info, {k: versions[k] for k in ("schema", "passages")})


def _fingerprint(settings: Settings, model_info: dict, versions: dict[str, int]) -> str:
    key = f"{sorted(versions.items())}|{sorted(model_info.items())}|{settings.max_passage_tokens}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


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


def ingest(
    paths: list[Path] | None,
    settings: Settings,
    *,
    embedder: Embedder | MultilingualEmbedder | None = None,
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
        _ingest_locked(paths, settings, index_dir, report, embedder or passage_embedder(settings), on_progress, metas or {})
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _ingest_locked(paths, settings, index_dir, report, embedder, on_progress, metas) -> None:
    """The four stages, under the index lock: plan, process, embed, publish."""
    plan = plan_ingest(paths, settings, index_dir, report, embedder.info(), metas)
    try:
        processed = process_documents(plan, settings, report, embedder, on_progress)
        embed_documents(processed, plan, index_dir, report, embedder, on_progress)
        publish(plan, index_dir, report)
    finally:
        if plan.current is not None:
            plan.current.close()
    final = open_current(settings.index_dir)
    counts = final.manifest["counts"]
    report.documents, report.sections, report.passages = counts["documents"], counts["sections"], counts["passages"]
    _check_reviews(paths, final, report)
    final.close()
    if settings.backend == "opensearch":  # mirror the live generation; the local index stays the source of truth
        from ingest.opensearch_store import sync_generation

        t0 = time.perf_counter()
        sync_generation(settings)
        report.stage_seconds["opensearch"] = round(time.perf_counter() - t0, 3)


def _check_reviews(paths: list[Path], gen, report: IngestReport) -> None:
    """The reviewed cells (``alignments.csv``) of each corpus directory ingested, against the index just published:
    a malformed file is a failure naming its line and field, a review of a provision no longer indexed a
    warning. The index is published either way."""
    for directory in (p for p in paths if p.is_dir()):
        path = directory / ALIGNMENTS_NAME
        if not path.exists():
            continue
        try:
            report.warnings.extend(stale_reviews(path, read_alignments(path), gen))
        except AlignmentsError as exc:
            report.failed.append(FileFailure(str(path), str(exc), "alignments"))


# ---------------------------------------------------------------------------------------------------------
# 1. Plan: which files are new, changed or unchanged, and which indexed documents are kept or deleted


@dataclass
class Job:
    """A new or changed file to process."""

    path: Path
    meta: DocumentMeta | None
    sha: str
    doc_id: str


@dataclass
class IngestPlan:
    """What an ingest run does: the files to process, the documents kept as they are, and under which pipeline."""

    fingerprint: str
    model_info: dict
    current: Generation | None  # the live generation, if it opens
    current_docs: dict[str, dict]  # its manifest's documents
    todo: list[Job] = field(default_factory=list)
    # doc_id -> artifact in the next generation; None: kept as indexed, loaded only if a generation is written
    artifacts: dict[str, DocArtifact | None] = field(default_factory=dict)

    def keep(self, doc_id: str) -> None:
        """Keep the indexed version of a document (when it is indexed at all)."""
        if doc_id in self.current_docs:
            self.artifacts[doc_id] = None


def plan_ingest(paths: list[Path], settings: Settings, index_dir: IndexDir, report: IngestReport,
                model_info: dict, metas: dict[Path, DocumentMeta]) -> IngestPlan:
    """Decide, per file, whether it is new, changed or unchanged; and which indexed documents vanished from a
    directory being ingested (deleted) or are not part of this run (kept). Files that fail are reported."""
    files, missing = collect_files(paths)
    report.failed.extend(missing)
    current = None
    if index_dir.current_name():
        try:
            current = open_current(settings.index_dir)
        except KBError:
            current = None  # a damaged index is rebuilt from the files and the artifact cache
    plan = IngestPlan(pipeline_fingerprint(settings, model_info), model_info, current,
                      current.manifest["documents"] if current else {})
    manifests: dict[Path, dict[Path, DocumentMeta]] = {}
    seen_ids: dict[str, Path] = {}
    for path in files:
        try:
            _plan_file(path, settings, index_dir, plan, report, _meta_for(path, metas, manifests), seen_ids)
        except ManifestError as exc:
            report.failed.append(FileFailure(str(path), str(exc), type(exc).__name__))
            seen_ids.setdefault(f"__failed__{path}", path)
        except (IngestError, OSError) as exc:
            report.failed.append(FileFailure(str(path), str(exc) if isinstance(exc, IngestError) else f"{path}: {exc}", type(exc).__name__))
    _plan_deletions(paths, files, plan, report)
    return plan


def _meta_for(path: Path, metas: dict[Path, DocumentMeta], manifests: dict[Path, dict[Path, DocumentMeta]]) -> DocumentMeta | None:
    """The caller's metadata for the file, else its manifest row (each manifest read once), as a copy."""
    meta = metas.get(path)
    if meta is None:
        mf = find_manifest(path)
        if mf is not None:
            if mf not in manifests:
                manifests[mf] = load_manifest(mf)
            meta = manifests[mf].get(path)
    return DocumentMeta.from_dict(meta.to_dict()) if meta is not None else None  # never mutate the caller's copy


def _plan_file(path: Path, settings: Settings, index_dir: IndexDir, plan: IngestPlan, report: IngestReport,
               meta: DocumentMeta | None, seen_ids: dict[str, Path]) -> None:
    if path.stat().st_size > settings.max_file_bytes:
        from ingest.errors import FileTooLargeError

        raise FileTooLargeError(path, f"{path.stat().st_size} bytes > limit {settings.max_file_bytes} (KB_MAX_FILE_BYTES)")
    doc_id = meta.doc_id if meta else slugify(path.stem, max_len=80)
    if doc_id in seen_ids and seen_ids[doc_id] != path:
        doc_id = f"{doc_id}-{hashlib.sha1(str(path).encode()).hexdigest()[:6]}"
        if meta:
            meta.doc_id = doc_id
    seen_ids[doc_id] = path
    sha = file_sha256(path)
    cached = index_dir.docs / f"{doc_id}-{artifact_key(sha, plan.fingerprint)}"
    indexed = plan.current_docs.get(doc_id)
    if indexed is not None and indexed["sha256"] == sha and cached.is_dir() and meta_matches(cached, meta):
        report.unchanged.append(doc_id)
        plan.artifacts[doc_id] = None  # loaded lazily, only if a new generation is needed
    else:
        plan.todo.append(Job(path, meta, sha, doc_id))


def _plan_deletions(paths: list[Path], files: list[Path], plan: IngestPlan, report: IngestReport) -> None:
    """Documents that vanished from a directory being ingested are deleted; others are kept as they are."""
    dirs = [p.resolve() for p in paths if p.is_dir()]
    failed_paths = {Path(f.path).resolve() for f in report.failed}
    seen_paths = set(files)
    queued = {job.doc_id for job in plan.todo}
    for doc_id, info in plan.current_docs.items():
        if doc_id in plan.artifacts or doc_id in queued:
            continue
        stored = resolve_stored_path(info["path"])
        under_ingested_dir = any(stored == d or d in stored.parents for d in dirs)
        if under_ingested_dir and stored not in seen_paths and stored not in failed_paths:
            report.deleted.append(doc_id)
        else:
            plan.artifacts[doc_id] = None  # keep: not part of this run, or failed this time


# ---------------------------------------------------------------------------------------------------------
# 2. Process: load and split the new and changed files, DOCUMENT_WORKERS at a time


def process_documents(plan: IngestPlan, settings: Settings, report: IngestReport, embedder: Embedder | MultilingualEmbedder,
                      on_progress) -> list[tuple[ProcessedDocument, str]]:
    """Process ``plan.todo`` (the model loads meanwhile); returns each processed document with its file's hash,
    in file order. A file that fails is reported and keeps what the index already had for it."""
    todo = plan.todo
    if todo:
        threading.Thread(target=_warm_up_quietly, args=(embedder,), name="kb-model-load", daemon=True).start()
    done: list[tuple[ProcessedDocument, str]] = []
    processor = DocumentProcessor(settings)
    t0 = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=DOCUMENT_WORKERS, thread_name_prefix="kb-document")
    try:
        # The largest files start first (a scanned PDF's OCR is the long pole); results are taken in file order.
        futures = {j: pool.submit(processor.process, todo[j].path, todo[j].meta)
                   for j in sorted(range(len(todo)), key=lambda j: -_size(todo[j].path))}
        for i, job in enumerate(todo):
            if on_progress:
                on_progress("load", i, len(todo))
            doc = _result_or_failure(futures[i], job, plan, report)
            if doc is not None:
                _record_processed(doc, job, plan, report)
                done.append((doc, job.sha))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # interrupted: documents not started are not read
    report.stage_seconds["documents"] = time.perf_counter() - t0
    if on_progress and todo:
        on_progress("load", len(todo), len(todo))
    return done


def _result_or_failure(future, job: Job, plan: IngestPlan, report: IngestReport) -> ProcessedDocument | None:
    try:
        return future.result()
    except IngestError as exc:
        report.failed.append(FileFailure(str(job.path), str(exc), type(exc).__name__))
    except Exception as exc:  # a bug or a library failure on one file must not sink the run
        report.failed.append(FileFailure(str(job.path), f"{job.path}: unexpected {type(exc).__name__}: {exc}", type(exc).__name__))
    plan.keep(job.doc_id)  # the version already indexed stays
    return None


def _record_processed(doc: ProcessedDocument, job: Job, plan: IngestPlan, report: IngestReport) -> None:
    report.stage_seconds["load"] += doc.load_seconds
    report.stage_seconds["split"] += doc.split_seconds
    m = doc.meta
    m.doc_id, m.sha256, m.path = job.doc_id, job.sha, display_path(job.path)
    if m.inferred_fields:
        report.inferred[job.doc_id] = list(m.inferred_fields)
    if m.language == "und":
        report.warnings.append(f"{job.path}: no identifiable language; indexed as und (set its language in the manifest)")
    report.pages_ocr += m.ocr_pages
    (report.updated if job.doc_id in plan.current_docs else report.added).append(job.doc_id)


# ---------------------------------------------------------------------------------------------------------
# 3. Embed: all new passages in one pass (the model batches by length across documents); save the artifacts


def embed_documents(processed: list[tuple[ProcessedDocument, str]], plan: IngestPlan, index_dir: IndexDir,
                    report: IngestReport, embedder: Embedder | MultilingualEmbedder, on_progress) -> None:
    texts = [p.search_text for doc, _ in processed for p in doc.passages]
    t0 = time.perf_counter()
    vectors = embed_passages(embedder, texts, on_progress)
    report.stage_seconds["embed"] = time.perf_counter() - t0
    report.passages_embedded = len(texts)
    offset = 0
    for doc, sha in processed:
        art = DocArtifact(doc.meta, doc.sections, doc.passages, vectors[offset : offset + len(doc.passages)])
        offset += len(doc.passages)
        art.save(index_dir.docs / f"{doc.meta.doc_id}-{artifact_key(sha, plan.fingerprint)}")
        plan.artifacts[doc.meta.doc_id] = art


# ---------------------------------------------------------------------------------------------------------
# 4. Publish: a new generation only when something changed (or the index settings did); then collect garbage


def publish(plan: IngestPlan, index_dir: IndexDir, report: IngestReport) -> None:
    t0 = time.perf_counter()
    current = plan.current
    changed = any(a is not None for a in plan.artifacts.values()) or report.deleted
    settings_changed = current is None or current.manifest.get("model") != plan.model_info or built_with_other_code(current.manifest)
    if changed or settings_changed:
        live = [a if a is not None else _load_kept(index_dir, doc_id, plan.current_docs[doc_id], plan.fingerprint)
                for doc_id, a in plan.artifacts.items()]
        report.generation = write_generation(index_dir, live, plan.model_info)
        index_dir.collect_garbage({a.key for a in live})
    else:
        report.generation = current.name if current else None
    report.stage_seconds["write"] = time.perf_counter() - t0
    report.stage_seconds = {k: round(v, 3) for k, v in report.stage_seconds.items()}


def meta_matches(cached_dir: Path, meta: DocumentMeta | None) -> bool:
    """A cached artifact is reusable only if the manifest metadata it was built with is unchanged."""
    if meta is None:
        return True
    import json

    old = json.loads((cached_dir / "meta.json").read_text("utf-8"))
    fields = ("title", "doc_type", "members", "jurisdiction", "year", "year_to", "language", "source", "licence")
    # an unknown status in the manifest lets the file's own (provision JSON's) stand
    same_status = meta.status == "unknown" or old.get("status") == meta.status
    return same_status and all(old.get(f) == getattr(meta, f) for f in fields)


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


def _warm_up_quietly(embedder: Embedder | MultilingualEmbedder) -> None:
    """Load the model while documents are read; a failure here is raised again, and reported, when embedding."""
    try:
        embedder.warm_up()
    except Exception:  # noqa: BLE001 - the embed stage calls warm_up again and reports the error
        pass


def embed_passages(embedder: Embedder | MultilingualEmbedder, texts: list[str], on_progress: Callable[[str, int, int], None] | None = None) -> "np.ndarray":
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
