"""Structured provision JSON, as legislation APIs hand it out: document fields and a list of provisions.

The shape (``corpus/laws/sg_phta_2014.json`` is an example)::

    {"id": "phta-2014", "type": "statute", "title": "...", "status": "in_force", "url": "...", "description": "...",
     "issued_date": "2013-04-11",
     "provisions": [{"provision_ref": "s5A", "chapter": "PART 2 - ...", "section": "5A", "title": "...",
                     "content": "5A. —(1) ..."}, ...],
     "definitions": [{"term": "...", "definition": "...", "source_provision": "s2"}]}

``title`` and a non-empty ``provisions`` list are required, and each provision needs ``provision_ref``,
``section`` and ``content`` (``chapter`` and ``title`` may be absent or empty). A file that does not fit is an
:class:`~ingest.errors.InvalidStructureError` naming the file and the missing field; malformed JSON names the
line and column. The source gives the structure, so each provision becomes one section
(:mod:`ingest.provision_sections`); nothing is split from text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import CorruptFileError, EmptyDocumentError, InvalidStructureError, UnsupportedFormatError

REQUIRED_DOCUMENT_FIELDS = ("title", "provisions")
REQUIRED_PROVISION_FIELDS = ("provision_ref", "section", "content")


@dataclass
class Provision:
    """One provision as the source lists it."""

    ref: str  # provision_ref: "s5A", "madde60_A", "sec15" (not unique in every source)
    section: str  # the source's section field: "5A", "60/A", "E1"
    content: str
    chapter: str = ""
    title: str = ""


@dataclass
class ProvisionSource:
    """A parsed provision JSON file: its document fields, provisions and definitions."""

    fields: dict[str, Any]  # every top-level field except provisions and definitions
    provisions: list[Provision]
    definitions: list[dict[str, Any]] = field(default_factory=list)

    def text(self) -> str:
        """The document's text: its title and description, then each provision's content (for metadata
        inference and language detection)."""
        head = [str(self.fields.get(k) or "").strip() for k in ("title", "description")]
        return "\n\n".join([h for h in head if h] + [p.content for p in self.provisions])


def read_provision_json(path: Path, data: bytes) -> ProvisionSource:
    """Parse and check provision JSON.

    :param path: the file, named in every error.
    :param data: its bytes.
    :raises UnsupportedFormatError: not UTF-8.
    :raises CorruptFileError: malformed JSON (the message gives the line and column).
    :raises InvalidStructureError: not an object, a missing or mistyped field (named, with the provision's index).
    :raises EmptyDocumentError: an empty provisions list, or no provision with any text.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedFormatError(path, f"not UTF-8 JSON (invalid byte at offset {exc.start})") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptFileError(path, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    if not isinstance(doc, dict):
        raise InvalidStructureError(path, f"provision JSON must be an object at the top level, got {type(doc).__name__}")
    for name in REQUIRED_DOCUMENT_FIELDS:
        if name not in doc:
            raise InvalidStructureError(path, f"provision JSON: missing field {name!r}")
    if not isinstance(doc["title"], str) or not doc["title"].strip():
        raise InvalidStructureError(path, "provision JSON: field 'title' must be a non-empty string")
    items = doc["provisions"]
    if not isinstance(items, list):
        raise InvalidStructureError(path, f"provision JSON: field 'provisions' must be a list, got {type(items).__name__}")
    if not items:
        raise EmptyDocumentError(path, "provision JSON: the 'provisions' list is empty")
    provisions = [_provision(path, i, item) for i, item in enumerate(items)]
    if not any(p.content.strip() for p in provisions):
        raise EmptyDocumentError(path, "provision JSON: no provision has any content")
    definitions = doc.get("definitions") or []
    if not isinstance(definitions, list):
        raise InvalidStructureError(path, "provision JSON: field 'definitions' must be a list")
    fields = {k: v for k, v in doc.items() if k not in ("provisions", "definitions")}
    return ProvisionSource(fields, provisions, [d for d in definitions if isinstance(d, dict)])


def _provision(path: Path, index: int, item: object) -> Provision:
    where = f"provisions[{index}]"
    if not isinstance(item, dict):
        raise InvalidStructureError(path, f"provision JSON: {where} must be an object, got {type(item).__name__}")
    for name in REQUIRED_PROVISION_FIELDS:
        if name not in item:
            raise InvalidStructureError(path, f"provision JSON: {where}: missing field {name!r}")
    values = {}
    for name in (*REQUIRED_PROVISION_FIELDS, "chapter", "title"):
        value = item.get(name)
        if value is None:
            value = ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # a section number given as a number
        if not isinstance(value, str):
            raise InvalidStructureError(path, f"provision JSON: {where}: field {name!r} must be a string")
        values[name] = value.replace("\r\n", "\n").replace("\r", "\n")
    if not values["section"].strip() and not values["provision_ref"].strip():
        raise InvalidStructureError(path, f"provision JSON: {where}: field 'section' is empty")
    return Provision(ref=values["provision_ref"].strip(), section=values["section"].strip(), content=values["content"],
                     chapter=values["chapter"].strip(), title=values["title"].strip())
