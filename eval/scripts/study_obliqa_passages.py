"""Tuning study for BM25, dense and hybrid retrieval on ObliQA dev, scored on ObliQA's own passages.

Run: ``.venv/bin/python -m eval.scripts.study_obliqa_passages`` (``--bm25-only`` stops after the BM25 sweeps,
``--timings`` measures ms/query of the chosen setting).

Unlike a run through our index, each ObliQA passage is one retrieval unit, scored with bm25s and all-MiniLM-L6-v2
directly, so the numbers are comparable with the dataset's published reference figures and isolate the
retrieval choices (tokeniser, BM25 variant, text fields, fusion) from our splitter.

Dev queries are cut into two halves by sha1 of the query id: settings are chosen on half A and confirmed on
half B; numbers are reported for A, B and the full dev split. ObliQA's test split is not used (it is not here).
Every configuration produces a full (queries x passages) score matrix once (``obliqa_matrices.py``); metrics and
fusion sweeps are numpy. Passage embeddings (normalised, batch 64) are cached under ``var/cache/``; results go to
``var/study_obliqa/`` (``results.json``, reused by a rerun, and ``tables.md``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from eval.metrics import METRICS
from eval.scripts.obliqa_matrices import (CACHE, DEFAULT_DATA, FIELDS, NORMS, OUT, TOKENIZERS, Bm25Matrix, Candidates, Study,
                                          cached_embeddings, check_bm25, field_texts, fuse_full, load_model, load_study,
                                          neighbour_smooth, rm3_scores, rrf_ranked, summarize)


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


class Bm25Sweep:
    """BM25 configurations measured into a report, with each (tokeniser, fields) matrix built once."""

    def __init__(self, st: Study, rep: Report):
        self.st, self.rep = st, rep
        self.tokens: dict[str, list] = {}
        self.matrices: dict[tuple[str, str], Bm25Matrix] = {}

    def matrix(self, tok: str, fields: str) -> Bm25Matrix:
        if (tok, fields) not in self.matrices:
            if tok not in self.tokens:
                self.tokens[tok] = TOKENIZERS[tok](self.st.qtexts)
            self.matrices[(tok, fields)] = Bm25Matrix(TOKENIZERS[tok](field_texts(self.st, fields)), self.tokens[tok])
        return self.matrices[(tok, fields)]

    def measure(self, tok: str, fields: str, method: str = "lucene", k1: float = 1.5, b: float = 0.75) -> str:
        key = f"bm25 {tok}; {fields}; {method} k1={k1} b={b}"
        self.rep.measure(key, lambda: self.matrix(tok, fields).scores(method, k1, b), tok=tok, fields=fields, method=method, k1=k1, b=b)
        return key

    def grid(self, tok: str, fields: str, method: str) -> list[str]:
        self.rep.section(f"BM25: k1 x b ({tok}, {fields}, {method})")
        out = [self.measure(tok, fields, method, k1, b) for k1 in (0.9, 1.2, 1.5, 2.0) for b in (0.4, 0.6, 0.75, 0.9)]
        self.rep.save()
        return out


def run_study(data_dir: Path, dense_path: bool = False, bm25_only: bool = False, bf16: bool = False) -> Report:
    st = load_study(data_dir)
    rep = Report(st)
    rep.note(f"{len(st.qids)} judged dev queries: half A {st.halves['A'].sum()}, half B {st.halves['B'].sum()}; "
             f"{len(st.doc_ids)} passages, {sum(1 for h in st.headings if h)} with a heading path")
    sweep_bm25 = Bm25Sweep(st, rep)
    cfg = choose_bm25(sweep_bm25)
    if bm25_only:
        return rep
    bm = sweep_bm25.matrix(cfg["tok"], cfg["fields"])
    bm_s = bm.scores(cfg["method"], cfg["k1"], cfg["b"])
    ref_s = sweep_bm25.matrix("bm25s+stem", "text").scores("lucene")
    dense = dense_legs(rep, st, dense_path, bf16)
    fcfg = choose_fusion(rep, bm_s, ref_s, dense)
    extras(rep, st, bm, bm_s, cfg, dense, fcfg)
    return rep


def choose_bm25(sw: Bm25Sweep) -> dict:
    """1. BM25, staged: tokeniser x fields (lucene, bm25s defaults), then method, then k1 x b; the chosen parameters."""
    rep = sw.rep
    if not rep.cached("bm25 bm25s+stem; text; lucene k1=1.5 b=0.75"):
        first = sw.matrix("bm25s+stem", "text")
        check_bm25(first, first.scores("lucene"), "lucene", 1.5, 0.75)
    rep.section("BM25: tokeniser x text fields (lucene, k1 1.5, b 0.75)")
    stage1 = [sw.measure(tok, fields) for tok in TOKENIZERS for fields in FIELDS]
    best1 = rep.results[rep.best_on_a(stage1)]["params"]
    rep.save()
    rep.section(f"BM25: method ({best1['tok']}, {best1['fields']}, k1 1.5, b 0.75)")
    stage2 = [sw.measure(best1["tok"], best1["fields"], m) for m in ("lucene", "robertson", "atire", "bm25l", "bm25+")]
    by_method = sorted(stage2, key=lambda k: -rep.results[k]["metrics"]["A"]["ndcg@10"])
    rep.save()
    stage3 = []
    for key in by_method[:2]:
        p = rep.results[key]["params"]
        stage3 += sw.grid(p["tok"], p["fields"], p["method"])
    cfg = rep.results[rep.best_on_a(stage1 + stage2 + stage3)]["params"]
    # the chosen method/k1/b with every tokeniser and field set (what each choice is worth at its best setting);
    # if that moves the best (tokeniser, fields), its own k1 x b grid is searched too
    rep.section("BM25: chosen method, k1, b with each tokeniser and text fields")
    stage4 = [sw.measure(tok, fields, cfg["method"], cfg["k1"], cfg["b"]) for tok in TOKENIZERS for fields in FIELDS]
    best4 = rep.results[rep.best_on_a(stage4)]["params"]
    if (best4["tok"], best4["fields"]) != (cfg["tok"], cfg["fields"]):
        stage4 += sw.grid(best4["tok"], best4["fields"], cfg["method"])
    chosen_key = rep.best_on_a(stage1 + stage2 + stage3 + stage4)
    cfg = rep.results[chosen_key]["params"]
    if cfg["method"] != "lucene":
        # Lucene's idf is what OpenSearch uses too: prefer it unless the chosen method is clearly better on A
        lucene = sw.measure(cfg["tok"], cfg["fields"], "lucene", cfg["k1"], cfg["b"])
        if rep.results[lucene]["metrics"]["A"]["ndcg@10"] >= rep.results[chosen_key]["metrics"]["A"]["ndcg@10"] - 0.001:
            chosen_key, cfg = lucene, rep.results[lucene]["params"]
    rep.note(f"BM25 chosen on half A: {chosen_key}")
    rep.save()
    (OUT / "chosen_bm25.json").write_text(json.dumps(cfg), "utf-8")
    return cfg


def dense_legs(rep: Report, st: Study, dense_path: bool, bf16: bool) -> dict[str, np.ndarray]:
    """2. Dense score matrices: fp32, bf16 (when encoded), and passages embedded with their heading path."""
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
    return dense


def choose_fusion(rep: Report, bm_s: np.ndarray, ref_s: np.ndarray, dense: dict[str, np.ndarray]) -> dict:
    """3. and 4. Fusion of the chosen BM25 with dense fp32, then the chosen fusion with each dense variant."""
    rep.section("Fusion of the chosen BM25 with dense fp32 (a = dense weight)")
    fkeys = sweep(rep, "hybrid", bm_s, dense["fp32"])
    fusion_key = rep.best_on_a(fkeys)
    fcfg = rep.results[fusion_key]["params"]
    rep.note(f"fusion chosen on half A: {fusion_key}")
    rep.section("Fusion of the README's BM25 (bm25s+stem, text, lucene 1.5/0.75) with dense fp32")
    ref_keys = sweep(rep, "hybrid(ref bm25)", ref_s, dense["fp32"], norms=("minmax",), ns=(100, 1000), rrf=False)
    rep.note(f"best on half A: {rep.best_on_a(ref_keys)}")
    rep.save()

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
    return fcfg


def extras(rep: Report, st: Study, bm: Bm25Matrix, bm_s: np.ndarray, cfg: dict, dense: dict[str, np.ndarray], fcfg: dict) -> None:
    """5. RM3, neighbour score smoothing, neighbour embedding mix and dropping empty passages, on the chosen setup."""
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


def pair_study(data_dir: Path, weights=(0.0, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0), alphas=(0.35, 0.4, 0.45)) -> str:
    """Word pairs in the BM25 index (section 6 of the report): the product's analyzer (``ingest.analysis.analyze``,
    whose terms include adjacent-word pairs) over the passage text, lucene k1 0.9 b 0.75, each query pair weighted
    ``w`` (0 = words alone), fused with the cached fp32 dense leg by z-score over the top 1000. A Markdown table."""
    from ingest.analysis import analyze

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
