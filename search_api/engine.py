"""The embedded engine: BM25 (bm25s) and dense (numpy) legs over a memory-mapped generation.

Filters become one boolean mask over passages, applied inside both legs before top-k, so a filtered
query ranks only matching passages and returns k results whenever k matching sections exist.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ingest.errors import UnknownFilterValueError
from ingest.stores import AREA_IDS, Generation, IndexDir, open_current
from search_api.dense import all_cosines, broad, dense_top, top_rows, top_within
from search_api.facets import facet_counts
from search_api.filters import SearchFilters
from search_api.fusion import Leg, LegStats
from search_api.language_offsets import row_offsets
from search_api.phrases import PHRASE_SCAN_MAX, PhraseMatcher
from search_api.query_language import query_language
from search_api.query_terms import weighted_query_terms

RELOAD_CHECK_S = 1.0


class LiveIndex:
    """The current generation, reopened when ingest publishes a new one (checked at most once a second)."""

    def __init__(self, index_root: Path) -> None:
        self.root = Path(index_root)
        self._dir = IndexDir(self.root)
        self._lock = threading.Lock()
        self._gen: Generation = open_current(self.root)
        self._checked = time.monotonic()
        self._masks: OrderedDict[SearchFilters, np.ndarray] = OrderedDict()

    def get(self) -> Generation:
        now = time.monotonic()
        if now - self._checked > RELOAD_CHECK_S:
            self._checked = now
            name = self._dir.current_name()
            if name and name != self._gen.name:
                with self._lock:
                    if name != self._gen.name:
                        self._gen = open_current(self.root)  # the old one stays valid for requests in flight
                        self._masks.clear()
        return self._gen

    def refresh(self) -> Generation:
        """Check for a newer generation now (after this process wrote one), not at the next periodic check."""
        self._checked = 0.0
        return self.get()

    # -- filters -----------------------------------------------------------------------------------------

    def mask(self, gen: Generation, f: SearchFilters) -> np.ndarray | None:
        """Boolean mask over passages for the filters (None = no filtering). Cached per filter set."""
        if f.is_empty():
            return None
        with self._lock:
            cached = self._masks.get(f)
            if cached is not None and len(cached) == gen.n_passages:
                self._masks.move_to_end(f)
                return cached
        m = build_mask(gen, f)
        with self._lock:
            self._masks[f] = m
            while len(self._masks) > 64:
                self._masks.popitem(last=False)
        return m


def build_mask(gen: Generation, f: SearchFilters) -> np.ndarray:
    n = gen.n_passages
    mask = np.ones(n, dtype=bool)
    cols = gen.cols
    if f.members:
        m = np.zeros(n, dtype=bool)
        for member in f.members:
            if member in gen.member_code:  # a valid member with no documents matches nothing
                m[gen.member_rows(member)] = True
        mask &= m
    if f.areas:
        bits = 0
        for area in f.areas:
            i = AREA_IDS.index(area)
            bits |= (1 << i) | (1 << (8 + i))
        mask &= (np.asarray(cols["p_areas"]) & np.uint16(bits)) != 0
    if f.doc_types:
        codes = [gen.doc_types.index(t) for t in f.doc_types if t in gen.doc_types]
        mask &= np.isin(cols["p_type"], codes)
    if f.languages:
        codes = [gen.languages.index(x) for x in f.languages if x in gen.languages]
        mask &= np.isin(cols["p_lang"], codes)
    if f.statuses:
        mask &= np.isin(cols["p_status"], [gen.statuses.index(x) for x in f.statuses if x in gen.statuses])
    if f.doc_ids:
        docs = gen.document_rows()
        unknown = [d for d in f.doc_ids if d not in docs]
        if unknown:
            raise UnknownFilterValueError("doc_id", unknown[0], docs)
        mask &= np.isin(cols["p_doc"], [docs.index(d) for d in f.doc_ids])
    if f.year_from is not None or f.year_to is not None:
        y0, y1 = np.asarray(cols["p_year_from"]), np.asarray(cols["p_year_to"])
        known = y0 >= 0
        if f.year_from is not None:
            known &= y1 >= f.year_from
        if f.year_to is not None:
            known &= y0 <= f.year_to
        mask &= known
    return mask


def _leg(gen: Generation, rows: np.ndarray, scores: np.ndarray, k: int, group_by: str) -> Leg:
    """The first ``k`` of a leg's top passages as candidates, carrying the statistics of all of them.

    Columns, not Documents: a candidate becomes a Document (``id`` ``p<row>``, ``meta`` with ``key``, ``group``,
    ``section_row``, ``doc_row``, ``leg_stats``) only when read.
    """
    stats = LegStats.of(scores)
    rows = np.asarray(rows[:k], dtype=np.int64)
    # Gather the columns with one fancy index each: element-wise np.memmap indexing costs ~20 us a row.
    secs = gen.cols["p_section"][rows].astype(np.int64)
    docs = gen.cols["p_doc"][rows].astype(np.int64)
    return Leg(rows, np.asarray(scores[:k], dtype=np.float64), docs if group_by == "document" else secs, stats,
               {"section_row": secs, "doc_row": docs})


def bm25_scores(gen: Generation, query: str, languages=()) -> np.ndarray:
    """BM25 score of every passage for the query (0 where no term matches; filters are the caller's): the weighted
    sum over the query's terms (cut for the filtered ``languages``; a word pair weighted by ``PAIR_WEIGHT``) and
    the term bank's translations of its concepts (``search_api.query_terms.weighted_query_terms``)."""
    if gen.bm25 is None:
        return np.zeros(gen.n_passages, dtype=np.float32)
    weighted = weighted_query_terms(query, languages)
    weight = dict(weighted)
    found = gen.term_ids([t for t, _ in weighted])
    if not found:
        return np.zeros(gen.n_passages, dtype=np.float32)
    return sum_postings(gen.bm25, [i for _, i in found], [weight[t] for t, _ in found])


def sum_postings(bm25, ids: list[int], weights: list[float]) -> np.ndarray:
    """bm25s's ``get_scores_from_ids`` with a weight per term, and without ``np.add.at``: a term's postings hold
    each passage once, so a plain fancy-index add gives the same float32 sums in the same order, several times
    faster."""
    if bm25.nonoccurrence_array is not None or bm25.backend != "numpy":
        total = np.zeros(bm25.scores["num_docs"], dtype=np.float32)
        for t, w in zip(ids, weights):
            total += w * bm25.get_scores_from_ids([t])
        return total
    data, indices, indptr = bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"]
    scores = np.zeros(bm25.scores["num_docs"], dtype=np.dtype(bm25.dtype))
    for t, w in zip(ids, weights):
        a, b = int(indptr[t]), int(indptr[t + 1])
        scores[indices[a:b]] += data[a:b] if w == 1.0 else data[a:b] * np.float32(w)
    return scores


def posting_size(bm25, term_id: int) -> int:
    """How many passages hold the term."""
    if bm25.backend != "numpy":
        return int(np.count_nonzero(bm25.get_scores_from_ids([term_id])))
    indptr = bm25.scores["indptr"]
    return int(indptr[term_id + 1] - indptr[term_id])


def posting_rows(bm25, term_id: int) -> np.ndarray:
    """The passages that hold the term, as sorted rows."""
    if bm25.backend != "numpy":
        return np.flatnonzero(bm25.get_scores_from_ids([term_id]))
    indptr = bm25.scores["indptr"]
    return np.sort(np.asarray(bm25.scores["indices"][int(indptr[term_id]) : int(indptr[term_id + 1])], dtype=np.int64))


def _union_sorted(parts: list[np.ndarray], n: int) -> np.ndarray:
    """Sorted unique rows of all parts (as ``np.unique(np.concatenate(parts))``), through a mask when they are many."""
    total = sum(p.size for p in parts)
    if total < 4096:
        return np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *parts]))
    seen = np.zeros(n, dtype=bool)
    for p in parts:
        seen[p] = True
    return np.flatnonzero(seen)


