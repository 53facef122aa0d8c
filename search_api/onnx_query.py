"""Query embeddings through onnxruntime: the same model, a fifth of the time.

A search embeds one short question. PyTorch spends ~22 ms of one core on that (measured here on a 12-token query:
almost all of it per-operator overhead in the transformer's Python code, not arithmetic); onnxruntime runs the same
graph in ~7 ms, and ~5 ms (two threads) once its fused BERT operators replace the exported graph's ~670 small ones.
Passages are still embedded by Haystack's sentence-transformers component at ingest, where batches are long and
arithmetic dominates: the fused graph is only ~10% faster there (all 1,333 corpus passages, twice each: 31.2-31.9
passages/s in batches of 4 against 28.5-28.9).

The transformer of the loaded SentenceTransformer is exported once with ``torch.onnx.export`` into
``<cache_dir>/onnx/<key>.onnx`` and rewritten with onnxruntime's fused operators (``_fuse``); the key hashes the
weights, the config, the torch version and ``EXPORT_VERSION``, so a different model or exporter exports again.
Tokenisation is the model's own ``tokenizer.json`` through ``tokenizers``, set as sentence-transformers sets it
(truncation at the model's ``max_seq_length``, padding to the longest text), and the pooling (mean over the
attention mask, then L2 normalisation) is applied here only when the model's ``modules.json`` says that is what it
does. After exporting, a probe batch of different lengths is encoded by both runtimes; if any component differs by
more than ``TOLERANCE``, the session is discarded and PyTorch encodes queries, with a warning. A probe that passes
is recorded beside the export (``<key>.verified.json``), and a process that finds that record opens the session
without loading the SentenceTransformer at all (``open_verified``): PyTorch's copy of the model, transformers'
code and Haystack's component took ~300 MB of every search process (679 -> 381 MB for a QueryEmbedder and one query). Vectors differ from PyTorch's by float32 rounding (at most 2.4e-7 over
the ObliQA dev questions), which leaves every ranking in ``kb eval`` unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

TOLERANCE = 1e-4
EXPORT_VERSION = "eager-fused-1"  # part of the cache key: a change to how the model is exported exports again
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_PROBE = [
    "victim",
    "who coordinates the regional support office of the Bali Process",
    "What penalty does the law set for smuggling migrants when the offence endangers their lives or involves an "
    "organised criminal group, and may the smuggled migrant be prosecuted for having been smuggled?",
]


class OnnxQueryModel:
    """Mean-pooled, normalised sentence embeddings from an onnxruntime session over the exported transformer."""

    def __init__(self, onnx_path: Path, model_dir: Path, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        # ``threads`` that sleep, never spin, when idle. A spinning thread steals the core from the BM25 leg and
        # the dense product that run beside and after the embedding (hybrid p50 at 100k passages, measured
        # three times each: 1 thread 32-34 ms; 2 spinning 35 ms; 2 sleeping 26-31 ms). Two suit one process
        # alone on two cores; kb serve's worker processes get one each (``Settings.query_threads``). Calls from
        # several threads run concurrently.
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # No memory arena: it kept the peak of every batch shape resident, 14-24 MB more per process for the
        # same speed (77 dev questions, one at a time: p50 3.5-3.7 ms without, 3.7-3.9 ms with).
        opts.enable_cpu_mem_arena = False
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.path = onnx_path
        self._tokenize = text_tokenizer(Path(model_dir))

    @classmethod
    def load(cls, st_model, model_dir: Path, cache_dir: Path, threads: int) -> OnnxQueryModel | None:
        """The exported model (exporting it first if needed), or None when it cannot stand in for PyTorch.

        The probe check runs here, against ``st_model``; when it passes it is recorded for ``open_verified``.
        """
        why = _unsupported(model_dir)
        if why:
            log.warning("queries are embedded by PyTorch: %s", why)
            return None
        try:
            path = _export(st_model, model_dir, Path(cache_dir) / "onnx")
            onnx = cls(path, model_dir, threads)
            diff = onnx.max_difference(st_model)
        except Exception as exc:  # noqa: BLE001 - any failure here means: use PyTorch, and say why
            log.warning("queries are embedded by PyTorch: the ONNX export failed (%s: %s)", type(exc).__name__, exc)
            return None
        if diff > TOLERANCE:
            log.warning("queries are embedded by PyTorch: ONNX differs from it by %.2g (> %g)", diff, TOLERANCE)
            return None
        _write_json(record_path(path), {"max_difference": diff, **_verification_terms()})
        return onnx

    @classmethod
    def open_verified(cls, model_dir: Path, cache_dir: Path, threads: int) -> OnnxQueryModel | None:
        """The exported model if an earlier ``load`` verified it against PyTorch under the same terms (tolerance,
        probe), else None. Needs neither the SentenceTransformer nor transformers."""
        if _unsupported(model_dir):
            return None
        path = Path(cache_dir) / "onnx" / f"{_export_key(model_dir)}.onnx"
        try:
            record = json.loads(record_path(path).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        terms = _verification_terms()
        if not path.exists() or any(record.get(k) != v for k, v in terms.items()) or not record.get("max_difference", 1) <= TOLERANCE:
            return None
        try:
            return cls(path, model_dir, threads)
        except Exception as exc:  # noqa: BLE001 - a damaged export: the caller goes the long way
            log.warning("the verified ONNX export %s cannot be opened (%s: %s)", path, type(exc).__name__, exc)
            return None

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors [len(texts) x dim]."""
        feats = self._tokenize(texts)
        mask = feats["attention_mask"]
        inputs = {name: feats.get(name, np.zeros_like(mask)) for name in self.input_names}
        hidden = self.session.run(None, inputs)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return (pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)

    def max_difference(self, st_model, texts: list[str] = _PROBE) -> float:
        """Largest absolute difference from the SentenceTransformer's vectors over ``texts``, encoded as one padded
        batch: a check of the tokenizer, the exported graph and the pooling together."""
        import torch

        with torch.inference_mode():
            ref = st_model.encode(texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return float(np.abs(self.encode(texts) - np.asarray(ref, dtype=np.float32)).max())


def text_tokenizer(model_dir: Path):
    """texts -> int64 ``input_ids``, ``attention_mask`` and ``token_type_ids`` [n x longest], as the
    SentenceTransformer's ``preprocess`` makes them: the model's ``tokenizer.json`` (whose own truncation and
    padding, 128 tokens fixed for MiniLM, transformers overrides), cut at ``max_seq_length`` (longest first),
    padded with the model's pad token to the longest text. ~35 µs for a query, against ~200 µs through
    transformers."""
    from tokenizers import Tokenizer

    cfg = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
    pad = json.loads((model_dir / "special_tokens_map.json").read_text("utf-8"))["pad_token"]
    pad = pad["content"] if isinstance(pad, dict) else pad
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_length=int(cfg["max_seq_length"]), strategy="longest_first")
    tok.enable_padding(pad_id=tok.token_to_id(pad), pad_token=pad, pad_type_id=0)
    lower = bool(cfg.get("do_lower_case"))

    def tokenize(texts: list[str]) -> dict[str, np.ndarray]:
        enc = tok.encode_batch([t.lower() if lower else t for t in texts])
        return {
            "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
        }

    return tokenize


