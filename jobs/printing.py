"""批量打印: the PDF of the documents selected in a list, made by a worker (the request only
queued the JobRecord, kind "print_batch"). Chunk by chunk, progress after each; the ids are
checked against the starter's scope again here, since it may have changed while queued."""
from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from jobs.excel import _actor, _fail, _language, new_file_name, stored_path
from jobs.queue import job_app_context
from models import User, db
from models.job import JobRecord, JobStatus
from rules import clock, printing
from rules.audit import AuditContext
from rules.errors import OutOfScope, RuleViolation

log = logging.getLogger(__name__)
KIND = printing.BATCH_KIND


def run_batch(job_id: int) -> str:
    """Make the batch's merged PDF; a refusal (a template that cannot render) fails the job with
    its reason."""
    with job_app_context() as app, force_locale(_language(app, job_id)):
        session = db.session
        job = session.get(JobRecord, job_id)
        if job is None or job.status == JobStatus.DONE:
            return "nothing to do"
        job.status, job.started_at, job.heartbeat_at, job.done, job.skipped = (
            JobStatus.RUNNING, clock.now(), clock.now(), 0, 0)
        session.commit()
        try:
            return _print(session, job_id)
        except RuleViolation as exc:
            _fail(job_id, str(exc))
            return "refused"
        except Exception as exc:
            log.exception("print batch %s failed", job_id)
            _fail(job_id, str(_l("批量打印失败：%(e)s", e=type(exc).__name__)))
            raise


def _print(session: Any, job_id: int) -> str:
    job = session.get(JobRecord, job_id)
    user = session.get(User, job.user_id)
    actor = _actor(user)
    doc_type = printing.doc_type_of(job.params["doc_type"])
    ids = printing.batch_ids(session, doc_type, job.params.get("ids", []), actor)[:printing.MAX_BATCH]
    template = printing.template_for(session, doc_type, job.params.get("template_id"))
    root = current_app.config["FILES_DIR"]
    parts: list[bytes] = []
    printed: list[int] = []
    skipped = len(job.params.get("ids", [])) - len(ids)
    for start in range(0, len(ids), printing.BATCH_CHUNK):
        pages = []
        for record_id in ids[start:start + printing.BATCH_CHUNK]:
            try:
                pages.append(printing.page_html(session, doc_type, record_id, actor=actor, now=clock.now(),
                                                template=template, files_root=root))
                printed.append(record_id)
            except OutOfScope:
                skipped += 1
        if pages:
            parts.append(printing.pdf_bytes(printing.joined(pages)))
        session.execute(update(JobRecord).where(JobRecord.id == job_id)
                        .values(done=min(start + printing.BATCH_CHUNK, len(ids)), skipped=skipped,
                                heartbeat_at=clock.now()))
        session.commit()
    if not printed:
        _fail(job_id, str(_l("所选记录都已不在您的查看范围内，没有可打印的内容")))
        return "empty"
    name = new_file_name("prints", ".pdf")
    stored_path(name).write_bytes(printing.merged_pdf(parts))
    job = session.get(JobRecord, job_id)
    job.result_path, job.done, job.imported, job.skipped = name, len(ids), len(printed), skipped
    job.status, job.finished_at = JobStatus.DONE, clock.now()
    printing.record_print(session, ctx=AuditContext(user.id, user.display_name, job.params.get("ip")),
                          doc_type=doc_type, record_ids=printed, template=template, output="batch")
    session.commit()
    return "done"
