"""The multilingual term bank: the field's concepts with the terms each corpus language uses for them, as data.

``ingest/vocabularies/termbank.csv`` holds one row per concept (EuroVoc's and IATE's shape): ``concept`` (a stable
ASCII id), one column per language code with that language's terms separated by ``;``, and ``source`` (which
parallel or comparable texts the terms were read from). A concept may have no term in a language whose texts
have none. Every term is one the corpus uses: ``term_documents`` counts, for each term, the corpus documents of
its language that contain it (``termbank_counts.csv`` records the counts; ``python -m ingest.termbank`` rewrites
it), and tests fail on a term no document of its language contains. How the bank was built and how to extend it:
``ingest/vocabularies/TERMBANK.md``.

A query is matched against the terms of its language (``concepts_in``) and the matched concepts' terms in the
other languages are returned (``translations``):

- English: word for word on the English analyzer's stems, so "trafficked" and "trafficking" meet, and "victims
  of trafficking" meets "victim of trafficking" (stop words count: "trafficked persons" is not "trafficking in
  persons");
- Thai and Chinese (no spaces between words): as substrings, spaces and line breaks ignored;
- the other languages: case-insensitively (Turkish dotted and dotless i kept apart), from the start of a word to
  the end of one; in Turkish and Bengali, which add case and possessive suffixes to a word, the last word of a
  term may go on ("insan ticareti" meets "insan ticaretinin", "পাচার" meets "পাচারের").

Overlapping terms resolve to the longest (leftmost first), as a dictionary tagger does: "child pornography" is
one concept, not "child" plus "pornography".
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from ingest.analysis import analyzer_for, normalize

TERMBANK_FILE = "termbank.csv"
COUNTS_FILE = "termbank_counts.csv"
# The shared contract's language codes; a column of the bank must be one of these.
KNOWN_LANGUAGES = ("en", "ms", "id", "th", "zh", "bn", "tr", "nl")
# Scripts written without spaces between words: terms are matched as substrings.
UNSPACED = frozenset({"th", "zh"})
# Languages that add suffixes to a word: a term's last word may continue.
SUFFIXING = frozenset({"tr", "bn"})
_CONCEPT_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SPACE = re.compile(r"\s+")


class TermBankError(ValueError):
    """The term bank's data is malformed; the message names the row and column."""


@dataclass(frozen=True)
class Concept:
    """One concept of the field with its terms per language (a language without terms is left out)."""

    id: str
    terms: dict[str, tuple[str, ...]]
    source: str = ""


@dataclass(frozen=True)
class ConceptMatch:
    """A term of a concept found in a query: ``query[start:end]`` is the text that matched ``term``."""

    concept: str
    term: str
    start: int
    end: int


# -- text keys ---------------------------------------------------------------------------------------------


def _is_word_char(ch: str) -> bool:
    # Letters, marks and digits: Bengali vowel signs are marks, which Python's \w leaves out.
    return ch == "_" or unicodedata.category(ch)[0] in "LMN"


def _lower(text: str, language: str) -> str:
    if language == "tr":  # Turkish: I -> ı, İ -> i (str.lower would give i and i̇)
        text = text.replace("I", "ı").replace("İ", "i")
    return text.lower()


def _surface_key(text: str, language: str) -> tuple[str, list[int]]:
    """``text`` NFC-normalised, lower-cased and with whitespace runs collapsed (removed, for Thai and Chinese),
    and for each character of the key the offset in ``text`` it came from."""
    chars: list[str] = []
    offsets: list[int] = []
    drop_space = language in UNSPACED
    pending_space = False
    for i, ch in enumerate(text):
        if ch.isspace() or normalize(ch) == "":  # invisible marks count as nothing
            pending_space = pending_space or ch.isspace()
            continue
        if pending_space and not drop_space and chars:
            chars.append(" ")
            offsets.append(i - 1)
        pending_space = False
        for c in unicodedata.normalize("NFC", _lower(ch, language)):
            chars.append(c)
            offsets.append(i)
    return "".join(chars), offsets


def _compose(text: str) -> str:
    # NFC over the whole text: a base letter and its mark split across characters compose only together.
    return unicodedata.normalize("NFC", text)


_PIECES = re.compile(r"\S+|\s+")


