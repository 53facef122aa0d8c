"""The dense leg of the embedded engine: exact cosines of a query vector against a generation's stored vectors.

Vectors are stored as float16 (half the memory) and multiplied as float32, block by block, so the scores are the
exact float32 cosines of the stored vectors; small generations keep a float32 copy and multiply it at once.
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


def _vector_tensor(gen: Generation):
    """The generation's vectors as a torch tensor over the same memory map (no copy), made once per generation."""
    def build():
        import warnings

        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the map is read-only; torch never writes to it
            return torch.from_numpy(np.asarray(gen.vectors))

    return gen.derived("vectors_t", build)


# A generation whose vectors take at most this much as float32 keeps a float32 copy in memory (made on its first
# dense search) and multiplies it in one product, skipping the per-block conversion of ``_cosines``. 256 MB is
# ~175k passages of 384 dimensions; larger generations keep float16 only (half the memory). Measured on the Xeon:
# 10k hybrid search p50 3.96 -> 2.86 ms; the 100k dense leg 6.2 -> 4.4 ms (the product then runs as fast as
# numpy's float32 one), for 150 MB more per serving process.
FLOAT32_COPY_BYTES = 256 * 2**20


def _vectors_f32(gen: Generation):
    """The generation's vectors as a float32 torch tensor in memory, or None for a generation too large for that
    (see FLOAT32_COPY_BYTES). Made once per generation."""
    def build():
        v = gen.vectors
        if v.dtype != np.float32 and v.shape[0] * v.shape[1] * 4 <= FLOAT32_COPY_BYTES:
            import torch

            return torch.from_numpy(np.asarray(v, dtype=np.float32))
        return None

    return gen.derived("vectors_f32", build)


# Float16 rows are converted to float32 and multiplied this many at a time: each block is converted in cache
# and multiplied by float32 kernels, so the scores are exact float32 cosines of the stored vectors. Measured on
# the Xeon (AVX-512), 2 threads: 1M x 384 in 59 ms against 77 for torch's float16 product (whose scores are
# rounded to float16 and needed a float32 rescoring of a shortlist), 100k in 5.5 ms against 6.8; blocks of 512
# to 4,096 rows were tried, larger blocks falling out of cache.
BLOCK_ROWS = 1024


def _cosines(gen: Generation, q: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """Float32 cosines of the query with all passages (or ``rows``, ascending), from the stored vectors."""
    if gen.vectors.dtype == np.float32:  # a generation written before float16 storage: numpy is faster here
        v = np.asarray(gen.vectors)
        return (v if rows is None else v[rows]) @ np.asarray(q, dtype=np.float32)
    import torch

    qt = torch.from_numpy(np.ascontiguousarray(q, dtype=np.float32))
    v32 = _vectors_f32(gen)
    if v32 is not None:  # a small generation: one product over its float32 copy, all rows
        with torch.inference_mode(), _torch_threads(1 if v32.shape[0] < PARALLEL_ROWS else _default_threads()):
            scores = torch.mv(v32, qt).numpy()
        return scores if rows is None else scores[rows]
    vt = _vector_tensor(gen)
    n = vt.shape[0] if rows is None else rows.size
    out = torch.empty(n, dtype=torch.float32)
    idx = None if rows is None else torch.from_numpy(np.asarray(rows, dtype=np.int64))
    with torch.inference_mode(), _torch_threads(1 if n < PARALLEL_ROWS else _default_threads()):
        for i in range(0, n, BLOCK_ROWS):
            block = vt[i : i + BLOCK_ROWS] if idx is None else vt.index_select(0, idx[i : i + BLOCK_ROWS])
            torch.mv(block.float(), qt, out=out[i : i + BLOCK_ROWS])
    return out.numpy()


# Below this many rows the product runs on the calling thread alone. At 10k rows it takes 0.5-1 ms either way,
# but a second OpenMP thread goes on spinning after it, burning the other core while the request continues in
# Python (measured on the bundled corpus: hybrid search 31 ms of CPU per query with 2 threads, 25 ms with 1, the
# same wall time). From here on two threads pay: 100k rows 5.6 ms against 9.3 ms, 1M rows 57 ms against 91 ms.
PARALLEL_ROWS = 50_000
# A filter letting through at least this share of the rows is scored in one pass over all rows (then picked),
# which beats gathering them.
BROAD_MASK = 0.25
_DEFAULT_THREADS: list[int] = []


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


def all_cosines(gen: Generation, qvec: np.ndarray) -> np.ndarray:
    """The query's cosine similarity with every stored vector (float32)."""
    return _cosines(gen, np.asarray(qvec, dtype=np.float32), None)


def top_within(cosines: np.ndarray, mask: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of all the cosines (``all_cosines``) among the rows the mask lets through, as ``dense_top`` finds them."""
    if mask is None:
        return top_rows(cosines, None, k)
    rows = np.flatnonzero(mask)
    return top_rows(cosines[rows], rows, k)


def dense_top(gen: Generation, qvec: np.ndarray, mask: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k passages by float32 cosine similarity with the stored vectors, among those the mask lets through."""
    if gen.n_passages == 0:
        return top_rows(np.zeros(0, np.float32), None, 0)
    q = np.asarray(qvec, dtype=np.float32)
    rows = None
    if mask is not None:
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            return top_rows(np.zeros(0, np.float32), None, 0)
    n = gen.n_passages if rows is None else rows.size
    k = min(k, n)
    if rows is not None and broad(mask):
        return top_rows(_cosines(gen, q, None)[rows], rows, k)  # a broad filter: one pass over all rows beats a gather
    return top_rows(_cosines(gen, q, rows), rows, k)
