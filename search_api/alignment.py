"""The Protocol implementation map: for each article of an instrument, the provisions of each member's laws that
implement it, cited, with a score, a confidence and the article's elements each provision covers.

How a cell is found (one article, one member):

1. **Queries.** The article's own words: its title and whole text, and each of its first paragraphs on its own
   (a long article asks for several things; a provision often answers one). Each query starts with the
   instrument's subject (the first term of several words its title names from the term bank, "Trafficking in
   Persons"), which an article such as "Criminalization" leaves unsaid.
2. **Retrieval.** Each query is the precedent search (``Searcher.search`` with the query's embedding) restricted
   to the member's laws (``LAW_TYPES``) in every language; the dense leg carries it across languages. Only
   provisions count (sections, articles, clauses: not chapters, preambles, notes or explanatory statements),
   and an instrument's own articles never appear. The ranks of a provision over the queries are summed as
   reciprocal ranks.
3. **Concepts.** The term bank's concepts the article names are matched in every provision of the member's laws,
   in the provision's language, weighted by how rare each concept is in that member's laws (and a heading's
   concepts count more): the lexical leg across languages.
4. **Score and confidence.** ``score`` = the reciprocal-rank sum over the queries (as a share of its maximum) +
   ``CONCEPT_WEIGHT`` x the concept score, times ``DEFINITIONS_FACTOR`` for a definitions section when the
   article does not define terms itself. The best ``MAX_PROVISIONS`` (three) are kept; the confidence is ``strong``, ``possible`` or ``none found`` by the best score
   against thresholds calibrated on ``eval/alignment_dev`` (``python -m eval.alignment --calibrate``), and
   ``none found`` whatever the score when the article has a checklist of elements and none of the provisions
   names any of them.
5. **Reviews.** ``alignments.csv`` beside the corpus (``ingest.alignments``): a confirmed provision comes first,
   marked ``reviewed``; a rejected one is never shown.

The map of one instrument is computed once per index generation (and reviews file) and then served from memory.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.alignments import ALIGNMENTS_NAME, Review, read_alignments
from ingest.errors import NotFoundError
from ingest.schema import DocumentMeta, Section
from ingest.termbank import load_termbank
from search_api.elements import covered, elements_of
from search_api.filters import SearchFilters
from search_api.results import citation
from search_api.searcher import SearchRequest, draft_query

INSTRUMENT_TYPES = ("protocol", "convention")
LAW_TYPES = ("law", "judicial_interpretation")
PROVISION_KINDS = frozenset({"section", "article", "clause"})
# Final clauses bind the parties to one another, not a law to anything: no row is searched for them.
FINAL_CLAUSE = re.compile(
    r"^(signature|entry into force|amendment|denunciation|depositary|settlement of disputes|reservations|"
    r"conference of the parties|secretariat|relation with)", re.I)
FINAL_CLAUSE_TEXT = re.compile(r"\b(ratification|ratifications|denounce|shall come into force|Director-General)\b")

MAX_PARAGRAPH_QUERIES = 4  # the article's first paragraphs searched on their own
CANDIDATES = 20  # provisions each query keeps per member
RRF_K = 10
CONCEPT_WEIGHT = 0.2  # a concept-score unit against the reciprocal-rank share (0..1); chosen on alignment_dev
HEADING_WEIGHT = 2.0  # a concept in a heading counts this many times
LENGTH_NORM = 0.75  # BM25's b over the number of concepts a provision names: a definitions section names many
# A definitions section (its heading names the term bank's "definition": Interpretation, Tafsiran, সংজ্ঞা, Tanımlar)
# names every concept of its law, so it matches every article; it implements only an article that defines terms
# ("Use of terms"), and its score counts this share for the others (chosen on alignment_dev: top-1 0.547 -> 0.568,
# and the same under leave-one-member-out choice of the factor)
DEFINITIONS_FACTOR = 0.6
DEFINITION = "definition"
MAX_PROVISIONS = 3  # the best provisions shown in a cell
# Confidence of a cell by its best score; calibrated on eval/alignment_dev (python -m eval.alignment --calibrate).
# No score threshold alone makes "none found" right 80% of the time there (the cells judged "none" score 1.4 and
# up: an article with no implementation still finds words in common), so NONE_SCORE is only a floor below every
# judged cell, and "none found" comes mostly from the checklist rule in _cell.
STRONG_SCORE = 3.0
NONE_SCORE = 1.0


@dataclass
class _Provision:
    section: Section
    doc: DocumentMeta
    rank_share: float = 0.0
    concepts: float = 0.0
    factor: float = 1.0

    @property
    def score(self) -> float:
        return self.factor * (self.rank_share + CONCEPT_WEIGHT * self.concepts)


def instrument_subject(doc: DocumentMeta) -> str:
    """The instrument's subject in English: the first term of several words its title names from the term bank
    ("Trafficking in Persons", not the "Prevent" of "Protocol to Prevent, ..."); else its first term; "" if none."""
    found = sorted(load_termbank().concepts_in(doc.title, "en"), key=lambda m: m.start)
    terms = [doc.title[m.start : m.end] for m in found]
    return next((t for t in terms if len(t.split()) > 1), terms[0] if terms else "")


def is_final_clause(article: Section) -> bool:
    if article.title:
        return bool(FINAL_CLAUSE.match(article.title.strip()))
    return bool(FINAL_CLAUSE_TEXT.search(article.text[:300]))


_REFERENCE = re.compile(r"\barticles? ((?:\d+(?:, | and | or |, and ))*\d+),? (?:\w+ )?of this (?:Protocol|Convention)\b", re.I)


def referenced_articles(article: Section, articles: list[Section]) -> list[Section]:
    """The articles of the same instrument that ``article`` refers to ("article 3 of this Protocol")."""
    numbers = {n for m in _REFERENCE.finditer(article.text) for n in re.findall(r"\d+", m.group(1))}
    return [a for a in articles if a is not article and a.path.rsplit("art-", 1)[-1] in numbers and "art-" in a.path]


def article_queries(searcher, subject: str, article: Section) -> list[tuple[str, object]]:
    """The article's queries, each with its vector: its title and text whole, then each of its first indexed
    passages (when it has several). The embedded index gives the passages' stored vectors (their mean for the
    whole article), so no query is embedded again; another backend embeds the texts."""
    head = " ".join(x for x in (subject + "." if subject else "", article.title or "") if x)  # not "Article 4"
    passages = searcher.engine.passages_of([article.section_id]).get(article.section_id, [])
    texts = [f"{head}\n{article.text}"]
    if len(passages) > 1:
        texts += [f"{head}: {p.text}" for p in passages[:MAX_PARAGRAPH_QUERIES]]
    texts = [draft_query(q) for q in texts]
    gen = searcher.engine.generation() if hasattr(searcher.engine, "generation") else None
    rows = gen.passage_rows_of_section(article.section_id) if gen is not None else []
    if not rows:
        return [(t, searcher.draft_query_vector(t)[0]) for t in texts]
    vecs = gen.float_vectors(np.asarray(rows))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    mean = vecs.mean(axis=0)
    out = [(texts[0], (mean / np.linalg.norm(mean)).astype(np.float32))]
    return out + [(t, v.astype(np.float32)) for t, v in zip(texts[1:], vecs[:MAX_PARAGRAPH_QUERIES])]



def defines_terms(article: Section) -> bool:
    """Whether the article defines terms: its heading names the definition concept ("Use of terms")."""
    return any(m.concept == DEFINITION for m in load_termbank().concepts_in(article.title or "", "en"))


def article_concepts(article: Section, referenced: list[Section]) -> dict[str, float]:
    """The concepts an article names, each with its weight: its heading's count more, and those of the articles it
    refers to (Article 5 criminalises "the conduct set forth in article 3") count too."""
    tb = load_termbank()
    wanted: dict[str, float] = {m.concept: 1.0 for m in tb.concepts_in(article.text, "en")}
    for m in tb.concepts_in(article.title or "", "en"):
        wanted[m.concept] = wanted.get(m.concept, 0.0) + HEADING_WEIGHT
    for other in referenced:
        for m in tb.concepts_in(other.text, "en"):
            wanted.setdefault(m.concept, 1.0)
    return wanted


class _Concepts:
    """The term-bank concepts of every provision of the members' laws, with each member's document frequencies."""

    def __init__(self, provisions: dict[str, list[tuple[Section, DocumentMeta]]]) -> None:
        tb = load_termbank()
        self.of: dict[str, tuple[Counter, Counter, int]] = {}
        self.df: dict[str, Counter] = {}
        self.n: dict[str, int] = {}
        self.avg: dict[str, float] = {}
        for member, items in provisions.items():
            df: Counter = Counter()
            sizes = []
            for s, doc in items:
                body = Counter(m.concept for m in tb.concepts_in(s.text, doc.language))
                head = Counter(m.concept for m in tb.concepts_in(s.title or "", doc.language))
                size = len(set(body) | set(head))
                self.of[s.section_id] = (body, head, size)
                df.update(set(body) | set(head))
                sizes.append(size or 1)
            self.df[member], self.n[member] = df, len(items)
            self.avg[member] = sum(sizes) / len(sizes) if sizes else 1.0

    def is_definitions(self, section_id: str) -> bool:
        """Whether the provision's heading names the definition concept (a definitions section)."""
        return self.of[section_id][1].get(DEFINITION, 0) > 0

    def scores(self, wanted: dict[str, float], member: str, items: list[tuple[Section, DocumentMeta]]) -> dict[str, float]:
        """Each of the member's provisions that names a concept ``wanted`` (``article_concepts``), scored like
        BM25 over concepts."""
        df, n, avg = self.df[member], self.n[member], self.avg[member]
        out = {}
        for s, _ in items:
            body, head, size = self.of[s.section_id]
            norm = 1 - LENGTH_NORM + LENGTH_NORM * (size or 1) / avg
            score = 0.0
            for concept, weight in wanted.items():
                tf = body.get(concept, 0) + HEADING_WEIGHT * head.get(concept, 0)
                if tf:
                    score += weight * math.log(1 + n / df[concept]) * tf / (tf + norm)
            if score:
                out[s.section_id] = score
        return out