def _compose_mapped(text: str) -> tuple[str, list[int] | None]:
    """``text`` in NFC, and for each of its characters the offset in ``text`` it came from (None when NFC changed
    nothing). NFC can shorten a text (a letter and its mark composed) or lengthen it (Bengali য় U+09DF is
    decomposed), so a match found in the composed text is mapped back before it is sliced from the original.
    Whitespace never composes, so each run between spaces is mapped on its own."""
    composed = _compose(text)
    if composed == text:
        return composed, None
    back: list[int] = []
    for piece in _PIECES.finditer(text):
        word, start = piece.group(), piece.start()
        nfc = _compose(word)
        if nfc == word:
            back.extend(range(start, start + len(word)))
            continue
        lengths = [len(_compose(word[:j])) for j in range(len(word) + 1)]
        j = 0
        for ci in range(len(nfc)):
            while j < len(word) and lengths[j + 1] <= ci:
                j += 1
            back.append(start + min(j, len(word) - 1))
    return composed, back


# -- the bank ----------------------------------------------------------------------------------------------


class TermBank:
    """Concepts and their terms, with the matchers that find them in text of each language."""

    def __init__(self, concepts: Iterable[Concept], languages: Iterable[str]) -> None:
        self.concepts: dict[str, Concept] = {c.id: c for c in concepts}
        self.languages: tuple[str, ...] = tuple(languages)
        self._matchers: dict[str, _Matcher] = {}

    def __len__(self) -> int:
        return len(self.concepts)

    def terms(self, language: str) -> list[tuple[str, str]]:
        """(concept id, term) pairs of one language, in file order."""
        return [(c.id, t) for c in self.concepts.values() for t in c.terms.get(language, ())]

    def coverage(self) -> dict[str, int]:
        """Number of concepts with at least one term, per language."""
        return {lang: sum(1 for c in self.concepts.values() if c.terms.get(lang)) for lang in self.languages}

    def _matcher(self, language: str) -> _Matcher:
        if language not in self.languages:
            raise ValueError(f"language must be one of {', '.join(self.languages)}, got {language!r}")
        matcher = self._matchers.get(language)
        if matcher is None:
            matcher = self._matchers[language] = _Matcher(language, self.terms(language))
        return matcher

    def concepts_in(self, text: str, language: str) -> list[ConceptMatch]:
        """The concepts ``text`` (in ``language``) mentions, in order, longest term first where terms overlap.

        :raises ValueError: for a language the bank has no column for.
        """
        composed, back = _compose_mapped(text)
        found = self._matcher(language).find(composed)
        if back is None:
            return found
        return [ConceptMatch(m.concept, m.term, back[m.start], back[m.end - 1] + 1) for m in found]

    def translations(self, text: str, language: str) -> dict[str, list[str]]:
        """For each other language of the bank, the terms of the concepts ``text`` mentions (in order of mention,
        each term once); a language without a term for any of them is left out."""
        ids = list(dict.fromkeys(m.concept for m in self.concepts_in(text, language)))
        out: dict[str, list[str]] = {}
        for lang in self.languages:
            if lang == language:
                continue
            terms = list(dict.fromkeys(t for cid in ids for t in self.concepts[cid].terms.get(lang, ())))
            if terms:
                out[lang] = terms
        return out

    def term_documents(self, texts: dict[str, dict[str, str]]) -> dict[tuple[str, str, str], list[str]]:
        """For each (concept, language, term) of the bank, the ids of the documents of that language that contain
        the term as queries find it. ``texts`` maps language -> document id -> text (``corpus_texts``)."""
        out: dict[tuple[str, str, str], list[str]] = {}
        for lang in self.languages:
            keys = {doc_id: text_key(text, lang) for doc_id, text in texts.get(lang, {}).items()}
            for concept, term in self.terms(lang):
                out[(concept, lang, term)] = [d for d, key in keys.items() if term_in_key(term, key, lang)]
        return out


def text_key(text: str, language: str) -> str:
    """What terms of ``language`` are looked for in: English stems framed by spaces, else the surface key."""
    if language == "en":
        return " " + " ".join(stem for stem, _, _ in _english_words(text)) + " "
    return _surface_key(_compose(text), language)[0]


def term_in_key(term: str, key: str, language: str) -> bool:
    """Whether a text whose ``text_key`` is ``key`` contains ``term`` (the grounding check of each term)."""
    if language == "en":
        return " " + " ".join(stem for stem, _, _ in _english_words(term)) + " " in key
    needle = _surface_key(_compose(term), language)[0]
    start = key.find(needle)
    while start >= 0:
        if _bounded(key, start, start + len(needle), language):
            return True
        start = key.find(needle, start + 1)
    return False


