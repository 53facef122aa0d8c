"""Query embedding for the search process: one short text at a time, on query threads, through onnxruntime.

Passages are embedded at ingest by ``ingest.embedder.Embedder`` (Haystack's sentence-transformers component); a
search embeds the question with the same model, exported to ONNX (``search_api.onnx_query``), so the search
process never imports sentence-transformers or transformers once the export has been verified. With
``KB_QUERY_RUNTIME=torch``, a bf16 model, or an export that cannot reproduce PyTorch, the SentenceTransformer that
the passage embedder loads encodes queries instead.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from ingest.embedder import Embedder
from ingest.settings import Settings

# Queries waiting while a worker is busy are encoded together, at most this many at once.
MAX_QUERY_BATCH = 32


class QueryEmbedder:
    """Queries to L2-normalised float32 vectors, with the model the passages were embedded with.

    :param settings: the model (``model_path``, ``embed_dtype``), ``query_runtime``, ``query_threads`` and the
        ``cache_dir`` of the ONNX export.
    :param passages: the passage embedder whose loaded SentenceTransformer PyTorch queries share (and which
        exports the model on first use); default: one of its own, loaded only if needed.
    """

    def __init__(self, settings: Settings, passages: Embedder | None = None) -> None:
        self.passages = passages or Embedder(settings)
        self.model_path = self.passages.model_path
        self.dtype = settings.resolved_embed_dtype()
        self.query_runtime = settings.query_runtime
        self.query_threads = settings.query_threads or min(2, os.cpu_count() or 1)
        self.cache_dir = settings.cache_dir

    def warm_up_queries(self) -> None:
        """Start the query runtime (exporting the ONNX model on first use), so the first search does not pay for
        it."""
        self.embed_query("warm up")

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query; float32 [dim].

        With PyTorch, calls the SentenceTransformer the Haystack text embedder loaded, with the arguments it would
        pass, on a query thread whose torch intra-op parallelism is 1 (see ``QueryBatcher``). Differs from the
        component's output only by float32 rounding (~1e-7, a different summation order).
        """
        return self.submit_query(text).result()

    def submit_query(self, text: str) -> PendingEmbedding:
        """Start embedding one query on a query thread and return at once, so the caller can run the BM25 leg
        meanwhile; ``.result()`` waits for the vector. (The text embedder has no prefix or suffix to add.)"""
        return PendingEmbedding(self.batcher().submit(text))

    def _st_model(self):
        """The SentenceTransformer the Haystack components loaded (loading them first if needed)."""
        return self.passages.components()[1].embedding_backend.model

    def _batcher_key(self) -> tuple:
        return (str(self.model_path), self.dtype, self.query_runtime, self.query_threads)

    def batcher(self) -> QueryBatcher:
        """The process's query encoder for this model and these settings, started on first use.

        With the ONNX runtime, an export that an earlier process verified against PyTorch is opened directly,
        and the SentenceTransformer is never loaded here; otherwise it is loaded to export and verify (once per
        machine), or to encode queries itself.
        """
        with _BATCHERS_LOCK:
            key = self._batcher_key()
            b = _BATCHERS.get(key)
            if b is None:
                onnx = None
                if self.query_runtime == "onnx" and self.dtype == "fp32":  # a bf16 model stays in PyTorch
                    from search_api.onnx_query import OnnxQueryModel

                    model_dir = Path(self.model_path)
                    onnx = OnnxQueryModel.open_verified(model_dir, self.cache_dir, threads=self.query_threads)
                    if onnx is None:
                        onnx = OnnxQueryModel.load(self._st_model(), model_dir, self.cache_dir, threads=self.query_threads)
                torch_model = None if onnx is not None else self._st_model()
                b = _BATCHERS[key] = QueryBatcher(torch_model, workers=self.query_threads, onnx=onnx)
            return b

    @property
    def active_query_runtime(self) -> str:
        """What encodes queries in this process: ``onnx``, or ``torch`` (configured, or the fallback); ``not
        started`` before the first query (``warm_up_queries`` starts it)."""
        b = _BATCHERS.get(self._batcher_key())
        if b is None:
            return "not started"
        return "onnx" if b.onnx is not None else "torch"


class PendingEmbedding:
    """A query embedding being computed; ``ms`` is the time the encoding took (of its whole batch), once done."""

    def __init__(self, future) -> None:
        self._future = future

    def result(self) -> np.ndarray:
        return self._future.result()[0]

    @property
    def ms(self) -> float:
        return self._future.result()[1]


def _encode_queries(model, texts: list[str], onnx=None) -> tuple[np.ndarray, float]:
    import time

    t0 = time.perf_counter()
    if onnx is not None:
        vecs = onnx.encode(texts)
    else:
        import torch

        with torch.inference_mode():
            vecs = model.encode(texts, batch_size=len(texts), show_progress_bar=False, normalize_embeddings=True, precision="float32", convert_to_numpy=True)
    return np.asarray(vecs, dtype=np.float32), (time.perf_counter() - t0) * 1000