def rows_with_terms(gen: Generation, terms: list[str]) -> np.ndarray:
    """The passages (sorted rows) that hold every one of the terms: their postings intersected, rarest first."""
    found = gen.term_ids(terms)
    if len(found) < len(terms):
        return np.zeros(0, dtype=np.int64)  # a word no passage has
    rows = None
    for _, term_id in sorted(found, key=lambda t: posting_size(gen.bm25, t[1])):
        posted = posting_rows(gen.bm25, term_id)
        rows = posted if rows is None else np.intersect1d(rows, posted, assume_unique=True)
        if rows.size == 0:
            break
    return rows


class _ScoreMemo(threading.local):
    """The current search's scores of every passage on this thread, for both legs: a second, narrower search of
    the same query (the documents a query names, ``Searcher``) masks them instead of computing them again. Each
    search starts with none (``EmbeddedEngine.new_search``): a repeated query is computed again, as it would be
    in a service where it comes again minutes later."""

    def __init__(self) -> None:
        self.bm25: tuple[tuple, np.ndarray] | None = None  # ((generation, query, languages), BM25 scores)
        self.dense: tuple[tuple, np.ndarray] | None = None  # ((generation, query vector bytes), cosines)

    def get(self, leg: str, key: tuple) -> np.ndarray | None:
        held = getattr(self, leg)
        return held[1] if held is not None and held[0][0] is key[0] and held[0][1:] == key[1:] else None

    def put(self, leg: str, key: tuple, scores: np.ndarray) -> np.ndarray:
        setattr(self, leg, (key, scores))
        return scores

    def clear(self) -> None:
        self.bm25 = self.dense = None