def record_path(onnx_path: Path) -> Path:
    """Where the probe check of an export is recorded (beside it): what ``open_verified`` trusts."""
    return onnx_path.with_suffix(".verified.json")


def _verification_terms() -> dict:
    """What a recorded probe check vouches for; a record made under other terms is not trusted."""
    return {"tolerance": TOLERANCE, "probe": hashlib.sha256("\n".join(_PROBE).encode()).hexdigest()[:16]}


def _write_json(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".json.tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _unsupported(model_dir: Path) -> str | None:
    """Why this model's pipeline is not Transformer > mean Pooling > Normalize, or None when it is."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        cfg = json.loads((model_dir / pooling["path"] / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        return f"cannot read the model's modules ({type(exc).__name__}: {exc})"
    if kinds != ["Transformer", "Pooling", "Normalize"]:
        return f"model modules {kinds}, not Transformer > Pooling > Normalize"
    modes = [k for k, v in cfg.items() if k.startswith("pooling_mode_") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        return f"pooling {modes}, not mean"
    missing = [n for n in ("tokenizer.json", "sentence_bert_config.json", "special_tokens_map.json") if not (model_dir / n).exists()]
    if missing:
        return f"the model has no {', '.join(missing)}"
    return None


def _export_key(model_dir: Path) -> str:
    """Hash of the weights, the config, the torch version and ``EXPORT_VERSION``."""
    import torch

    h = hashlib.sha256(f"{torch.__version__} {EXPORT_VERSION}".encode())
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        f = model_dir / name
        if f.exists():
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()[:20]


def _export(st_model, model_dir: Path, out_dir: Path) -> Path:
    """Export the transformer once per (weights, config, torch version); atomic, so concurrent processes are safe."""
    import torch

    path = out_dir / f"{_export_key(model_dir)}.onnx"
    if path.exists():
        return path
    out_dir.mkdir(parents=True, exist_ok=True)
    auto = st_model[0].auto_model

    class _Hidden(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    sample = text_tokenizer(model_dir)(_PROBE[:2])
    args = tuple(torch.from_numpy(sample[n]) for n in _INPUTS)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".onnx.tmp")
    os.close(fd)
    os.chmod(tmp, 0o644)
    try:
        import warnings

        with torch.no_grad(), warnings.catch_warnings(), _eager_attention(auto):
            warnings.simplefilter("ignore")  # the tracer's notes on Python control flow; the probe check decides
            torch.onnx.export(
                _Hidden(auto).eval(), args, tmp, input_names=list(_INPUTS), output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in (*_INPUTS, "last_hidden_state")},
                opset_version=17, dynamo=False,
            )
        _fuse(tmp, auto.config)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


@contextmanager
def _eager_attention(model):
    """The model's plain attention (matmul, softmax, matmul) while exporting, the form ``_fuse`` recognises.

    transformers runs BERT with PyTorch's fused SDPA by default, which exports to a graph onnxruntime's fusion
    does not match. The model is put back as it was: Haystack embeds passages with the same object.
    """
    before = getattr(model.config, "_attn_implementation", None)
    setter = getattr(model, "set_attn_implementation", None)
    if before in (None, "eager") or setter is None:
        yield
        return
    setter("eager")
    try:
        yield
    finally:
        setter(before)


def _fuse(path: str, config) -> None:
    """Rewrite the exported BERT graph with onnxruntime's fused operators, in place; keep it unfused on failure.

    Embedding + LayerNorm, each layer's attention, GELU and the residual LayerNorms become one operator each
    (669 nodes become 46). One query: 6.4 -> 5.0 ms on two threads, 8.0 -> 7.6 ms on one; vectors move by at
    most 3e-6. The probe check after loading still compares the result with PyTorch.
    """
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        fused = optimize_model(path, model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, opt_level=0)
        fused.save_model_to_file(path)
    except Exception as exc:  # noqa: BLE001 - fusion is an optimisation: the plain export works as it is
        log.warning("ONNX query model left unfused (%s: %s)", type(exc).__name__, exc)
