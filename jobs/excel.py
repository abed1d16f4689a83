"""Import and export jobs. Each takes the id of its JobRecord, which holds the file, the
mapping and options, and receives the progress, so the page can show a progress bar in RQ
and embedded mode alike. An import commits batch by batch; rerunning a job that was killed
continues after its last committed batch."""
from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from adapters import sheet_guard, spreadsheet
from jobs.queue import job_app_context
from models import User, db
from models.job import JobRecord, JobRowIssue, JobStatus, RowOutcome
from models.lead import Lead
from rules import audit, clock, exporting, import_batch, import_preview, import_products, import_values, importing
from rules.actor import Actor
from rules.audit import AuditContext
from rules.clock import local_date

log = logging.getLogger(__name__)
PREVIEW_READ_ROWS = 200  # what the mapping page may show: header choices and the sample rows
IMPORT_KINDS = {"import_customer": "customer", "import_contact": "contact", "import_product": "product",
                "import_lead": "lead"}
EXPORT_KINDS = {"export_customer": "customer", "export_contact": "contact", "export_follow_up": "follow_up",
                "export_order": "order", "export_product": "product", "export_contract": "contract",
                "export_payment_plan": "payment_plan", "export_payment": "payment"}
EXPORT_KINDS["export_invoice"] = "invoice"  # issue 19: 开票


def storage_dir(kind: str) -> Path:
    """The shared directory for uploads and generated files (config UPLOAD_DIR)."""
    path = Path(current_app.config["UPLOAD_DIR"]) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_path(name: str | None) -> Path | None:
    """Job rows keep paths relative to UPLOAD_DIR, so hosts may mount it anywhere."""
    return Path(current_app.config["UPLOAD_DIR"]) / name if name else None


def new_file_name(kind: str, suffix: str) -> str:
    storage_dir(kind)
    return f"{kind}/{uuid.uuid4().hex}{suffix}"


def _actor(user: User) -> Actor:
    return Actor.from_user(user, today=local_date(clock.now(), current_app.config["TIMEZONE"]))


def _fail(job_id: int, message: str) -> None:
    db.session.rollback()
    db.session.execute(update(JobRecord).where(JobRecord.id == job_id)
                       .values(status=JobStatus.FAILED, error=message[:2000], heartbeat_at=clock.now()))
    db.session.commit()


def read_sheet(job: JobRecord, *, sheet: str | None, max_rows: int | None = None) -> spreadsheet.Sheet:
    """The job's stored upload, inspected in depth and parsed in a memory-limited child process
    (adapters/sheet_guard.py): a hostile file fails this job, never the process running it."""
    config = current_app.config
    return sheet_guard.read_isolated(stored_path(job.file_path), filename=job.file_name or "", sheet=sheet,
                                     max_rows=max_rows, limits=sheet_guard.Limits.from_config(config),
                                     memory_mb=int(config["IMPORT_PARSE_MEMORY_MB"]),
                                     timeout=int(config["IMPORT_PARSE_TIMEOUT"]))


def detect(session: Any, job: JobRecord, sheet: spreadsheet.Sheet) -> dict[str, Any]:
    """The params of a freshly read sheet: its header row, the columns mapped by their names
    (or as this user mapped the same headers before) and the first rows for the mapping page,
    which then never parses the file itself."""
    entity = IMPORT_KINDS[job.kind]
    cols = importing.columns(session, entity)
    rows = sheet.rows[:PREVIEW_READ_ROWS]
    width = max((i + 1 for row in rows for i, v in enumerate(row) if v not in ("", None)), default=0)
    rows = [list(row[:width]) for row in rows]  # formatting far to the right is no column
    header_row = importing.find_header(rows, cols)
    headers = [importing.cell_text(h) for h in rows[header_row]]
    remembered = importing.remembered_mapping(session, entity, job.user_id)
    return {**job.params, "sheet": sheet.name, "sheets": sheet.names, "header_row": header_row,
            "headers": headers, "mapping": importing.auto_mapping(headers, cols, remembered),
            "values": import_values.remembered_choices(session, entity, job.user_id, headers),
            "options": job.params.get("options") or {"on_duplicate": "skip"},
            "preview_rows": sheet_guard.encode_rows(rows)}


