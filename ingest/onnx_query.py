"""Query embeddings through onnxruntime: the same model, a fifth of the time.

A search embeds one short question. PyTorch spends ~22 ms of one core on that (measured here on a 12-token query:
almost all of it per-operator overhead in the transformer's Python code, not arithmetic); onnxruntime runs the same
graph in ~7 ms, and ~5 ms (two threads) once its fused BERT operators replace the exported graph's ~670 small ones.
Passages are still embedded by Haystack's sentence-transformers component at ingest, where batches are long and
both runtimes are about as fast (16.6 against 15.6 passages/s measured on 320 corpus passages, before fusion).

The transformer of the loaded SentenceTransformer is exported once with ``torch.onnx.export`` into
``<cache_dir>/onnx/<key>.onnx`` and rewritten with onnxruntime's fused operators (``_fuse``); the key hashes the
weights, the config, the torch version and ``EXPORT_VERSION``, so a different model or exporter exports again.
Tokenisation is the SentenceTransformer's own, and the pooling (mean over the attention mask, then L2
normalisation) is applied here only when the model's ``modules.json`` says that is what it does. After loading, a
probe batch of different lengths is encoded by both runtimes; if any component differs by more than
``TOLERANCE``, the session is discarded and PyTorch encodes queries, with a warning. Vectors differ from PyTorch's
by float32 rounding (at most 2.4e-7 over the ObliQA dev questions), which leaves every ranking in ``kb eval``
unchanged.
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

    def __init__(self, st_model, onnx_path: Path, threads: int) -> None:
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
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.path = onnx_path
        self._st = st_model
        self._tokenize = _tokenizer(st_model)

    @classmethod
    def load(cls, st_model, model_dir: Path, cache_dir: Path, threads: int) -> OnnxQueryModel | None:
        """The exported model (exporting it first if needed), or None when it cannot stand in for PyTorch."""
        why = _unsupported(model_dir)
        if why:
            log.warning("queries are embedded by PyTorch: %s", why)
            return None
        try:
            path = _export(st_model, model_dir, Path(cache_dir) / "onnx")
            onnx = cls(st_model, path, threads)
            diff = onnx.max_difference()
        except Exception as exc:  # noqa: BLE001 - any failure here means: use PyTorch, and say why
            log.warning("queries are embedded by PyTorch: the ONNX export failed (%s: %s)", type(exc).__name__, exc)
            return None
        if diff > TOLERANCE:
            log.warning("queries are embedded by PyTorch: ONNX differs from it by %.2g (> %g)", diff, TOLERANCE)
            return None
        return onnx

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors [len(texts) x dim]."""
        feats = self._tokenize(texts)
        mask = feats["attention_mask"].numpy()
        inputs = {}
        for name in self.input_names:
            value = feats.get(name)
            inputs[name] = (value.numpy() if value is not None else np.zeros_like(mask)).astype(np.int64)
        hidden = self.session.run(None, inputs)[0]
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return (pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)

    def max_difference(self, texts: list[str] = _PROBE) -> float:
        """Largest absolute difference from PyTorch's vectors over ``texts``, encoded as one padded batch."""
        import torch

        with torch.inference_mode():
            ref = self._st.encode(texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return float(np.abs(self.encode(texts) - np.asarray(ref, dtype=np.float32)).max())


def _tokenizer(st_model):
    """The SentenceTransformer's own text-to-features call (``preprocess`` since 5.x, ``tokenize`` before)."""
    return getattr(st_model, "preprocess", None) or st_model.tokenize


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
    return None


def _export(st_model, model_dir: Path, out_dir: Path) -> Path:
    """Export the transformer once per (weights, config, torch version); atomic, so concurrent processes are safe."""
    import torch

    h = hashlib.sha256(f"{torch.__version__} {EXPORT_VERSION}".encode())
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        f = model_dir / name
        if f.exists():
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
    path = out_dir / f"{h.hexdigest()[:20]}.onnx"
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

    sample = _tokenizer(st_model)(_PROBE[:2])
    args = tuple(sample.get(n, torch.zeros_like(sample["attention_mask"])) for n in _INPUTS)
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