def _bounded(key: str, start: int, end: int, language: str) -> bool:
    """Whether ``key[start:end]`` begins a word and (outside suffixing languages) ends one."""
    if language in UNSPACED:
        return True
    if start > 0 and _is_word_char(key[start - 1]) and _is_word_char(key[start]):
        return False
    if language in SUFFIXING or end >= len(key):
        return True
    return not (_is_word_char(key[end]) and _is_word_char(key[end - 1]))


class _Matcher:
    """Finds the terms of one language in a query: stems for English, surface keys for the rest."""

    def __init__(self, language: str, terms: list[tuple[str, str]]) -> None:
        self.language = language
        self.english = language == "en"
        # key -> every (concept, term) cut to it: a term two concepts share (Thai ค่าสินไหมทดแทน is both
        # compensation and restitution) finds both
        self.keys: dict[tuple[str, ...] | str, list[tuple[str, str]]] = {}
        for concept, term in terms:
            key = self._term_key(term)
            entries = self.keys.setdefault(key, []) if key else []
            if key and all(c != concept for c, _ in entries):
                entries.append((concept, term))
        self.max_words = max((len(k) for k in self.keys), default=0)
        # surface keys by first character, longest first: the first that fits at a position is the longest
        self.by_first: dict[str, list[str]] = {}
        if not self.english:
            for k in sorted(self.keys, key=len, reverse=True):
                self.by_first.setdefault(k[0], []).append(k)  # type: ignore[index]

    def _term_key(self, term: str) -> tuple[str, ...] | str:
        if self.english:
            return tuple(stem for stem, _, _ in _english_words(term))
        return _surface_key(_compose(term), self.language)[0]

    def find(self, text: str) -> list[ConceptMatch]:
        return self._find_english(text) if self.english else self._find_surface(text)

    def _find_surface(self, text: str) -> list[ConceptMatch]:
        key, offsets = _surface_key(text, self.language)
        found: list[ConceptMatch] = []
        i = 0
        while i < len(key):
            for k in self.by_first.get(key[i], ()):
                end = i + len(k)
                if key.startswith(k, i) and _bounded(key, i, end, self.language):
                    found += [ConceptMatch(c, t, offsets[i], offsets[end - 1] + 1) for c, t in self.keys[k]]
                    i = end
                    break
            else:
                i += 1
        return found

    def _find_english(self, text: str) -> list[ConceptMatch]:
        words = _english_words(text)
        stems = [w[0] for w in words]
        found: list[ConceptMatch] = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_words, len(words) - i), 0, -1):
                hits = self.keys.get(tuple(stems[i:i + n]))
                if hits:
                    found += [ConceptMatch(c, t, words[i][1], words[i + n - 1][2]) for c, t in hits]
                    i += n
                    break
            else:
                i += 1
        return found


_EN_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)


def _english_words(text: str) -> list[tuple[str, int, int]]:
    """(stem, start, end) of each English word of ``text``: stop words are kept, so "trafficked persons" (the
    victims) stays apart from "trafficking in persons" (the crime)."""
    analyzer = analyzer_for("en")
    return [(analyzer.stem(normalize(m.group()).replace("’", "'")), m.start(), m.end()) for m in _EN_WORD.finditer(text)]


# -- loading and checking ----------------------------------------------------------------------------------


