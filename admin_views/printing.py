"""打印 and PDF on every document page and list: the browser print preview of a record through a
print template (its paper honoured by @page), the PDF download, and batches of selected rows as a
job with a progress page. Whoever sees a record may print it (rules/scope.py); the rules are in
rules/printing.py."""
from __future__ import annotations

import io
import re
from typing import Any

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from admin_views import params
from admin_views.base import SIGNED_IN, PermissionView
from admin_views.context import audit_context, current_actor, now
from admin_views.navigation import back_url
from admin_views.transaction import commit_bookkeeping, transaction
from jobs import printing as print_jobs
from jobs.excel import stored_path
from jobs.queue import QueueUnavailable, enqueue
from models import db
from models.job import JobRecord, JobStatus
from models.printing import PrintDocType
from rules import printing, scope
from rules.errors import OutOfScope, RuleViolation

STATUS = {JobStatus.QUEUED: _l("排队中"), JobStatus.RUNNING: _l("正在生成"), JobStatus.DONE: _l("已完成"),
          JobStatus.FAILED: _l("失败")}
# The order page prints the order and its 发货单.
MENU = {PrintDocType.ORDER: (PrintDocType.ORDER, PrintDocType.DELIVERY)}
BATCH_TIMEOUT = 3600
LISTS = {PrintDocType.CUSTOMER: "customer", PrintDocType.ENVELOPE: "customer", PrintDocType.ORDER: "order",
         PrintDocType.DELIVERY: "order", PrintDocType.QUOTE: "quote", PrintDocType.CONTRACT: "contract",
         PrintDocType.RECEIPT: "payment", PrintDocType.INVOICE: "invoice"}


def _template_id() -> int | None:
    return params.optional_int(request.args.get("template_id"), name=gettext("打印模板"), minimum=1)


def _page(doc_type: str, record_id: int, *, screen: bool = False) -> tuple[PrintDocType, Any, str]:
    """The printable page of a record the reader sees (404 otherwise), and its template."""
    try:
        kind = printing.doc_type_of(doc_type)
        template = printing.template_for(db.session, kind, _template_id())
        html = printing.page_html(db.session, kind, record_id, actor=current_actor(), now=now(), template=template,
                                  files_root=current_app.config["FILES_DIR"], screen=screen)
    except OutOfScope:
        abort(404)
    return kind, template, html


def _noted(kind: PrintDocType, record_id: int, template: Any, output: str) -> None:
    printing.record_print(db.session, ctx=audit_context(), doc_type=kind, record_ids=[record_id], template=template,
                          output=output)
    commit_bookkeeping()


_BODY_TAG = re.compile(r"<body[^>]*>")


class PrintingView(PermissionView):
    """打印预览, PDF and the batch pages; never in the menu (reached from records and lists)."""

    permission = SIGNED_IN  # printing a record needs only that the reader sees it

    def is_visible(self) -> bool:
        return False

    def _refused(self, exc: RuleViolation) -> Any:
        """A template that cannot render (or a missing one): the reason, on a page of its own."""
        return self.render("admin/printing/refused.html", message=str(exc),
                           back=back_url(request.referrer, url_for("admin.index"))), 422

    @expose("/")
    def index(self) -> Any:
        """我的批量打印: the reader's own recent batches (printing itself starts on a record or a list)."""
        jobs = db.session.scalars(select(JobRecord).where(JobRecord.user_id == current_user.id,
                                                          JobRecord.kind == printing.BATCH_KIND)
                                  .order_by(JobRecord.id.desc()).limit(50)).all()
        return self.render("admin/printing/index.html", jobs=jobs, status=STATUS,
                           labels={str(k): v for k, v in printing.LABELS.items()})

    @expose("/preview/<doc_type>/<int:record_id>/")
    def preview_view(self, doc_type: str, record_id: int) -> Any:
        try:
            kind, template, html = _page(doc_type, record_id, screen=True)
        except RuleViolation as exc:
            return self._refused(exc)
        _noted(kind, record_id, template, "preview")
        toolbar = render_template("admin/printing/_toolbar.html", doc_type=kind, record_id=record_id,
                                  template=template, templates=printing.templates_for(db.session, kind),
                                  label=printing.LABELS[kind])
        head, body = html.split("</head>", 1) if "</head>" in html else ("", html)
        head += str(Markup('<link rel="stylesheet" href="%s">') % url_for("static", filename="css/kechi-print.css"))
        body = _BODY_TAG.sub(lambda m: m.group(0) + toolbar, body, count=1)
        return Response(f"{head}</head>{body}", mimetype="text/html")

    @expose("/pdf/<doc_type>/<int:record_id>/")
    def pdf_view(self, doc_type: str, record_id: int) -> Any:
        try:
            kind, template, html = _page(doc_type, record_id)
            data = printing.pdf_bytes(html)
        except RuleViolation as exc:
            return self._refused(exc)
        _noted(kind, record_id, template, "pdf")
        record = scope.get_in_scope(db.session, printing.SOURCES[kind], record_id, current_actor())
        name = f"{printing.LABELS[kind]}-{record}.pdf"
        response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                             download_name=name)
        response.headers["Cache-Control"] = "no-store"
        return response

    # --- batches ---------------------------------------------------------------------------------
    def _job(self, job_id: int) -> JobRecord:
        """A batch is its starter's: anyone else gets 404."""
        job = db.session.get(JobRecord, job_id)
        if job is None or job.user_id != current_user.id or job.kind != printing.BATCH_KIND:
            abort(404)
        return job

    def _state(self, job: JobRecord) -> dict[str, Any]:
        finished = job.status == JobStatus.DONE
        return {"id": job.id, "status": job.status, "status_label": str(STATUS.get(job.status, job.status)),
                "total": job.total, "done": job.done, "rejected": job.skipped, "error": job.error, "stale": False,
                "percent": int(job.done * 100 / job.total) if job.total else (100 if finished else 0),
                "result_url": url_for(".batch_download", job_id=job.id)
                if finished and job.result_path and job.files_expired_at is None else None}

    @expose("/batch/<int:job_id>/")
    def batch_view(self, job_id: int) -> Any:
        job = self._job(job_id)
        kind = printing.doc_type_of(job.params["doc_type"])
        return self.render("admin/printing/batch.html", job=job, state=self._state(job), label=printing.LABELS[kind],
                           back=url_for(f"{LISTS[kind]}.index_view"), JobStatus=JobStatus)

    @expose("/batch/<int:job_id>/status.json")
    def batch_status(self, job_id: int) -> Any:
        return jsonify(self._state(self._job(job_id)))

    @expose("/batch/<int:job_id>/download.pdf")
    def batch_download(self, job_id: int) -> Any:
        job = self._job(job_id)
        path = stored_path(job.result_path) if job.status == JobStatus.DONE and job.files_expired_at is None else None
        if path is None or not path.exists():
            abort(404)
        kind = printing.doc_type_of(job.params["doc_type"])
        name = gettext("批量打印-%(doc)s-%(n)d份.pdf", doc=printing.LABELS[kind], n=job.imported)
        return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name)


