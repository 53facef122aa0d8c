"""The one searcher behind the CLI, the API and the evaluation.

query -> (query embedding) -> BM25 leg + dense leg (filters applied inside both) -> fusion -> sections
-> page of results with citations, highlights, explanations, and facet counts of the whole result set.
"""

from __future__ import annotations

import re
from functools import lru_cache
import time

import numpy as np
from dataclasses import dataclass, field
from typing import Literal

from haystack import Pipeline

from ingest.errors import NotFoundError
from ingest.schema import PRIORITY_AREAS, DocumentMeta, Passage, Section, format_citation
from ingest.settings import Settings
from ingest.text import STOPWORDS, _stemmer
from search_api.filters import SearchFilters
from search_api.fusion import Leg, SectionFusionJoiner
from search_api.query_embedding import PendingEmbedding, QueryEmbedder

Mode = Literal["hybrid", "bm25", "dense"]
_WORD = re.compile(r"\d+(?:\.\d+)+|\w\w+", re.UNICODE)
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”')
# An unquoted query of this many words or fewer (and not a question) is also tried as a phrase.
IMPLICIT_PHRASE_MAX_WORDS = 5
MIN_COMPARE_MEMBERS, MAX_COMPARE_MEMBERS = 2, 8
# The model reads 256 tokens; a longer draft is embedded as the mean of its chunks of about this many tokens.
PRECEDENT_CHUNK_TOKENS = 200
_DRAFT_QUOTES = re.compile(r"[\"“”]")


def _phrase_norm(text: str) -> str:
    return " " + " ".join(_WORD.findall(text.lower())) + " "


def query_phrases(query: str) -> tuple[list[str], bool]:
    """Phrases the query asks for, and whether they are required (quoted) or only preferred."""
    quoted = [a or b for a, b in _QUOTED.findall(query)]
    quoted = [q for q in quoted if len(_WORD.findall(q)) >= 1]
    if quoted:
        return quoted, True
    words = _WORD.findall(query.lower())
    if 2 <= len(words) <= IMPLICIT_PHRASE_MAX_WORDS and not query.strip().endswith("?"):
        return [query], False
    return [], False


@dataclass
class SearchRequest:
    query: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    mode: Mode = "hybrid"
    top_k: int = 10
    offset: int = 0
    group_by: Literal["section", "document"] = "section"
    fusion: Literal["convex", "rrf"] | None = None
    dense_weight: float | None = None
    facets: bool = True
    query_vector: object | None = None  # a precomputed query embedding (batch evaluation)

    def __post_init__(self) -> None:
        if not self.query or not self.query.strip():
            raise ValueError("query must not be empty")
        if self.mode not in ("hybrid", "bm25", "dense"):
            raise ValueError(f"mode must be hybrid, bm25 or dense, got {self.mode!r}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be > 0, got {self.top_k}")
        if self.offset < 0:
            raise ValueError(f"offset must be >= 0, got {self.offset}")
        if self.group_by not in ("section", "document"):
            raise ValueError(f"group_by must be section or document, got {self.group_by!r}")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=4096)
def _query_stems(query: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _WORD.findall(query.lower()) if w not in STOPWORDS)


class Highlighter:
    """Spans of the words that share a stem with a query term (stop words excluded), for texts judged together.

    A page of results is judged at once: its distinct words are stemmed in one call, so a word is stemmed once
    per page, not once per passage or heading it appears in. The words that match are then found in each text
    with ``str.find`` and kept where they stand whole, as ``_WORD`` cuts words. Both steps avoid regex scans,
    which cost ~40 ns a character here (~0.5 ms a page).
    """

    def __init__(self, query: str, texts: list[str]) -> None:
        self._hits: tuple[str, ...] = ()
        self._done: dict[str, list[list[int]]] = {}
        wanted = _query_stems(query)
        if not wanted:
            return
        words = set()
        for token in set("\n".join(texts).lower().split()):  # _WORD's words never span white space
            if token.isalnum():
                if len(token) > 1:
                    words.add(token)
            else:
                words.update(_WORD.findall(token))
        words = list(words - STOPWORDS)
        self._hits = tuple(w for w, stem in zip(words, _stemmer().stemWords(words)) if stem in wanted)

    def spans(self, text: str) -> list[list[int]]:
        """[start, end] of every matching word in ``text``, in order."""
        if not self._hits:
            return []
        if text not in self._done:  # headings repeat down a page
            self._done[text] = _find_words(text, self._hits)
        return self._done[text]


