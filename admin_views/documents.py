"""文档中心: folders on the left, documents on the right, search by name or by words inside the
files, 最近更新, several files uploaded at once, versions, downloads, the grants of a space, the
document recycle bin, and the 全部附件 tab over the records' attachments the reader may see.
Thin: every decision is in rules/document_folders.py, rules/documents.py, rules/document_search.py."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError

from admin_views import params
from admin_views.backup import size_text
from admin_views.base import PermissionView
from admin_views.context import audit_context, current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import OFFICE, fa
from admin_views.stored_files import send_stored
from admin_views.transaction import commit_bookkeeping, transaction
from jobs import document_text as text_jobs
from jobs.queue import QueueUnavailable, enqueue
from models import db
from models.attachment import AttachmentEntity
from models.document import DocumentFolder, GrantLevel, TextStatus
from models.files import FileKind
from models.org import Department, Role, User
from rules import document_folders, document_search, documents, file_types
from rules.attachments import record_names, visible as visible_attachments
from rules.errors import OutOfScope, RuleViolation

ENTITY_LABELS = {AttachmentEntity.CUSTOMER: _l("客户"), AttachmentEntity.CONTACT: _l("联系人"),
                 AttachmentEntity.FOLLOW_UP: _l("联系记录"), AttachmentEntity.LEAD: _l("线索"),
                 AttachmentEntity.OPPORTUNITY: _l("销售机会"), AttachmentEntity.QUOTE: _l("报价单"),
                 AttachmentEntity.CONTRACT: _l("合同"), AttachmentEntity.ORDER: _l("订单"),
                 AttachmentEntity.PAYMENT: _l("回款"), AttachmentEntity.INVOICE: _l("开票"),
                 AttachmentEntity.OFFICE_REQUEST: _l("工作请示"), AttachmentEntity.TICKET: _l("工单")}
TEXT_LABELS = {TextStatus.PENDING: _l("正在读取文字"), TextStatus.DONE: _l("可按内容搜索"),
               TextStatus.NONE: _l("无文字内容"), TextStatus.FAILED: _l("无法读取文字")}
ATTACHMENTS_PAGE = 50
UPLOAD_ENDPOINTS = ("document.upload", "document.new_version")
UPLOAD_OVERHEAD = 1024 * 1024  # the multipart framing around the files


def record_url(entity: str, record_id: int) -> str | None:
    """The page of an attachment's record (contacts and follow-ups: their attachments page)."""
    try:
        if entity in (AttachmentEntity.CONTACT, AttachmentEntity.FOLLOW_UP):
            return url_for("attachment.record_view", entity=entity, record_id=record_id)
        return url_for(f"{entity}.details_view", id=record_id)
    except BuildError:
        return None


def attachment_download_url(attachment_id: int) -> str | None:
    try:
        return url_for("attachment.download_view", id=attachment_id)
    except BuildError:
        return None


def _files_root() -> str:
    return current_app.config["FILES_DIR"]


def _csrf_ok() -> bool:
    if CsrfForm(request.form).validate():
        return True
    flash(gettext("页面已过期，请重新提交"), "error")
    return False


def _read_texts(version_ids: list[int]) -> None:
    """Enqueue the text extraction after the commit (a job must see the rows)."""
    try:
        for version_id in version_ids:
            enqueue(text_jobs.extract_version, version_id, job_timeout=120)
    except QueueUnavailable:
        flash(gettext("文件已保存；任务队列暂时不可用，文件内容稍后才能被搜索到"), "warning")


