"""Registry of file contents behind file_ids, served by getFile and the download route."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

_KINDS = {
    "photo": ("AgAC", "photos", ".jpg"),
    "document": ("BQAC", "documents", ""),
    "voice": ("AwAC", "voice", ".oga"),
    "sticker": ("CAAC", "stickers", ".webp"),
}


@dataclass
class StoredFile:
    """One file Telegram knows: its ids, its bytes and where getFile says it lives."""

    file_id: str
    file_unique_id: str
    kind: str
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None

    @property
    def size(self) -> int:
        """The content length in bytes."""
        return len(self.content)

    def to_file(self) -> dict[str, Any]:
        """The Bot API File object getFile answers."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def to_photo_size(self) -> dict[str, Any]:
        """The Bot API PhotoSize object for this file."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.size,
        }

    def to_voice(self, duration: int | None = None) -> dict[str, Any]:
        """The Bot API Voice object for this file."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "duration": duration if duration is not None else self.duration or 0,
            "mime_type": self.mime_type or "audio/ogg",
            "file_size": self.size,
        }

    def to_document(self) -> dict[str, Any]:
        """The Bot API Document object for this file."""
        document: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document


class FileStore:
    """All files by file_id and by file_path, with deterministic ids."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0
        self._photo_sets: dict[str, list[StoredFile]] = {}

    def add(
        self,
        content: bytes,
        kind: str,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Register content and return its new file record."""
        self._counter += 1
        prefix, folder, ext = _KINDS.get(kind, _KINDS["document"])
        if not ext and file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name, strict=False)[0]
        stored = StoredFile(
            file_id=f"{prefix}fake{self._counter:08d}",
            file_unique_id=f"AQADfake{self._counter:06d}",
            kind=kind,
            content=content,
            file_path=f"{folder}/file_{self._counter}{ext}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def add_photo(self, content: bytes, width: int, height: int) -> list[StoredFile]:
        """Register a photo as three sizes (thumbnail, medium, original), smallest first."""
        sizes = []
        for side in (90, 320, None):
            scale = 1.0 if side is None else side / max(width, height, 1)
            stored = self.add(content, "photo", mime_type="image/jpeg")
            stored.width = max(1, round(width * scale))
            stored.height = max(1, round(height * scale))
            sizes.append(stored)
        for stored in sizes:
            self._photo_sets[stored.file_id] = sizes
        return sizes

    def photo_set(self, file_id: str) -> list[StoredFile] | None:
        """All sizes of the photo one of whose file_ids is given, or None."""
        return self._photo_sets.get(file_id)

    def get(self, file_id: str) -> StoredFile | None:
        """The file for a file_id, or None."""
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        """The file served at a getFile path, or None."""
        return self._by_path.get(file_path)


def fake_jpeg(width: int, height: int, seed: int) -> bytes:
    """Deterministic bytes that start like a JPEG; good enough for a download round trip."""
    body = f"fake-jpeg {width}x{height} #{seed}".encode()
    return b"\xff\xd8\xff\xe0" + body + bytes(range(256)) * 2 + b"\xff\xd9"
