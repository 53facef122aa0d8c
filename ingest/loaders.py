"""Read one corpus file into clean page texts: PDF (text layer, else OCR), Markdown, plain text, and structured
provision JSON (:mod:`ingest.provisions`), whose provisions come with it.

The loader removes what is furniture rather than content -- running headers and footers repeated on
every page, bare page numbers, hyphenation at line ends -- and takes marginal notes (the small-print
side titles of Commonwealth Acts) out of the body, returning them separately with the body line they
stand beside, so the splitter can use them as section titles. Everything else is left for
:mod:`ingest.sections`, which knows about document structure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

from ingest.errors import (
    CorruptFileError,
    EmptyDocumentError,
    EncryptedFileError,
    FileTooLargeError,
    IngestError,
    OCRUnavailableError,
    UnsupportedFormatError,
)
from ingest.provisions import ProvisionSource, read_provision_json
from ingest.settings import Settings

# The version of what the loaders make of a file. Bump it with any change to their output (pages, OCR pages,
# marginal notes): it is part of the ingest fingerprint, so every document is read again (and re-embedded).
# tests/test_ingest.py's corpus digest fails until it is bumped.
LOADER_VERSION = 3  # 3: a text mixing CRLF and LF line ends reads a bare LF as a paragraph break

SUPPORTED_SUFFIXES: tuple[str, ...] = (".pdf", ".md", ".markdown", ".txt", ".text", ".json")

_FORMATS = {".pdf": "pdf", ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".json": "json"}

# A page with fewer letters/digits than this is treated as having no text layer.
_MIN_TEXT_LAYER_CHARS = 20
_OCR_TIMEOUT_S = 300


@dataclass
class MarginNote:
    """A marginal note (side title) taken out of a PDF page's body text."""

    page: int  # 1-based page number
    line: int  # 0-based index into ``pages[page - 1].splitlines()`` of the body line it stands beside
    text: str


@dataclass
class LoadedDocument:
    """The text of one file, page by page, with furniture removed."""

    path: Path
    format: str  # "pdf", "markdown", "text"
    pages: list[str]  # text per page (1-based page n is pages[n-1]); non-paged formats: one element
    paged: bool  # True for PDFs
    ocr_pages: list[int]  # 1-based numbers of pages whose text came from OCR
    margin_notes: list[MarginNote] = field(default_factory=list)
    provisions: ProvisionSource | None = None  # structured provision JSON: its fields and provisions

    @property
    def text(self) -> str:
        """All pages joined by blank lines."""
        return "\n\n".join(self.pages)