def preview_rows(job: JobRecord) -> list[list[Any]]:
    return sheet_guard.decode_rows(job.params.get("preview_rows") or [])


def run_preview(job_id: int) -> str:
    """Read an uploaded sheet for the mapping page (READING → DRAFT, or FAILED with the reason)."""
    with job_app_context() as app, force_locale(_language(app, job_id)):
        session = db.session
        job = session.get(JobRecord, job_id)
        if job is None or job.status != JobStatus.READING:
            return "nothing to do"
        job.started_at, job.heartbeat_at = clock.now(), clock.now()
        session.commit()
        try:
            sheet = read_sheet(job, sheet=job.params.get("sheet"), max_rows=PREVIEW_READ_ROWS)
        except spreadsheet.SheetRefused as exc:
            _fail(job_id, str(exc))
            return "refused"
        except Exception as exc:
            log.exception("preview job %s failed", job_id)
            _fail(job_id, str(_l("文件无法解析（读取进程异常退出）")) + f" ({type(exc).__name__})")
            raise
        job = session.get(JobRecord, job_id)
        job.params = detect(session, job, sheet)
        job.status, job.heartbeat_at = JobStatus.DRAFT, clock.now()
        session.commit()
        return "read"


def _language(app: Any, job_id: int) -> str:
    """A job speaks the language of whoever started it: its row reasons, the result file's sheet
    names and headers, its error (only they see the job)."""
    locale = db.session.scalar(select(User.locale).join(JobRecord, JobRecord.user_id == User.id)
                               .where(JobRecord.id == job_id))
    return locale if locale in app.config["LANGUAGES"] else app.config["BABEL_DEFAULT_LOCALE"]


def run_import(job_id: int) -> str:
    """Import a stored sheet batch by batch; safe to run again after a crash."""
    with job_app_context() as app, force_locale(_language(app, job_id)):
        session = db.session
        job = session.get(JobRecord, job_id)
        if job is None or job.status == JobStatus.DONE:
            return "nothing to do"
        user = session.get(User, job.user_id)
        session.info[audit.INFO_KEY] = AuditContext(user.id, user.display_name)
        job.status, job.error = JobStatus.RUNNING, None
        job.started_at = job.started_at or clock.now()
        job.heartbeat_at = clock.now()
        session.commit()
        try:
            return _import(job_id, user, app.config)
        except spreadsheet.SheetRefused as exc:
            _fail(job_id, str(exc))
            return "refused"
        except Exception as exc:  # recorded for the page, then re-raised for the worker's log
            log.exception("import job %s failed", job_id)
            _fail(job_id, str(_l("导入中断：%(e)s。已导入的批次已保存，可点击“继续导入”完成剩余的行。", e=type(exc).__name__)))
            raise
        finally:
            session.info.pop(audit.INFO_KEY, None)


def _data_rows(sheet: spreadsheet.Sheet, params: dict[str, Any], config: Any) -> list[tuple[int, list[Any]]]:
    rows = importing.data_rows(sheet.rows, int(params.get("header_row", 0)))
    if len(rows) > int(config["IMPORT_MAX_ROWS"]):  # a sheet that did not declare its size
        raise spreadsheet.SheetRefused(_l("文件有 %(rows)d 行，超过上限 %(max)d 行；请分成几个文件导入",
                                          rows=len(rows), max=int(config["IMPORT_MAX_ROWS"])))
    return rows


