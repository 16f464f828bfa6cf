"""What a file sent as evidence becomes before the team sees it, judged by content. No Telegram.

- Images (recognised by their bytes, whatever the name or MIME type says; HEIC included) are
  re-encoded from their pixels alone (images.strip_metadata).
- PDFs keep their pages and lose the document information (author, title, creator, producer,
  dates), the XMP packet and per-page and per-image metadata.
- Other documents (Word, spreadsheets, archives...) can carry the author's name inside and cannot
  be cleaned here: they are refused in anonymous and confidential reports and kept as they are
  in named ones.
- Every file is stored and forwarded under a neutral name (`evidence-1.jpg`), never its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from bot.cases.services import images
from db.models import Identification

if TYPE_CHECKING:
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject

MAX_INPUT_BYTES = images.MAX_INPUT_BYTES
"""Telegram bots can download at most 20 MB."""

MAX_PDF_PAGES = 500
"""Longer PDFs are refused: copying them page by page would hold a cleaning slot too long."""

PRIVATE_MODES = frozenset({Identification.ANONYMOUS, Identification.CONFIDENTIAL})
"""Reports whose author the team must not learn, from the files either."""

_PDF_MARKER = b"%PDF-"
_PRIVATE_PAGE_KEYS = ("/Metadata", "/PieceInfo", "/LastModified")
_PRIVATE_ANNOTATION_KEYS = ("/T", "/M", "/CreationDate", "/NM")
"""An annotation's /T is its author's name; the others date and label it."""
_PDF_INFO_KEYS = ("/Author", "/Title", "/Subject", "/Keywords", "/Creator", "/Producer")
_HEIF_HINTS = ("heic", "heif")
_IMAGE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "jpe", "jfif", "png", "webp", "gif", "bmp", "tif", "tiff", "heic", "heif"}
)
_KNOWN_EXTENSIONS = frozenset(
    {
        "doc",
        "docx",
        "odt",
        "rtf",
        "txt",
        "xls",
        "xlsx",
        "ods",
        "csv",
        "ppt",
        "pptx",
        "odp",
        "zip",
        "rar",
        "7z",
        "mp3",
        "m4a",
        "ogg",
        "wav",
        "mp4",
        "mov",
        "avi",
        "eml",
        "msg",
    }
)
"""Extensions kept on a neutral name so the team's device opens the file; others become .bin."""


class Kind(StrEnum):
    """What a file turned out to be, by its content."""

    IMAGE = "image"
    PDF = "pdf"
    OTHER = "other"


class Refusal(StrEnum):
    """Why a file cannot be taken; each has its own message to the sender."""

    EMPTY = "empty"
    TOO_BIG = "too_big"
    IMAGE_TOO_LARGE = "image_too_large"
    UNREADABLE_IMAGE = "unreadable_image"
    HEIC_FAILED = "heic_failed"
    UNREADABLE_PDF = "unreadable_pdf"
    LOCKED_PDF = "locked_pdf"


class RefusedError(ValueError):
    """The file cannot be taken as evidence, for the reason given."""

    def __init__(self, reason: Refusal) -> None:
        """Keep the reason for the message to the sender."""
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Prepared:
    """The copy the team will see: its bytes, kind, extension and what was taken out."""

    kind: Kind
    content: bytes
    extension: str
    removed: tuple[str, ...] = ()
    converted_from: str | None = None

    @property
    def cleaned(self) -> bool:
        """Whether hidden data was removed (images and PDFs); other documents are as sent."""
        return self.kind is not Kind.OTHER


def prepare(
    content: bytes,
    file_name: str | None,
    mime_type: str | None,
    max_pixels: int = images.DEFAULT_MAX_PIXELS,
    images_only: bool = False,
) -> Prepared:
    """Clean a file by what its bytes are; raises RefusedError when it cannot be taken.

    With images_only (service reports take photos only) a PDF is not cleaned for nothing: it
    comes back as OTHER, untouched. CPU-bound (decoding, re-encoding): run it off the event
    loop, one of a bounded few at once.
    """
    if not content:
        raise RefusedError(Refusal.EMPTY)
    if len(content) > MAX_INPUT_BYTES:
        raise RefusedError(Refusal.TOO_BIG)
    try:
        image_format = images.recognise(content)
    except images.ImageTooLargeError as exc:
        raise RefusedError(Refusal.IMAGE_TOO_LARGE) from exc
    if image_format is not None:
        return _clean_image(content, image_format, max_pixels)
    if _PDF_MARKER in content[:1024] and not images_only:
        return clean_pdf(content)
    if _claims_image(file_name, mime_type):
        heif = any(hint in f"{file_name or ''} {mime_type or ''}".lower() for hint in _HEIF_HINTS)
        raise RefusedError(Refusal.HEIC_FAILED if heif else Refusal.UNREADABLE_IMAGE)
    return Prepared(kind=Kind.OTHER, content=content, extension=document_extension(file_name))


