"""导入/导出: the import wizard (upload → mapping and preview → job with progress → result)
and Excel exports of the customer, contact and follow-up lists. The work is in
rules/importing.py, rules/exporting.py and jobs/excel.py; this module turns requests into calls."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge

from adapters import sheet_guard, spreadsheet
from admin_views import params as params_  # `params` names the job's parameters here
from admin_views.base import PermissionView
from admin_views.context import client_ip, current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import CUSTOMERS, fa
from admin_views.transaction import transaction
from jobs import excel as excel_jobs, recovery
from jobs.queue import QueueUnavailable, enqueue
from models import User, db
from models.job import JobRecord, JobStatus
from rules import (
    exporting, import_batch, import_leads, import_preview, import_products, import_values, importing,
    pool as pool_rules, scope,
)
from rules.clock import local_date

PREVIEW_ROWS = 10
STATUS = {JobStatus.READING: _l("读取中"), JobStatus.DRAFT: _l("待确认"), JobStatus.QUEUED: _l("排队中"), JobStatus.RUNNING: _l("进行中"),
          JobStatus.DONE: _l("已完成"), JobStatus.FAILED: _l("已中断")}
KIND_NAMES = {"import_customer": _l("导入客户"), "import_contact": _l("导入联系人"), "import_product": _l("导入产品"),
              "import_lead": _l("导入线索"),
              "export_customer": _l("导出客户"), "export_contact": _l("导出联系人"),
              "export_follow_up": _l("导出联系记录"), "export_order": _l("导出订单"), "export_product": _l("导出产品"),
              "export_contract": _l("导出合同"),
              "export_payment_plan": _l("导出回款计划"),
              "export_payment": _l("导出回款"),
              import_preview.CHECK_KIND: _l("导入预检")}
KIND_NAMES["export_invoice"] = _l("导出发票")  # issue 19: 开票
EXAMPLES = {
    "name": "杭州示例科技有限公司", "code": "", "kind": "企业", "contact_name": "王小明", "contact_position": "采购经理",
    "contact_mobile": "13900139000", "mobile": "13800138000", "phone": "0571-88888888", "email": "info@example.com",
    "province": "浙江省", "city": "杭州市", "district": "西湖区", "address": "文三路 100 号", "zip_code": "310000",
    "customer": "杭州示例科技有限公司", "is_primary": "是", "position": "采购经理",
}


DICTIONARY_PERMISSION = "settings.manage"  # who may add a 值对应 value to the 数据字典 (its editors)
IMPORT_PERMISSIONS = {"customer": "customer.create", "contact": "customer.edit",
                      "product": import_products.PERMISSION, "lead": import_leads.PERMISSION}
# Who is offered an entity in the wizard (products and leads: whoever may add them).
_OFFERED_TO = {"product": import_products.PERMISSION, "lead": import_leads.PERMISSION}
ON_DUPLICATE = {"product": import_products.ON_DUPLICATE, "lead": import_leads.ON_DUPLICATE}


def _importable(actor: Any) -> dict[str, Any]:
    """The wizard's entities this user may import."""
    return {k: v for k, v in importing.ENTITIES.items() if actor.can(_OFFERED_TO.get(k, "customer.view"))}


def _upload_limit() -> int:
    """IMPORT_MAX_BYTES (default: the request limit MAX_CONTENT_LENGTH), never above the latter."""
    request_limit = int(current_app.config["MAX_CONTENT_LENGTH"])
    return min(int(current_app.config.get("IMPORT_MAX_BYTES") or request_limit), request_limit)


def _job_for_user(job_id: int) -> JobRecord:
    """A job is its starter's: anyone else gets 404."""
    job = db.session.get(JobRecord, job_id)
    if job is None or job.user_id != current_user.id:
        abort(404)
    return job


INTERRUPTION = {"interrupted": _l("已中断"), "recovering": _l("任务中断，正在恢复")}


def _interruption(job: JobRecord) -> str | None:
    """In RQ mode, whether the job's worker died (jobs.recovery asks RQ's registries)."""
    if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return None
    return recovery.interruption(job.queue_id)


