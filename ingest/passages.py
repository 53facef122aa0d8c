"""Cut sections into passages of bounded model length.

A passage is an exact slice of its section's text (so a quoted passage is always found in the cited
section), cut at the best boundary available: paragraph, then sentence, then line, then word. The
heading path is prepended as ``context`` for BM25 and the embedding model, and counted in the budget.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer

from ingest.schema import Passage, Section
from ingest.vocabularies import UNKNOWN_STATUS

# The version of the passage cutter's output. Bump it with any change to how sections become passages: it is
# part of both ingest fingerprints, so passages are cut and embedded again. tests/test_ingest.py's corpus digest
# fails until it is bumped.
# 2: passages are cut at multilingual-e5-small's tokens (the default model), not MiniLM's word pieces.
PASSAGE_VERSION = 2

# Special tokens the model adds around every input ([CLS] ... [SEP]).
_SPECIAL_TOKENS = 2
# The heading context may take at most this many tokens; the rest of the budget is body text.
_MAX_CONTEXT_TOKENS = 48

_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.;:!?])[\"'”)\]]*\s+")
_LINE = re.compile(r"\n")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=4)
def load_tokenizer(model_path: str) -> Tokenizer:
    """The model's own word-piece tokenizer, used to count tokens exactly as the model will."""
    path = Path(model_path) / "tokenizer.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the embedding model has no tokenizer.json")
    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


def build_context(heading_path: list[str], tokenizer: Tokenizer) -> str:
    """Join the heading path; drop the outermost headings (never the section's own) until it fits the context budget."""
    parts = [p.strip() for p in heading_path if p and p.strip()]
    while parts:
        context = " > ".join(parts)
        if len(parts) == 1 or _count(tokenizer, context) <= _MAX_CONTEXT_TOKENS:
            return context
        parts = parts[1:]
    return ""


def _count(tokenizer: Tokenizer, text: str) -> int:
    return len(tokenizer.encode(text, add_special_tokens=False).ids)


def _best_break(text: str, lo: int, hi: int) -> int | None:
    """The last good cut position in text[lo:hi], preferring paragraph, sentence, line, then word breaks."""
    window = text[lo:hi]
    min_keep = (hi - lo) // 3  # never cut so early that passages become tiny
    for pattern in (_PARAGRAPH, _SENTENCE, _LINE, _SPACE):
        cuts = [m.end() for m in pattern.finditer(window) if m.start() >= min_keep]
        if cuts:
            return lo + cuts[-1]
    return None


def split_passages(section: Section, tokenizer: Tokenizer, max_tokens: int = 256) -> list[Passage]:
    """Cut one section into passages whose context + body fit ``max_tokens`` model tokens."""
    if max_tokens < 32:
        raise ValueError(f"max_tokens must be >= 32, got {max_tokens}")
    context = build_context(section.heading_path, tokenizer)
    budget = max_tokens - _SPECIAL_TOKENS - (_count(tokenizer, context) + 1 if context else 0)
    text = section.text
    passages: list[Passage] = []

    def emit(start: int, end: int) -> None:
        raw = text[start:end]
        body = raw.strip()
        if not body:
            return
        passages.append(
            Passage(
                passage_id=f"{section.section_id}#{len(passages)}",
                section_id=section.section_id,
                doc_id=section.doc_id,
                ordinal=len(passages),
                text=body,
                context=context,
                page_start=section.page_start,
                page_end=section.page_end,
                status=section.status or UNKNOWN_STATUS,
            )
        )

    if not text.strip():
        # A container with no text of its own (e.g. "Chapter II"): its heading is already in the context
        # of every section below it, so indexing it alone would only return an empty result.
        return passages

    offsets = tokenizer.encode(text, add_special_tokens=False).offsets
    if not offsets:  # only characters the model ignores (control characters and the like)
        emit(0, len(text))
        return passages
    start_tok = 0
    start_char = 0  # each passage starts where the previous one was cut, so no character is lost
    while start_tok < len(offsets):
        end_tok = min(start_tok + budget, len(offsets))
        if end_tok == len(offsets):
            emit(start_char, len(text))
            break
        hard_end = offsets[end_tok][0]  # first char of the first token that does not fit
        cut = _best_break(text, start_char, hard_end) or hard_end
        emit(start_char, cut)
        # next passage starts at the first token at or after the cut
        next_tok = end_tok
        while next_tok > start_tok + 1 and offsets[next_tok - 1][0] >= cut:
            next_tok -= 1
        start_tok = max(next_tok, start_tok + 1)
        start_char = cut
    return passages
