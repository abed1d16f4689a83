"""文档中心的文档: uploading (several files at once, all or nothing), new versions that keep the
old ones, rename, move, the recycle bin, 最近更新, downloads. Files go through rules/file_store
with the limits of the attachments' settings (系统设置 → 附件), checked by their content.
Rights come from the folder's space (rules/document_folders.py): UPLOAD to add or change,
VIEW to download; deleting is for whoever uploaded the document or manages its space."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models.document import Document, DocumentFolder, DocumentVersion, GrantLevel, TextStatus
from models.files import FileKind
from rules import document_folders, document_search, file_store, file_types, scope, settings
from rules.actor import Actor
from rules.audit import AuditContext, record
from rules.errors import FileRefused, InvalidValue, OutOfScope, PermissionDenied

# The attachments' settings (rules/attachments.py) with the same defaults, read by key so the
# document centre follows whatever the administrator set for files.
LIMIT_DEFAULTS = {"attachment_max_mb": 20, "upload_max_files": 10, "upload_max_total_mb": 100,
                  "attachment_types": [k.value for k in file_types.DEFAULT_ALLOWED]}
RECENT = 10
NAME_MAX = 255


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_files: int
    max_total: int
    allowed: tuple[str, ...]


def limits(session: Session) -> Limits:
    def value(key: str) -> object:
        found = settings.get(session, key)
        return LIMIT_DEFAULTS[key] if found is None else found

    return Limits(max_bytes=int(value("attachment_max_mb")) * 1024 * 1024, max_files=int(value("upload_max_files")),
                  max_total=int(value("upload_max_total_mb")) * 1024 * 1024,
                  allowed=tuple(str(k) for k in value("attachment_types")))


def _live(stmt: Select) -> Select:
    return stmt.where(Document.deleted_at.is_(None))


def get(session: Session, actor: Actor, document_id: object) -> Document:
    """A live document the actor may see, or OutOfScope (404)."""
    document = scope.get_in_scope(session, Document, document_id, actor)
    if document.deleted_at is not None:
        raise OutOfScope(_l("记录不存在"))
    return document


def versions(session: Session, document: Document) -> list[DocumentVersion]:
    return list(session.scalars(select(DocumentVersion).where(DocumentVersion.document_id == document.id)
                                .order_by(DocumentVersion.number.desc())))


def in_folder(session: Session, actor: Actor, folder: DocumentFolder) -> list[Document]:
    return list(session.scalars(_live(select(Document).where(Document.folder_id == folder.id, scope.document_clause(actor)))
                                .order_by(Document.name, Document.id)))


def recent(session: Session, actor: Actor, *, limit: int = RECENT) -> list[Document]:
    """最近更新: the documents the actor may see, the last changed first."""
    return list(session.scalars(_live(select(Document).where(scope.document_clause(actor)))
                                .order_by(Document.updated_at.desc(), Document.id.desc()).limit(limit)))


def _store_all(session: Session, files: list[tuple[BinaryIO, str | None]], *, root: str | Path,
               now: datetime) -> list[file_store.StoredFile]:
    """Store every file or none: a refused file leaves no bytes, and the message names each
    refused file and why."""
    rules = limits(session)
    files = [(stream, name) for stream, name in files if stream is not None]
    if not files:
        raise FileRefused(_l("请选择要上传的文件"))
    if len(files) > rules.max_files:
        raise FileRefused(_l("一次最多上传 %(n)d 个文件", n=rules.max_files))
    stored: list[file_store.StoredFile] = []
    refused: list[str] = []
    try:
        for stream, name in files:
            try:
                stored.append(file_store.save(stream, name, root=root, now=now, max_bytes=rules.max_bytes,
                                              allowed=rules.allowed))
            except FileRefused as exc:
                refused.append(str(exc))
        if sum(f.size for f in stored) > rules.max_total:
            refused.append(str(_l("这次上传的文件合计超过 %(m)s，请分几次上传", m=file_store.mb(rules.max_total))))
    except BaseException:
        file_store.delete(root, *(key for f in stored for key in (f.storage_key, f.thumb_key)))
        raise
    if refused:
        file_store.delete(root, *(key for f in stored for key in (f.storage_key, f.thumb_key)))
        raise FileRefused(_l("没有上传任何文件：%(r)s", r="；".join(refused)))
    return stored


def _add_version(session: Session, document: Document, stored: file_store.StoredFile, *, actor: Actor,
                 now: datetime, note: str | None, ctx: AuditContext) -> DocumentVersion:
    number = (session.scalar(select(func.max(DocumentVersion.number))
                             .where(DocumentVersion.document_id == document.id)) or 0) + 1
    version = DocumentVersion(document_id=document.id, number=number, note=(note or "").strip()[:255] or None,
                              uploaded_by_id=actor.user_id, uploaded_at=now, text_status=TextStatus.PENDING,
                              **stored.columns())
    session.add(version)
    document.current_version = number
    document.file_kind = stored.file_kind.value
    document.size = stored.size
    document.updated_by_id = actor.user_id
    document.updated_at = now
    session.flush()
    record(session, ctx=ctx, action="upload", entity="Document", entity_id=str(document.id),
           details={"file": stored.file_name, "version": number, "bytes": stored.size})
    return version


def upload(session: Session, *, folder_id: object, files: list[tuple[BinaryIO, str | None]], actor: Actor,
           now: datetime, root: str | Path, ctx: AuditContext, note: str | None = None) -> list[DocumentVersion]:
    """Files into a folder (UPLOAD in its space). A file named like a document already in the
    folder becomes that document's new version; the others become new documents. Returns the
    versions written (their text is taken out by jobs/document_text.py after the commit)."""
    folder = document_folders.get(session, actor, folder_id)
    document_folders.require(session, actor, folder, GrantLevel.UPLOAD)
    stored = _store_all(session, files, root=root, now=now)
    written: list[DocumentVersion] = []
    try:
        for item in stored:
            document = session.scalar(_live(select(Document).where(Document.folder_id == folder.id,
                                                                   Document.name == item.file_name)).limit(1))
            if document is None:
                document = Document(folder_id=folder.id, root_id=folder.root_id, name=item.file_name,
                                    current_version=0, file_kind=item.file_kind.value, size=item.size,
                                    created_by_id=actor.user_id, created_at=now, updated_by_id=actor.user_id,
                                    updated_at=now)
                session.add(document)
                session.flush()
            written.append(_add_version(session, document, item, actor=actor, now=now, note=note, ctx=ctx))
            document_search.refresh(session, document, text_="")
    except BaseException:
        file_store.delete(root, *(key for f in stored for key in (f.storage_key, f.thumb_key)))
        raise
    return written


def new_version(session: Session, *, document_id: object, stream: BinaryIO | None, name: str | None, actor: Actor,
                now: datetime, root: str | Path, ctx: AuditContext, note: str | None = None) -> DocumentVersion:
    """上传新版本: the document keeps every earlier version, each still downloadable."""
    document = get(session, actor, document_id)
    document_folders.require(session, actor, document.folder, GrantLevel.UPLOAD)
    [stored] = _store_all(session, [(stream, name)], root=root, now=now)
    try:
        version = _add_version(session, document, stored, actor=actor, now=now, note=note, ctx=ctx)
        document_search.refresh(session, document, text_="")
    except BaseException:
        file_store.delete(root, stored.storage_key, stored.thumb_key)
        raise
    return version


def rename(session: Session, actor: Actor, document_id: object, name: str, *, now: datetime) -> Document:
    document = get(session, actor, document_id)
    document_folders.require(session, actor, document.folder, GrantLevel.UPLOAD)
    name = " ".join((name or "").split())
    if not name:
        raise InvalidValue(_l("请填写文档名称"))
    if len(name) > NAME_MAX or "/" in name or "\\" in name:
        raise InvalidValue(_l("文档名称最多 %(n)d 个字，且不能包含 / 或 \\", n=NAME_MAX))
    document.name = name
    document.updated_by_id = actor.user_id
    document.updated_at = now
    document_search.refresh(session, document)
    return document


def move(session: Session, actor: Actor, document_id: object, folder_id: object, *, now: datetime) -> Document:
    """Into another folder (UPLOAD in both spaces); the document takes the rights of its new space."""
    document = get(session, actor, document_id)
    document_folders.require(session, actor, document.folder, GrantLevel.UPLOAD)
    target = document_folders.get(session, actor, folder_id)
    document_folders.require(session, actor, target, GrantLevel.UPLOAD)
    document.folder_id = target.id
    document.root_id = target.root_id
    document.updated_by_id = actor.user_id
    document.updated_at = now
    session.flush()
    return document


def may_delete(session: Session, actor: Actor, document: Document) -> bool:
    folder = session.get(DocumentFolder, document.folder_id)
    if document.created_by_id == actor.user_id and document_folders.may(session, actor, folder, GrantLevel.UPLOAD):
        return True
    return document_folders.may(session, actor, folder, GrantLevel.MANAGE)


def delete(session: Session, actor: Actor, document_id: object, *, now: datetime) -> Document:
    """To the recycle bin (whoever uploaded it, or manages its space)."""
    document = get(session, actor, document_id)
    if not may_delete(session, actor, document):
        raise PermissionDenied(_l("只有上传者或文件夹管理者可以删除文档「%(n)s」", n=document.name))
    document.deleted_at = now
    document.deleted_by_id = actor.user_id
    session.flush()
    return document


def binned(session: Session, actor: Actor) -> list[Document]:
    """文档回收站: deleted documents the actor may still see and may restore."""
    rows = session.scalars(select(Document).where(Document.deleted_at.is_not(None), scope.document_clause(actor))
                           .order_by(Document.deleted_at.desc()).limit(200))
    return [d for d in rows if may_delete(session, actor, d)]


def restore(session: Session, actor: Actor, document_id: object, *, now: datetime) -> Document:
    document = scope.get_in_scope(session, Document, document_id, actor)
    if document.deleted_at is None or not may_delete(session, actor, document):
        raise OutOfScope(_l("记录不存在"))
    folder = session.get(DocumentFolder, document.folder_id)
    if folder.deleted_at is not None:
        raise InvalidValue(_l("文档原来所在的文件夹已删除，无法恢复"))
    document.deleted_at = None
    document.deleted_by_id = None
    document.updated_at = now
    session.flush()
    return document


def open_version(session: Session, actor: Actor, version_id: object, *, root: str | Path,
                 ctx: AuditContext) -> tuple[DocumentVersion, Path]:
    """A version to download (VIEW in its space; outside it 404), noted in the audit log; the
    caller commits the note."""
    version = scope.get_in_scope(session, DocumentVersion, version_id, actor)
    document = session.get(Document, version.document_id)
    if document.deleted_at is not None:
        raise OutOfScope(_l("记录不存在"))
    try:
        path = file_store.path_of(root, version.storage_key)
    except FileNotFoundError:
        raise OutOfScope(_l("记录不存在")) from None
    if not path.is_file():
        raise OutOfScope(_l("记录不存在"))
    record(session, ctx=ctx, action="download", entity="Document", entity_id=str(document.id),
           details={"file": version.file_name, "version": version.number})
    return version, path


def current(session: Session, document: Document) -> DocumentVersion | None:
    return session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == document.id,
                                                        DocumentVersion.number == document.current_version))


def kind_label(kind: FileKind | str) -> str:
    return str(file_types.KIND_LABELS.get(FileKind(kind), kind))
