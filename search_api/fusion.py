"""Fusion of the BM25 and dense legs, and collapse of passages to sections.

Both backends feed the same component with their two candidate lists, so fusion is identical whichever
store answered. Candidates are Haystack ``Document``s whose ``meta`` carries ``key`` (the passage) and
``group`` (the section, or the document when grouping by document).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from haystack import Document, component

FusionMethod = Literal["convex", "rrf"]
Normalization = Literal["zscore", "minmax"]
Mode = Literal["hybrid", "bm25", "dense"]


@dataclass(frozen=True)
class LegStats:
    """A leg's score distribution over its top ``depth`` passages (``depth`` >= the candidates it hands over).

    Retrievers attach it to their candidates as ``meta["leg_stats"]``, so z-scores do not depend on how many
    candidates were asked for; ``floor`` (the lowest score seen) stands in for a passage the leg did not return.
    """

    mean: float
    std: float
    floor: float
    depth: int

    @classmethod
    def of(cls, scores: np.ndarray) -> LegStats:
        s = np.asarray(scores, dtype=np.float64)
        if s.size == 0:
            return cls(0.0, 0.0, 0.0, 0)
        return cls(float(s.mean()), float(s.std()), float(s.min()), int(s.size))

    def z(self, score: float) -> float:
        return (score - self.mean) / self.std if self.std > 1e-12 else 0.0


def attach_stats(docs: list[Document], stats: LegStats) -> list[Document]:
    for d in docs:
        d.meta["leg_stats"] = stats
    return docs


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] over the leg's candidates; a constant list maps to 1."""
    if scores.size == 0:
        return scores
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-12:
        return np.ones_like(scores)
    return (scores - lo) / (hi - lo)


@dataclass
class Explanation:
    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    dense_score: float | None = None
    fused: float = 0.0
    method: str = ""
    phrase: bool = False  # the passage contains the query phrase verbatim
    normalization: str | None = None  # how convex fusion normalised the legs' scores

    def to_dict(self) -> dict:
        return {
            "bm25": {"rank": self.bm25_rank, "score": self.bm25_score},
            "dense": {"rank": self.dense_rank, "score": self.dense_score},
            "fused": self.fused,
            "method": self.method,
            "normalization": self.normalization,
            "phrase_match": self.phrase,
        }


@dataclass
class Hit:
    """One group (section or document) in the fused ranking, with its best passage."""

    group: object
    key: object  # the best passage
    score: float
    explanation: Explanation
    document: Document
    passages: list[object] = field(default_factory=list)  # all matched passages of the group, best first


