"""附件: upload files to a record, download them (scoped and logged, never run by the browser),
thumbnails, delete to the 附件回收站, and the pages around them: a record's files (contacts and
follow-ups have no page of their own), the bin, and the limits an administrator sets."""
from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_admin import expose
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from admin_views.backup import size_text
from admin_views.base import SIGNED_IN, PermissionView
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import CUSTOMERS, fa
from admin_views.navigation import back_url
from admin_views.params import page_number
from admin_views.stored_files import harden, send_stored
from admin_views.transaction import commit_bookkeeping, transaction
from models import db
from models.attachment import Attachment, AttachmentEntity
from models.files import FileKind
from rules import attachments, file_store, file_types
from rules.errors import OutOfScope

ICONS = {FileKind.IMAGE: "fa-file-image-o", FileKind.PDF: "fa-file-pdf-o", FileKind.WORD: "fa-file-word-o",
         FileKind.EXCEL: "fa-file-excel-o", FileKind.PRESENTATION: "fa-file-powerpoint-o",
         FileKind.TEXT: "fa-file-text-o", FileKind.ARCHIVE: "fa-file-archive-o", FileKind.AUDIO: "fa-file-audio-o",
         FileKind.VIDEO: "fa-file-video-o"}
# Record pages by kind; contacts and follow-ups show their files on this module's own page.
DETAILS = {AttachmentEntity.CUSTOMER: "customer", AttachmentEntity.LEAD: "lead",
           AttachmentEntity.OPPORTUNITY: "opportunity", AttachmentEntity.QUOTE: "quote",
           AttachmentEntity.CONTRACT: "contract", AttachmentEntity.ORDER: "order",
           AttachmentEntity.PAYMENT: "payment", AttachmentEntity.INVOICE: "invoice",
           AttachmentEntity.OFFICE_REQUEST: "office_request", AttachmentEntity.TICKET: "ticket"}
BIN_PAGE = 100
# Where an upload returns to on its record's page: the customer page keeps its files in a tab.
_ANCHORS = {AttachmentEntity.CUSTOMER.value: "#tab-attachments"}


def _root() -> str:
    return current_app.config["FILES_DIR"]


def record_page(entity: str, record_id: int) -> str:
    kind = AttachmentEntity(entity)
    if kind in DETAILS:
        return url_for(f"{DETAILS[kind]}.details_view", id=record_id)
    return url_for("attachment.record_view", entity=kind.value, record_id=record_id)


def _types_text(kinds: list[str]) -> str:
    return "、".join(str(file_types.KIND_LABELS[FileKind(k)]) for k in kinds if k in FileKind._value2member_map_)


def _limits_text() -> str:
    limit = attachments.limits(db.session)
    return gettext("单个文件不超过 %(f)s MB，每次最多 %(n)s 个、合计不超过 %(t)s MB；允许：%(k)s",
                   f=limit["attachment_max_mb"], n=limit["upload_max_files"], t=limit["upload_max_total_mb"],
                   k=_types_text(limit["attachment_types"]))


def for_record(entity: str, record_id: int) -> dict[str, Any]:
    """What the partial _for_record.html shows for one record (the record page already checked scope)."""
    actor = current_actor()
    try:
        items = attachments.for_record(db.session, entity, record_id, actor)
    except OutOfScope:
        return {"items": [], "can_upload": False, "visible": False}
    return {"items": items, "visible": True, "entity": entity, "record_id": record_id,
            "can_upload": actor.can(attachments.UPLOAD), "limits_text": _limits_text(),
            "may_delete": {item.id: attachments.may_delete(db.session, item, actor) for item in items}}


def attachment_count(entity: str, record_id: int) -> int:
    """Live files of one record the page already shows (the paperclip beside a contact)."""
    return attachments.count_for(db.session, entity, [record_id]).get(record_id, 0)


def attachment_counts(entity: str, record_ids: Any) -> dict[int, int]:
    """Live files per record for the rows a page already shows, in one query."""
    return attachments.count_for(db.session, entity, list(record_ids))


def _format(item: Attachment) -> dict[str, Any]:
    return {"icon": ICONS.get(FileKind(item.file_kind), "fa-file-o"), "size": size_text(item.size),
            "kind": file_types.KIND_LABELS.get(FileKind(item.file_kind), "")}


def _set_upload_limit() -> None:
    """The upload route alone may carry more than MAX_CONTENT_LENGTH: its own limit comes from the
    settings, set before anything reads the body (so a 500 MB request is refused unread)."""
    if request.endpoint == "attachment.upload_view":
        request.max_content_length = attachments.request_limit(db.session)


def init_app(app: Flask) -> None:
    app.add_template_global(for_record, "kechi_attachments")
    app.add_template_global(attachment_count, "attachment_count")
    app.add_template_global(attachment_counts, "attachment_counts")
    app.add_template_global(_format, "kechi_attachment_format")
    app.add_template_global(record_page, "kechi_attachment_record_page")
    # First of all before-request hooks: params.refuse_nul_bytes reads the form of every request.
    app.before_request_funcs.setdefault(None, []).insert(0, _set_upload_limit)


def _too_large() -> Any:
    lang = "en" if str(get_locale() or "").startswith("en") else "zh-CN"
    limit = attachments.limits(db.session)
    explanation = gettext("一次上传的文件合计不能超过 %(t)s MB（单个文件不超过 %(f)s MB），这次的文件太大，没有上传。"
                          "请拆分后分批上传，或请管理员在 系统设置 → 附件设置 中调整上限。",
                          t=limit["upload_max_total_mb"], f=limit["attachment_max_mb"])
    return render_template("error.html", lang=lang, icon="fa-file-o", title=gettext("文件太大"),
                           explanation=explanation), 413


