"""Spreadsheet files. Reading uploaded sheets (.xlsx, .xls, .csv in UTF-8 or GBK) into plain rows,
with a clear Chinese message for every file that cannot be read: not a spreadsheet, encrypted,
empty, too large, no such sheet. python-calamine parses about ten times faster than openpyxl's
read-only mode; numbers come back as floats and are tidied by the importer (rules/importing.py).

Writing .xlsx with openpyxl: streamed tables (exports, the rejected rows) and the import
template. Text that starts with = + - @ is written as a text cell marked with Excel's quote
prefix: never a formula, and it reads back as typed. What goes into the cells is decided by
rules/exporting.py, with the number format of each column (money as numbers shown ¥1,234.50)."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

FORMULA_PREFIXES = ("=", "+", "-", "@")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEADER_SCAN_ROWS = 20


class SheetRefused(Exception):
    """The file cannot be imported; `str(exc)` says why, in words a user understands."""

    def __init__(self, message: str | LazyString) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


@dataclass
class Sheet:
    names: list[str]  # every sheet of the workbook (one for a CSV)
    name: str  # the sheet read
    rows: list[list[Any]] = field(default_factory=list)  # every row from the top, merged cells filled


def file_kind(head: bytes, filename: str) -> str:
    """xlsx / xls / csv from the first bytes (the name alone can lie)."""
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if filename.lower().endswith((".csv", ".txt")):
        return "csv"
    raise SheetRefused(_l("不是 Excel 文件：请上传 .xlsx、.xls 或 .csv 格式的表格"))


def check_upload(data: bytes, filename: str, *, max_bytes: int) -> str:
    """Refuse empty, too large or unknown files before they are stored; returns the kind."""
    if not data:
        raise SheetRefused(_l("文件是空的，请检查后重新上传"))
    if len(data) > max_bytes:
        raise SheetRefused(_l("文件太大（%(size).1f MB），最大允许 %(max).0f MB；请分成几个文件导入",
                              size=len(data) / 1048576, max=max_bytes / 1048576))
    kind = file_kind(data[:8], filename)
    if kind == "ole" and "EncryptedPackage".encode("utf-16-le") in data:
        raise SheetRefused(_l("文件已加密（设置了打开密码）：请在 Excel 中取消密码后另存，再上传"))
    if kind == "csv" and b"\x00" in data[:4096]:
        raise SheetRefused(_l("不是 Excel 文件：请上传 .xlsx、.xls 或 .csv 格式的表格"))
    return kind


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else GB18030 (a superset of GBK/GB2312,
    what Chinese Excel writes for CSV)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SheetRefused(_l("无法识别文件编码：请将 CSV 另存为 UTF-8 或 GBK 编码")) from None


def read(path: str | Path, *, filename: str, sheet: str | None = None, max_rows: int | None = None) -> Sheet:
    """All rows of one sheet (the first unless named). `max_rows` stops early (previews)."""
    with Path(path).open("rb") as handle:
        data_head = handle.read(8)
    kind = file_kind(data_head, filename)
    if kind == "csv":
        text = decode_text(Path(path).read_bytes())
        rows = []
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append(row)
            if max_rows is not None and len(rows) >= max_rows:
                break
        result = Sheet(names=["CSV"], name="CSV", rows=rows)
    else:
        result = _read_workbook(path, sheet=sheet, max_rows=max_rows)
    if not any(_filled(row) for row in result.rows):
        raise SheetRefused(_l("工作表“%(s)s”是空的，没有可导入的数据", s=result.name))
    return result


def _read_workbook(path: str | Path, *, sheet: str | None, max_rows: int | None) -> Sheet:
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, ValueError, OSError) as exc:
        if isinstance(exc, PasswordError) or "encrypt" in str(exc).lower() or "password" in str(exc).lower():
            raise SheetRefused(_l("文件已加密（设置了打开密码）：请在 Excel 中取消密码后另存，再上传")) from exc
        raise SheetRefused(_l("文件已损坏或不是 Excel 文件，无法读取")) from exc
    with workbook:
        names = list(workbook.sheet_names)
        if not names:
            raise SheetRefused(_l("工作簿里没有工作表"))
        if sheet is not None and sheet not in names:
            raise SheetRefused(_l("找不到工作表“%(s)s”，文件中的工作表有：%(all)s", s=sheet, all="、".join(names)))
        # Without a choice, the first sheet holding data (workbooks often open on an empty or
        # instructions sheet); the mapping page lets the user pick another.
        candidates = [sheet] if sheet is not None else names
        for name in candidates:
            try:
                data = workbook.get_sheet_by_name(name)
                rows = data.to_python(skip_empty_area=False, nrows=max_rows) if max_rows else \
                    data.to_python(skip_empty_area=False)
                merged = data.merged_cell_ranges or []
            except (CalamineError, ValueError) as exc:
                raise SheetRefused(_l("工作表“%(s)s”无法读取：%(e)s", s=name, e=str(exc))) from exc
            if any(_filled(row) for row in rows):
                break
    rows = [list(r) for r in rows]
    _fill_merged(rows, merged)
    return Sheet(names=names, name=name, rows=rows)


def _fill_merged(rows: list[list[Any]], merged: list) -> None:
    """A block merged down a column (one 客户分类 for several customers) holds its value in
    every row it covers, as the user sees it; across columns it stays in the first one. A row
    that is otherwise blank stays blank: a merged block never makes up a customer."""
    blank = [not _filled(row) for row in rows]
    for (r0, c0), (r1, _c1) in merged:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0 + 1, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            if not blank[r] and c0 < len(row) and (row[c0] == "" or row[c0] is None):
                row[c0] = value


def _filled(row: list[Any]) -> bool:
    return any(v not in ("", None) for v in row)


def is_blank(row: list[Any]) -> bool:
    return not _filled(row)


# --- writing -----------------------------------------------------------------------------------
def _as_text_if_formula(sheet: Any, value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # stored as text: never evaluated
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        return cell
    return value


def _formatted(sheet: Any, value: Any, number_format: str | None) -> Any:
    """A number in a column with a number format (money: ¥1,234.50) stays a number Excel sums."""
    if number_format and isinstance(value, (int, float)) and not isinstance(value, bool):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = number_format
        return cell
    return _as_text_if_formula(sheet, value)


def write_table(path: str | Path, title: str, header: list[str], rows: Iterable[list[Any]], *,
                progress: Callable[[int], None] | None = None, every: int = 2000,
                formats: list[str | None] | None = None) -> int:
    """Stream rows into a write-only workbook; returns the number of data rows written.
    `formats` gives each column's number format (None: as the value is)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(header)
    count = 0
    column_formats = formats or []
    for row in rows:
        sheet.append([_formatted(sheet, value, column_formats[i] if i < len(column_formats) else None)
                      for i, value in enumerate(row)])
        count += 1
        if progress is not None and count % every == 0:
            progress(count)
    workbook.save(str(path))
    return count


def write_sheets(path: str | Path, sheets: list[tuple[str, list[str], Iterable[list[Any]]]]) -> None:
    """Plain sheets of rows (the rejected-rows file), each (title, header, rows)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        sheet.append(header)
        for row in rows:
            sheet.append([_as_text_if_formula(sheet, value) for value in row])
    workbook.save(str(path))


def write_template(path: str | Path, *, title: str, header: list[tuple[str, bool, str | None]], example: list[Any],
                   notes_title: str, notes: str, author: str) -> None:
    """An import template: header cells (text, highlighted, comment) in bold, required ones
    highlighted, one example row, and a second sheet of notes, one line per row."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for index, (label, highlighted, comment) in enumerate(header, start=1):
        cell = sheet.cell(row=1, column=index, value=label)
        cell.font = bold
        if highlighted:
            cell.fill = fill
        if comment:
            cell.comment = Comment(comment, author)
        sheet.column_dimensions[cell.column_letter].width = max(10, len(label) * 2 + 2)
    for index, value in enumerate(example, start=1):
        sheet.cell(row=2, column=index, value=value)
    notes_sheet = workbook.create_sheet(notes_title)
    for line in notes.split("\n"):
        notes_sheet.append([line])
    workbook.save(str(path))
