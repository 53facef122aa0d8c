"""Fusion of the BM25 and dense legs, and collapse of passages to sections.

Both backends feed the same component with their two candidate lists, so fusion is identical whichever
store answered. Candidates are Haystack ``Document``s whose ``meta`` carries ``key`` (the passage) and
``group`` (the section, or the document when grouping by document), or a ``Leg``: the same candidates held as
columns, which the embedded engine hands over so that a search builds Documents only for the page it returns.
Fusion itself is vectorised over the candidates, and ``Hit``s are made only for the ranks someone reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from haystack import Document, component

FusionMethod = Literal["convex", "rrf"]
Normalization = Literal["zscore", "minmax"]
Mode = Literal["hybrid", "bm25", "dense"]
# The dense leg's share of a convex fusion when none is given (KB_DENSE_WEIGHT sets the service's; see README).
DENSE_WEIGHT = 0.45


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


@dataclass(eq=False)
class Leg(Sequence):
    """One leg's candidates, best first, held as columns; a read-only sequence of Haystack ``Document``s.

    Fusion reads only the columns. A ``Document`` (``id`` ``p<key>``, ``score``, and ``meta`` with ``key``,
    ``group``, ``leg_stats`` and the ``meta`` columns) is made only for a candidate someone indexes, which on a
    search is the page of results: building one per candidate cost ~2.7 ms of a ~10 ms search over the bundled
    corpus. A leg made from Documents (``Leg.of``) hands back those Documents as they are.
    """

    keys: np.ndarray  # the passage of each candidate
    scores: np.ndarray  # float64
    groups: np.ndarray  # the section (or document) it collapses to
    stats: LegStats | None = None
    meta: dict[str, np.ndarray] = field(default_factory=dict)  # further per-candidate columns, copied into ``meta``
    documents: list[Document] | None = None  # when the leg was made from Documents: those, as they are

    @classmethod
    def of(cls, docs: Sequence[Document]) -> Leg:
        """The leg of candidates a retriever returned as Documents (``meta`` with ``key`` and ``group``)."""
        if isinstance(docs, Leg):
            return docs
        docs = list(docs)
        return cls(
            keys=_column([d.meta["key"] for d in docs]),
            scores=np.array([d.score or 0.0 for d in docs], dtype=np.float64),
            groups=_column([d.meta["group"] for d in docs]),
            stats=docs[0].meta.get("leg_stats") if docs else None,
            documents=docs,
        )

    def __len__(self) -> int:
        return int(self.keys.size)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if self.documents is not None:
            return self.documents[i]
        i = range(len(self))[i]
        key = self.keys[i].item()
        meta = {"key": key, "group": self.groups[i].item(), **{k: v[i].item() for k, v in self.meta.items()}}
        if self.stats is not None:
            meta["leg_stats"] = self.stats
        return Document(id=f"p{key}", score=float(self.scores[i]), meta=meta)

    def only(self, keys: set) -> Leg:
        """The candidates whose key is in ``keys``, in the same order, with the same statistics."""
        idx = np.flatnonzero([k in keys for k in self.keys.tolist()])
        return Leg(
            self.keys[idx], self.scores[idx], self.groups[idx], self.stats, {k: v[idx] for k, v in self.meta.items()},
            None if self.documents is None else [self.documents[j] for j in idx.tolist()],
        )


def _column(values: list) -> np.ndarray:
    """Keys and groups as an array: integers stay int64; anything else (ids) an object array of the values."""
    if all(type(v) is int for v in values):
        return np.array(values, dtype=np.int64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


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
    bm25: Sequence[Document] | Leg,
    dense: Sequence[Document] | Leg,
    *,
    mode: Mode = "hybrid",
    method: FusionMethod = "convex",
    dense_weight: float = DENSE_WEIGHT,
    rrf_k: int = 60,
    normalization: Normalization = "zscore",
    phrase_keys: set | None = None,
) -> Ranking:
    """Fuse two ranked candidate lists into groups ranked by their best passage's fused score.

    Convex fusion combines normalised scores, ``(1 - w) * bm25 + w * dense``:

    - ``zscore`` (default): each leg's scores are standardised with the mean and standard deviation of the leg's
      top passages (``LegStats`` from the retriever, else the candidates themselves); a passage one leg did not
      return gets that leg's floor. On ObliQA dev this beats min-max by 0.004 nDCG@10 (eval/STUDY_OBLIQA_PASSAGES.md).
    - ``minmax``: scaled to [0, 1] over the candidates; a missing passage gets 0.

    Passages in ``phrase_keys`` contain the query verbatim: they rank above every passage that does not.
    A group's best passage is the one with the highest (phrase, fused score), the first seen (BM25 leg first) on a
    tie; groups with equal scores are ordered by ``str(group)``.
    """
    if not 0.0 <= dense_weight <= 1.0:
        raise ValueError(f"dense_weight must be within [0, 1], got {dense_weight}")
    if rrf_k < 1:
        raise ValueError(f"rrf_k must be >= 1, got {rrf_k}")
    if normalization not in ("zscore", "minmax"):
        raise ValueError(f"normalization must be 'zscore' or 'minmax', got {normalization!r}")
    legs = {"bm25": Leg.of(bm25 if mode != "dense" else []), "dense": Leg.of(dense if mode != "bm25" else [])}
    used = ("rrf" if method == "rrf" else "convex") if mode == "hybrid" else mode
    parts = [leg for leg in legs.values() if len(leg)]
    if not parts:
        return Ranking(0, None)
    keys = np.concatenate([p.keys for p in parts])
    uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    cols: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    missing = {}  # the normalised score of a passage the leg did not return
    start = 0
    for name, leg in legs.items():
        scores = leg.scores
        if normalization == "zscore":
            stats = leg.stats or LegStats.of(scores)
            normed = (scores - stats.mean) / stats.std if stats.std > 1e-12 else np.zeros_like(scores)
            missing[name] = stats.z(stats.floor)
        else:
            normed, missing[name] = minmax(scores), 0.0
        at = inverse[start : start + len(leg)]
        start += len(leg)
        rank, raw, norm = np.zeros(uniq.size, np.int64), np.zeros(uniq.size), np.zeros(uniq.size)
        rank[at], raw[at], norm[at] = np.arange(1, len(leg) + 1), scores, normed  # a repeated key: its last rank
        cols[name] = (rank, raw, norm)
    (b_rank, b_raw, b_norm), (d_rank, d_raw, d_norm) = cols["bm25"], cols["dense"]
    has_b, has_d = b_rank > 0, d_rank > 0
    if used == "rrf":
        fused = np.where(has_b, 1.0 / (rrf_k + b_rank), 0.0) + np.where(has_d, 1.0 / (rrf_k + d_rank), 0.0)
    elif used == "bm25":
        fused = b_raw
    elif used == "dense":
        fused = d_raw
    else:  # convex combination of normalised scores
        w = dense_weight
        fused = (1.0 - w) * np.where(has_b, b_norm, missing["bm25"]) + w * np.where(has_d, d_norm, missing["dense"])
    uniq_keys = uniq.tolist()
    phrase = np.array([k in phrase_keys for k in uniq_keys], dtype=bool) if phrase_keys else np.zeros(uniq.size, bool)
    groups = np.concatenate([p.groups for p in parts])
    group_values, gid = np.unique(groups[first], return_inverse=True)
    gid = gid.reshape(-1)
    # each group's best passage: phrase first, then the highest fused score, then the first seen
    order = np.lexsort((first, -fused, ~phrase, gid))
    best = order[np.concatenate(([True], gid[order][1:] != gid[order][:-1]))]
    group_list = group_values.tolist()
    names = np.array([str(g) for g in group_list])
    ranked = best[np.lexsort((np.argsort(np.argsort(names, kind="stable")), -fused[best], ~phrase[best]))]
    n_bm25 = len(legs["bm25"])
    normalization_used = normalization if used == "convex" else None

    def hit(i: int) -> Hit:
        k = int(ranked[i])
        members = np.flatnonzero(gid == gid[k])
        members = members[np.argsort(first[members], kind="stable")]
        pos = int(first[k])
        doc = legs["bm25"][pos] if pos < n_bm25 else legs["dense"][pos - n_bm25]
        exp = Explanation(
            bm25_rank=int(b_rank[k]) if has_b[k] else None,
            bm25_score=round(float(b_raw[k]), 6) if has_b[k] else None,
            dense_rank=int(d_rank[k]) if has_d[k] else None,
            dense_score=round(float(d_raw[k]), 6) if has_d[k] else None,
            fused=round(float(fused[k]), 6),
            method=used,
            phrase=bool(phrase[k]),
            normalization=normalization_used,
        )
        passages = [uniq_keys[k]] + [uniq_keys[m] for m in members.tolist() if m != k]
        return Hit(group_list[gid[k]], uniq_keys[k], float(fused[k]), exp, doc, passages)

    return Ranking(int(ranked.size), hit)


class Ranking(Sequence):
    """Fused groups, best first; each ``Hit`` is made when first read (a search reads one page of them)."""

    def __init__(self, n: int, make) -> None:
        self._n = n
        self._make = make
        self._made: dict[int, Hit] = {}

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        i = range(self._n)[i]
        if i not in self._made:
            self._made[i] = self._make(i)
        return self._made[i]


@component
class SectionFusionJoiner:
    """Fuse BM25 and dense candidates (convex combination of z-scores or min-max, or RRF) and collapse them to sections."""

    def __init__(self, method: FusionMethod = "convex", dense_weight: float = DENSE_WEIGHT, rrf_k: int = 60,
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