def start_batch(doc_type: PrintDocType, ids: list[str]) -> Response | None:
    """A list action's selection → a queued batch job → its progress page (or back, with why not)."""
    with transaction() as outcome:
        job = printing.new_batch(db.session, doc_type=doc_type, ids=list(ids), actor=current_actor(),
                                 user_id=current_user.id, ip=audit_context().ip)
    if not outcome.ok:
        return None  # Flask-Admin returns to the list, where the reason is flashed
    job_id = job.id
    try:
        with transaction():
            job.queue_id = enqueue(print_jobs.run_batch, job_id, job_timeout=BATCH_TIMEOUT)
    except QueueUnavailable:
        with transaction():
            job = db.session.get(JobRecord, job_id)
            job.status, job.error = JobStatus.FAILED, str(_l("任务队列暂时不可用，请稍后重试"))
        flash(gettext("任务队列暂时不可用，请稍后重试"), "error")
    return redirect(url_for("printing.batch_view", job_id=job_id))


_CONFIRM = _l("将在后台为所选记录生成一个 PDF 文件（一次最多 %(n)d 份），可在进度页面下载。确定吗？", n=printing.MAX_BATCH)
_ACTIONS = {"print_batch": None, "print_envelopes": PrintDocType.ENVELOPE, "print_delivery": PrintDocType.DELIVERY}


class PrintActionsMixin:
    """批量打印/导出PDF on a list: `print_doc_types` names what the list prints, its own kind first
    (the customer list adds 信封, the order list 发货单)."""

    print_doc_types: tuple[PrintDocType, ...] = ()

    def is_action_allowed(self, name: str) -> bool:
        if name in _ACTIONS and (not self.print_doc_types
                                 or (_ACTIONS[name] is not None and _ACTIONS[name] not in self.print_doc_types)):
            return False
        return super().is_action_allowed(name)  # type: ignore[misc]

    @action("print_batch", _l("批量打印/导出PDF"), _CONFIRM)
    def action_print_batch(self, ids: list[str]) -> Any:
        return start_batch(self.print_doc_types[0], ids)

    @action("print_envelopes", _l("批量打印信封"), _CONFIRM)
    def action_print_envelopes(self, ids: list[str]) -> Any:
        return start_batch(PrintDocType.ENVELOPE, ids)

    @action("print_delivery", _l("批量打印发货单"), _CONFIRM)
    def action_print_delivery(self, ids: list[str]) -> Any:
        return start_batch(PrintDocType.DELIVERY, ids)


def print_menu(doc_type: str, record_id: int) -> list[dict[str, Any]]:
    """The 打印 ▾ / PDF ▾ entries of a record page: per document type, its active templates."""
    kinds = MENU.get(PrintDocType(doc_type), (PrintDocType(doc_type),))
    return [{"label": printing.LABELS[kind], "doc_type": str(kind),
             "templates": [(t.id, t.name, t.is_default) for t in printing.templates_for(db.session, kind)],
             "record_id": record_id} for kind in kinds]


def init_app(app: Any) -> None:
    app.jinja_env.globals["kechi_print_menu"] = print_menu


def views() -> list[Any]:
    return [PrintingView(name=_l("打印"), endpoint="printing")]