def read_termbank(text: str, where: str = TERMBANK_FILE) -> TermBank:
    """Parse the term bank's CSV text, checking it: known language columns, ASCII concept ids used once, every
    concept with a term, no term twice in a concept, every term NFC-normalised and trimmed.

    :raises TermBankError: naming the line, column and value at fault.
    """
    reader = csv.DictReader(io.StringIO(text))
    columns = list(reader.fieldnames or [])
    if not columns or columns[0] != "concept" or columns[-1] != "source":
        raise TermBankError(f"{where}: columns must be concept, <language codes>, source; got {columns}")
    languages = columns[1:-1]
    unknown = [c for c in languages if c not in KNOWN_LANGUAGES]
    if unknown or len(set(languages)) != len(languages) or not languages:
        raise TermBankError(f"{where}: language columns must be distinct codes of {KNOWN_LANGUAGES}, got {languages}")
    concepts: list[Concept] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        cid = (row.get("concept") or "").strip()
        if not _CONCEPT_ID.match(cid):
            raise TermBankError(f"{where}:{line}: concept id must be lower-case ASCII (a-z, 0-9, _), got {cid!r}")
        if cid in seen:
            raise TermBankError(f"{where}:{line}: concept {cid!r} already defined on line {seen[cid]}")
        seen[cid] = line
        terms: dict[str, tuple[str, ...]] = {}
        for lang in languages:
            items = [t.strip() for t in (row.get(lang) or "").split(";") if t.strip()]
            for term in items:
                if unicodedata.normalize("NFC", term) != term:
                    raise TermBankError(f"{where}:{line}: column {lang}: term {term!r} is not NFC-normalised")
                if _SPACE.sub(" ", term) != term:
                    raise TermBankError(f"{where}:{line}: column {lang}: term {term!r} has doubled or odd spaces")
            if len(set(items)) != len(items):
                raise TermBankError(f"{where}:{line}: column {lang}: a term is listed twice in {items}")
            if items:
                terms[lang] = tuple(items)
        if not terms:
            raise TermBankError(f"{where}:{line}: concept {cid!r} has no term in any language")
        concepts.append(Concept(cid, terms, (row.get("source") or "").strip()))
    return TermBank(concepts, languages)


@lru_cache(maxsize=1)
def load_termbank() -> TermBank:
    """The bundled term bank (``ingest/vocabularies/termbank.csv``), read once."""
    text = files("ingest.vocabularies").joinpath(TERMBANK_FILE).read_text(encoding="utf-8")
    return read_termbank(text)


def concepts_in(query: str, language: str) -> list[ConceptMatch]:
    """The concepts of the bundled term bank that ``query`` (written in ``language``) mentions, with their spans."""
    return load_termbank().concepts_in(query, language)


def translations(query: str, language: str) -> dict[str, list[str]]:
    """Language -> the terms, in that language, of the concepts ``query`` (written in ``language``) mentions.

    >>> translations("restitution for trafficking victims", "en")["ms"][:1]  # doctest: +SKIP
    """
    return load_termbank().translations(query, language)


# -- the corpus the terms are grounded in ------------------------------------------------------------------


def corpus_texts(corpus_dir: Path) -> dict[str, dict[str, str]]:
    """Language -> document id -> plain text, for every document of ``corpus_dir``'s manifest that has text
    (Markdown and text files as they are, JSON's string values, a PDF's text layer)."""
    out: dict[str, dict[str, str]] = {}
    with open(corpus_dir / "manifest.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            path = corpus_dir / row["path"].strip()
            if not path.is_file():
                continue
            text = _document_text(path)
            if text.strip():
                out.setdefault(row.get("language", "").strip() or "und", {})[row["doc_id"].strip()] = text
    return out


def _document_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".json":
        strings: list[str] = []
        _strings(json.loads(path.read_text(encoding="utf-8")), strings)
        return "\n".join(strings)
    if suffix == ".pdf":
        import pypdf  # only the grounding check reads PDFs

        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(path)).pages)
    return path.read_text(encoding="utf-8", errors="replace")


def _strings(value: object, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            _strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)


def write_counts(bank: TermBank, documents: dict[tuple[str, str, str], list[str]], path: Path) -> None:
    """Write ``termbank_counts.csv``: concept, language, term, how many documents contain it, and which."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["concept", "language", "term", "documents", "doc_ids"])
        for lang in bank.languages:
            for concept, term in bank.terms(lang):
                ids = documents[(concept, lang, term)]
                writer.writerow([concept, lang, term, len(ids), ";".join(ids)])


def main(argv: list[str] | None = None) -> int:
    """``python -m ingest.termbank [corpus_dir]``: count each term's documents, rewrite the counts file, and
    list terms no document of their language contains (exit 1 if any)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ingest.termbank", description=main.__doc__)
    parser.add_argument("corpus", nargs="?", default="corpus", type=Path)
    parser.add_argument("--no-write", action="store_true", help="check only; leave the counts file alone")
    args = parser.parse_args(argv)
    bank = load_termbank()
    documents = bank.term_documents(corpus_texts(args.corpus))
    if not args.no_write:
        write_counts(bank, documents, Path(str(files("ingest.vocabularies").joinpath(COUNTS_FILE))))
    missing = [key for key, ids in documents.items() if not ids]
    for concept, lang, term in missing:
        print(f"not in any {lang} document: {concept}: {term}")
    print(f"{len(bank)} concepts; coverage " + ", ".join(f"{k} {v}" for k, v in bank.coverage().items()))
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
