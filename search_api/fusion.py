"""Fusion of the BM25 and dense legs, and collapse of passages to sections.

Both backends feed the same ``fuse`` with their two candidate lists, so fusion is identical whichever
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
from haystack import Document

from ingest.settings import Settings

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

    def merged(self, other: Leg) -> Leg:
        """This leg's candidates and ``other``'s that it lacks (the same leg's scores, from a narrower search),
        best first, with this leg's statistics."""
        if not len(other):
            return self
        if not len(self):
            return Leg(other.keys, other.scores, other.groups, self.stats or other.stats, other.meta, other.documents)
        have = set(self.keys.tolist())
        extra = np.flatnonzero([k not in have for k in other.keys.tolist()])
        if not extra.size:
            return self
        keys = _column(self.keys.tolist() + other.keys[extra].tolist())
        scores = np.concatenate([self.scores, other.scores[extra]])
        groups = _column(self.groups.tolist() + other.groups[extra].tolist())
        order = np.argsort(-scores, kind="stable")
        meta = {k: np.concatenate([v, other.meta[k][extra]])[order] for k, v in self.meta.items() if k in other.meta}
        documents = None
        if self.documents is not None and other.documents is not None:
            both = self.documents + [other.documents[j] for j in extra.tolist()]
            documents = [both[j] for j in order.tolist()]
        return Leg(keys[order], scores[order], groups[order], self.stats, meta, documents)


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
    scope: bool = False  # the passage is of a document the query names (its member's, or an instrument)
    normalization: str | None = None  # how convex fusion normalised the legs' scores

    def to_dict(self) -> dict:
        return {
            "bm25": {"rank": self.bm25_rank, "score": self.bm25_score},
            "dense": {"rank": self.dense_rank, "score": self.dense_score},
            "fused": self.fused,
            "method": self.method,
            "normalization": self.normalization,
            "phrase_match": self.phrase,
            "scope_match": self.scope,
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
    dense_weight: float,
    mode: Mode = "hybrid",
    method: FusionMethod = "convex",
    rrf_k: int = 60,
    normalization: Normalization = "zscore",
    phrase_keys: set | None = None,
    scope_keys: set | None = None,
    scope_boost: float = 0.0,
) -> Ranking:
    """Fuse two ranked candidate lists into groups ranked by their best passage's fused score.

    Convex fusion combines normalised scores, ``(1 - w) * bm25 + w * dense`` (``w`` is ``dense_weight``, whose
    one default is ``Settings.dense_weight``):

    - ``zscore`` (default): each leg's scores are standardised with the mean and standard deviation of the leg's
      top passages (``LegStats`` from the retriever, else the candidates themselves); a passage one leg did not
      return gets that leg's floor. On ObliQA dev this beats min-max by 0.004 nDCG@10 (eval/STUDY_OBLIQA_PASSAGES.md).
    - ``minmax``: scaled to [0, 1] over the candidates; a missing passage gets 0.

    Passages in ``phrase_keys`` contain the query verbatim: they rank above every passage that does not.
    Passages in ``scope_keys`` are of the documents the query names (``search_api.scope``): ``scope_boost`` times
    the standard deviation of the candidates' fused scores is added to theirs, whatever the mode or method.
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
    if not any(len(leg) for leg in legs.values()):
        return Ranking(0, None)
    cols = _Columns.of(legs, normalization)
    fused = cols.fused(used, dense_weight, rrf_k)
    scoped = np.array([k in scope_keys for k in cols.keys], dtype=bool) if scope_keys else np.zeros(len(cols.keys), bool)
    if scope_boost and scoped.any():
        spread = float(fused.std())
        fused = fused + scope_boost * (spread if spread > 1e-12 else 1.0) * scoped
    phrase = np.array([k in phrase_keys for k in cols.keys], dtype=bool) if phrase_keys else np.zeros(len(cols.keys), bool)
    ranked = cols.ranked_groups(fused, phrase)
    return Ranking(int(ranked.size), _HitMaker(legs, cols, fused, phrase, ranked, used, normalization if used == "convex" else None,
                                               scoped if scope_boost else np.zeros(len(cols.keys), bool)))


@dataclass
class _LegColumns:
    """One leg's rank (0 = not returned), raw and normalised score for every distinct candidate passage."""

    rank: np.ndarray
    raw: np.ndarray
    norm: np.ndarray
    missing: float  # the normalised score that stands in for a passage the leg did not return

    @property
    def has(self) -> np.ndarray:
        return self.rank > 0


@dataclass
class _Columns:
    """The distinct candidate passages of both legs, aligned: ``keys[i]``, the position it was first seen at
    (BM25 leg first), its group, and each leg's columns."""

    keys: list
    first: np.ndarray
    gid: np.ndarray
    groups: list
    bm25: _LegColumns
    dense: _LegColumns

    @classmethod
    def of(cls, legs: dict[str, Leg], normalization: Normalization) -> _Columns:
        parts = [leg for leg in legs.values() if len(leg)]
        uniq, first, inverse = np.unique(np.concatenate([p.keys for p in parts]), return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        per_leg, start = {}, 0
        for name, leg in legs.items():
            per_leg[name] = _leg_columns(leg, inverse[start : start + len(leg)], uniq.size, normalization)
            start += len(leg)
        group_values, gid = np.unique(np.concatenate([p.groups for p in parts])[first], return_inverse=True)
        return cls(uniq.tolist(), first, gid.reshape(-1), group_values.tolist(), per_leg["bm25"], per_leg["dense"])

    def fused(self, used: str, dense_weight: float, rrf_k: int) -> np.ndarray:
        b, d = self.bm25, self.dense
        if used == "rrf":
            return np.where(b.has, 1.0 / (rrf_k + b.rank), 0.0) + np.where(d.has, 1.0 / (rrf_k + d.rank), 0.0)
        if used == "bm25":
            return b.raw
        if used == "dense":
            return d.raw
        w = dense_weight  # convex combination of normalised scores
        return (1.0 - w) * np.where(b.has, b.norm, b.missing) + w * np.where(d.has, d.norm, d.missing)

    def ranked_groups(self, fused: np.ndarray, phrase: np.ndarray) -> np.ndarray:
        """Each group's best passage (phrase first, then the highest fused score, then the first seen), the
        groups ordered by their best passage (then by the group's name)."""
        gid = self.gid
        order = np.lexsort((self.first, -fused, ~phrase, gid))
        best = order[np.concatenate(([True], gid[order][1:] != gid[order][:-1]))]
        names = np.array([str(g) for g in self.groups])
        name_rank = np.argsort(np.argsort(names, kind="stable"))
        return best[np.lexsort((name_rank, -fused[best], ~phrase[best]))]


def _leg_columns(leg: Leg, at: np.ndarray, n: int, normalization: Normalization) -> _LegColumns:
    scores = leg.scores
    if normalization == "zscore":
        stats = leg.stats or LegStats.of(scores)
        normed = (scores - stats.mean) / stats.std if stats.std > 1e-12 else np.zeros_like(scores)
        missing = stats.z(stats.floor)
    else:
        normed, missing = minmax(scores), 0.0
    rank, raw, norm = np.zeros(n, np.int64), np.zeros(n), np.zeros(n)
    rank[at], raw[at], norm[at] = np.arange(1, len(leg) + 1), scores, normed  # a repeated key: its last rank
    return _LegColumns(rank, raw, norm, missing)


@dataclass
class _HitMaker:
    """Makes the ``Hit`` at a rank of the fused ranking, when someone reads it."""

    legs: dict[str, Leg]
    cols: _Columns
    fused: np.ndarray
    phrase: np.ndarray
    ranked: np.ndarray
    method: str
    normalization: str | None
    scoped: np.ndarray

    def __call__(self, i: int) -> Hit:
        c, k = self.cols, int(self.ranked[i])
        members = np.flatnonzero(c.gid == c.gid[k])
        members = members[np.argsort(c.first[members], kind="stable")]
        pos, n_bm25 = int(c.first[k]), len(self.legs["bm25"])
        doc = self.legs["bm25"][pos] if pos < n_bm25 else self.legs["dense"][pos - n_bm25]
        b, d = c.bm25, c.dense
        exp = Explanation(
            bm25_rank=int(b.rank[k]) if b.has[k] else None,
            bm25_score=round(float(b.raw[k]), 6) if b.has[k] else None,
            dense_rank=int(d.rank[k]) if d.has[k] else None,
            dense_score=round(float(d.raw[k]), 6) if d.has[k] else None,
            fused=round(float(self.fused[k]), 6),
            method=self.method,
            phrase=bool(self.phrase[k]),
            scope=bool(self.scoped[k]),
            normalization=self.normalization,
        )
        passages = [c.keys[k]] + [c.keys[m] for m in members.tolist() if m != k]
        return Hit(c.groups[c.gid[k]], c.keys[k], float(self.fused[k]), exp, doc, passages)


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


@dataclass(frozen=True)
class Fusion:
    """How the service fuses its legs (from ``Settings``: fusion, dense_weight, rrf_k, normalization), with the
    per-request overrides a search may make."""

    method: FusionMethod
    dense_weight: float
    rrf_k: int
    normalization: Normalization

    @classmethod
    def from_settings(cls, settings: Settings) -> Fusion:
        return cls(settings.fusion, settings.dense_weight, settings.rrf_k, settings.normalization)

    def __call__(self, bm25: Leg, dense: Leg, *, mode: Mode = "hybrid", method: FusionMethod | None = None,
                 dense_weight: float | None = None, phrase_keys: set | None = None, scope_keys: set | None = None,
                 scope_boost: float = 0.0) -> Ranking:
        return fuse(
            bm25, dense, mode=mode, method=method or self.method,
            dense_weight=self.dense_weight if dense_weight is None else dense_weight,
            rrf_k=self.rrf_k, normalization=self.normalization, phrase_keys=phrase_keys,
            scope_keys=scope_keys, scope_boost=scope_boost,
        )
