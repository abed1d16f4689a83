"""What an uploaded file really is, told by its first bytes (and, for Office files, by the
parts inside the zip), never by its name: an .exe renamed .pdf is refused as a program.

Zip-based files are opened only to read their directory, and refused when the directory
promises more than MAX_UNPACKED bytes or more than MAX_ENTRIES entries, or a packing ratio no
real document has (a zip bomb), so nothing downstream ever inflates one."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l

from models.files import FileKind
from rules.errors import FileRefused

HEAD_BYTES = 4096
MAX_UNPACKED = 512 * 1024 * 1024
MAX_ENTRIES = 20_000
MAX_RATIO = 200

KIND_LABELS = {FileKind.IMAGE: _l("图片"), FileKind.PDF: _l("PDF"), FileKind.WORD: _l("Word 文档"),
               FileKind.EXCEL: _l("Excel 表格"), FileKind.PRESENTATION: _l("演示文稿"), FileKind.TEXT: _l("文本"),
               FileKind.ARCHIVE: _l("压缩包"), FileKind.AUDIO: _l("音频"), FileKind.VIDEO: _l("视频")}
DEFAULT_ALLOWED = (FileKind.IMAGE, FileKind.PDF, FileKind.WORD, FileKind.EXCEL, FileKind.PRESENTATION,
                   FileKind.TEXT, FileKind.ARCHIVE)
# Shown in the browser by the download route (Content-Disposition: inline); everything else is
# always downloaded. Nothing that can carry a script is ever inline.
INLINE_MIMES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "application/pdf"})


@dataclass(frozen=True)
class FileType:
    kind: FileKind
    mime: str
    extension: str  # what the content is; the stored name keeps the user's own


_SIGNATURES: list[tuple[bytes, int, FileType]] = [
    (b"\xff\xd8\xff", 0, FileType(FileKind.IMAGE, "image/jpeg", "jpg")),
    (b"\x89PNG\r\n\x1a\n", 0, FileType(FileKind.IMAGE, "image/png", "png")),
    (b"GIF87a", 0, FileType(FileKind.IMAGE, "image/gif", "gif")),
    (b"GIF89a", 0, FileType(FileKind.IMAGE, "image/gif", "gif")),
    (b"BM", 0, FileType(FileKind.IMAGE, "image/bmp", "bmp")),
    (b"%PDF-", 0, FileType(FileKind.PDF, "application/pdf", "pdf")),
    (b"Rar!\x1a\x07", 0, FileType(FileKind.ARCHIVE, "application/vnd.rar", "rar")),
    (b"7z\xbc\xaf\x27\x1c", 0, FileType(FileKind.ARCHIVE, "application/x-7z-compressed", "7z")),
    (b"\x1f\x8b", 0, FileType(FileKind.ARCHIVE, "application/gzip", "gz")),
    (b"ID3", 0, FileType(FileKind.AUDIO, "audio/mpeg", "mp3")),
    (b"ftyp", 4, FileType(FileKind.VIDEO, "video/mp4", "mp4")),
]
_PROGRAMS = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!", b"\x00asm")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_KINDS = {"doc": FileType(FileKind.WORD, "application/msword", "doc"),
              "xls": FileType(FileKind.EXCEL, "application/vnd.ms-excel", "xls"),
              "ppt": FileType(FileKind.PRESENTATION, "application/vnd.ms-powerpoint", "ppt")}
_OOXML = {"word/": FileType(FileKind.WORD, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                            "docx"),
          "xl/": FileType(FileKind.EXCEL, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
          "ppt/": FileType(FileKind.PRESENTATION,
                           "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")}
ZIP = FileType(FileKind.ARCHIVE, "application/zip", "zip")
# markup a browser would run: refused whatever the allow-list says
_ACTIVE_MARKUP = (b"<html", b"<!doctype html", b"<script", b"<svg", b"<?xml", b"<iframe", b"<body", b"<head")


def _zip_type(path: Path, name: str) -> FileType:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(_l("文件「%(n)s」已损坏，无法读取", n=name)) from None
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if len(infos) > MAX_ENTRIES or unpacked > MAX_UNPACKED or (unpacked > 10 * 1024 * 1024 and unpacked / packed > MAX_RATIO):
        raise FileRefused(_l("文件「%(n)s」解压后过大（疑似压缩炸弹），不能上传", n=name))
    names = [i.filename for i in infos]
    if "[Content_Types].xml" in names:
        for prefix, found in _OOXML.items():
            if any(n.startswith(prefix) for n in names):
                return found
    return ZIP


def _text_type(head: bytes) -> FileType | None:
    if b"\x00" in head:
        return None
    sample = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if any(marker in sample[:1024] for marker in _ACTIVE_MARKUP):
        return FileType(FileKind.TEXT, "text/html", "html")
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by the end of the sample
                return FileType(FileKind.TEXT, "text/plain", "txt")
            continue
        return FileType(FileKind.TEXT, "text/plain", "txt")
    return None


def sniff(path: Path, name: str) -> FileType:
    """The type of the file at `path` (uploaded as `name`), or FileRefused saying why not."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        raise FileRefused(_l("文件「%(n)s」是空文件", n=name))
    if head.startswith(_PROGRAMS):
        raise FileRefused(_l("文件「%(n)s」是可执行程序，不能上传", n=name))
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path, name)
    if head.startswith(_OLE):
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        return _OLE_KINDS.get(extension, _OLE_KINDS["doc"])
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return FileType(FileKind.IMAGE, "image/webp", "webp")
    for signature, offset, found in _SIGNATURES:
        if head[offset:offset + len(signature)] == signature:
            return found
    text = _text_type(head)
    if text is not None and text.mime == "text/html":
        raise FileRefused(_l("文件「%(n)s」是网页或 SVG（可能含脚本），不能上传；请另存为 PDF 或图片", n=name))
    if text is not None:
        return text
    raise FileRefused(_l("无法识别文件「%(n)s」的类型，不能上传", n=name))


def check_allowed(found: FileType, name: str, allowed: tuple[str, ...] | list[str]) -> None:
    if found.kind.value not in allowed:
        raise FileRefused(_l("不允许上传%(k)s类文件「%(n)s」（系统设置 → 附件 可调整允许的类型）",
                             k=KIND_LABELS[found.kind], n=name))
