"""Where uploaded bytes live: FILES_DIR/<yyyy>/<mm>/<random hex>, never a name the user chose.
A file is written to a temporary name first while its size is counted and its digest taken,
then checked by its content (rules/file_types.py), then moved into place; a refused file leaves
nothing behind. Images also get a small thumbnail."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from models.files import FileKind
from rules import file_types
from rules.errors import FileRefused

CHUNK = 1024 * 1024
THUMB_SIZE = (320, 320)
MAX_IMAGE_PIXELS = 50_000_000  # a decompression bomb would claim more
_KEY = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}(\.thumb\.png)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class StoredFile:
    """What a model's StoredFileMixin columns take (attachments, document versions)."""

    file_name: str
    storage_key: str
    size: int
    mime: str
    file_kind: FileKind
    sha256: str
    thumb_key: str | None

    def columns(self) -> dict[str, object]:
        return {"file_name": self.file_name, "storage_key": self.storage_key, "size": self.size, "mime": self.mime,
                "file_kind": self.file_kind.value, "sha256": self.sha256, "thumb_key": self.thumb_key}


def clean_name(name: str | None) -> str:
    """The user's file name without folders, control characters (NUL included) or leading dots,
    at most 255 characters with its extension kept: `../../etc/passwd` → `passwd`."""
    text = unicodedata.normalize("NFC", name or "")
    text = _CONTROL.sub("", text).replace("\\", "/").split("/")[-1].strip().lstrip(".").strip()
    if not text:
        return str(_l("未命名文件"))
    if len(text) > 255:
        stem, dot, extension = text.rpartition(".")
        text = (stem[:255 - len(extension) - 1] + "." + extension) if dot and len(extension) <= 16 else text[:255]
    return text


def mb(limit: int) -> str:
    return f"{limit / 1024 / 1024:g} MB"


def path_of(root: str | Path, key: str) -> Path:
    """The file of a stored key; a key that is not one this module made names nothing."""
    if not _KEY.fullmatch(key or ""):
        raise FileNotFoundError(key)
    return Path(root) / key


def _new_key(now: datetime) -> str:
    return f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"


def _thumbnail(root: Path, key: str) -> str | None:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    thumb = key + ".thumb.png"
    try:
        with Image.open(root / key) as image:
            image.thumbnail(THUMB_SIZE)
            image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(root / thumb, "PNG")
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    return thumb


def save(stream: BinaryIO, name: str | None, *, root: str | Path, now: datetime, max_bytes: int,
         allowed: tuple[str, ...] | list[str]) -> StoredFile:
    """Store one uploaded stream, or raise FileRefused (nothing is left on disk)."""
    root = Path(root)
    file_name = clean_name(name)
    key = _new_key(now)
    target = root / key
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest, size = hashlib.sha256(), 0
    try:
        with open(partial, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FileRefused(_l("文件「%(n)s」超过单个文件上限 %(m)s", n=file_name, m=mb(max_bytes)))
                digest.update(chunk)
                out.write(chunk)
        found = file_types.sniff(partial, file_name)
        file_types.check_allowed(found, file_name, allowed)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    thumb = _thumbnail(root, key) if found.kind is FileKind.IMAGE else None
    return StoredFile(file_name=file_name, storage_key=key, size=size, mime=found.mime, file_kind=found.kind,
                      sha256=digest.hexdigest(), thumb_key=thumb)


def delete(root: str | Path, *keys: str | None) -> None:
    """Remove stored files (a purge); a key already gone is no error."""
    for key in keys:
        if key:
            try:
                path_of(root, key).unlink(missing_ok=True)
            except FileNotFoundError:
                continue
