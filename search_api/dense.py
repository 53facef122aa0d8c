"""The dense leg of the embedded engine: cosines of a query vector against a generation's stored vectors.

Vectors are stored as int8 rows with a float32 scale each (``ingest.generation_writer.quantize_vectors``). What
this module returns are always the exact float32 cosines of the stored vectors (each row times its scale):

- a small generation keeps a float32 copy (rows times scales) and multiplies it in one product;
- a large one is scored in two steps. First every row, by torch's int8 weight kernel with a bfloat16 query (it
  reads one byte per dimension and runs on AVX-512 VNNI/AMX: 1M x 384 in ~27 ms on 2 cores, against ~90 ms for
  float16 rows converted to float32 block by block), whose scores come rounded to bfloat16, within
  ``APPROX_ERROR`` of the exact ones. Then every row whose rounded score could place it in the top k is rescored
  exactly, so the top k and its scores are the same as an exact product's.

Every function takes optional per-row ``offsets`` (``search_api.language_offsets``), added to each row's cosine
before the top k is taken: the same-language bias of the model, corrected where it was measured.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ingest.stores import Generation


def top_rows(scores: np.ndarray, rows: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (rows, scores) by descending score; ``rows`` maps positions of ``scores`` to passage rows."""
    k = min(k, scores.size)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.lexsort((part, -scores[part]))]  # score desc, then position asc: deterministic ties
    return (order if rows is None else rows[order]), scores[order]


# A generation whose vectors take at most this much as float32 keeps a float32 copy in memory (made on its first
# dense search) and multiplies it in one product. 256 MB is ~175k passages of 384 dimensions; larger generations
# keep their int8 rows only. Measured on the Xeon: 10k hybrid search p50 3.96 -> 2.86 ms; the 100k dense leg
# 6.2 -> 4.4 ms, for 150 MB more per serving process.
FLOAT32_COPY_BYTES = 256 * 2**20

# How far a score of the int8 kernel may be from the exact cosine: the query, the scales and the result are each
# rounded to bfloat16 (8 significant bits: at most 2^-9 ~ 0.002 relative each, for cosines of unit vectors).
APPROX_ERROR = 0.008

# Rows gathered and rescored exactly this many at a time (each block converted in cache).
BLOCK_ROWS = 1024

# Below this many rows the product runs on the calling thread alone. At 10k rows it takes 0.5-1 ms either way,
# but a second OpenMP thread goes on spinning after it, burning the other core while the request continues in
# Python (measured on the bundled corpus: hybrid search 31 ms of CPU per query with 2 threads, 25 ms with 1, the
# same wall time). From here on two threads pay.
PARALLEL_ROWS = 50_000
# A filter letting through at least this share of the rows is scored in one pass over all rows (then picked),
# which beats gathering them.
BROAD_MASK = 0.25
_DEFAULT_THREADS: list[int] = []


def _tensors(gen: Generation):
    """The generation's int8 rows and scales as torch tensors over the same memory maps (no copy), made once."""
    def build():
        import warnings

        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the maps are read-only; torch never writes to them
            return torch.from_numpy(gen.vectors), torch.from_numpy(gen.vector_scales)

    return gen.derived("vectors_t", build)


def _vectors_f32(gen: Generation):
    """The generation's vectors as a float32 torch tensor in memory, or None for a generation too large for that
    (see FLOAT32_COPY_BYTES). Made once per generation."""
    def build():
        v = gen.vectors
        if v.shape[0] * v.shape[1] * 4 <= FLOAT32_COPY_BYTES:
            import torch

            return torch.from_numpy(gen.float_vectors())
        return None

    return gen.derived("vectors_f32", build)


def _threads_for(n: int) -> int:
    return 1 if n < PARALLEL_ROWS else _default_threads()