class AlignmentMap:
    """Builds and caches the maps of one searcher's index."""

    def __init__(self, searcher, reviews_path: Path | None = None) -> None:
        self.searcher = searcher
        self.reviews_path = reviews_path if reviews_path is not None else searcher.settings.corpus_dir / ALIGNMENTS_NAME
        self._lock = threading.Lock()
        self._cache: dict[tuple, dict] = {}
        self._laws: tuple[str, dict] | None = None  # (generation, member -> provisions, concepts)

    # -- public ----------------------------------------------------------------------------------------------

    def instruments(self) -> list[dict]:
        docs = self.searcher.engine.documents()
        return [{"doc_id": d.doc_id, "title": d.title, "doc_type": d.doc_type, "year": d.year}
                for d in docs.values() if d.doc_type in INSTRUMENT_TYPES]

    def get(self, instrument: str, members: list[str] | None = None, article: str | None = None) -> dict:
        """The map of ``instrument`` (computed once per generation and reviews file), narrowed to ``members`` and
        one ``article`` (its section id or its path in the instrument). Unknown ids raise ``NotFoundError``."""
        docs = self.searcher.engine.documents()
        doc = docs.get(instrument)
        if doc is None:
            raise NotFoundError(f"no instrument {instrument!r} in the index")
        if doc.doc_type not in INSTRUMENT_TYPES:
            raise NotFoundError(f"{instrument!r} is a {doc.doc_type}, not an instrument (a protocol or convention)")
        key = (self._generation(), instrument, self._reviews_key())
        full = self._cache.get(key)
        if full is None:
            with self._lock:
                full = self._cache.get(key)
                if full is None:
                    full = self._compute(doc, docs)
                    self._cache = {k: v for k, v in self._cache.items() if k[0] == key[0]}
                    self._cache[key] = full
        return narrow(full, members, article)

    # -- computing ---------------------------------------------------------------------------------------------

    def _generation(self) -> str:
        return str(self.searcher.engine.info().get("generation", ""))

    def _reviews_key(self) -> tuple:
        try:
            st = self.reviews_path.stat()
            return (st.st_mtime_ns, st.st_size)
        except OSError:
            return ()

    def _reviews(self) -> list[Review]:
        return read_alignments(self.reviews_path) if self.reviews_path.exists() else []

    def member_laws(self, docs: dict[str, DocumentMeta]):
        """Each member's provisions (with their documents) and their concepts, read once per index generation."""
        gen = self._generation()
        if self._laws is None or self._laws[0] != gen:
            provisions: dict[str, list[tuple[Section, DocumentMeta]]] = defaultdict(list)
            for d in sorted(docs.values(), key=lambda d: d.doc_id):
                if d.doc_type in LAW_TYPES:
                    for s in self.searcher.engine.sections_of(d.doc_id):
                        if s.kind in PROVISION_KINDS:
                            for m in d.members:
                                provisions[m].append((s, d))
            self._laws = (gen, dict(sorted(provisions.items())), _Concepts(provisions))
        return self._laws[1], self._laws[2]

    def _compute(self, doc: DocumentMeta, docs: dict[str, DocumentMeta]) -> dict:
        t0 = time.perf_counter()
        laws, concepts = self.member_laws(docs)
        members = list(laws)
        laws_by_id = {m: {s.section_id: (s, d) for s, d in items} for m, items in laws.items()}
        reviews = defaultdict(list)
        for r in self._reviews():
            reviews[(r.article, r.member)].append(r)
        subject = instrument_subject(doc)
        rows = []
        articles = [s for s in self.searcher.engine.sections_of(doc.doc_id) if s.kind == "article"]
        if not articles:
            raise NotFoundError(f"{doc.doc_id}: no articles were found in this instrument's indexed text, so it has "
                                f"no map (its sections: `kb show {doc.doc_id}`)")
        for a in articles:
            row = {"article_id": a.section_id, "number": a.number, "title": a.title,
                   "citation": citation(doc, a), "final_clause": is_final_clause(a),
                   "elements": [{"element": e.element, "label": e.label} for e in elements_of(a.section_id)],
                   "cells": []}
            rows.append(row)
            if row["final_clause"]:
                continue
            queries = article_queries(self.searcher, subject, a)
            found: dict[str, dict[str, _Provision]] = {m: {} for m in members}
            for q, vector in queries:
                for i, member in enumerate(members):  # one query's scores serve every member's search
                    f = SearchFilters(members=(member,), doc_types=LAW_TYPES)
                    req = SearchRequest(q, f, top_k=CANDIDATES, facets=False, query_vector=vector, same_query=i > 0)
                    kept = [r["section_id"] for r in self.searcher.search(req)["results"] if r["section_id"] in laws_by_id[member]]
                    for rank, sid in enumerate(kept):
                        p = found[member].setdefault(sid, _Provision(*laws_by_id[member][sid]))
                        p.rank_share += RRF_K / (RRF_K + rank) / len(queries)
            wanted = article_concepts(a, referenced_articles(a, articles))
            defines = defines_terms(a)
            for member in members:
                by_id = laws_by_id[member]
                for sid, c in concepts.scores(wanted, member, laws[member]).items():
                    found[member].setdefault(sid, _Provision(*by_id[sid])).concepts = c
                if not defines:
                    for sid, p in found[member].items():
                        if concepts.is_definitions(sid):
                            p.factor = DEFINITIONS_FACTOR
                row["cells"].append(_cell(a, member, found[member], by_id, reviews.get((a.section_id, member), [])))
        return {"instrument": {"doc_id": doc.doc_id, "title": doc.title, "subject": subject},
                "generation": self._generation(), "members": members, "articles": rows,
                "computed_ms": round((time.perf_counter() - t0) * 1000, 1)}