def _stale(job: JobRecord, interruption: str | None = None) -> bool:
    if interruption == "interrupted":
        return True
    if job.status != JobStatus.RUNNING or job.heartbeat_at is None or interruption:
        return False
    return (now() - job.heartbeat_at).total_seconds() > int(current_app.config.get("JOB_STALE_SECONDS", 600))


def _status(job: JobRecord) -> dict[str, Any]:
    interruption = _interruption(job)
    label = INTERRUPTION[interruption] if interruption else STATUS.get(job.status, job.status)
    return {"id": job.id, "status": job.status, "status_label": str(label), "interruption": interruption,
            "total": job.total, "done": job.done, "imported": job.imported, "warned": job.warned,
            "updated": job.updated,
            "skipped": job.skipped, "rejected": job.rejected, "error": job.error,
            "stale": _stale(job, interruption),
            "percent": int(job.done * 100 / job.total) if job.total else (100 if job.status == JobStatus.DONE else 0),
            "expired": job.files_expired_at is not None,
            "result_url": url_for(".result_file", job_id=job.id)
            if job.result_path and job.files_expired_at is None else None}


def _reading_refusal(user_id: int) -> str | None:
    """Parallel uploads are bounded: a user may have IMPORT_MAX_READING_PER_USER files being
    read at once, the site IMPORT_MAX_READING. A reading job older than twice the parse timeout
    was abandoned (a killed worker) and no longer counts."""
    config = current_app.config
    since = now() - timedelta(seconds=2 * int(config["IMPORT_PARSE_TIMEOUT"]))
    reading = select(func.count(JobRecord.id)).where(JobRecord.status == JobStatus.READING,
                                                     JobRecord.created_at >= since)
    mine = db.session.scalar(reading.where(JobRecord.user_id == user_id)) or 0
    if mine >= int(config["IMPORT_MAX_READING_PER_USER"]):
        return gettext("您已有 %(n)d 个文件正在读取，请等它们读完再上传", n=mine)
    if (db.session.scalar(reading) or 0) >= int(config["IMPORT_MAX_READING"]):
        return gettext("服务器正在读取的文件较多，请稍后再上传")
    return None


def _enqueue(func: Any, job: JobRecord) -> bool:
    job_id = job.id
    try:
        with transaction():
            job.queue_id = enqueue(func, job_id, job_timeout=int(current_app.config.get("EXCEL_JOB_TIMEOUT", 3600)))
    except QueueUnavailable:
        error = str(_l("任务队列暂时不可用，请稍后点击“继续”重试；已上传的文件不会丢失"))
        with transaction():
            job = db.session.get(JobRecord, job_id)
            job.status = JobStatus.FAILED
            job.error = error
        flash(error, "error")
        return False
    return True


