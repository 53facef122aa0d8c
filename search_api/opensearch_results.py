"""The result set the OpenSearch engine hands back to ``facets()``: the candidate passage ids of one search,
remembering the query and filters that produced them."""

from __future__ import annotations

import numpy as np


class ResultSet(np.ndarray):
    """The candidate passage ids of one search, remembering what produced them.

    It is a numpy array because the Searcher narrows result sets with ``np.isin`` (quoted phrases); once
    narrowed, facets count exactly the remaining passages, otherwise the whole filtered match set (every BM25
    match plus the dense leg's hits), as the embedded engine does.
    """

    query: str | None
    filters: dict | None
    dense_keys: list[str]
    narrowed: bool

    @classmethod
    def build(cls, keys: list[str], query: str | None, filters: dict | None, dense_keys: list[str]) -> ResultSet:
        out = np.array(list(dict.fromkeys(keys)), dtype=str).view(cls)
        out.query, out.filters, out.dense_keys, out.narrowed = query, filters, dense_keys, False
        return out

    def __array_finalize__(self, obj) -> None:
        self.query = getattr(obj, "query", None)
        self.filters = getattr(obj, "filters", None)
        self.dense_keys = getattr(obj, "dense_keys", [])
        self.narrowed = getattr(obj, "narrowed", False)

    def __getitem__(self, item):
        out = super().__getitem__(item)
        if isinstance(out, ResultSet):
            out.narrowed = True
        return out

    def union(self, other: ResultSet) -> ResultSet:
        """One result set holding both searches' (the same query, ``other`` under narrower filters)."""
        return ResultSet.build(self.tolist() + other.tolist(), self.query, self.filters,
                               list(dict.fromkeys(self.dense_keys + other.dense_keys)))
