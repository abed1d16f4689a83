"""Upload bombs: an uploaded sheet is inspected before any parser sees it, and parsed only in a
child process with a memory limit and a time limit.

python-calamine builds a sheet's range densely: a 5 KB workbook declaring (or holding cells at)
A1:XFD1048576 asks for 512 GB and aborts the process; 60 million shared strings in a 2.4 MB file
take gigabytes. So `inspect` reads only the zip's central directory and a bounded head of each
XML member (the sheet's <dimension ref>, the <sst count/uniqueCount>), which is cheap enough for
the web request, and `read_isolated` runs `deep_inspect` (the real decompressed sizes, the largest
cell reference, the real number of shared strings, by streaming) and then the parse in
`python -m adapters.sheet_child`, whose address space is capped with RLIMIT_AS. A hostile file
can then fail its own job, never the process that serves pages."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from adapters.spreadsheet import OLE_MAGIC, ZIP_MAGIC, Sheet, SheetRefused

HEAD_BYTES = 64 * 1024  # how much of an XML member is read to find <dimension> and <sst>
CHUNK = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([A-Za-z]{1,3})(\d{1,7})(?::([A-Za-z]{1,3})(\d{1,7}))?\"")
_SST = re.compile(rb"<(?:\w+:)?sst\b[^>]*>")
_SST_COUNT = re.compile(rb"\b(count|uniqueCount)=\"(\d{1,15})\"")
_CELL_COLUMN = re.compile(rb" r=\"([A-Za-z]{1,3})\d")  # a cell's reference (a row's r= has digits only)
_CELL_ROW = re.compile(rb" r=\"[A-Za-z]{1,3}(\d{1,7})\"")
_SI = re.compile(rb"<(?:\w+:)?si\b")


@dataclass(frozen=True)
class Limits:
    """What an uploaded sheet may hold (config IMPORT_MAX_*)."""

    max_cells: int = 10_000_000  # rows × columns of a sheet's range
    max_rows: int = 500_000
    max_uncompressed_bytes: int = 300 * 1024 * 1024  # all zip members together, decompressed
    max_compression_ratio: int = 100  # of a member larger than RATIO_FLOOR once decompressed
    max_shared_strings: int = 2_000_000
    max_shared_strings_bytes: int = 100 * 1024 * 1024
    max_members: int = 1000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(max_cells=int(config.get("IMPORT_MAX_CELLS", cls.max_cells)),
                   max_rows=int(config.get("IMPORT_MAX_ROWS", cls.max_rows)),
                   max_uncompressed_bytes=int(config.get("IMPORT_MAX_UNCOMPRESSED_BYTES", cls.max_uncompressed_bytes)),
                   max_compression_ratio=int(config.get("IMPORT_MAX_COMPRESSION_RATIO", cls.max_compression_ratio)),
                   max_shared_strings=int(config.get("IMPORT_MAX_SHARED_STRINGS", cls.max_shared_strings)),
                   max_shared_strings_bytes=int(config.get("IMPORT_MAX_SHARED_STRINGS_BYTES",
                                                           cls.max_shared_strings_bytes)),
                   max_members=int(config.get("IMPORT_MAX_ZIP_MEMBERS", cls.max_members)))


RATIO_FLOOR = 1024 * 1024  # small members (styles, a short sheet) may compress well: no ratio check


def column_number(letters: bytes | str) -> int:
    """A → 1, Z → 26, AA → 27, XFD → 16384."""
    number = 0
    for ch in (letters.decode() if isinstance(letters, bytes) else letters).upper():
        number = number * 26 + ord(ch) - 64
    return number


def _mb(size: int) -> float:
    return size / 1048576


def _refuse_cells(member: str, ref: str, rows: int, cols: int, limits: Limits) -> None:
    if rows * cols > limits.max_cells:
        raise SheetRefused(_l("工作表（%(m)s）的范围 %(ref)s 共 %(cells)d 个单元格，超过上限 %(max)d 个；"
                              "请删除多余的行列，或分成几个文件导入",
                              m=member, ref=ref, cells=rows * cols, max=limits.max_cells))
    if rows > limits.max_rows:
        raise SheetRefused(_l("工作表（%(m)s）的范围 %(ref)s 有 %(rows)d 行，超过上限 %(max)d 行；请分成几个文件导入",
                              m=member, ref=ref, rows=rows, max=limits.max_rows))


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetRefused(_l("文件已损坏或不是 Excel 文件，无法读取")) from exc


def _check_directory(archive: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    """The sizes the zip declares: member count, total, ratio, the shared strings' size."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise SheetRefused(_l("文件包含 %(n)d 个部件，超过上限 %(max)d 个，已拒绝", n=len(members), max=limits.max_members))
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed_bytes:
        raise SheetRefused(_l("文件解压后共 %(size).0f MB，超过上限 %(max).0f MB；请分成几个文件导入",
                              size=_mb(total), max=_mb(limits.max_uncompressed_bytes)))
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > limits.max_compression_ratio * max(member.compress_size, 1):
            raise SheetRefused(_l("文件中的“%(m)s”压缩比异常（%(ratio).0f 倍，上限 %(max)d 倍），疑似压缩炸弹，已拒绝",
                                  m=member.filename, ratio=member.file_size / max(member.compress_size, 1),
                                  max=limits.max_compression_ratio))
        if member.filename.lower().endswith("sharedstrings.xml") and member.file_size > limits.max_shared_strings_bytes:
            raise SheetRefused(_l("文件的共享字符串（%(m)s）解压后 %(size).0f MB，超过上限 %(max).0f MB，已拒绝",
                                  m=member.filename, size=_mb(member.file_size), max=_mb(limits.max_shared_strings_bytes)))
    return members