def confidence_of(score: float) -> str:
    return "strong" if score >= STRONG_SCORE else "possible" if score >= NONE_SCORE else "none found"


def _cell(article: Section, member: str, found: dict[str, _Provision], by_id: dict, reviews: list[Review]) -> dict:
    rejected = {r.section_id for r in reviews if r.verdict == "rejected"}
    confirmed = [r for r in reviews if r.verdict == "confirmed" and r.section_id in by_id]
    ranked = sorted((p for sid, p in found.items() if sid not in rejected),
                    key=lambda p: (-p.score, p.section.section_id))
    best = ranked[0].score if ranked else 0.0
    out = []
    for r in confirmed:
        p = found.get(r.section_id) or _Provision(*by_id[r.section_id])
        out.append(_provision(article, p, reviewed=r.note or "confirmed"))
    for p in ranked[:MAX_PROVISIONS]:
        if len(out) < MAX_PROVISIONS and all(o["section_id"] != p.section.section_id for o in out):
            out.append(_provision(article, p))
    conf = "strong" if confirmed else confidence_of(best)
    if not confirmed and elements_of(article.section_id) and not any(o["elements"] for o in out):
        conf = "none found"  # the article has a checklist and no provision found names any of its elements
    return {"member": member, "confidence": conf, "score": round(best, 4), "reviewed": bool(confirmed),
            "provisions": out}