class ExcelView(PermissionView):
    """导入/导出: the wizard, the job pages and the export endpoints. Each import and export
    step asks for its own permission on top (`require`)."""

    permission = ("customer.view", import_products.PERMISSION, "order.view", import_leads.PERMISSION, "payment.view")

    # --- import: upload ------------------------------------------------------------------------
    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        actor = current_actor()
        try:
            entity = request.values.get("entity", "customer")  # parsing an oversized upload refuses it
        except RequestEntityTooLarge:
            flash(gettext("文件太大，最大允许 %(max).0f MB；请分成几个文件导入", max=_upload_limit() / 1048576), "error")
            return redirect(url_for(".index"))
        entities = _importable(actor)
        if entity not in entities:
            if request.method == "POST" and entity in importing.ENTITIES:
                abort(403)
            entity = next(iter(entities), "customer")
        if request.method == "POST":
            self.require(IMPORT_PERMISSIONS[entity])
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
                return redirect(url_for(".index", entity=entity))
            job = self._store_upload(entity)
            if job is not None:
                return redirect(url_for(".mapping", job_id=job.id))
        jobs = list(db.session.scalars(select(JobRecord).where(JobRecord.user_id == actor.user_id,
                                                               JobRecord.kind != import_preview.CHECK_KIND)
                                       .order_by(JobRecord.id.desc()).limit(20)))
        limit = _upload_limit()
        return self.render("admin/imports/upload.html", entity=entity, entities=entities, jobs=jobs,
                           status_names=STATUS, kind_names=KIND_NAMES, max_mb=limit / 1048576)

    def _store_upload(self, entity: str) -> JobRecord | None:
        limit = _upload_limit()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(gettext("请选择要导入的文件"), "error")
            return None
        data = upload.read(limit + 1)
        try:
            kind = spreadsheet.check_upload(data, upload.filename, max_bytes=limit)
        except spreadsheet.SheetRefused as exc:
            flash(str(exc), "error")
            return None
        busy = _reading_refusal(current_user.id)
        if busy:
            flash(busy, "error")
            return None
        suffix = {"xlsx": ".xlsx", "ole": ".xls", "csv": ".csv"}[kind]
        name = excel_jobs.new_file_name("uploads", suffix)
        path = excel_jobs.stored_path(name)
        path.write_bytes(data)
        try:  # what the file declares, before any parser sees it (the parse is the preview job's)
            sheet_guard.inspect(path, limits=sheet_guard.Limits.from_config(current_app.config))
        except spreadsheet.SheetRefused as exc:
            path.unlink(missing_ok=True)
            flash(str(exc), "error")
            return None
        job = JobRecord(kind=f"import_{entity}", status=JobStatus.READING, user_id=current_user.id,
                        file_name=Path(upload.filename).name[:255], file_path=name, params={})
        with transaction():
            db.session.add(job)
        if not _enqueue(excel_jobs.run_preview, job):
            return None
        job = db.session.get(JobRecord, job.id)
        if job.status == JobStatus.FAILED:  # already read and refused (jobs that run inline)
            flash(job.error, "error")
            return None
        return job

    # --- import: mapping, options and preview ---------------------------------------------------
    @expose("/<int:job_id>/mapping/", methods=["GET", "POST"])
    def mapping(self, job_id: int) -> Any:
        job = _job_for_user(job_id)
        if job.status not in (JobStatus.DRAFT, JobStatus.READING):
            return redirect(url_for(".job_view", job_id=job.id))
        entity = excel_jobs.IMPORT_KINDS[job.kind]
        if job.files_expired_at is not None:
            flash(gettext("文件已过期清理，请重新上传"), "error")
            return redirect(url_for(".index", entity=entity))
        if job.status == JobStatus.DRAFT and "preview_rows" not in job.params:
            self._reread(job, job.params.get("sheet"))  # a draft from before previews were jobs
            return redirect(url_for(".mapping", job_id=job.id))
        if job.status == JobStatus.READING:
            return self.render("admin/imports/reading.html", job=job, kind_names=KIND_NAMES)
        actor = current_actor()
        cols = importing.columns(db.session, entity)
        params = dict(job.params)
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
                return redirect(url_for(".mapping", job_id=job.id))
            if request.form.get("sheet") and request.form["sheet"] != params.get("sheet"):
                names = params.get("sheets") or []
                if request.form["sheet"] not in names:
                    flash(gettext("找不到工作表“%(s)s”，文件中的工作表有：%(all)s", s=request.form["sheet"],
                                  all="、".join(names)), "error")
                else:
                    self._reread(job, request.form["sheet"])
                return redirect(url_for(".mapping", job_id=job.id))
            params = self._read_mapping_form(job, params)
            error = self._option_error(params["options"])
            go = request.form.get("go")
            with transaction():
                job.params = params
                ready = go in ("start", "check") and self._ready(job, entity, error)
            if ready and go == "check":
                return self._start_check(job)
            if ready:
                return self._commit(job, entity)
        rows = excel_jobs.preview_rows(job)  # read by the preview job: no parsing in a request
        sample = importing.data_rows(rows, int(params["header_row"]))[:PREVIEW_ROWS]
        options = import_batch.Options(**params.get("options", {}))
        try:
            outcomes = import_batch.preview(db.session, entity, sample, params["mapping"], actor=actor,
                                         options=options, now=now(), values=params.get("values"),
                                         today=local_date(now(), current_app.config["TIMEZONE"]),
                                         tz=current_app.config["TIMEZONE"])
        finally:
            db.session.rollback()  # a preview never writes
        colleagues = list(db.session.scalars(select(User).where(User.active.is_(True), scope.owner_clause(User.id, actor))
                                             .order_by(User.display_name)))
        header_choices = [(i, " | ".join(importing.cell_text(v) for v in row if v not in ("", None))[:80])
                          for i, row in enumerate(rows[:20])]
        return self.render("admin/imports/mapping.html", job=job, params=params, cols=cols, outcomes=outcomes,
                           header_choices=header_choices, colleagues=colleagues,
                           on_duplicate=ON_DUPLICATE.get(entity, import_batch.ON_DUPLICATE),
                           can_assign=actor.can("pool.assign"),
                           required=importing.required_keys(db.session, entity),
                           outcome_names=import_preview.OUTCOME_NAMES)

    def _ready(self, job: JobRecord, entity: str, option_error: str | None) -> bool:
        """Whether the draft may be checked or imported: every required field has its column
        and the options are the user's to choose (else the reason is flashed)."""
        missing = importing.missing_required(entity, job.params["mapping"], db.session)
        if entity == "product":
            missing = import_products.missing_required(missing, job.params["options"])
        if missing:
            flash(gettext("请为必填项选择对应的列：%(f)s", f="、".join(str(c.label) for c in missing)), "error")
            return False
        if option_error:
            flash(option_error, "error")
            return False
        return True

    def _commit(self, job: JobRecord, entity: str) -> Any:
        """Start the import of a draft; its mapping and value choices are remembered."""
        with transaction():
            importing.remember_mapping(db.session, entity, current_user.id, job.params["headers"],
                                       job.params["mapping"])
            if job.params.get("values"):
                import_values.remember_choices(db.session, entity, current_user.id, job.params["headers"],
                                               job.params["values"])
            job.status = JobStatus.QUEUED
        _enqueue(excel_jobs.run_import, job)
        return redirect(url_for(".job_view", job_id=job.id))

    # --- import: the dry run (导入预检) and 值对应 --------------------------------------------------
    def _start_check(self, job: JobRecord) -> Any:
        check = JobRecord(kind=import_preview.CHECK_KIND, status=JobStatus.QUEUED, user_id=current_user.id,
                          file_name=job.file_name, params={"draft_id": job.id})
        with transaction():
            import_preview.discard(db.session, job.params.get("check_id"))
            db.session.add(check)
            db.session.flush()
            job.params = {**job.params, "check_id": check.id}
        _enqueue(excel_jobs.run_check, check)
        return redirect(url_for(".check", job_id=job.id))

    def _draft(self, job_id: int) -> tuple[JobRecord, JobRecord | None]:
        job = _job_for_user(job_id)
        if job.status != JobStatus.DRAFT or job.files_expired_at is not None:
            abort(404)
        check = db.session.get(JobRecord, job.params.get("check_id") or 0)
        return job, check if check is not None and check.user_id == job.user_id else None

    @expose("/<int:job_id>/check/")
    def check(self, job_id: int) -> Any:
        job, check = self._draft(job_id)
        if check is None:
            return redirect(url_for(".mapping", job_id=job.id))
        entity = excel_jobs.IMPORT_KINDS[job.kind]
        outcome = request.args.get("outcome") or None
        if outcome is not None and outcome not in import_preview.OUTCOME_NAMES:
            outcome = None
        page = params_.page_number(request.args.get("page"))
        context: dict[str, Any] = {"job": job, "check": check, "state": _status(check), "JobStatus": JobStatus,
                                   "outcome_names": import_preview.OUTCOME_NAMES, "outcome": outcome, "page": page}
        if check.status == JobStatus.DONE:
            vocabs = import_values.vocabularies(db.session, importing.columns(db.session, entity), current_actor())
            rows, pages = import_preview.rows_page(db.session, check.id, outcome, page)
            context.update(totals=import_preview.totals(check),
                           reasons=import_preview.reason_totals(db.session, check.id), rows=rows, pages=pages,
                           vocabs=vocabs, unmatched=check.params.get("unmatched") or {},
                           can_add=current_actor().can(DICTIONARY_PERMISSION), ADD_NEW=import_values.ADD_NEW,
                           shown=[i for i, k in enumerate(job.params["mapping"]) if k])
        return self.render("admin/imports/check.html", **context)

    @expose("/<int:job_id>/values/", methods=["POST"])
    def values(self, job_id: int) -> Any:
        """值对应 chosen: each unknown value mapped, added to the dictionary or left empty;
        then the whole file is checked again with the choices."""
        job, check = self._draft(job_id)
        if check is None or check.status != JobStatus.DONE:
            return redirect(url_for(".check", job_id=job.id))
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(url_for(".check", job_id=job.id))
        entity = excel_jobs.IMPORT_KINDS[job.kind]
        vocabs = import_values.vocabularies(db.session, importing.columns(db.session, entity), current_actor())
        may_add = current_actor().can(DICTIONARY_PERMISSION)
        with transaction():
            choices = {k: dict(v) for k, v in (job.params.get("values") or {}).items()}
            for key, pairs in (check.params.get("unmatched") or {}).items():
                vocab = vocabs.get(key)
                for index, (value, _count) in enumerate(pairs):
                    picked = request.form.get(f"v_{key}_{index}")
                    if vocab is None or not picked:
                        continue  # still to decide
                    if picked == "empty":
                        picked = import_values.LEAVE_EMPTY
                    elif picked == import_values.ADD_NEW:
                        if not (may_add and vocab.can_add):
                            abort(403)
                        picked = import_values.add_to_dictionary(db.session, vocab, value)
                    else:
                        picked = next((v for v, _label in vocab.values if str(v) == picked), None)
                        if picked is None:
                            continue  # not one of the offered values: still to decide
                    choices.setdefault(key, {})[vocab.key(value)] = picked
            job.params = {**job.params, "values": choices}
            import_values.remember_choices(db.session, entity, current_user.id, job.params["headers"], choices)
        return self._start_check(job)

    @expose("/<int:job_id>/commit/", methods=["POST"])
    def commit(self, job_id: int) -> Any:
        job, check = self._draft(job_id)
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(url_for(".check", job_id=job.id))
        entity = excel_jobs.IMPORT_KINDS[job.kind]
        if not self._ready(job, entity, self._option_error(dict(job.params.get("options") or {}))):
            return redirect(url_for(".mapping", job_id=job.id))
        return self._commit(job, entity)

    def _reread(self, job: JobRecord, sheet: str | None) -> None:
        """Read the upload again (another sheet) in a preview job; the page waits for it."""
        with transaction():
            job.params = {**{k: v for k, v in job.params.items() if k not in ("headers", "preview_rows")},
                          "sheet": sheet}
            job.status, job.error = JobStatus.READING, None
        _enqueue(excel_jobs.run_preview, job)

    def _read_mapping_form(self, job: JobRecord, params: dict[str, Any]) -> dict[str, Any]:
        """The mapping and options as submitted; choosing another header row maps afresh. A
        dry run of the former mapping no longer says what an import would do: it is dropped."""
        params = {k: v for k, v in params.items() if k != "check_id"}
        header_row = request.form.get("header_row", "")
        if params_.setting_number(header_row) is not None and int(header_row) != params["header_row"]:
            rows = excel_jobs.preview_rows(job)
            index = min(int(header_row), len(rows) - 1)
            entity = excel_jobs.IMPORT_KINDS[job.kind]
            headers = [importing.cell_text(h) for h in rows[index]]
            params.update(header_row=index, headers=headers,
                          values=import_values.remembered_choices(db.session, entity, current_user.id, headers),
                          mapping=importing.auto_mapping(headers, importing.columns(db.session, entity),
                                                         importing.remembered_mapping(db.session, entity,
                                                                                      current_user.id)))
        else:
            mapping = [request.form.get(f"col_{i}", "") for i in range(len(params["headers"]))]
            seen: set[str] = set()
            clean = []
            for target in mapping:  # one column per field: a later repeat is dropped
                clean.append(target if target and target not in seen else "")
                seen.add(target)
            params["mapping"] = clean
        owner = request.form.get("owner", "me")
        options = {"on_duplicate": request.form.get("on_duplicate", "skip")}
        if options["on_duplicate"] not in import_batch.ON_DUPLICATE:
            options["on_duplicate"] = "skip"
        if request.form.get("strict"):
            options["strict"] = True
        if request.form.get("region_from_mobile"):
            options["region_from_mobile"] = True
        if owner == "pool":
            options["to_pool"] = True
        elif params_.id_or_none(owner):
            options["owner_id"] = params_.id_or_none(owner)
        params["options"] = options
        params["owner_choice"] = owner
        return params

    def _option_error(self, options: dict[str, Any]) -> str | None:
        actor = current_actor()
        if options.get("to_pool") or (options.get("owner_id") and options["owner_id"] != actor.user_id):
            if not actor.can("pool.assign"):
                return gettext("您没有指派客户的权限，只能导入为自己的客户")
        if options.get("to_pool"):
            options["pool_id"] = pool_rules.home_pool(db.session, actor.user_id)
        if options.get("owner_id"):
            ok = db.session.scalar(select(User.id).where(User.id == options["owner_id"], User.active.is_(True),
                                                         scope.owner_clause(User.id, actor)))
            if ok is None:
                return gettext("请选择您权限范围内的同事")
        return None

    # --- jobs --------------------------------------------------------------------------------------
    @expose("/<int:job_id>/")
    def job_view(self, job_id: int) -> Any:
        job = _job_for_user(job_id)
        if job.status in (JobStatus.DRAFT, JobStatus.READING) and job.kind.startswith("import_"):
            return redirect(url_for(".mapping", job_id=job.id))
        if job.kind == import_preview.CHECK_KIND:  # a dry run is shown on its import's check page
            return redirect(url_for(".check", job_id=job.params["draft_id"]))
        return self.render("admin/imports/job.html", job=job, state=_status(job), kind_names=KIND_NAMES,
                           JobStatus=JobStatus)

    @expose("/<int:job_id>/status.json")
    def job_status(self, job_id: int) -> Any:
        return jsonify(_status(_job_for_user(job_id)))

    @expose("/<int:job_id>/resume/", methods=["POST"])
    def resume(self, job_id: int) -> Any:
        job = _job_for_user(job_id)
        if not CsrfForm(request.form).validate():
            abort(400)
        if job.files_expired_at is not None:
            flash(gettext("文件已过期清理，无法继续；请重新上传后导入"), "error")
        elif job.kind.startswith("import_") and job.status == JobStatus.FAILED and "headers" not in job.params:
            self._reread(job, job.params.get("sheet"))  # its file was never read: read it again
            return redirect(url_for(".mapping", job_id=job.id))
        elif job.status == JobStatus.FAILED or _stale(job, _interruption(job)):
            with transaction():
                job.status, job.error = JobStatus.QUEUED, None
            func = excel_jobs.run_import if job.kind.startswith("import_") else excel_jobs.run_export
            if _enqueue(func, job):
                flash(gettext("已继续执行，已完成的部分不会重复"), "success")
        return redirect(url_for(".job_view", job_id=job.id))

    @expose("/<int:job_id>/result.xlsx")
    def result_file(self, job_id: int) -> Any:
        job = _job_for_user(job_id)
        if job.files_expired_at is not None:
            flash(gettext("文件已过期清理（保留 %(d)d 天）", d=current_app.config["FILE_RETENTION_DAYS"]), "error")
            return redirect(url_for(".job_view", job_id=job.id))
        path = excel_jobs.stored_path(job.result_path)
        if path is None or not path.exists():
            abort(404)
        if job.kind.startswith("import_"):
            name = gettext("未导入的行-%(f)s", f=Path(job.file_name or "import").stem) + ".xlsx"
        else:
            name = f"{KIND_NAMES[job.kind]}-{exporting.today_stamp(job.created_at, current_app.config['TIMEZONE'])}.xlsx"
        return send_file(path, as_attachment=True, download_name=name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    # --- templates -----------------------------------------------------------------------------
    @expose("/template/<entity>.xlsx")
    def template(self, entity: str) -> Any:
        if entity not in importing.ENTITIES:
            abort(404)
        cols = importing.columns(db.session, entity)
        required = importing.required_keys(db.session, entity)
        examples = import_products.EXAMPLES if entity == "product" else EXAMPLES
        example = [examples.get(c.key, "") for c in cols]
        note = str(import_products.TEMPLATE_NOTE) if entity == "product" else None
        note = note or gettext("带 * 的列必须填写。\n第一行是表头，请不要修改表头文字；示例行可以删除。\n"
                               "手机号码、电话请填写数字；日期可写 2023-05-01 或 2023年5月1日。\n"
                               "客户分类、来源、行业等须与“数据字典”中的名称一致。")
        name = excel_jobs.new_file_name("templates", ".xlsx")
        path = excel_jobs.stored_path(name)
        spreadsheet.write_template(path, title=gettext("导入模板"), header=exporting.template_header(cols, required),
                                   example=example, notes_title=gettext("填写说明"), notes=note, author="客池CRM")
        data = path.read_bytes()
        path.unlink(missing_ok=True)
        from io import BytesIO

        return send_file(BytesIO(data), as_attachment=True,
                         download_name=gettext("%(e)s导入模板", e=str(importing.ENTITIES[entity]).split("（")[0]) + ".xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    # --- export --------------------------------------------------------------------------------
    @expose("/export/<entity>/", methods=["GET", "POST"])
    def export(self, entity: str) -> Any:
        return self.export_from(entity, entity)

    @expose("/export/<entity>/from/<source>/", methods=["GET", "POST"])
    def export_from(self, entity: str, source: str) -> Any:
        """导出Excel of list `source` (an endpoint: 订单综合查询 or one state's list) as `entity`."""
        view = self._list_view(entity, source)
        self.require(view.permission_export)
        columns = exporting.COLUMNS[entity](db.session)
        list_args = request.query_string.decode()  # the list page's search, filters and sort
        page = {"entity": entity, "source": source, "entity_name": exporting.ENTITIES[entity], "columns": columns,
                "list_args": list_args, "back": self._list_url(view, list_args)}
        if request.method == "GET":
            return self.render("admin/imports/export.html", **page)
        if not CsrfForm(request.form).validate():
            abort(400)
        chosen = [c.key for c in columns if request.form.get(f"c_{c.key}")]
        if not chosen:
            flash(gettext("请至少选择一列"), "error")
            return self.render("admin/imports/export.html", **page)
        ids = self._list_ids(view, entity)
        name = excel_jobs.new_file_name("exports", ".ids")
        excel_jobs.stored_path(name).write_text("\n".join(str(i) for i in ids))
        job = JobRecord(kind=f"export_{entity}", status=JobStatus.QUEUED, user_id=current_user.id, file_path=name,
                        file_name=None, total=len(ids), params={"columns": chosen, "ip": client_ip()})
        with transaction():
            db.session.add(job)
        if len(ids) <= int(current_app.config.get("EXPORT_INLINE_ROWS", 2000)):
            excel_jobs.export_now(job.id)  # small: the file comes back in this response
            return self.result_file(job.id)
        _enqueue(excel_jobs.run_export, job)
        return redirect(url_for(".job_view", job_id=job.id))

    def _list_url(self, view: ModelView, list_args: str) -> str:
        base = url_for(f"{view.endpoint}.index_view")
        return base + ("?" + list_args if list_args else "")

    def _list_view(self, entity: str, source: str) -> Any:
        """The registered list `source` that exports as `entity`; any other pair is no page."""
        for view in self.admin._views:
            if getattr(view, "endpoint", None) == source and getattr(view, "export_entity", None) == entity:
                return view
        abort(404)

    def _list_ids(self, view: Any, entity: str) -> list[int]:
        """The ids the list page shows for these URL arguments, in its order: the registered
        list view's own scope, search, filters and sort (its query, not a copy of it)."""
        model = exporting.MODELS[entity]
        sync = getattr(view, "sync_custom_fields", None)
        if sync is not None:  # filters on custom fields exist once the list has today's definitions
            sync()
        args = view._get_list_extra_args()  # this request carries the list page's arguments
        sort = view._get_column_by_idx(args.sort)
        _count, query = ModelView.get_list(view, None, sort[0] if sort else None, args.sort_desc, args.search,
                                           args.filters, execute=False, page_size=0)
        return [row[0] for row in query.with_entities(model.id)]


def views() -> list[Any]:
    return [ExcelView(name=_l("导入/导出"), category=CUSTOMERS, endpoint="excel", url="/admin/excel",
                      **fa("fa-file-excel-o"))]