class EmbeddedEngine:
    """The embedded backend behind the Searcher: retrieval legs, facets, hydration and document access."""

    name = "embedded"

    def __init__(self, index_root: Path, candidates: int = 100, norm_depth: int = 1000) -> None:
        self.live = LiveIndex(index_root)
        self.candidates = candidates
        self.norm_depth = norm_depth
        self._memo = _ScoreMemo()

    def generation(self) -> Generation:
        return self.live.get()

    def new_search(self) -> None:
        """Forget the scores the previous search on this thread kept (see ``_ScoreMemo``)."""
        self._memo.clear()

    def refresh(self) -> None:
        self.live.refresh()

    def retrieve(self, query: str, qvec, filters: SearchFilters, depth: int, group_by: str, mode: str) -> tuple[Leg, Leg, np.ndarray]:
        """Both legs' candidates, plus the passage rows that make up the result set for facets."""
        gen = self.live.get()
        mask = self.live.mask(gen, filters)
        bm25 = dense = Leg.of([])
        result_rows: list[np.ndarray] = []
        if mode != "dense":
            key = (gen, query, tuple(filters.languages))
            scores = self._memo.get("bm25", key)
            if scores is None:
                scores = self._memo.put("bm25", key, bm25_scores(gen, query, filters.languages))
            if mask is not None:
                scores = np.where(mask, scores, 0.0).astype(np.float32)
            positive = np.flatnonzero(scores > 0)
            rows, top = top_rows(scores[positive], positive, max(depth, self.norm_depth))
            bm25 = _leg(gen, rows, top, depth, group_by)
            result_rows.append(positive)
        if mode != "bm25" and qvec is not None:
            qvec = qvec.result() if hasattr(qvec, "result") else qvec  # a query still being embedded
            language = query_language(query)
            offsets = row_offsets(gen, language)  # the model's same-language bias, where it was measured
            key = (gen, np.asarray(qvec, dtype=np.float32).tobytes(), language)
            cosines = self._memo.get("dense", key)
            # no filter, or a broad one: every row is scored anyway, and kept for a narrower search of the query
            if cosines is None and gen.n_passages and broad(mask):
                cosines = self._memo.put("dense", key, all_cosines(gen, qvec, offsets))
            if cosines is not None:
                rows, top = top_within(cosines, mask, max(depth, self.norm_depth))
            else:
                rows, top = dense_top(gen, qvec, mask, max(depth, self.norm_depth), offsets)
            dense = _leg(gen, rows, top, depth, group_by)
            result_rows.append(rows[:depth])
        return bm25, dense, _union_sorted(result_rows, gen.n_passages)

    @staticmethod
    def union_results(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """One result set (sorted passage rows) holding both searches' (both sorted and unique; ``b``, a narrower
        search's, mostly inside ``a`` already: found by binary search, not by ``np.union1d``'s sort, which took
        200 ms at 1M passages)."""
        if not len(b):
            return a
        if not len(a):
            return b
        at = np.searchsorted(a, b)
        inside = (at < len(a)) & (a[np.minimum(at, len(a) - 1)] == b)
        if inside.all():
            return a
        return np.insert(a, at[~inside], b[~inside])

    def keys_in_documents(self, leg: Leg, doc_ids: set[str]) -> set:
        """The candidates of a leg whose passage belongs to one of the documents (a query's scope)."""
        if not doc_ids or not len(leg):
            return set()
        wanted = np.array([d in doc_ids for d in self.live.get().document_rows()], dtype=bool)
        return set(leg.keys[wanted[np.asarray(leg.meta["doc_row"], dtype=np.int64)]].tolist())

    def phrase_rows(self, matcher: PhraseMatcher, filters: SearchFilters) -> np.ndarray | None:
        """Every passage (sorted rows) that passes the filters and holds the matcher's phrases word for word.

        The passages that have all the phrases' required terms (their postings intersected) are a superset;
        their texts are then checked. None when that superset is too large to check
        (``PHRASE_SCAN_MAX``) or the phrases have no term to narrow it (stop words only): the searcher then
        checks its candidates instead.
        """
        gen = self.live.get()
        alternatives = matcher.required_term_sets()  # a text's terms depend on its language: one set per analyzer
        if gen.bm25 is None or not alternatives or not all(alternatives):
            return None
        rows = _union_sorted([rows_with_terms(gen, terms) for terms in alternatives], gen.n_passages)
        mask = self.live.mask(gen, filters)
        if mask is not None:
            rows = rows[mask[rows]]
        if rows.size > PHRASE_SCAN_MAX:
            return None
        texts = gen.passage_search_texts(rows.tolist())
        return np.array(sorted(matcher.matching(texts)), dtype=np.int64)

    def facets(self, result_rows: np.ndarray) -> tuple[dict[str, int], dict]:
        return facet_counts(self.live.get(), result_rows)

    def hydrate(self, hits) -> list[dict]:
        gen = self.live.get()
        prow = [h.key for h in hits]
        srow = [h.document.meta["section_row"] for h in hits]
        passages = gen.passage_by_row(prow)
        sections = gen.section_by_row(srow)
        docs = gen.documents()
        return [
            {"passage": passages[p], "section": sections[s], "document": docs[sections[s].doc_id]}
            for p, s in zip(prow, srow)
        ]

    def passage_texts(self, keys: list) -> dict:
        """Searchable text (headings and body) of candidate passages, by key."""
        return self.live.get().passage_search_texts(keys)

    def documents(self) -> dict:
        return self.live.get().documents()

    def sections_of(self, doc_id: str) -> list:
        return self.live.get().sections_of(doc_id)

    def section_counts(self) -> dict[str, int]:
        gen = self.live.get()
        docs = gen.document_rows()
        rows = gen.db.execute("SELECT doc_row, count(*) FROM sections GROUP BY doc_row").fetchall()
        return {docs[r]: c for r, c in rows}

    def passages_of(self, section_ids: list[str]) -> dict[str, list]:
        gen = self.live.get()
        rows = {gen.section_row(s): s for s in section_ids}
        rows.pop(None, None)
        by_row = gen.passages_of_sections(list(rows))
        return {rows[r]: ps for r, ps in by_row.items()}

    def all_facets(self) -> tuple[dict[str, int], dict]:
        gen = self.live.get()
        return facet_counts(gen, np.arange(gen.n_passages))

    def info(self) -> dict:
        gen = self.live.get()
        return {"backend": self.name, "generation": gen.name, **gen.manifest["counts"], "model": gen.manifest["model"]}
