"""The domain's exception family. The API maps these to status codes; the CLI to report lines and exit codes."""

from __future__ import annotations

from pathlib import Path


class KBError(Exception):
    """Base of every error the knowledge base raises on purpose."""


class IngestError(KBError, ValueError):
    """A file could not be ingested. ``str(err)`` names the file and the reason."""

    reason = "ingest failed"

    def __init__(self, path: Path | str, detail: str = "") -> None:
        self.path = str(path)
        self.detail = detail or self.reason
        super().__init__(f"{self.path}: {self.detail}")


class UnsupportedFormatError(IngestError):
    reason = "unsupported file format"


class EmptyDocumentError(IngestError):
    reason = "no text could be extracted"


class EncryptedFileError(IngestError):
    reason = "the PDF is encrypted"


class CorruptFileError(IngestError):
    reason = "the file is corrupt or truncated"


class InvalidStructureError(IngestError):
    reason = "the file does not have the expected structure"


class FileTooLargeError(IngestError):
    reason = "the file is larger than the configured limit"


class OCRUnavailableError(IngestError):
    reason = "the PDF has no text layer and OCR (tesseract, pdftoppm) is not installed"


class ManifestError(KBError, ValueError):
    """The corpus manifest has a bad row; the message names the row and field."""


class IndexUnavailableError(KBError, RuntimeError):
    """No index, or a corrupt one: the message names the file and how to rebuild."""


class IndexWriteError(KBError, RuntimeError):
    """The index could not be written (disk full, directory not writable); the live index is unchanged."""


class IndexLockedError(KBError, RuntimeError):
    """Another ingest holds the index lock."""


class BackendUnavailableError(KBError, RuntimeError):
    """The search backend (e.g. OpenSearch) cannot be reached."""


class UnknownFilterValueError(KBError, ValueError):
    """A filter names a value the index does not know (``field`` and ``value`` say which)."""

    def __init__(self, field: str, value: object, known: list[str] | None = None) -> None:
        self.field = field
        self.value = value
        hint = f"; known values: {', '.join(known[:30])}" if known else ""
        super().__init__(f"unknown {field} {value!r}{hint}")


class NotFoundError(KBError, LookupError):
    """An unknown document or section id."""
