"""IR metrics as pure functions, with the trec_eval / BEIR (pytrec_eval) definitions.

Judgements (qrels) map a query id to ``{doc_id: grade}``; a grade > 0 is relevant, 0 or less is judged
non-relevant. A run maps a query id to its ranked doc ids, best first. A doc id repeated in a ranking
counts once, at its first rank.

- nDCG@k: DCG = sum over ranks i = 1..k of grade_i / log2(i + 1) (linear gain, as trec_eval's ``ndcg_cut``),
  divided by the DCG of the ideal ranking of the query's judged grades.
- Recall@k: relevant docs in the top k / all relevant docs of the query.
- MRR@k: 1 / rank of the first relevant doc in the top k, 0 if there is none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]

DEFAULT_KS = (10, 100)


def _check_k(k: int) -> None:
    if k <= 0:
        raise ValueError(f"k must be > 0, got {k}")


def _top_k(ranking: Sequence[str], k: int) -> list[str]:
    """The first k distinct ids of a ranking."""
    seen: set[str] = set()
    out: list[str] = []
    for doc in ranking:
        if doc in seen:
            continue
        seen.add(doc)
        out.append(doc)
        if len(out) == k:
            break
    return out


def ndcg_at_k(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k of one ranking; 0.0 when the query has no relevant doc.

    :param ranking: doc ids, best first.
    :param judged: the query's judgements, doc id -> grade.
    """
    _check_k(k)
    dcg = sum(judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(_top_k(ranking, k)) if judged.get(doc, 0) > 0)
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranking: Sequence[str], judged: Mapping[str, int], k: int = 100) -> float:
    """Share of the query's relevant docs found in the top k; 0.0 when it has none."""
    _check_k(k)
    relevant = {doc for doc, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    return sum(1 for doc in _top_k(ranking, k) if doc in relevant) / len(relevant)


def mrr_at_k(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first relevant doc within the top k, else 0.0."""
    _check_k(k)
    for i, doc in enumerate(_top_k(ranking, k)):
        if judged.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def judged_queries(qrels: Qrels) -> list[str]:
    """Query ids with at least one relevant doc: the ones metrics are averaged over."""
    return [q for q, judged in qrels.items() if any(g > 0 for g in judged.values())]


def per_query(run: Run, qrels: Qrels, ks: Iterable[int] = DEFAULT_KS) -> dict[str, dict[str, float]]:
    """Every metric at every k, per judged query: ``{qid: {"ndcg@10": ..., "recall@10": ..., "mrr@10": ...}}``.

    A judged query missing from the run scores 0 (an empty ranking), as ``trec_eval -c`` does.
    """
    ks = tuple(ks)
    for k in ks:
        _check_k(k)
    out = {}
    for qid in judged_queries(qrels):
        ranking, judged = run.get(qid, ()), qrels[qid]
        scores = {}
        for k in ks:
            scores[f"ndcg@{k}"] = ndcg_at_k(ranking, judged, k)
            scores[f"recall@{k}"] = recall_at_k(ranking, judged, k)
            scores[f"mrr@{k}"] = mrr_at_k(ranking, judged, k)
        out[qid] = scores
    return out


def evaluate(run: Run, qrels: Qrels, ks: Iterable[int] = DEFAULT_KS) -> dict[str, float]:
    """Mean of every metric at every k over the judged queries (see :func:`per_query`).

    With the default ``ks=(10, 100)`` this gives ``ndcg@10``, ``recall@10``, ``recall@100`` and ``mrr@10``
    (and ``ndcg@100``, ``mrr@100``).

    :raises ValueError: if no query in ``qrels`` has a relevant doc.
    """
    rows = per_query(run, qrels, ks)
    if not rows:
        raise ValueError("no judged query with a relevant doc in qrels")
    names = next(iter(rows.values())).keys()
    return {name: sum(r[name] for r in rows.values()) / len(rows) for name in names}