def load_file(path: Path, settings: Settings | None = None) -> LoadedDocument:
    """Load a PDF, Markdown or plain-text file.

    :param path: the file to read; its suffix selects the format.
    :param settings: limits and OCR options; defaults to ``Settings()``.
    :returns: the document's clean text per page.
    :raises UnsupportedFormatError: unknown suffix, or a text file that is binary or not UTF-8.
    :raises FileTooLargeError: the file exceeds ``settings.max_file_bytes``.
    :raises EmptyDocumentError: zero bytes, or no text even after OCR.
    :raises EncryptedFileError: a PDF that cannot be opened with an empty password.
    :raises CorruptFileError: a PDF that pypdf cannot read, or a truncated one.
    :raises OCRUnavailableError: a PDF page without text layer and no tesseract/pdftoppm installed.
    :raises CorruptFileError: malformed JSON (line and column named).
    :raises InvalidStructureError: JSON that is not provision JSON (the missing field named).
    """
    settings = settings or Settings()
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise UnsupportedFormatError(
            path, f"unsupported file format {suffix or '(no extension)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not path.is_file():
        raise IngestError(path, "file not found")
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        raise FileTooLargeError(path, f"file is {size} bytes, larger than the limit of {settings.max_file_bytes} bytes")
    if size == 0:
        raise EmptyDocumentError(path, "the file is empty (0 bytes)")
    if _FORMATS[suffix] == "pdf":
        return _load_pdf(path, settings)
    if _FORMATS[suffix] == "json":
        return _load_json(path)
    return _load_text(path, _FORMATS[suffix])


def _load_json(path: Path) -> LoadedDocument:
    source = read_provision_json(path, path.read_bytes())
    return LoadedDocument(path=path, format="json", pages=[source.text()], paged=False, ocr_pages=[], provisions=source)


# --------------------------------------------------------------------------------------------- text


def _load_text(path: Path, fmt: str) -> LoadedDocument:
    data = path.read_bytes()
    if b"\x00" in data:
        raise UnsupportedFormatError(path, f"binary content (NUL bytes) in a .{path.suffix.lstrip('.')} file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedFormatError(path, f"not UTF-8 text (invalid byte at offset {exc.start})") from exc
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(text) // 100):
        raise UnsupportedFormatError(path, "binary content (control characters) in a text file")
    text = _mixed_line_ends(text).replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    if not text.strip():
        raise EmptyDocumentError(path, "the file contains only whitespace")
    return LoadedDocument(path=path, format=fmt, pages=[text], paged=False, ocr_pages=[])


def _mixed_line_ends(text: str) -> str:
    """A text whose lines end in both CRLF and bare LF, as the Thai Royal Gazette's exports do (a line wrapped by
    the PDF export ends in CRLF, a paragraph in a bare LF), with each bare LF made a paragraph break (a blank line)
    and each CRLF left a plain line break; any other text unchanged. Mixed means: at least 5 of each kind, the
    fewer kind at least 20% of all line ends, and the kinds alternating, with at least half as many changes of kind
    as the fewer kind has ends (the Gazette's: 49-54% CRLF, 0.8-1 changes per end of the fewer kind): a file
    edited on two systems, or two files joined, has long runs of one kind and is left alone. A bare LF after a
    blank line or after bracketed numbers alone -- an item's and a footnote's, ``(๓)[๔]``, ``[๑]`` -- stays one."""
    ends = re.findall(r"\r?\n", text)
    fewer = min(crlf := sum(len(e) == 2 for e in ends), len(ends) - crlf)
    changes = sum(a != b for a, b in zip(ends, ends[1:]))
    if fewer < 5 or fewer < 0.2 * len(ends) or changes < fewer / 2:
        return text
    *paragraphs, last = re.split(r"(?<!\r)\n", text)
    markers_only = re.compile(r"\s*(?:[(\[]\w{1,4}[)\]]\s*)*")
    return "".join(p + ("\n" if markers_only.fullmatch(p) else "\n\n") for p in paragraphs) + last


# ---------------------------------------------------------------------------------------------- PDF


def _load_pdf(path: Path, settings: Settings) -> LoadedDocument:
    reader = _open_pdf(path)
    pages, fragments, needs_ocr = _text_layer(path, reader)
    notes = _margin_notes(pages, fragments)
    if needs_ocr:
        # one tesseract process per core, each on one thread: its OpenMP threads doubled the CPU of a page
        # for the same wall time here, while separate pages share nothing
        with ThreadPoolExecutor(max_workers=min(len(needs_ocr), os.cpu_count() or 1)) as pool:
            texts = pool.map(lambda number: _ocr_page(path, number, settings), needs_ocr)
            for number, text in zip(needs_ocr, texts):
                pages[number - 1] = text
    ocr_set = set(needs_ocr)
    pages = [_clean_ocr(p) if i + 1 in ocr_set else p for i, p in enumerate(pages)]
    pages = drop_furniture(pages)
    pages = [_dehyphenate(p) for p in pages]
    if not any(any(ch.isalnum() for ch in p) for p in pages):
        raise EmptyDocumentError(path, "no text could be extracted, even with OCR")
    return LoadedDocument(path=path, format="pdf", pages=pages, paged=True, ocr_pages=needs_ocr, margin_notes=notes)


def _open_pdf(path: Path):
    """A pypdf reader over a complete, readable PDF with at least one page; else the error that says why not."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    head = path.read_bytes()[:1024]
    if b"%PDF-" not in head:
        raise CorruptFileError(path, "not a PDF file (no %PDF- header)")
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 4096))
        tail = fh.read()
    if b"%%EOF" not in tail:
        raise CorruptFileError(path, "the PDF is truncated (no %%EOF marker at the end)")
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise EncryptedFileError(path, "the PDF is encrypted and cannot be opened without a password")
            except DependencyError as exc:
                raise EncryptedFileError(
                    path, f"the PDF is encrypted with AES; opening it needs the 'cryptography' package ({exc})"
                ) from exc
        n_pages = len(reader.pages)
    except IngestError:
        raise
    except FileNotDecryptedError as exc:
        raise EncryptedFileError(path, f"the PDF is encrypted: {exc}") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise CorruptFileError(path, f"pypdf cannot read the PDF: {exc}") from exc
    if n_pages == 0:
        raise EmptyDocumentError(path, "the PDF has no pages")
    return reader


def _text_layer(path: Path, reader) -> tuple[list[str], list[list[tuple[float, float, float, str]]], list[int]]:
    """Each page's text layer, its text fragments as (font size, x, y, text), and the numbers of the pages
    without a text layer but with images (to OCR)."""
    pages: list[str] = []
    fragments: list[list[tuple[float, float, float, str]]] = []
    needs_ocr: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        frags: list[tuple[float, float, float, str]] = []

        def visit(text, cm, tm, font_dict, font_size, _frags=frags):  # noqa: ANN001 - pypdf callback
            if text and text.strip():
                scale = abs(tm[0] * cm[0]) or abs(tm[3] * cm[3]) or 1.0
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                _frags.append((round(font_size * scale, 1), x, y, text))

        try:
            text = page.extract_text(visitor_text=visit) or ""
        except Exception as exc:  # pypdf raises many types on damaged content streams
            raise CorruptFileError(path, f"pypdf cannot extract text from page {number}: {exc}") from exc
        pages.append(text.replace("\r\n", "\n").replace("\r", "\n"))
        fragments.append(frags)
        if sum(ch.isalnum() for ch in text) < _MIN_TEXT_LAYER_CHARS and _has_images(page):
            needs_ocr.append(number)
    return pages, fragments, needs_ocr


def _margin_notes(pages: list[str], fragments: list[list[tuple[float, float, float, str]]]) -> list[MarginNote]:
    """Take the marginal notes out of ``pages`` (in place), judged against the body's font size (the size that
    carries the most characters), and return them."""
    sizes: Counter[float] = Counter()
    for frags in fragments:
        for size, _x, _y, t in frags:
            sizes[size] += len(t.strip())
    body_size = sizes.most_common(1)[0][0] if sizes else 0.0
    notes: list[MarginNote] = []
    if body_size:
        for index, frags in enumerate(fragments):
            pages[index], page_notes = _take_margin_notes(pages[index], frags, body_size, index + 1)
            notes.extend(page_notes)
    return notes


def _has_images(page) -> bool:  # noqa: ANN001 - pypdf PageObject
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        return any(xobjects[name].get_object().get("/Subtype") == "/Image" for name in xobjects)
    except Exception:  # a damaged resource dictionary: let OCR decide
        return True


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _take_margin_notes(
    page_text: str, parsed: list[tuple[float, float, float, str]], body_size: float, page_no: int
) -> tuple[str, list[MarginNote]]:
    """Remove small-print side notes from a page's text; return them with the body line they stand beside."""
    body = [(x, y, t) for size, x, y, t in parsed if size >= body_size * 0.95]
    if not body:
        return page_text, []
    small = [(x, y, t.strip()) for size, x, y, t in parsed if size <= body_size * 0.9 and 0 < len(t.strip()) <= 40]
    if not small:
        return page_text, []
    # A side note is a column of short small-print lines; group lines that follow each other closely.
    small.sort(key=lambda f: (-f[1], f[0]))
    groups: list[list[tuple[float, float, str]]] = []
    for frag in small:
        if groups:
            last = groups[-1][-1]
            if 0 <= last[1] - frag[1] <= body_size * 1.3 and abs(last[0] - frag[0]) <= body_size * 3:
                groups[-1].append(frag)
                continue
        groups.append([frag])
    # ... and it stands beside body text: its first line is level with a body line further across.
    groups = [
        g for g in groups if any(abs(by - g[0][1]) <= 0.6 * body_size and abs(bx - g[0][0]) > 3 * body_size for bx, by, _t in body)
    ]
    small = [frag for g in groups for frag in g]

    lines = page_text.split("\n")
    removed: set[int] = set()
    for _x, _y, t in small:
        target = _norm(t)
        for i in range(len(lines) - 1, -1, -1):
            if i not in removed and _norm(lines[i]) == target:
                removed.add(i)
                break
    kept_index: dict[int, int] = {}
    kept: list[str] = []
    for i, line in enumerate(lines):
        if i not in removed:
            kept_index[i] = len(kept)
            kept.append(line)

    notes: list[MarginNote] = []
    for group in groups:
        text = _norm(_join_wrapped([t for _x, _y, t in group]))
        top_y = group[0][1]
        # the body line level with the note's first line (or the nearest one below it)
        candidates = sorted(body, key=lambda b: (abs(b[1] - top_y) > 0.6 * body_size, abs(b[1] - top_y), b[1] > top_y, b[0]))
        line_index = None
        for bx, by, bt in candidates[:6]:
            same_row = sorted((b for b in body if abs(b[1] - by) <= 1), key=lambda b: b[0])
            probe = _norm("".join(b[2] for b in same_row))[:24]
            if not probe:
                continue
            for i, line in enumerate(kept):
                if _norm(line).startswith(probe[:12]) or (len(probe) >= 8 and probe[:16] in _norm(line)):
                    line_index = i
                    break
            if line_index is not None:
                break
        if line_index is not None:
            notes.append(MarginNote(page=page_no, line=line_index, text=text))
    return "\n".join(kept), notes


def _join_wrapped(lines: list[str]) -> str:
    out = ""
    for line in lines:
        line = line.strip()
        if not out:
            out = line
        elif re.search(r"[A-Za-z]-$", out) and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}"
    return out