def _check_shared_strings(member: str, count: int, limits: Limits) -> None:
    if count > limits.max_shared_strings:
        raise SheetRefused(_l("文件包含 %(n)d 个共享字符串（%(m)s），超过上限 %(max)d 个，已拒绝",
                              n=count, m=member, max=limits.max_shared_strings))


def _check_head(name: str, head: bytes, limits: Limits) -> None:
    """What the first bytes of an XML member declare: a sheet's range, the shared-string count."""
    found = _DIMENSION.search(head)
    if found:
        c0, r0, c1, r1 = found.groups()
        c1, r1 = c1 or c0, r1 or r0
        rows = abs(int(r1) - int(r0)) + 1
        cols = abs(column_number(c1) - column_number(c0)) + 1
        ref = f"{c0.decode()}{r0.decode()}" + (f":{c1.decode()}{r1.decode()}" if found.group(3) else "")
        # calamine allocates from A1 to the far corner, whatever the range's start
        _refuse_cells(name, ref, max(int(r0), int(r1)), max(column_number(c0), column_number(c1)), limits)
    sst = _SST.search(head)
    if sst:
        for _attr, value in _SST_COUNT.findall(sst.group(0)):
            _check_shared_strings(name, int(value), limits)


def inspect(path: str | Path, *, limits: Limits) -> None:
    """Refuse (SheetRefused) a stored upload whose declared sizes are too large; reads the zip's
    central directory and at most HEAD_BYTES of each XML member, so it is cheap on any input."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(OLE_MAGIC):
        return  # legacy .xls: nothing declared to read cheaply; the child's limits hold it
    if not head.startswith(ZIP_MAGIC):
        lines = 0
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                lines += chunk.count(b"\n")
        if lines > limits.max_rows:
            raise SheetRefused(_l("文件有 %(rows)d 行，超过上限 %(max)d 行；请分成几个文件导入", rows=lines, max=limits.max_rows))
        return
    with _open_zip(path) as archive:
        for member in _check_directory(archive, limits):
            if not member.filename.lower().endswith(".xml") or member.is_dir():
                continue
            try:
                with archive.open(member) as stream:
                    member_head = stream.read(HEAD_BYTES)  # decompresses at most this much
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
                raise SheetRefused(_l("文件已损坏或不是 Excel 文件，无法读取")) from exc
            _check_head(member.filename, member_head, limits)


def deep_inspect(path: str | Path, *, limits: Limits) -> None:
    """`inspect`, then every XML member streamed: its real decompressed size (a zip may lie in its
    directory), the largest cell reference of each sheet (a sheet need not declare its range) and
    the real number of shared strings. Linear in the file; runs in the child process."""
    path = Path(path)
    inspect(path, limits=limits)
    with path.open("rb") as handle:
        if not handle.read(8).startswith(ZIP_MAGIC):
            return
    total = 0
    with _open_zip(path) as archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            is_xml = member.filename.lower().endswith(".xml")
            max_row = max_col = strings = 0
            tail = b""
            shared: bool | None = None  # shared strings or a sheet, told by the member's first bytes
            try:
                with archive.open(member) as stream:
                    while chunk := stream.read(CHUNK):
                        total += len(chunk)
                        if total > limits.max_uncompressed_bytes:
                            raise SheetRefused(_l("文件解压后共 %(size).0f MB，超过上限 %(max).0f MB；请分成几个文件导入",
                                                  size=_mb(total), max=_mb(limits.max_uncompressed_bytes)))
                        if not is_xml:
                            continue
                        if shared is None:
                            shared = _SST.search(chunk[:HEAD_BYTES]) is not None
                        if shared:
                            strings += len(_SI.findall(chunk))
                            _check_shared_strings(member.filename, strings, limits)
                            continue
                        # a reference cut by the chunk boundary is seen whole in the next window
                        window = tail + chunk
                        max_col = max([max_col, *map(column_number, set(_CELL_COLUMN.findall(window)))])
                        max_row = max(max_row, max(map(int, _CELL_ROW.findall(window)), default=0))
                        tail = window[-32:]
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
                raise SheetRefused(_l("文件已损坏或不是 Excel 文件，无法读取")) from exc
            if max_row:
                ref = f"{_column_letters(max(max_col, 1))}{max_row}"
                _refuse_cells(member.filename, f"A1:{ref}", max_row, max(max_col, 1), limits)


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- cell values across the process boundary (and into a job's JSON params) ------------------
def encode_cell(value: Any) -> Any:
    """JSON for a cell: dates and times tagged, so they come back as they were read."""
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$td": value.total_seconds()}
    return value


def decode_cell(value: Any) -> Any:
    if isinstance(value, dict):
        if "$dt" in value:
            return dt.datetime.fromisoformat(value["$dt"])
        if "$d" in value:
            return dt.date.fromisoformat(value["$d"])
        if "$t" in value:
            return dt.time.fromisoformat(value["$t"])
        if "$td" in value:
            return dt.timedelta(seconds=value["$td"])
    return value


def json_default(value: Any) -> Any:
    """json.dumps(default=...): the tagged form of a date or time met anywhere in the rows."""
    encoded = encode_cell(value)
    if encoded is value:
        return str(value)
    return encoded


def json_object_hook(value: dict[str, Any]) -> Any:
    return decode_cell(value)


def encode_rows(rows: list[list[Any]]) -> list[list[Any]]:
    return [[encode_cell(v) for v in row] for row in rows]


def decode_rows(rows: list[list[Any]]) -> list[list[Any]]:
    return [[decode_cell(v) for v in row] for row in rows]


# --- the child process -----------------------------------------------------------------------------
def refusal_payload(exc: SheetRefused) -> dict[str, Any]:
    """A refusal travels as its msgid and arguments, so the parent words it in the user's language."""
    message = exc.message
    if isinstance(message, LazyString) and message._args:
        return {"msgid": message._args[0], "kwargs": message._kwargs}
    return {"text": str(message)}