class DocumentCentreView(PermissionView):
    permission = "document.view"

    def _folder_url(self, folder_id: int | None) -> str:
        return url_for(".index", folder=folder_id) if folder_id else url_for(".index")

    @expose("/")
    def index(self) -> Any:
        actor = current_actor()
        with transaction():  # 我的文档 and the department's folder, on the first visit
            document_folders.ensure_own(db.session, actor, now=now())
        folders = document_folders.visible(db.session, actor)
        folder_id = params.id_or_none(request.args.get("folder"))
        term = params.clean_text(request.args.get("q"))[:100]
        folder = None
        if folder_id is not None:
            folder = next((f for f in folders if f.id == folder_id), None)
            if folder is None:
                abort(404)
        rights = {}
        if folder is not None:
            rights = {level: document_folders.may(db.session, actor, folder, level) for level in GrantLevel}
        move_targets = []
        if folder is not None and folder.parent_id and rights.get(GrantLevel.MANAGE):
            managed = document_folders.roots(db.session, actor, GrantLevel.MANAGE)
            move_targets = [node for node in document_folders.tree(folders)
                            if node.folder.root_id in managed and node.folder.id != folder.id]
        results = document_search.find(db.session, actor, term) if term else []
        in_folder = documents.in_folder(db.session, actor, folder) if folder is not None and not term else []
        by_id = {f.id: f for f in folders}
        return self.render(
            "admin/documents/index.html", tab="documents", tree=document_folders.tree(folders), folder=folder,
            path=_path(folder, by_id), move_targets=move_targets, subfolders=[f for f in folders if folder and f.parent_id == folder.id],
            rights=rights, term=term, results=results, documents=in_folder, by_id=by_id,
            recent=documents.recent(db.session, actor) if folder is None and not term else [],
            snippet=lambda d: document_search.snippet(db.session, d.id, term), can_manage_centre=actor.can("document.manage"),
            limits=documents.limits(db.session), size_text=size_text, kind_label=documents.kind_label,
            kind_labels=document_folders.KIND_LABELS, user_name=_user_names(results + in_folder),
        )

    # --- folders ---------------------------------------------------------------------------------

    @expose("/folder/new", methods=["POST"])
    def new_folder(self) -> Any:
        parent = params.id_or_none(request.form.get("parent_id"))
        if not _csrf_ok():
            return redirect(self._folder_url(parent))
        with transaction() as outcome:
            folder = document_folders.create(db.session, current_actor(), name=request.form.get("name", ""),
                                             parent_id=parent, now=now())
            outcome.done(gettext("已新建文件夹「%(n)s」", n=folder.name))
        return redirect(self._folder_url(folder.id if outcome.ok else parent))

    @expose("/folder/<int:folder_id>/rename", methods=["POST"])
    def rename_folder(self, folder_id: int) -> Any:
        if _csrf_ok():
            with transaction(gettext("已改名")):
                document_folders.rename(db.session, current_actor(), folder_id, request.form.get("name", ""))
        return redirect(self._folder_url(folder_id))

    @expose("/folder/<int:folder_id>/move", methods=["POST"])
    def move_folder(self, folder_id: int) -> Any:
        if _csrf_ok():
            with transaction(gettext("已移动文件夹")):
                document_folders.move(db.session, current_actor(), folder_id,
                                      params.id_or_none(request.form.get("parent_id")))
        return redirect(self._folder_url(folder_id))

    @expose("/folder/<int:folder_id>/delete", methods=["POST"])
    def delete_folder(self, folder_id: int) -> Any:
        parent = None
        if _csrf_ok():
            with transaction(gettext("已删除文件夹")) as outcome:
                folder = document_folders.delete(db.session, current_actor(), folder_id, now=now())
                parent = folder.parent_id
            if not outcome.ok:
                return redirect(self._folder_url(folder_id))
        return redirect(self._folder_url(parent))

    # --- grants ----------------------------------------------------------------------------------

    @expose("/folder/<int:folder_id>/grants")
    def grants(self, folder_id: int) -> Any:
        actor = current_actor()
        try:
            root, rows = document_folders.grants(db.session, actor, folder_id)
        except OutOfScope:
            abort(404)
        except RuleViolation as exc:  # not a manager of it, or 我的文档: say why, back to the folder
            flash(str(exc), "error")
            return redirect(self._folder_url(folder_id))
        return self.render(
            "admin/documents/grants.html", tab="documents", root=root, folder_id=folder_id, grants=rows,
            holder=lambda g: document_folders.holder_label(db.session, g), level_labels=document_folders.LEVEL_LABELS,
            users=db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name)).all(),
            roles=db.session.scalars(select(Role).order_by(Role.name)).all(),
            departments=db.session.scalars(select(Department).order_by(Department.path)).all(),
            kind_labels=document_folders.KIND_LABELS,
        )

    @expose("/folder/<int:folder_id>/grants/add", methods=["POST"])
    def add_grant(self, folder_id: int) -> Any:
        if _csrf_ok():
            holder = request.form.get("holder", "")
            kind, _sep, raw = holder.partition(":")
            chosen = {f"{kind}_id": raw} if kind in ("user", "role", "department") else {}
            with transaction(gettext("已添加授权")):
                document_folders.add_grant(db.session, current_actor(), folder_id,
                                           level=request.form.get("level", ""),
                                           include_children=request.form.get("include_children") == "1", **chosen)
        return redirect(url_for(".grants", folder_id=folder_id))

    @expose("/grants/<int:grant_id>/remove", methods=["POST"])
    def remove_grant(self, grant_id: int) -> Any:
        folder_id = params.id_or_none(request.form.get("folder_id"))
        if _csrf_ok():
            with transaction(gettext("已取消授权")):
                document_folders.remove_grant(db.session, current_actor(), grant_id)
        return redirect(url_for(".grants", folder_id=folder_id) if folder_id else url_for(".index"))

    # --- documents -------------------------------------------------------------------------------

    @expose("/upload", methods=["POST"])
    def upload(self) -> Any:
        try:
            folder_id = params.id_or_none(request.form.get("folder_id"))
            files = [(f.stream, f.filename) for f in request.files.getlist("files") if f and f.filename]
        except RequestEntityTooLarge:
            abort(413)
        if not _csrf_ok():
            return redirect(self._folder_url(folder_id))
        written = []
        with transaction() as outcome:
            written = documents.upload(db.session, folder_id=folder_id, files=files, actor=current_actor(), now=now(),
                                       root=_files_root(), ctx=audit_context(), note=request.form.get("note"))
            outcome.done(gettext("已上传 %(n)d 个文件", n=len(written)))
        if outcome.ok:
            _read_texts([v.id for v in written])
        return redirect(self._folder_url(folder_id))

    @expose("/doc/<int:document_id>")
    def document(self, document_id: int) -> Any:
        actor = current_actor()
        try:
            doc = documents.get(db.session, actor, document_id)
        except OutOfScope:
            abort(404)
        folder = db.session.get(DocumentFolder, doc.folder_id)
        folders = document_folders.visible(db.session, actor)
        by_id = {f.id: f for f in folders}
        may_upload = document_folders.may(db.session, actor, folder, GrantLevel.UPLOAD)
        writable = document_folders.roots(db.session, actor, GrantLevel.UPLOAD) if may_upload else set()
        targets = [node for node in document_folders.tree(folders) if node.folder.root_id in writable]
        return self.render(
            "admin/documents/document.html", tab="documents", doc=doc, folder=folder, path=_path(folder, by_id),
            versions=documents.versions(db.session, doc), may_upload=may_upload,
            may_delete=documents.may_delete(db.session, actor, doc), targets=targets, size_text=size_text,
            kind_label=documents.kind_label, text_labels=TEXT_LABELS, limits=documents.limits(db.session),
        )

    @expose("/doc/<int:document_id>/version", methods=["POST"])
    def new_version(self, document_id: int) -> Any:
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            abort(413)
        if not _csrf_ok():
            return redirect(url_for(".document", document_id=document_id))
        version = None
        with transaction() as outcome:
            version = documents.new_version(db.session, document_id=document_id,
                                            stream=upload.stream if upload and upload.filename else None,
                                            name=upload.filename if upload else None, actor=current_actor(),
                                            now=now(), root=_files_root(), ctx=audit_context(),
                                            note=request.form.get("note"))
            outcome.done(gettext("已上传第 %(n)d 版", n=version.number))
        if outcome.ok:
            _read_texts([version.id])
        return redirect(url_for(".document", document_id=document_id))

    @expose("/doc/<int:document_id>/rename", methods=["POST"])
    def rename_document(self, document_id: int) -> Any:
        if _csrf_ok():
            with transaction(gettext("已改名")):
                documents.rename(db.session, current_actor(), document_id, request.form.get("name", ""), now=now())
        return redirect(url_for(".document", document_id=document_id))

    @expose("/doc/<int:document_id>/move", methods=["POST"])
    def move_document(self, document_id: int) -> Any:
        if _csrf_ok():
            with transaction(gettext("已移动")):
                documents.move(db.session, current_actor(), document_id,
                               params.id_or_none(request.form.get("folder_id")), now=now())
        return redirect(url_for(".document", document_id=document_id))

    @expose("/doc/<int:document_id>/delete", methods=["POST"])
    def delete_document(self, document_id: int) -> Any:
        folder_id = None
        if _csrf_ok():
            with transaction(gettext("已移到文档回收站，可在回收站恢复")) as outcome:
                folder_id = documents.delete(db.session, current_actor(), document_id, now=now()).folder_id
            if not outcome.ok:
                return redirect(url_for(".document", document_id=document_id))
        return redirect(self._folder_url(folder_id))

    @expose("/download/<int:version_id>")
    def download(self, version_id: int) -> Any:
        try:
            version, path = documents.open_version(db.session, current_actor(), version_id, root=_files_root(),
                                                   ctx=audit_context())
        except OutOfScope:
            abort(404)
        commit_bookkeeping()
        return send_stored(path, version.file_name, version.mime, etag=version.sha256)

    # --- recycle bin -----------------------------------------------------------------------------

    @expose("/bin")
    def bin(self) -> Any:
        return self.render("admin/documents/bin.html", tab="bin",
                           documents=documents.binned(db.session, current_actor()), size_text=size_text,
                           user_name=_user_names([]), kind_label=documents.kind_label)

    @expose("/bin/<int:document_id>/restore", methods=["POST"])
    def restore(self, document_id: int) -> Any:
        if _csrf_ok():
            with transaction(gettext("已恢复")):
                documents.restore(db.session, current_actor(), document_id, now=now())
        return redirect(url_for(".bin"))

    # --- 全部附件 --------------------------------------------------------------------------------

    @expose("/attachments")
    def attachments(self) -> Any:
        actor = current_actor()
        kind = request.args.get("kind") or ""
        entity = request.args.get("entity") or ""
        page = params.page_number(request.args.get("page"))
        kind = kind if kind in {k.value for k in FileKind} else ""
        entity = entity if entity in {e.value for e in AttachmentEntity} else ""
        rows = visible_attachments(db.session, actor, kind=kind, entity=entity,
                                             offset=page * ATTACHMENTS_PAGE, limit=ATTACHMENTS_PAGE + 1)
        return self.render(
            "admin/documents/attachments.html", tab="attachments", rows=rows[:ATTACHMENTS_PAGE],
            names=record_names(db.session, rows[:ATTACHMENTS_PAGE]),
            more=len(rows) > ATTACHMENTS_PAGE, page=page, kind=kind, entity=entity,
            kind_labels=file_types.KIND_LABELS, entity_labels=ENTITY_LABELS, size_text=size_text,
            record_url=record_url, download_url=attachment_download_url, user_name=_user_names(rows),
        )