class QueryBatcher:
    """Embeds queries on ``workers`` threads (default: one per core), batching whatever queued up while they were
    busy.
    With ``onnx`` (an ``OnnxQueryModel``, the default) onnxruntime encodes, with its own non-spinning threads;
    else the SentenceTransformer in PyTorch, with one intra-op thread per worker: a query is a few tokens, and
    splitting its tiny matrix products over OpenMP threads gains little on an idle machine and loses badly on a
    busy one (threads spin at barriers waiting for a descheduled sibling; measured on this 2-core box at load
    average ~13: 1,199 ms p50 with 2 threads, 230 ms with 1).

    Batching: under concurrent load, a worker takes every query waiting in the queue and encodes them in one
    forward pass, which costs less than one pass each (onnxruntime: 8 queries in 45 ms, against 8 ms for one).
    An idle worker takes a lone query at once, so a single user never waits for a batch to fill. Vectors differ
    from one-at-a-time encoding only by float rounding (padding is masked out of the mean pooling).
    """

    def __init__(self, model, workers: int | None = None, onnx=None) -> None:
        import queue

        import torch

        self.model = model  # the SentenceTransformer, when it encodes (no ``onnx``)
        self.onnx = onnx  # an OnnxQueryModel, or None: the SentenceTransformer itself encodes
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        default = torch.get_num_threads()  # read here, once: workers briefly change the process default
        for i in range(workers or os.cpu_count() or 1):
            threading.Thread(target=self._work, args=(default,), name=f"kb-query-embed-{i}", daemon=True).start()

    def submit(self, text: str):
        from concurrent.futures import Future

        fut: Future = Future()
        self._queue.put((text, fut))
        return fut

    def _work(self, default_threads: int) -> None:
        import queue

        _single_threaded_torch(default_threads)
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_QUERY_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            live = [(t, f) for t, f in batch if f.set_running_or_notify_cancel()]
            if not live:
                continue
            try:
                vecs, ms = _encode_queries(self.model, [t for t, _ in live], self.onnx)
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                for _, f in live:
                    f.set_exception(exc)
                continue
            for (_, f), v in zip(live, vecs):
                f.set_result((v, ms))


def _single_threaded_torch(default: int) -> None:
    """One torch intra-op thread for the calling thread. torch keeps the setting per thread, but
    ``set_num_threads`` also records it as the default for threads that start later, so a throwaway thread puts
    ``default`` back."""
    import torch

    torch.get_num_threads()  # torch's lazy per-thread init first, or it would undo the next line
    torch.set_num_threads(1)
    restore = threading.Thread(target=torch.set_num_threads, args=(default,))
    restore.start()
    restore.join()


_BATCHERS: dict[tuple, QueryBatcher] = {}
_BATCHERS_LOCK = threading.Lock()


class MultilingualQueryEmbedder:
    """Queries to multilingual-e5-small vectors (``"query: "`` added by the model), for the cross-lingual leg:
    the same ``QueryBatcher`` threads as the English model, one worker (the model is locked per forward pass, so
    queries that queue up meanwhile go in one batch), one torch thread. With ``onnx_path``, onnxruntime encodes
    over the graph exported there (``ingest.multilingual.export_onnx``, run first if the file is missing) and
    torch is not used."""

    def __init__(self, passages=None, workers: int = 1, onnx_path: Path | None = None, threads: int = 1) -> None:
        from ingest.embedder import MultilingualEmbedder

        self.passages = passages or MultilingualEmbedder()
        self.workers, self.onnx_path, self.threads = workers, onnx_path, threads
        self._batcher: QueryBatcher | None = None
        self._lock = threading.Lock()

    def batcher(self) -> QueryBatcher:
        with self._lock:
            if self._batcher is None:
                self._batcher = QueryBatcher(None, workers=self.workers, onnx=self._runtime())
            return self._batcher

    def _runtime(self):
        if self.onnx_path is None:
            return _E5Queries(self.passages.model())
        from ingest.multilingual import OnnxQueries, export_onnx

        if not Path(self.onnx_path).exists():
            export_onnx(Path(self.onnx_path))
        return OnnxQueries(Path(self.onnx_path), threads=self.threads)

    def warm_up_queries(self) -> None:
        self.embed_query("warm up")

    @property
    def query_threads(self) -> int:
        """onnxruntime's threads per query worker (what /health reports, as for QueryEmbedder)."""
        return self.threads

    @property
    def active_query_runtime(self) -> str:
        """What encodes queries: ``onnx`` or ``torch``; ``not started`` before the first query."""
        if self._batcher is None:
            return "not started"
        return "onnx" if self.onnx_path is not None else "torch"

    def submit_query(self, text: str) -> PendingEmbedding:
        return PendingEmbedding(self.batcher().submit(text))

    def embed_query(self, text: str) -> np.ndarray:
        return self.submit_query(text).result()


class _E5Queries:
    """What ``QueryBatcher`` calls for a batch of texts (as it calls an ``OnnxQueryModel``)."""

    def __init__(self, model) -> None:
        self.model = model

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.model.query(list(texts))


def query_embedder(settings: Settings, passages=None) -> QueryEmbedder | MultilingualQueryEmbedder:
    """The query embedder for the model the settings choose (``embedding_model``), sharing ``passages``'s loaded
    model when given. multilingual-e5-small queries go through onnxruntime over an export cached in
    ``cache_dir/onnx`` (made once, ~30 s), unless ``query_runtime`` is torch."""
    if settings.embedding_model != "multilingual-e5-small":
        return QueryEmbedder(settings, passages)
    from ingest.embedder import MultilingualEmbedder

    passages = passages or MultilingualEmbedder.from_settings(settings)
    onnx_path = None
    if settings.query_runtime == "onnx":
        from ingest.multilingual import onnx_export_key

        onnx_path = Path(settings.cache_dir) / "onnx" / f"me5-{onnx_export_key()}.onnx"
    threads = settings.query_threads or min(2, os.cpu_count() or 1)
    return MultilingualQueryEmbedder(passages, workers=threads, onnx_path=onnx_path, threads=threads)
