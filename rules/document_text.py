"""The text inside a document's file, for search: PDF (pypdf), Word .docx (python-docx), Excel
.xlsx (openpyxl, read-only and streaming), plain text and CSV (UTF-8, else GB18030).

Always bounded, since a file is whatever a user uploaded: at most MAX_PAGES pages (or sheets'
rows), MAX_CHARS characters kept, MAX_SECONDS spent; past a limit the text read so far is kept.
A file that cannot be read is FAILED (it stays downloadable, only not found by its contents).
Runs in a job (jobs/document_text.py), never in the web request; upload already refused zip
bombs (rules/file_types.py)."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from models.document import TextStatus
from models.files import FileKind

MAX_CHARS = 200_000
MAX_PAGES = 500
MAX_ROWS = 100_000
MAX_SECONDS = 20.0
TEXT_BYTES = MAX_CHARS * 4


@dataclass(frozen=True)
class Extracted:
    status: TextStatus
    text: str = ""


class _Budget:
    """Collects pieces of text until the character or time limit is reached."""

    def __init__(self, max_chars: int, max_seconds: float) -> None:
        self.parts: list[str] = []
        self.chars = 0
        self.max_chars = max_chars
        # monotonic, not the business clock: this limits the work, it dates nothing
        self.deadline = time.monotonic() + max_seconds

    def add(self, piece: str | None) -> bool:
        """Keep `piece`; False once the budget is spent (the caller stops reading)."""
        if piece:
            piece = piece[: self.max_chars - self.chars]
            self.parts.append(piece)
            self.chars += len(piece)
        return self.chars < self.max_chars and time.monotonic() < self.deadline

    def text(self) -> str:
        return "\n".join(self.parts)


def _pdf(path: Path) -> Iterator[str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    for number, page in enumerate(reader.pages):
        if number >= MAX_PAGES:
            return
        yield page.extract_text() or ""


def _docx(path: Path) -> Iterator[str]:
    import docx

    document = docx.Document(str(path))
    for paragraph in document.paragraphs:
        yield paragraph.text
    for table in document.tables:
        for row in table.rows:
            yield " ".join(cell.text for cell in row.cells)


def _xlsx(path: Path) -> Iterator[str]:
    from openpyxl import load_workbook

    # a file object: stored files have no extension, which openpyxl would refuse by name
    handle = open(path, "rb")
    workbook = load_workbook(handle, read_only=True, data_only=True)
    try:
        rows = 0
        for sheet in workbook.worksheets:
            yield sheet.title
            # a declared dimension of A1:XFD1048576 would pad every row to 16,384 cells
            sheet.reset_dimensions()
            for row in sheet.iter_rows(values_only=True):
                rows += 1
                if rows > MAX_ROWS:
                    return
                yield " ".join(str(v) for v in row if v is not None)
    finally:
        workbook.close()
        handle.close()


def _plain(path: Path) -> Iterator[str]:
    with open(path, "rb") as handle:
        raw = handle.read(TEXT_BYTES)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for encoding in ("utf-8", "gb18030"):
        try:
            yield raw.decode(encoding)
            return
        except UnicodeDecodeError as exc:
            if encoding == "utf-8" and exc.start >= len(raw) - 4:  # a character cut at the end
                yield raw[:exc.start].decode(encoding)
                return
    yield raw.decode("gb18030", errors="ignore")


_READERS = {FileKind.PDF: _pdf, FileKind.WORD: _docx, FileKind.EXCEL: _xlsx, FileKind.TEXT: _plain}
_OLD_OFFICE = ("application/msword", "application/vnd.ms-excel")


def extract(path: Path, kind: FileKind | str, mime: str = "", *, max_chars: int = MAX_CHARS,
            max_seconds: float = MAX_SECONDS) -> Extracted:
    """The text of the file at `path` (of the kind its content was found to be)."""
    reader = _READERS.get(FileKind(kind))
    if reader is None or mime in _OLD_OFFICE:  # images, archives, media; .doc/.xls hold no readable XML
        return Extracted(TextStatus.NONE)
    budget = _Budget(max_chars, max_seconds)
    try:
        for piece in reader(path):
            if not budget.add(piece):
                break
    except Exception:  # noqa: BLE001 - any library error on a user's file means "unreadable"
        return Extracted(TextStatus.FAILED, budget.text())
    return Extracted(TextStatus.DONE, budget.text())