def _path(folder: DocumentFolder | None, by_id: dict[int, DocumentFolder]) -> list[DocumentFolder]:
    """The folder and its parents, top first (the breadcrumb)."""
    path = []
    while folder is not None and len(path) < 50:
        path.append(folder)
        folder = by_id.get(folder.parent_id) if folder.parent_id else None
    return list(reversed(path))


def _user_names(rows: list[Any]) -> Any:
    """Display names of the people a page mentions, loaded in one query."""
    ids = {getattr(r, attr) for r in rows for attr in ("updated_by_id", "uploaded_by_id", "deleted_by_id", "created_by_id")
           if getattr(r, attr, None)}
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}

    def name(user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id not in names:
            user = db.session.get(User, user_id)
            names[user_id] = user.display_name if user else ""
        return names[user_id]

    return name


def _upload_limit(endpoint: str | None, _values: dict | None) -> None:
    """Uploads may be larger than the site-wide request limit (MAX_CONTENT_LENGTH): up to the
    upload setting, decided before anything reads the body; only for someone signed in."""
    if endpoint in UPLOAD_ENDPOINTS and current_user.is_authenticated:
        request.max_content_length = documents.limits(db.session).max_total + UPLOAD_OVERHEAD


def init_app(app: Any) -> None:
    # url_value_preprocessors run before every before_request hook, one of which reads the form.
    app.url_value_preprocessors[None].append(_upload_limit)


def views() -> list[Any]:
    return [DocumentCentreView(name=_l("文档中心"), category=OFFICE, endpoint="document", url="/admin/document",
                               **fa("fa-folder-open"))]