def _import(job_id: int, user: User, config: Any) -> str:
    session = db.session
    job = session.get(JobRecord, job_id)
    params = job.params
    entity = IMPORT_KINDS[job.kind]
    sheet = read_sheet(job, sheet=params.get("sheet"))
    rows = _data_rows(sheet, params, config)
    job.total = len(rows)
    session.commit()
    now = clock.now()
    options = import_batch.Options(**params.get("options", {}))
    reader = import_preview.reader_for(session, entity, params)
    importer = import_batch.make_importer(session, entity, reader, actor=_actor(user), options=options, now=now,
                                          today=local_date(now, config["TIMEZONE"]), tz=config["TIMEZONE"])
    start = job.done
    if start:  # a rerun: the committed rows count for duplicates within the file
        not_taken = import_batch.issue_rows(session, job_id)
        for row_no, row in rows[:start]:
            if row_no not in not_taken:
                importer.remember(reader.read(row_no, row))
    size = int(config.get("IMPORT_BATCH_SIZE", 500))
    for begin in range(start, len(rows), size):
        chunk = rows[begin:begin + size]
        parsed = [reader.read(row_no, row) for row_no, row in chunk]
        with session.no_autoflush:
            outcomes = importer.check(parsed)
        importer.write(outcomes)
        if not import_batch.record_batch(session, job, start=begin, end=begin + len(chunk), outcomes=outcomes):
            session.rollback()  # another runner took this batch
            return "superseded"
        session.commit()
    job = session.get(JobRecord, job_id)
    session.refresh(job)
    _write_rejects(job, sheet.rows[int(params.get("header_row", 0))])
    job.status, job.finished_at, job.heartbeat_at = JobStatus.DONE, clock.now(), clock.now()
    model = {"product": import_products.Product, "lead": Lead}.get(entity) or exporting.MODELS.get(entity, type(None))
    audit.record(session, ctx=session.info[audit.INFO_KEY], action="import", entity=model.__name__,
                 details={"file": job.file_name, "rows": job.total, "imported": job.imported,
                          "warned": job.warned, "updated": job.updated, "skipped": job.skipped, "rejected": job.rejected})
    session.commit()
    return "done"


def run_check(check_id: int) -> str:
    """导入预检: check every row of a draft import as the import will, writing nothing; each
    row's outcome is kept for the preview's pages, and the unknown dictionary values for 值对应."""
    with job_app_context() as app, force_locale(_language(app, check_id)):
        session = db.session
        check = session.get(JobRecord, check_id)
        if check is None or check.status == JobStatus.DONE:
            return "nothing to do"
        check.status, check.error = JobStatus.RUNNING, None
        check.started_at = check.heartbeat_at = clock.now()
        session.commit()
        try:
            return _check(check_id, app.config)
        except spreadsheet.SheetRefused as exc:
            _fail(check_id, str(exc))
            return "refused"
        except Exception as exc:
            log.exception("check job %s failed", check_id)
            _fail(check_id, str(_l("预检中断：%(e)s", e=type(exc).__name__)))
            raise


def _check(check_id: int, config: Any) -> str:
    session = db.session
    check = session.get(JobRecord, check_id)
    draft = session.get(JobRecord, check.params["draft_id"])
    params, entity, user = draft.params, IMPORT_KINDS[draft.kind], session.get(User, check.user_id)
    rows = _data_rows(read_sheet(draft, sheet=params.get("sheet")), params, config)
    check.total = len(rows)
    check.params = {**check.params, "unmatched": import_preview.unmatched_values(session, entity, params, rows,
                                                                                     _actor(user))}
    session.commit()
    now = clock.now()
    reader = import_preview.reader_for(session, entity, params)
    importer = import_batch.make_importer(session, entity, reader, actor=_actor(user),
                                          options=import_batch.Options(**params.get("options", {})), now=now,
                                          today=local_date(now, config["TIMEZONE"]), tz=config["TIMEZONE"])
    size = int(config.get("IMPORT_BATCH_SIZE", 500))
    for begin in range(check.done, len(rows), size):
        chunk = rows[begin:begin + size]
        with session.no_autoflush:
            outcomes = importer.check([reader.read(row_no, row) for row_no, row in chunk])
        session.rollback()  # a dry run writes nothing but its own record
        if not import_batch.record_batch(session, check, start=begin, end=begin + len(chunk), outcomes=outcomes,
                                         keep=import_batch.OUTCOMES):
            session.rollback()
            return "superseded"
        session.commit()
    check = session.get(JobRecord, check_id)
    check.status, check.finished_at, check.heartbeat_at = JobStatus.DONE, clock.now(), clock.now()
    session.commit()
    return "done"