def _clean_image(content: bytes, image_format: str, max_pixels: int) -> Prepared:
    """Re-encode a recognised image; HEIC that fails to convert is said to be HEIC."""
    try:
        clean = images.strip_metadata(content, max_pixels=max_pixels)
    except images.ImageTooLargeError as exc:
        raise RefusedError(Refusal.IMAGE_TOO_LARGE) from exc
    except images.NotAnImageError as exc:
        failed = Refusal.HEIC_FAILED if image_format == "HEIF" else Refusal.UNREADABLE_IMAGE
        raise RefusedError(failed) from exc
    return Prepared(
        kind=Kind.IMAGE,
        content=clean.content,
        extension=clean.extension,
        removed=clean.removed,
        converted_from="HEIC" if image_format == "HEIF" else None,
    )


def clean_pdf(content: bytes) -> Prepared:
    """The same pages in a new PDF without document information, XMP or page metadata."""
    from pypdf import PdfReader, PdfWriter  # imported on the first PDF, not at start-up

    try:
        reader = PdfReader(BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise RefusedError(Refusal.LOCKED_PDF)
        if len(reader.pages) > MAX_PDF_PAGES:
            raise RefusedError(Refusal.TOO_BIG)
        removed = _pdf_metadata_found(reader)
        writer = PdfWriter()
        for page in reader.pages:
            _strip_page(writer.add_page(page))
        writer.metadata = None
        out = BytesIO()
        writer.write(out)
    except RefusedError:
        raise
    except Exception as exc:
        raise RefusedError(Refusal.UNREADABLE_PDF) from exc
    return Prepared(kind=Kind.PDF, content=out.getvalue(), extension="pdf", removed=removed)


def _pdf_metadata_found(reader: PdfReader) -> tuple[str, ...]:
    """Which document information fields and whether an XMP packet the original carries."""
    info = reader.metadata or {}
    found = [key.removeprefix("/") for key in _PDF_INFO_KEYS if info.get(key)]
    if "/Metadata" in reader.trailer["/Root"]:
        found.append("XMP")
    return tuple(found)


def _strip_page(page: DictionaryObject) -> None:
    """Drop a page's own metadata, its annotations' authors and its images' XMP."""
    from pypdf.generic import DictionaryObject

    for key in _PRIVATE_PAGE_KEYS:
        page.pop(key, None)
    for reference in page.get("/Annots", None) or []:
        annotation = reference.get_object()
        if isinstance(annotation, DictionaryObject):
            for key in _PRIVATE_ANNOTATION_KEYS:
                annotation.pop(key, None)
    _strip_xobjects(page.get("/Resources"), depth=0)


def _strip_xobjects(resources: object, depth: int) -> None:
    """Drop XMP and private data of images and forms, nested a few levels at most."""
    from pypdf.generic import DictionaryObject

    resources = resources.get_object() if hasattr(resources, "get_object") else resources
    if depth > 4 or not isinstance(resources, DictionaryObject):
        return
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if hasattr(xobjects, "get_object") else xobjects
    if not isinstance(xobjects, DictionaryObject):
        return
    for reference in xobjects.values():
        xobject = reference.get_object()
        if isinstance(xobject, DictionaryObject):
            for key in _PRIVATE_PAGE_KEYS:
                xobject.pop(key, None)
            _strip_xobjects(xobject.get("/Resources"), depth + 1)


def _claims_image(file_name: str | None, mime_type: str | None) -> bool:
    """Whether the sender's app called it an image (used only to word a refusal)."""
    mime = (mime_type or "").split(";", 1)[0].strip().lower()
    return mime.startswith("image/") or _extension(file_name) in _IMAGE_EXTENSIONS


def _extension(file_name: str | None) -> str:
    """The lower-case extension of a name, without folders or the dot."""
    return PurePosixPath((file_name or "").replace("\\", "/")).suffix.lower().removeprefix(".")


def document_extension(file_name: str | None) -> str:
    """A common document extension taken from the name, else "bin": nothing else of the name."""
    extension = _extension(file_name)
    return extension if extension in _KNOWN_EXTENSIONS else "bin"


def neutral_name(number: int, extension: str) -> str:
    """The name every stored and forwarded file gets: evidence-1.jpg, evidence-2.pdf..."""
    safe = re.sub(r"[^a-z0-9]", "", extension.lower())[:8] or "bin"
    return f"evidence-{max(1, number)}.{safe}"


def allowed(kind: Kind, mode: Identification | None) -> bool:
    """Whether a file of this kind may go into a report identified this way (None: not chosen)."""
    return kind is not Kind.OTHER or mode not in PRIVATE_MODES


def named_only(item: dict) -> bool:
    """Whether a draft file is a document that was not cleaned (kept in named reports only)."""
    return item.get("kind") == "document" and not item.get("cleaned")
