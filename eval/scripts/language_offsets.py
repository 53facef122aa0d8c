"""Measure the dense model's same-language bias on a parallel text, for ``ingest/vocabularies/language_offsets.csv``.

``python -m eval.scripts.language_offsets [--index DIR] [--source DOC --target DOC]`` reads, from an index of the
bundled corpus, the sections of two documents that are translations of each other (by default the Malaysian 2007
bill in English and in Malay), paired by their structural path. Each section's heading is a probe question,
embedded as the search embeds a question (``dense_text``); against every *other* pair of sections it scores the
section in the probe's own language and its translation (a section scores as its best passage, as in search).
The median of the differences is the offset: how much higher the model scores a passage in the question's
language than the same content in the other. It prints the rows for both directions; no judgement of any
evaluation set is read.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

_NUMBER = re.compile(r"^\s*[0-9A-Za-z]{1,4}\.\s+")


def section_scores(gen, doc_id: str) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """The heading and the passage rows of each section of a document, by structural path."""
    headings, rows = {}, {}
    for s in gen.sections_of(doc_id):
        if s.title and s.kind == "section":
            headings[s.path] = _NUMBER.sub("", s.title)
    for row, section_id in gen.db.execute(
        "SELECT p.row, s.section_id FROM passages p JOIN sections s ON s.row = p.section_row "
        "JOIN documents d ON d.row = s.doc_row WHERE d.doc_id = ?", (doc_id,)
    ):
        rows.setdefault(section_id.split(":", 1)[1], []).append(row)
    return headings, {k: np.array(v) for k, v in rows.items()}


def measure(gen, embed, source: str, target: str) -> dict[tuple[str, str], tuple[float, int]]:
    """(question language, passage language) -> (median offset, number of probes), both directions."""
    from search_api.query_language import dense_text

    docs = gen.documents()
    lang = {source: docs[source].language, target: docs[target].language}
    heads, rows = {}, {}
    for d in (source, target):
        heads[d], rows[d] = section_scores(gen, d)
    paths = sorted(set(heads[source]) & set(heads[target]) & set(rows[source]) & set(rows[target]))
    vectors = gen.float_vectors()
    out = {}
    for own, other in ((source, target), (target, source)):
        probes = np.stack([embed(dense_text(heads[own][p])) for p in paths])
        best_own = np.stack([(vectors[rows[own][p]] @ probes.T).max(0) for p in paths])  # [section, probe]
        best_other = np.stack([(vectors[rows[other][p]] @ probes.T).max(0) for p in paths])
        off = ~np.eye(len(paths), dtype=bool)  # a probe against every section but its own
        out[(lang[own], lang[other])] = (float(np.median((best_own - best_other)[off])), len(paths))
    return out


def main(argv: list[str] | None = None) -> int:
    from ingest.settings import Settings
    from ingest.stores import open_current
    from search_api.query_embedding import query_embedder

    parser = argparse.ArgumentParser(prog="python -m eval.scripts.language_offsets", description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None, help="index root (default: the configured index_dir)")
    parser.add_argument("--source", default="my-atip-bill-2007-en")
    parser.add_argument("--target", default="my-atip-bill-2007-ms")
    args = parser.parse_args(argv)
    settings = Settings() if args.index is None else Settings(index_dir=args.index)
    gen = open_current(settings.index_dir)
    embedder = query_embedder(settings)
    for (q, p), (offset, n) in measure(gen, embedder.embed_query, args.source, args.target).items():
        print(f"{q},{p},{offset:.3f},{n},{args.source} / {args.target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