def _refusal(payload: dict[str, Any]) -> SheetRefused:
    if "msgid" in payload:
        return SheetRefused(_l(payload["msgid"], **payload.get("kwargs", {})))
    return SheetRefused(payload.get("text") or _l("文件无法解析（读取进程异常退出）"))


def read_isolated(path: str | Path, *, filename: str, sheet: str | None = None, max_rows: int | None = None,
                  limits: Limits, memory_mb: int, timeout: int) -> Sheet:
    """`spreadsheet.read` after `deep_inspect`, both in a child process limited to `memory_mb` of
    address space and `timeout` seconds. A file that exceeds either is refused (SheetRefused);
    the calling process never holds more than the rows the child returns."""
    request = {"path": str(path), "filename": filename, "sheet": sheet, "max_rows": max_rows,
               "limits": asdict(limits), "memory_mb": memory_mb}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run([sys.executable, "-m", "adapters.sheet_child"], input=json.dumps(request).encode(),
                              capture_output=True, timeout=timeout, cwd=str(ROOT), env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SheetRefused(_l("文件无法解析：超过 %(s)d 秒仍未读完，已停止", s=timeout)) from exc
    if done.returncode == 0:
        try:
            result = json.loads(done.stdout, object_hook=json_object_hook)  # one pass, dates decoded
        except ValueError:
            result = {}
        if "refused" in result:
            raise _refusal(result["refused"])
        if "rows" in result:
            return Sheet(names=result["names"], name=result["name"], rows=result["rows"])
    stderr = done.stderr.decode(errors="replace")
    # Rust aborts ("memory allocation of … failed", SIGABRT), Python raises MemoryError (exit 3)
    if done.returncode in (3, -6, -9, -11) or "memory allocation" in stderr or "MemoryError" in stderr:
        raise SheetRefused(_l("文件无法解析：超出内存限制（%(mb)d MB），文件可能过大或被恶意构造", mb=memory_mb))
    raise SheetRefused(_l("文件无法解析（读取进程异常退出）"))