def _find_words(text: str, words: tuple[str, ...]) -> list[list[int]]:
    """Spans of whole occurrences of the lower-case ``words`` in ``text``, in any case."""
    low = text.lower()
    if len(low) != len(text):  # a character whose lower case is longer ("İ"): positions would shift
        pattern = _words_pattern(frozenset(words))
        return [[m.start(), m.end()] for m in pattern.finditer(text)]
    out = []
    n = len(text)
    for w in words:
        start = low.find(w)
        while start >= 0:
            end = start + len(w)
            # whole as _WORD cuts it: no word character on either side, and not part of a dotted number
            if not (
                (start and (_is_word_char(low[start - 1]) or (low[start - 1] == "." and start > 1 and low[start - 2].isdecimal())))
                or (end < n and (_is_word_char(low[end]) or (low[end] == "." and end + 1 < n and low[end + 1].isdecimal())))
            ):
                out.append([start, end])
            start = low.find(w, end)
    out.sort()
    return out


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def highlight_spans(text: str, query: str) -> list[list[int]]:
    """Character spans in ``text`` of words that share a stem with a query term (stop words excluded)."""
    return Highlighter(query, [text]).spans(text)


@lru_cache(maxsize=256)
def _words_pattern(words: frozenset[str]) -> re.Pattern:
    """Any of the lower-cased ``words`` in any case, whole as ``_WORD`` cuts them: not inside a longer word or a
    dotted number."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))
    return re.compile(rf"(?<!\w)(?<!\d\.)(?:{alternatives})(?!\w)(?!\.\d)", re.IGNORECASE)


def citation(doc: DocumentMeta, section: Section, passage: Passage | None = None) -> dict:
    page_start = passage.page_start if passage and passage.page_start is not None else section.page_start
    page_end = passage.page_end if passage and passage.page_end is not None else section.page_end
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "doc_type": doc.doc_type,
        "year": doc.year,
        "section_id": section.section_id,
        "section_number": section.number,
        "section_title": section.title,
        "heading_path": section.heading_path,
        "page_start": page_start,
        "page_end": page_end,
        "text": format_citation(doc, section),
        "permalink": f"/documents/{doc.doc_id}#{section.section_id}",
    }


def area_tags(section: Section) -> list[dict]:
    return [
        {"area": t.area, "label": PRIORITY_AREAS[t.area], "basis": t.basis, "evidence": t.evidence}
        for t in section.priority_areas
    ]


class Searcher:
    """Hybrid search over whichever backend the settings choose."""

    def __init__(self, settings: Settings, engine=None, embedder: QueryEmbedder | None = None) -> None:
        self.settings = settings
        self.engine = engine or build_engine(settings)
        self.embedder = embedder or QueryEmbedder(settings)
        self.joiner = SectionFusionJoiner(settings.fusion, settings.dense_weight, settings.rrf_k, settings.normalization)

    def warm_up(self) -> None:
        self.embedder.warm_up_queries()

    def embed(self, text: str):
        return self.embedder.embed_query(text)

    def search(self, req: SearchRequest) -> dict:
        t0 = time.perf_counter()
        qvec = None
        if req.mode != "bm25":
            # Embedding starts on a query thread; the engine runs the BM25 leg meanwhile and waits for the
            # vector only when the dense leg needs it.
            qvec = req.query_vector if req.query_vector is not None else self.embedder.submit_query(req.query)
        need = req.offset + req.top_k
        depth = max(self.settings.candidates, need * 3)
        phrases, required = query_phrases(req.query)
        while True:
            bm25_leg, dense_leg, result_rows = self.engine.retrieve(
                req.query, qvec, req.filters, depth, req.group_by, req.mode
            )
            bm25_leg, dense_leg = Leg.of(bm25_leg), Leg.of(dense_leg)  # OpenSearch hands over Documents
            phrase_keys = None
            if phrases:
                # A passage holding the phrase matches all its words, so BM25 has it unless the phrase is
                # required (then the dense leg's candidates are checked too, since they will be kept or dropped).
                keys = bm25_leg.keys.tolist() + (dense_leg.keys.tolist() if required else [])
                phrase_keys = self._phrase_matches(keys, phrases)
                if required:  # quoted: only passages that contain every quoted phrase
                    bm25_leg, dense_leg = bm25_leg.only(phrase_keys), dense_leg.only(phrase_keys)
            hits = self.joiner.run(
                bm25_documents=bm25_leg,
                dense_documents=dense_leg,
                mode=req.mode,
                method=req.fusion,
                dense_weight=req.dense_weight,
                phrase_keys=phrase_keys,
            )["hits"]
            if required:
                result_rows = result_rows[np.isin(result_rows, list(phrase_keys or ()))]
            exhausted = len(bm25_leg) < depth and len(dense_leg) < depth
            if len(hits) >= need or exhausted or depth >= 100_000:
                break
            depth *= 4  # passages collapsed to fewer sections than asked for: look deeper
        t2 = time.perf_counter()
        page = hits[req.offset : need]
        hydrated = self.engine.hydrate(page)
        results = []
        texts = [h["passage"].text or h["section"].title for h in hydrated]
        marker = Highlighter(req.query, texts + [x for h in hydrated for x in h["section"].heading_path])
        for rank, (hit, h, text) in enumerate(zip(page, hydrated, texts), start=req.offset + 1):
            p, s, d = h["passage"], h["section"], h["document"]
            results.append(
                {
                    "rank": rank,
                    "score": round(hit.score, 6),
                    "doc_id": d.doc_id,
                    "section_id": s.section_id,
                    "passage_id": p.passage_id,
                    "text": text,
                    "highlights": marker.spans(text),
                    "heading_highlights": [marker.spans(x) for x in s.heading_path],
                    "citation": citation(d, s, p),
                    "members": s.members,
                    "priority_areas": area_tags(s),
                    "document": {
                        "doc_type": d.doc_type,
                        "year": d.year,
                        "year_to": d.year_to,
                        "language": d.language,
                        "jurisdiction": d.jurisdiction,
                    },
                    "explanation": hit.explanation.to_dict(),
                    "matched_passages": len(hit.passages),
                }
            )
        if req.facets:
            totals, facets = self.engine.facets(result_rows)
            total = totals["documents" if req.group_by == "document" else "sections"]
        else:
            total, facets = len(hits), {}
        t3 = time.perf_counter()
        return {
            "query": req.query,
            "mode": req.mode,
            "group_by": req.group_by,
            "filters": req.filters.to_dict(),
            "total": total,
            "offset": req.offset,
            "top_k": req.top_k,
            "results": results,
            "facets": facets,
            "timing_ms": {
                # embedding itself (overlapped with the BM25 leg); retrieve is the wall time up to fusion
                "embed": round(qvec.ms, 2) if isinstance(qvec, PendingEmbedding) else 0.0,
                "retrieve": round((t2 - t0) * 1000, 2),
                "hydrate": round((t3 - t2) * 1000, 2),
                "total": round((t3 - t0) * 1000, 2),
            },
        }

    def _phrase_matches(self, keys: list, phrases: list[str]) -> set:
        """Keys of the candidate passages whose text (or headings) contain every phrase, word for word."""
        keys = list(dict.fromkeys(keys))
        texts = self.engine.passage_texts(keys)
        wanted = [_phrase_norm(p) for p in phrases]
        words = {w for p in phrases for w in _WORD.findall(p.lower())}
        out = set()
        for k in keys:
            raw = texts.get(k, "").lower()
            # every word as a substring first (cheap), then the phrase word for word
            if all(w in raw for w in words) and all(w in _phrase_norm(raw) for w in wanted):
                out.add(k)
        return out

    # -- compare and precedents (the API's /compare and /precedents) ------------------------------------

    def compare(self, question: str, members: list[str], filters: SearchFilters | None = None,
                per_member: int = 3, mode: Mode = "hybrid") -> dict:
        """Each member's best sections on one question, side by side (a member-filtered search per member).

        The question is embedded once. A member without a matching section gets an empty cell, not an error.

        :param members: 2-8 distinct canonical member names, in display order.
        :param filters: further filters (area, type, years) applied to every member's search; its members are replaced.
        """
        from dataclasses import replace

        if len(set(members)) != len(members):
            raise ValueError(f"members must be distinct, got {members}")
        if not MIN_COMPARE_MEMBERS <= len(members) <= MAX_COMPARE_MEMBERS:
            raise ValueError(f"compare needs {MIN_COMPARE_MEMBERS}-{MAX_COMPARE_MEMBERS} members, got {len(members)}")
        if per_member < 1:
            raise ValueError(f"per_member must be > 0, got {per_member}")
        base = filters or SearchFilters()
        qvec = self.embed(question) if mode != "bm25" else None
        rows = []
        for member in members:
            req = SearchRequest(question, replace(base, members=(member,)), mode=mode, top_k=per_member,
                                facets=False, query_vector=qvec)
            rows.append({"member": member, "results": self.search(req)["results"]})
        return {"query": question, "mode": mode, "filters": {**base.to_dict(), "members": list(members)},
                "per_member": per_member, "rows": rows}

    def draft_query_vector(self, text: str) -> tuple[np.ndarray, int]:
        """The query embedding of a draft clause, and how many chunks made it.

        Up to the model's 256 tokens the clause is embedded as it is. A longer draft would be truncated by the
        model, so it is cut (at paragraph or sentence breaks) into chunks of about 200 tokens whose normalised
        embeddings are averaged and renormalised: every part of the draft counts, none is silently dropped.
        """
        from ingest.passages import load_tokenizer, split_passages
        from ingest.schema import Section

        tokenizer = load_tokenizer(str(self.settings.resolved_model_path()))
        if len(tokenizer.encode(text, add_special_tokens=False).ids) <= self.settings.max_passage_tokens - 2:
            return self.embed(text), 1
        pseudo = Section("draft:x", "draft", "x", [], "", None, "paragraph", text, 0)
        chunks = [p.text for p in split_passages(pseudo, tokenizer, PRECEDENT_CHUNK_TOKENS + 2)]
        vecs = np.stack([self.embed(c) for c in chunks])
        mean = vecs.mean(axis=0)
        return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32), len(chunks)

    def precedents(self, text: str, filters: SearchFilters | None = None, top_k: int = 10) -> dict:
        """Provisions most similar to a draft clause: hybrid search with the clause as the query.

        BM25 reads the whole clause (quotation marks removed: drafts quote defined terms, which in a query
        would make them required phrases); the dense leg uses ``draft_query_vector``.
        """
        if not text or not text.strip():
            raise ValueError("text must not be empty")
        qvec, chunks = self.draft_query_vector(text)
        query = " ".join(_DRAFT_QUOTES.sub(" ", text).split())
        out = self.search(SearchRequest(query, filters or SearchFilters(), mode="hybrid", top_k=top_k, query_vector=qvec))
        out["draft_chunks"] = chunks
        return out

    # -- documents ----------------------------------------------------------------------------------------

    def document(self, doc_id: str) -> tuple[DocumentMeta, list[Section]]:
        docs = self.engine.documents()
        if doc_id not in docs:
            raise NotFoundError(f"no document {doc_id!r}")
        return docs[doc_id], self.engine.sections_of(doc_id)

    def section(self, doc_id: str, section_id: str, neighbours: int = 1) -> dict:
        doc, sections = self.document(doc_id)
        index = next((i for i, s in enumerate(sections) if s.section_id == section_id), None)
        if index is None:
            raise NotFoundError(f"no section {section_id!r} in document {doc_id!r}")
        s = sections[index]
        return {
            "document": doc,
            "section": s,
            "previous": sections[max(0, index - neighbours) : index],
            "next": sections[index + 1 : index + 1 + neighbours],
            "citation": citation(doc, s),
        }


def build_engine(settings: Settings):
    """The one place that chooses the backend."""
    if settings.backend == "opensearch":
        from search_api.opensearch_engine import OpenSearchEngine

        return OpenSearchEngine(settings)
    from search_api.engine import EmbeddedEngine

    return EmbeddedEngine(settings.index_dir, candidates=settings.candidates, norm_depth=settings.norm_depth)


def build_search_pipeline(searcher: Searcher) -> Pipeline:
    """The hybrid search as a Haystack pipeline (embed -> BM25 + dense retrievers -> fusion) over the embedded engine.

    The Searcher calls the same components directly, which saves the pipeline's per-query overhead.
    """
    from search_api.engine import EmbeddedBM25Retriever, EmbeddedEmbeddingRetriever

    _, text_embedder = searcher.embedder.passages.components()
    p = Pipeline()
    p.add_component("query_embedder", text_embedder)
    st = searcher.settings
    p.add_component("bm25", EmbeddedBM25Retriever(searcher.engine.live, top_k=st.candidates, norm_depth=st.norm_depth))
    p.add_component("dense", EmbeddedEmbeddingRetriever(searcher.engine.live, top_k=st.candidates, norm_depth=st.norm_depth))
    p.add_component("fusion", SectionFusionJoiner(st.fusion, st.dense_weight, st.rrf_k, st.normalization))
    p.connect("query_embedder.embedding", "dense.query_embedding")
    p.connect("bm25.documents", "fusion.bm25_documents")
    p.connect("dense.documents", "fusion.dense_documents")
    return p
