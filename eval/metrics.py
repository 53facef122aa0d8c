"""Retrieval metrics as pure functions over graded judgements.

``ranked`` is a list of doc ids, best first; ``rels`` maps doc id -> grade (a grade > 0 is relevant).
A doc id repeated in a ranking counts once, at its first rank.

- nDCG@k: DCG = sum over ranks r = 1..k of grade_r / log2(r + 1) (linear gain, as trec_eval / BEIR),
  divided by the DCG of the ideal ordering of the query's judged grades.
- Recall@k: relevant docs in the top k / all relevant docs of the query.
- MRR@k: 1 / rank of the first relevant doc in the top k; 0 if none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


def _top(ranked: Sequence[str], k: int) -> list[str]:
    """The first k distinct ids."""
    seen: set[str] = set()
    out = []
    for doc in ranked:
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
            if len(out) == k:
                break
    return out


def ndcg_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with gain = grade and a log2(rank + 1) discount; 0.0 when nothing is relevant."""
    _check_k(k)
    dcg = sum(max(rels.get(d, 0), 0) / math.log2(r + 1) for r, d in enumerate(_top(ranked, k), start=1))
    ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(r + 1) for r, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant docs (grade > 0) found in the top k; 0.0 when nothing is relevant."""
    _check_k(k)
    relevant = {d for d, g in rels.items() if g > 0}
    if not relevant:
        return 0.0
    return sum(1 for d in _top(ranked, k) if d in relevant) / len(relevant)


def mrr_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant doc within the top k; 0.0 if there is none."""
    _check_k(k)
    for r, d in enumerate(_top(ranked, k), start=1):
        if rels.get(d, 0) > 0:
            return 1.0 / r
    return 0.0


def per_query(run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, float]]:
    """The four metrics of every judged query (one with a relevant doc); a query missing from the run scores 0."""
    out = {}
    for qid, rels in qrels.items():
        if not any(g > 0 for g in rels.values()):
            continue
        ranked = run.get(qid, [])
        out[qid] = {
            "ndcg@10": ndcg_at_k(ranked, rels, 10),
            "recall@10": recall_at_k(ranked, rels, 10),
            "recall@100": recall_at_k(ranked, rels, 100),
            "mrr@10": mrr_at_k(ranked, rels, 10),
        }
    return out


def evaluate(run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    """Means of ndcg@10, recall@10, recall@100 and mrr@10 over the queries in ``qrels`` with a relevant doc.

    :raises ValueError: if no query in ``qrels`` has a relevant doc.
    """
    rows = per_query(run, qrels)
    if not rows:
        raise ValueError("qrels has no query with a relevant (grade > 0) doc")
    return {m: sum(r[m] for r in rows.values()) / len(rows) for m in METRICS}
