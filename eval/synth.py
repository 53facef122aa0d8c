"""Synthetic corpora of any size, drawn from the real corpus, for benchmarking at 10k-1M passages.

A tier is the real corpus plus synthetic documents. Each synthetic document copies the *structure and
metadata* of a real document picked at random (its doc type, year, language, members; its sections'
heading paths, members and priority areas; the number and lengths of its passages), so filter
selectivity, facet cardinalities and passage lengths match the real corpus at every size.

Text: each synthetic passage is its real template passage with every word independently replaced, with
probability ``SUBSTITUTE``, by a word of the template document drawn in proportion to its frequency there.
Lengths, word order for the most part, languages and the vocabulary's frequency distribution are the real
ones; BM25 posting lists grow linearly with
the tier, as they would with more documents of the same kind.

Vectors: embedding 1M passages with the real model would take ~12 h on this CPU, so a synthetic passage
gets its template's vector plus isotropic Gaussian noise, renormalised: ``v = norm(t + s * g)`` with
``g ~ N(0, I/dim)``, and ``s`` chosen so that ``cos(v, t) ~= COS_TO_TEMPLATE`` (0.85, about the median
cosine between a real passage and its nearest real neighbour, 0.87). Effect on the dense leg: exact
search costs the same whatever the vectors are (one matrix-vector product and a partial sort over all
rows), so latency is unaffected; but selectivity is not realistic -- every real passage has ~N/1,333
noisy twins (cos ~0.72 to each other), so a query's top-100 dense candidates are twins of a handful of
real passages rather than 100 distinct topics. Result *quality* on synthetic tiers means nothing; only
their cost does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ingest.schema import SCHEMA_VERSION, DocumentMeta, Passage, Section
from ingest.stores import DocArtifact, Generation

SUBSTITUTE = 0.3
COS_TO_TEMPLATE = 0.85
SEED = 20240601


@dataclass
class RealCorpus:
    """The real corpus as read from an index generation: the templates synthetic documents are drawn from."""

    documents: list[DocumentMeta]
    sections: dict[str, list[Section]]  # doc_id -> sections in order
    passages: dict[str, list[Passage]]  # section_id -> passages in order
    vectors: dict[str, np.ndarray]  # passage_id -> vector
    fingerprint: str  # changes whenever the real corpus or its model changes

    @property
    def n_passages(self) -> int:
        return sum(len(ps) for ps in self.passages.values())


def read_real_corpus(gen: Generation) -> RealCorpus:
    """Everything synth needs from a generation of the real corpus."""
    docs = list(gen.documents().values())
    sections: dict[str, list[Section]] = {d.doc_id: gen.sections_of(d.doc_id) for d in docs}
    rows = gen.db.execute("SELECT row, data FROM passages ORDER BY row").fetchall()
    passages: dict[str, list[Passage]] = {}
    vectors: dict[str, np.ndarray] = {}
    for row, data in rows:
        p = Passage.from_dict(json.loads(data))
        passages.setdefault(p.section_id, []).append(p)
        vectors[p.passage_id] = gen.float_vectors([row])[0]
    h = hashlib.sha256(json.dumps(gen.manifest["model"], sort_keys=True).encode())
    for d in docs:
        h.update(json.dumps(d.to_dict(), sort_keys=True).encode())
    for _, data in rows:
        h.update(data.encode())
    return RealCorpus(docs, sections, passages, vectors, h.hexdigest()[:12])


def real_artifacts(real: RealCorpus) -> list[DocArtifact]:
    """The real corpus itself, as artifacts (the first rows of every tier)."""
    out = []
    for d in real.documents:
        secs = real.sections[d.doc_id]
        ps = [p for s in secs for p in real.passages.get(s.section_id, [])]
        vecs = np.stack([real.vectors[p.passage_id] for p in ps]) if ps else np.zeros((0, 384), np.float32)
        out.append(DocArtifact(d, secs, ps, vecs, key=f"real-{d.doc_id}"))
    return out


class _WordPool:
    """All words of the real passages, laid out document by document, for template slices and frequency draws."""

    def __init__(self, real: RealCorpus) -> None:
        words: list[str] = []
        self.span: dict[str, tuple[int, int]] = {}  # passage_id -> (start, length)
        self.doc_span: dict[str, tuple[int, int]] = {}  # doc_id -> (start, length)
        for d in real.documents:
            start = len(words)
            for s in real.sections[d.doc_id]:
                for p in real.passages.get(s.section_id, []):
                    w = p.text.split()
                    self.span[p.passage_id] = (len(words), len(w))
                    words.extend(w)
            self.doc_span[d.doc_id] = (start, len(words) - start)
        self.words = np.array(words, dtype=object)


def synth_artifacts(real: RealCorpus, n_passages: int, seed: int = SEED) -> list[DocArtifact]:
    """Artifacts of the real corpus plus synthetic documents, ``n_passages`` passages in all.

    :param n_passages: total passages of the tier; must be at least the real corpus's.
    :returns: artifacts for ``ingest.stores.write_generation``.
    """
    n_real = real.n_passages
    if n_passages < n_real:
        raise ValueError(f"n_passages must be >= the real corpus's {n_real}, got {n_passages}")
    rng = np.random.default_rng(seed)
    pool = _WordPool(real)
    dim = len(next(iter(real.vectors.values())))
    # cos(t + s g, t) = 1 / sqrt(1 + s^2) for |t| = 1 and |g| ~= 1
    sigma = float(np.sqrt(1.0 / COS_TO_TEMPLATE**2 - 1.0))
    templates = [d for d in real.documents if any(real.passages.get(s.section_id) for s in real.sections[d.doc_id])]

    out = real_artifacts(real)
    made = n_real
    i = 0
    while made < n_passages:
        t = templates[int(rng.integers(len(templates)))]
        doc_id = f"syn-{i:07d}-{t.doc_id}"[:100].rstrip("-")
        meta = replace(t, doc_id=doc_id, path=f"synthetic/{doc_id}", sha256=f"syn{i}", title=f"{t.title} (synthetic {i})")
        sections: list[Section] = []
        passages: list[Passage] = []
        tmpl_passages: list[Passage] = []
        for s in real.sections[t.doc_id]:
            if made + len(passages) >= n_passages:
                break
            sid = f"{doc_id}:{s.path}"
            parent = f"{doc_id}:{s.parent_id.split(':', 1)[1]}" if s.parent_id else None
            sections.append(replace(s, section_id=sid, doc_id=doc_id, parent_id=parent))
            for p in real.passages.get(s.section_id, []):
                if made + len(passages) >= n_passages:
                    break
                passages.append(
                    Passage(f"{sid}#{p.ordinal}", sid, doc_id, p.ordinal, "", p.context, p.page_start, p.page_end)
                )
                tmpl_passages.append(p)
        i += 1
        if not passages:
            continue
        # Text: template words, each replaced with probability SUBSTITUTE by a word of the template document
        # drawn in proportion to its frequency there (so the language and register stay the document's).
        spans = [pool.span[p.passage_id] for p in tmpl_passages]
        lengths = np.array([n for _, n in spans])
        pos = np.concatenate([np.arange(a, a + n) for a, n in spans])
        swap = rng.random(pos.size) < SUBSTITUTE
        d0, dn = pool.doc_span[t.doc_id]
        pos[swap] = d0 + rng.integers(0, dn, int(swap.sum()))
        words = pool.words[pos].tolist()
        ends = np.cumsum(lengths)
        for p, a, b in zip(passages, ends - lengths, ends):
            p.text = " ".join(words[a:b])
        # Vectors: template vector plus isotropic noise, renormalised.
        base = np.stack([real.vectors[p.passage_id] for p in tmpl_passages])
        noisy = base + rng.standard_normal(base.shape, dtype=np.float32) * np.float32(sigma / np.sqrt(dim))
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        out.append(DocArtifact(meta, sections, passages, noisy.astype(np.float32), key=f"syn-{i}"))
        made += len(passages)
    return out


def synth_version() -> str:
    """Changes with the code that shapes a tier: this module, the index writer, the analyzer, the schema."""
    here = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(f"{SCHEMA_VERSION}|{SUBSTITUTE}|{COS_TO_TEMPLATE}|{SEED}".encode())
    for rel in ("eval/synth.py", "ingest/stores.py", "ingest/generation_writer.py", "ingest/analysis.py", "ingest/schema.py"):
        h.update((here / rel).read_bytes())
    return h.hexdigest()[:12]