def _write_rejects(job: JobRecord, header: list[Any]) -> None:
    """未导入的行, 跳过的行 and 导入（有警告）的行, each with the sheet row number, the original
    values and why (for warnings: each emptied cell's original value and the reason)."""
    issues = db.session.execute(select(JobRowIssue.row_no, JobRowIssue.outcome, JobRowIssue.values, JobRowIssue.reason)
                                .where(JobRowIssue.job_id == job.id).order_by(JobRowIssue.row_no))
    by_outcome: dict[str, list[list[Any]]] = {k: [] for k in import_batch.KEPT}
    for row_no, outcome, values, reason in issues:
        by_outcome.setdefault(outcome, []).append([row_no, *values, reason])
    columns = [str(_l("行号")), *[importing.cell_text(h) for h in header]]
    name = new_file_name("results", ".xlsx")
    spreadsheet.write_sheets(stored_path(name), [
        (str(_l("未导入的行")), [*columns, str(_l("原因"))], by_outcome[RowOutcome.REJECTED]),
        (str(_l("跳过的行")), [*columns, str(_l("原因"))], by_outcome[RowOutcome.SKIPPED]),
        (str(_l("导入（有警告）的行")), [*columns, str(_l("警告（原值与原因）"))],
         by_outcome[RowOutcome.IMPORTED_WITH_WARNINGS])])
    job.result_path = name


def run_export(job_id: int) -> str:
    """Write the export file of a job (ids chosen by the list page, re-checked against scope)."""
    with job_app_context() as app, force_locale(_language(app, job_id)):
        session = db.session
        job = session.get(JobRecord, job_id)
        if job is None or job.status == JobStatus.DONE:
            return "nothing to do"
        job.status, job.started_at, job.heartbeat_at = JobStatus.RUNNING, clock.now(), clock.now()
        session.commit()
        try:
            return export_now(job_id)
        except Exception as exc:
            log.exception("export job %s failed", job_id)
            _fail(job_id, str(_l("导出失败：%(e)s", e=type(exc).__name__)))
            raise


def export_now(job_id: int) -> str:
    session = db.session
    config = current_app.config
    job = session.get(JobRecord, job_id)
    user = session.get(User, job.user_id)
    entity = EXPORT_KINDS[job.kind]
    ids_file = stored_path(job.file_path)
    ids = [int(x) for x in ids_file.read_text().split()] if ids_file and ids_file.exists() else []
    job.total = len(ids)
    session.commit()
    wanted = job.params.get("columns") or []
    columns = [c for c in exporting.COLUMNS[entity](session) if not wanted or c.key in wanted]
    rows = exporting.Rows(session, entity, actor=_actor(user), tz=config["TIMEZONE"])
    name = new_file_name("exports", ".xlsx")

    def progress(count: int) -> None:
        session.execute(update(JobRecord).where(JobRecord.id == job_id).values(done=count, heartbeat_at=clock.now()))
        session.commit()

    header, values = exporting.table(columns, rows(ids))
    written = spreadsheet.write_table(stored_path(name), str(exporting.ENTITIES[entity]), header, values,
                                      progress=progress, formats=exporting.number_formats(columns))
    job = session.get(JobRecord, job_id)
    job.result_path, job.done, job.imported = name, written, written
    job.status, job.finished_at = JobStatus.DONE, clock.now()
    audit.record(session, ctx=AuditContext(user.id, user.display_name, job.params.get("ip")), action="export",
                 entity=exporting.MODELS[entity].__name__,
                 details={"rows": written, "columns": [c.key for c in columns], "job": job.id})
    session.commit()
    return "done"