def fuse(
    bm25: list[Document],
    dense: list[Document],
    *,
    mode: Mode = "hybrid",
    method: FusionMethod = "convex",
    dense_weight: float = 0.4,
    rrf_k: int = 60,
    normalization: Normalization = "zscore",
    phrase_keys: set | None = None,
) -> list[Hit]:
    """Fuse two ranked candidate lists into groups ranked by their best passage's fused score.

    Convex fusion combines normalised scores, ``(1 - w) * bm25 + w * dense``:

    - ``zscore`` (default): each leg's scores are standardised with the mean and standard deviation of the leg's
      top passages (``LegStats`` from the retriever, else the candidates themselves); a passage one leg did not
      return gets that leg's floor. On ObliQA dev this beats min-max by 0.004 nDCG@10 (eval/STUDY_OBLIQA_PASSAGES.md).
    - ``minmax``: scaled to [0, 1] over the candidates; a missing passage gets 0.

    Passages in ``phrase_keys`` contain the query verbatim: they rank above every passage that does not.
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError(f"dense_weight must be within [0, 1], got {dense_weight}")
    if rrf_k < 1:
        raise ValueError(f"rrf_k must be >= 1, got {rrf_k}")
    if normalization not in ("zscore", "minmax"):
        raise ValueError(f"normalization must be 'zscore' or 'minmax', got {normalization!r}")
    legs = {"bm25": bm25 if mode != "dense" else [], "dense": dense if mode != "bm25" else []}
    per_key: dict[object, dict] = {}
    missing = {"bm25": 0.0, "dense": 0.0}  # the normalised score of a passage the leg did not return
    for leg, docs in legs.items():
        scores = np.array([d.score or 0.0 for d in docs], dtype=np.float64)
        if normalization == "zscore":
            stats = (docs[0].meta.get("leg_stats") if docs else None) or LegStats.of(scores)
            normed = (scores - stats.mean) / stats.std if stats.std > 1e-12 else np.zeros_like(scores)
            missing[leg] = stats.z(stats.floor)
        else:
            normed = minmax(scores)
        for rank, (doc, raw, norm) in enumerate(zip(docs, scores, normed), start=1):
            entry = per_key.setdefault(doc.meta["key"], {"doc": doc})
            entry[leg] = (rank, float(raw), float(norm))
    w_dense = {"hybrid": dense_weight, "bm25": 0.0, "dense": 1.0}[mode]
    if mode == "hybrid":
        used = "rrf" if method == "rrf" else "convex"
    else:
        used = mode

    groups: dict[object, Hit] = {}
    for key, entry in per_key.items():
        b, d = entry.get("bm25"), entry.get("dense")
        if used == "rrf":
            fused = (1.0 / (rrf_k + b[0]) if b else 0.0) + (1.0 / (rrf_k + d[0]) if d else 0.0)
        elif used == "bm25":
            fused = b[1]
        elif used == "dense":
            fused = d[1]
        else:  # convex combination of normalised scores
            fused = (1.0 - w_dense) * (b[2] if b else missing["bm25"]) + w_dense * (d[2] if d else missing["dense"])
        phrase = bool(phrase_keys) and key in phrase_keys
        exp = Explanation(
            bm25_rank=b[0] if b else None,
            bm25_score=round(b[1], 6) if b else None,
            dense_rank=d[0] if d else None,
            dense_score=round(d[1], 6) if d else None,
            fused=round(float(fused), 6),
            method=used,
            phrase=phrase,
            normalization=normalization if used == "convex" else None,
        )
        doc = entry["doc"]
        group = doc.meta["group"]
        hit = groups.get(group)
        if hit is None:
            groups[group] = Hit(group, key, float(fused), exp, doc, [key])
        else:
            hit.passages.append(key)
            if (phrase, fused) > (hit.explanation.phrase, hit.score):
                hit.key, hit.score, hit.explanation, hit.document = key, float(fused), exp, doc
    ranked = sorted(groups.values(), key=lambda h: (not h.explanation.phrase, -h.score, str(h.group)))
    for h in ranked:
        # keep the best passage first among the group's matched passages
        h.passages.sort(key=lambda k: k != h.key)
    return ranked


@component
class SectionFusionJoiner:
    """Fuse BM25 and dense candidates (convex combination of z-scores or min-max, or RRF) and collapse them to sections."""

    def __init__(self, method: FusionMethod = "convex", dense_weight: float = 0.4, rrf_k: int = 60,
                 normalization: Normalization = "zscore") -> None:
        self.method = method
        self.dense_weight = dense_weight
        self.rrf_k = rrf_k
        self.normalization = normalization

    @component.output_types(hits=list[Hit])
    def run(
        self,
        bm25_documents: list[Document] | None = None,
        dense_documents: list[Document] | None = None,
        mode: str = "hybrid",
        method: str | None = None,
        dense_weight: float | None = None,
        phrase_keys: set | None = None,
    ) -> dict[str, list[Hit]]:
        hits = fuse(
            bm25_documents or [],
            dense_documents or [],
            mode=mode,  # type: ignore[arg-type]
            method=(method or self.method),  # type: ignore[arg-type]
            dense_weight=self.dense_weight if dense_weight is None else dense_weight,
            rrf_k=self.rrf_k,
            normalization=self.normalization,
            phrase_keys=phrase_keys,
        )
        return {"hits": hits}