def _provision(article: Section, p: _Provision, reviewed: str | None = None) -> dict:
    s, d = p.section, p.doc
    return {
        "section_id": s.section_id, "doc_id": d.doc_id, "language": d.language, "score": round(p.score, 4),
        "reviewed": reviewed is not None, "review_note": reviewed or "",
        "citation": citation(d, s),
        "excerpt": " ".join(s.text.split())[:300],
        "elements": [{"element": c.element, "label": c.label, "evidence": c.evidence}
                     for c in covered(article.section_id, s.text, d.language)],
    }


def narrow(full: dict, members: list[str] | None, article: str | None) -> dict:
    """The map with only ``members``' cells and, given ``article`` (a section id or a path), its row."""
    rows = full["articles"]
    if article:
        inst = full["instrument"]["doc_id"]
        aid = article if ":" in article else f"{inst}:{article}"
        rows = [r for r in rows if r["article_id"] == aid]
        if not rows:
            raise NotFoundError(f"no article {article!r} in {inst}")
    if members:
        unknown = [m for m in members if m not in full["members"]]
        if unknown:
            raise NotFoundError(f"no laws of {', '.join(unknown)} in the index")
        keep = set(members)
        rows = [{**r, "cells": [c for c in r["cells"] if c["member"] in keep]} for r in rows]
    return {**full, "members": [m for m in full["members"] if not members or m in members], "articles": rows}