class AttachmentView(PermissionView):
    """Files on records. Every signed-in user may open the files of the records they see; the
    rules decide each step (upload: attachment.upload; delete: uploader or who may change the record)."""

    permission = SIGNED_IN

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self) -> Any:
        """我上传的附件: one's own recent uploads, still on records one sees."""
        actor = current_actor()
        items = attachments.visible(db.session, actor, uploaded_by=actor.user_id, limit=BIN_PAGE)
        return self.render("admin/attachments/mine.html", items=items, entity_labels=attachments.labels(),
                           names=attachments.record_names(db.session, items))

    @expose("/upload/", methods=["POST"])
    def upload_view(self) -> Any:
        try:
            form = request.form
            uploads = request.files.getlist("files")
        except RequestEntityTooLarge:
            return _too_large()
        entity, record_id = form.get("entity", ""), form.get("record_id", "")
        fallback = url_for(".index")
        try:
            fallback = record_page(entity, int(record_id))
        except (ValueError, TypeError):
            abort(404)
        target = back_url(form.get("url"), fallback)
        if not CsrfForm(form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(target)
        files = [(item.stream, item.filename) for item in uploads if item.filename]
        with transaction() as outcome:
            made = attachments.upload(db.session, entity=entity, record_id=record_id, files=files,
                                      actor=current_actor(), now=now(), root=_root(), note=form.get("note"))
            outcome.done(gettext("已上传 %(n)d 个附件：%(names)s", n=len(made),
                                 names="、".join(item.file_name for item in made)))
        return redirect(target + ("" if "#" in target else _ANCHORS.get(entity, "#attachments")))

    @expose("/download/<int:id>")
    def download_view(self, id: int) -> Any:
        try:
            item, path = attachments.open_for_download(db.session, id, current_actor(), root=_root())
        except OutOfScope:
            abort(404)
        commit_bookkeeping()  # the download is in the audit log before a byte leaves
        return send_stored(path, item.file_name, item.mime, etag=item.sha256)

    @expose("/thumb/<int:id>")
    def thumb_view(self, id: int) -> Any:
        try:
            path = attachments.thumbnail_of(db.session, id, current_actor(), root=_root())
        except OutOfScope:
            abort(404)
        response = send_file(path, mimetype="image/png", conditional=True, max_age=0)
        response.headers["Content-Disposition"] = "inline"
        return harden(response)

    @expose("/delete/<int:id>", methods=["POST"])
    def delete_view(self, id: int) -> Any:
        target = back_url(request.form.get("url"), url_for(".index"))
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(target)
        with transaction() as outcome:
            item = attachments.delete(db.session, id, actor=current_actor(), now=now())
            outcome.done(gettext("附件「%(n)s」已移到附件回收站", n=item.file_name))
        return redirect(target)

    @expose("/record/<entity>/<int:record_id>")
    def record_view(self, entity: str, record_id: int) -> Any:
        actor = current_actor()
        try:
            record = attachments.record_of(db.session, entity, record_id, actor)
        except OutOfScope:
            abort(404)
        customer_id = getattr(record, "customer_id", None)
        back = url_for("customer.details_view", id=customer_id) if customer_id else url_for(".index")
        return self.render("admin/attachments/record.html", record=record, entity=entity, record_id=record_id,
                           entity_label=attachments.labels()[AttachmentEntity(entity).value], back=back,
                           title=_record_title(entity, record))


def _record_title(entity: str, record: Any) -> str:
    if entity == AttachmentEntity.FOLLOW_UP:
        text = (record.content or "").strip().replace("\n", " ")
        return f"{record.happened_at:%Y-%m-%d} {text[:30]}{'…' if len(text) > 30 else ''}"
    return str(record)


class AttachmentBinView(PermissionView):
    """附件回收站: deleted files of the records one sees, to restore or purge."""

    permission = attachments.BIN

    @expose("/")
    def index(self) -> Any:
        page = page_number(request.args.get("page"))
        items = attachments.binned(db.session, current_actor(), limit=BIN_PAGE + 1, offset=page * BIN_PAGE)
        return self.render("admin/attachments/bin.html", items=items[:BIN_PAGE], page=page,
                           has_next=len(items) > BIN_PAGE, entity_labels=attachments.labels(),
                           names=attachments.record_names(db.session, items[:BIN_PAGE]))

    @expose("/restore/<int:id>", methods=["POST"])
    def restore_view(self, id: int) -> Any:
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(url_for(".index"))
        with transaction() as outcome:
            item = attachments.restore(db.session, id, actor=current_actor())
            outcome.done(gettext("附件「%(n)s」已恢复", n=item.file_name))
        return redirect(url_for(".index"))

    @expose("/purge/<int:id>", methods=["POST"])
    def purge_view(self, id: int) -> Any:
        if not CsrfForm(request.form).validate():
            flash(gettext("页面已过期，请重新提交"), "error")
            return redirect(url_for(".index"))
        keys: list[str] = []
        with transaction(gettext("附件已彻底删除")) as outcome:
            keys = attachments.purge(db.session, id, actor=current_actor())
        if outcome.ok:
            file_store.delete(_root(), *keys)
        return redirect(url_for(".index"))


def views() -> list[Any]:
    return [AttachmentView(name=_l("附件"), endpoint="attachment", category=CUSTOMERS, **fa("fa-paperclip")),
            AttachmentBinView(name=_l("附件回收站"), endpoint="attachment_bin", category=CUSTOMERS,
                              **fa("fa-trash-o"))]