def _exact(gen: Generation, q: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Float32 cosines of the query with the stored vectors of all passages (or of ``rows``)."""
    import torch

    qt = torch.from_numpy(np.ascontiguousarray(q, dtype=np.float32))
    v32 = _vectors_f32(gen)
    if v32 is not None:  # a small generation: one product over its float32 copy, all rows
        with torch.inference_mode(), _torch_threads(_threads_for(v32.shape[0])):
            scores = torch.mv(v32, qt).numpy()
        return scores if rows is None else scores[rows]
    vt, st = _tensors(gen)
    n = vt.shape[0] if rows is None else rows.size
    out = torch.empty(n, dtype=torch.float32)
    idx = None if rows is None else torch.from_numpy(np.asarray(rows, dtype=np.int64))
    with torch.inference_mode(), _torch_threads(_threads_for(n)):
        for i in range(0, n, BLOCK_ROWS):
            if idx is None:
                block, scale = vt[i : i + BLOCK_ROWS], st[i : i + BLOCK_ROWS]
            else:
                block, scale = vt.index_select(0, idx[i : i + BLOCK_ROWS]), st.index_select(0, idx[i : i + BLOCK_ROWS])
            torch.mul(torch.mv(block.float(), qt), scale, out=out[i : i + BLOCK_ROWS])
    return out.numpy()


def _approx(gen: Generation, q: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Cosines of the query with all stored vectors (or those of ``rows``) by the int8 kernel, each within
    ``APPROX_ERROR`` of the exact one."""
    import torch

    vt, st = _tensors(gen)
    if rows is not None:
        idx = torch.from_numpy(np.asarray(rows, dtype=np.int64))
        vt, st = vt.index_select(0, idx), st.index_select(0, idx)
    qt = torch.from_numpy(np.ascontiguousarray(q, dtype=np.float32)).to(torch.bfloat16)[None, :]
    with torch.inference_mode(), _torch_threads(_threads_for(vt.shape[0])):
        return torch._weight_int8pack_mm(qt, vt, st.to(torch.bfloat16))[0].float().numpy()


def _offset(scores: np.ndarray, offsets: np.ndarray | None, rows: np.ndarray | None) -> np.ndarray:
    """``scores`` (of all rows, or of ``rows``) plus each row's offset."""
    if offsets is None:
        return scores
    return scores + (offsets if rows is None else offsets[rows])


class Cosines:
    """A query's cosines with every row of a generation (plus the rows' ``offsets``): exact for a small
    generation, within ``APPROX_ERROR`` for a large one. ``top`` always returns exact scores."""

    def __init__(self, gen: Generation, q: np.ndarray, offsets: np.ndarray | None = None) -> None:
        self.gen, self.q, self.offsets = gen, q, offsets
        self.exact = _vectors_f32(gen) is not None
        self.scores = _offset(_exact(gen, q, None) if self.exact else _approx(gen, q, None), offsets, None)

    def top(self, rows: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (rows, exact scores) among ``rows`` (ascending; None: all rows)."""
        scores = self.scores if rows is None else self.scores[rows]
        if self.exact:
            return top_rows(scores, rows, k)
        return _refined_top(self.gen, self.q, scores, rows, k, self.offsets)


def _refined_top(gen: Generation, q: np.ndarray, approx: np.ndarray, rows: np.ndarray | None, k: int,
                 offsets: np.ndarray | None = None):
    """Top-k (rows, exact scores) from approximate scores (offsets included): every position whose approximate
    score is within twice ``APPROX_ERROR`` of the k-th best is rescored exactly, which holds every row of the
    exact top k."""
    k = min(k, approx.size)
    if k <= 0:
        return top_rows(approx, rows, 0)
    kth = np.partition(approx, approx.size - k)[approx.size - k]
    pos = np.flatnonzero(approx >= kth - 2 * APPROX_ERROR)
    shortlist = pos if rows is None else rows[pos]
    return top_rows(_offset(_exact(gen, q, shortlist), offsets, shortlist), shortlist, k)


def _default_threads() -> int:
    """torch's intra-op thread count as the process started with it (read once, before any change here)."""
    if not _DEFAULT_THREADS:
        import torch

        _DEFAULT_THREADS.append(torch.get_num_threads())
    return _DEFAULT_THREADS[0]


@contextmanager
def _torch_threads(n: int):
    """``n`` intra-op threads for torch calls on this thread inside the block; the thread's own count after."""
    import torch

    prev = torch.get_num_threads()
    if prev == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(prev)


def broad(mask: np.ndarray | None) -> bool:
    """Whether a filter lets through so many rows (``BROAD_MASK``) that scoring every row beats gathering them."""
    return mask is None or np.count_nonzero(mask) >= BROAD_MASK * mask.size


def all_cosines(gen: Generation, qvec: np.ndarray, offsets: np.ndarray | None = None) -> Cosines:
    """The query's cosine similarity with every stored vector, plus the rows' ``offsets`` (see ``Cosines``)."""
    return Cosines(gen, np.asarray(qvec, dtype=np.float32), offsets)


def top_within(cosines: Cosines, mask: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of all the cosines (``all_cosines``) among the rows the mask lets through, as ``dense_top`` finds them."""
    return cosines.top(None if mask is None else np.flatnonzero(mask), k)


def dense_top(gen: Generation, qvec: np.ndarray, mask: np.ndarray | None, k: int,
              offsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k passages by float32 cosine similarity with the stored vectors (plus the rows' ``offsets``), among
    those the mask lets through."""
    if gen.n_passages == 0:
        return top_rows(np.zeros(0, np.float32), None, 0)
    q = np.asarray(qvec, dtype=np.float32)
    rows = None
    if mask is not None:
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return top_rows(np.zeros(0, np.float32), None, 0)
    if rows is None or broad(mask):
        return Cosines(gen, q, offsets).top(rows, k)  # a broad filter: one pass over all rows beats a gather
    if _vectors_f32(gen) is not None or rows.size < PARALLEL_ROWS:
        return top_rows(_offset(_exact(gen, q, rows), offsets, rows), rows, k)
    return _refined_top(gen, q, _offset(_approx(gen, q, rows), offsets, rows), rows, k, offsets)