def _ocr_page(path: Path, number: int, settings: Settings) -> str:
    tesseract, pdftoppm = shutil.which("tesseract"), shutil.which("pdftoppm")
    if not tesseract or not pdftoppm:
        missing = " and ".join(n for n, p in (("tesseract", tesseract), ("pdftoppm", pdftoppm)) if not p)
        raise OCRUnavailableError(
            path, f"page {number} has no text layer and {missing} is not installed (apt-get install tesseract-ocr poppler-utils)"
        )
    with tempfile.TemporaryDirectory(prefix="kb-ocr-") as tmp:
        prefix = Path(tmp) / "page"
        # a plain PPM: writing the same pixels as PNG took 2.3 s a page, compressing them
        cmd = [pdftoppm, "-r", str(settings.ocr_dpi), "-f", str(number), "-l", str(number), str(path), str(prefix)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=_OCR_TIMEOUT_S)
        except subprocess.CalledProcessError as exc:
            raise CorruptFileError(path, f"pdftoppm cannot render page {number}: {exc.stderr.decode(errors='replace')[:200]}") from exc
        except subprocess.TimeoutExpired as exc:
            raise CorruptFileError(path, f"pdftoppm timed out on page {number}") from exc
        images = sorted(Path(tmp).glob("page*.ppm"))
        if not images:
            raise CorruptFileError(path, f"pdftoppm produced no image for page {number}")
        try:
            done = subprocess.run(
                # PPM carries no resolution, so it is given, as the PNG's header gave it before
                [tesseract, str(images[0]), "-", "-l", settings.ocr_language, "--dpi", str(settings.ocr_dpi)],
                check=True,
                capture_output=True,
                timeout=_OCR_TIMEOUT_S,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            )
        except subprocess.CalledProcessError as exc:
            raise OCRUnavailableError(
                path, f"tesseract failed on page {number} (language {settings.ocr_language!r}): {exc.stderr.decode(errors='replace')[:200]}"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise CorruptFileError(path, f"tesseract timed out on page {number}") from exc
    return done.stdout.decode("utf-8", errors="replace")


# OCR reads a section number such as "1." or "11." at the start of a heading line as "i." or "ll.";
# only repaired where the line is clearly a section heading ("N. Title.—").
_OCR_HEADING = re.compile(r"^[\s'‘’\"“|]*([0-9iIlO|]{1,4})\s?[.,]\s*\|?\s*(?=[A-Z][^—]{2,120}?[.,]?\s*[—-]{1,2})")
_OCR_DIGITS = str.maketrans({"i": "1", "I": "1", "l": "1", "|": "1", "O": "0"})


def _clean_ocr(text: str) -> str:
    out = []
    for line in text.split("\n"):
        m = _OCR_HEADING.match(line)
        if m:
            digits = m.group(1).translate(_OCR_DIGITS)
            if digits.isdigit():
                line = f"{digits}. " + line[m.end():]
        line = re.sub(r"[{\[]\s?(\d{1,2}|[a-z]{1,4})\s?[}\]]", r"(\1)", line)  # "{1)" / "(a}" -> "(1)", "(a)"
        line = re.sub(r"\((\d{1,2}|[a-z]{1,4})[}\]]", r"(\1)", line)
        line = re.sub(r"[{\[](\d{1,2}|[a-z]{1,4})\)", r"(\1)", line)
        if line.strip() and sum(ch.isalnum() for ch in line) < 4 and not re.fullmatch(r"\s*\(?\w{1,3}[.)]\s*", line):
            continue  # OCR speckle such as "eee" or "_ |"
        out.append(line.rstrip())
    return "\n".join(out)


# A bare page number at a page's edge ("12", "- 12 -", "Page 12 of 40"): always furniture.
PAGE_NUMBER = re.compile(r"^\s*[-–—(\[]?\s*(?:page\s+)?\d{1,4}\s*(?:of\s+\d{1,4})?\s*[-–—)\]]?\s*$", re.I)


# Headings such as "Pasal 4" or "PART II" often open a page; they are never running heads.
STRUCTURAL_LINE = re.compile(
    r"^(?:PART|Part|BAB|Bab|BAHAGIAN|Bagian|CHAPTER|Chapter|Pasal|PASAL|Article|ARTICLE|Section|SECTION|SCHEDULE)\b"
    r"|^\d{1,4}[A-Za-z]?\.\s"
)


def furniture_key(line: str) -> str:
    """What two edge lines are compared on: their letters a-z, lower-cased."""
    return re.sub(r"[^a-z]", "", line.lower())


def drop_furniture(pages: list[str]) -> list[str]:
    """Remove bare page numbers and running headers/footers that recur at the top or bottom of pages.

    A line at a page's edge is furniture when, on at least 30% of the other pages, a line at the edge is
    similar to it: ``difflib`` ratio >= 0.8 on their letters. ``difflib`` costs ~0.2 ms a pair, and a
    100-page law has 500,000 pairs, so pairs are first ruled out by two upper bounds of that ratio, computed
    for all pairs at once: one from the lengths, one from the letters the two lines have in common (what
    ``real_quick_ratio`` and ``quick_ratio`` compute). A line's count stops as soon as its verdict is
    known. The verdicts are those of comparing every pair with ``ratio``.
    """
    split = [p.split("\n") for p in pages]
    zone = 4  # lines examined at each end of a page

    def edge_indices(lines: list[str]) -> list[int]:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        return sorted(set(filled[:zone] + filled[-zone:]))

    # every edge line: its page, its line number, its key (letters a-z only) and the count of each letter
    edges = [(p, i, furniture_key(lines[i])) for p, lines in enumerate(split) for i in edge_indices(lines)]
    page_of = np.array([p for p, _i, _k in edges], dtype=np.int64)
    lengths = np.array([len(k) for _p, _i, k in edges], dtype=np.int64)
    letters = np.zeros((len(edges), 26), dtype=np.int32)
    for row, (_p, _i, key) in enumerate(edges):
        np.add.at(letters[row], np.frombuffer(key.encode("ascii"), dtype=np.uint8) - ord("a"), 1)

    n = len(split)
    need = max(2, int(0.3 * (n - 1)))  # pages that must carry a similar line
    drop: list[set[int]] = [set() for _ in split]
    similar: dict[tuple[str, str], bool] = {}
    for row, (p, i, key) in enumerate(edges):
        line = split[p][i]
        if PAGE_NUMBER.match(line):
            drop[p].add(i)
            continue
        if n < 3 or len(key) < 8 or STRUCTURAL_LINE.match(line.strip()):
            continue
        common = np.minimum(letters, letters[row]).sum(axis=1)
        possible = (
            (page_of != p)
            & (np.abs(lengths - len(key)) <= max(6, len(key) // 4))
            & (2.0 * common / (lengths + len(key)) >= 0.8)
        )
        on_page: dict[int, list[str]] = {}
        for other in np.flatnonzero(possible):
            on_page.setdefault(int(page_of[other]), []).append(edges[other][2])
        hits, left = 0, len(on_page)
        for keys in on_page.values():
            if hits + left < need:
                break
            left -= 1
            for k in keys:
                if (key, k) not in similar:
                    similar[key, k] = k == key or SequenceMatcher(None, key, k).ratio() >= 0.8
                if similar[key, k]:
                    hits += 1
                    break
            if hits >= need:
                drop[p].add(i)
                break
    # dropped lines become empty lines so that line numbers (used by margin notes) stay valid
    return ["\n".join("" if i in drop[p] else line for i, line in enumerate(lines)) for p, lines in enumerate(split)]


def _dehyphenate(page: str) -> str:
    """Join words split by a hyphen at a line end ("traf-\\nficking"), keeping the line count unchanged."""
    lines = page.split("\n")
    for i in range(len(lines) - 1):
        m = re.search(r"(?:^|\s)([A-Za-z]{2,})-\s*$", lines[i])
        nxt = lines[i + 1].lstrip()
        if m and re.match(r"[a-z]", nxt):
            # move the word's head down to its tail so line starts (used by margin notes) stay put
            lines[i] = lines[i][: m.start(1)].rstrip()
            lines[i + 1] = m.group(1) + nxt
    return "\n".join(lines)
