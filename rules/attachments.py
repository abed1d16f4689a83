"""附件: files on records. Whoever sees a record sees its files (scope.attachment_clause); an
upload is all or nothing (one refused file and no row, no byte of the others stays); a
download is written to the audit log; a deleted file waits in the recycle bin until restored
or purged, and only a purge removes its bytes (after the commit, by the caller: purge()
returns the storage keys).

The bytes live under `root` (config FILES_DIR, shared storage when several hosts serve the
app), by keys rules/file_store.py makes."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, select, update
from sqlalchemy import delete as delete_rows
from sqlalchemy.orm import Session, selectinload

from models.attachment import Attachment, AttachmentEntity
from models.files import FileKind
from rules import audit, file_store, file_types, scope, settings
from rules.actor import Actor
from rules.audit import AuditContext
from rules.errors import FileRefused, InvalidValue, OutOfScope, PermissionDenied

UPLOAD = "attachment.upload"
BIN = "attachment.bin"
MB = 1024 * 1024

# Settings keys (rules/settings.py) and their defaults; the document centre reads the same keys.
DEFAULTS: dict[str, Any] = {
    "attachment_max_mb": 20,
    "upload_max_files": 10,
    "upload_max_total_mb": 100,
    "attachment_types": [kind.value for kind in file_types.DEFAULT_ALLOWED],
}
# What an administrator may set: a typing slip of 20000 MB would open the door to anything.
MAX_FILE_MB = 2048
MAX_FILES = 100
MAX_TOTAL_MB = 4096

ENTITY_LABELS = {
    AttachmentEntity.CUSTOMER: _l("客户"), AttachmentEntity.CONTACT: _l("联系人"),
    AttachmentEntity.FOLLOW_UP: _l("联系记录"), AttachmentEntity.LEAD: _l("线索"),
    AttachmentEntity.OPPORTUNITY: _l("销售机会"), AttachmentEntity.QUOTE: _l("报价单"),
    AttachmentEntity.CONTRACT: _l("合同"), AttachmentEntity.ORDER: _l("订单"),
    AttachmentEntity.PAYMENT: _l("回款"), AttachmentEntity.INVOICE: _l("开票"),
    AttachmentEntity.OFFICE_REQUEST: _l("工作请示"), AttachmentEntity.TICKET: _l("工单"),
}


def setting(session: Session, key: str) -> Any:
    value = settings.get(session, key)
    return DEFAULTS[key] if value is None else value


def limits(session: Session) -> dict[str, Any]:
    """The four settings at once (the upload form states them; the upload route sizes its request)."""
    return {key: setting(session, key) for key in DEFAULTS}


def request_limit(session: Session) -> int:
    """Bytes one upload request may carry: the files' total plus room for the form around them."""
    return int(setting(session, "upload_max_total_mb")) * MB + MB


def save_settings(session: Session, *, max_mb: Any, max_files: Any, max_total_mb: Any,
                  types: Iterable[str]) -> None:
    """Store the limits an administrator typed, or refuse with what is wrong (nothing stored)."""
    def whole(value: Any, label: Any, top: int) -> int:
        text = str(value or "").strip()
        if not text.isdigit() or not 1 <= int(text) <= top:
            raise InvalidValue(_l("%(f)s 须为 1 至 %(m)d 的整数", f=label, m=top))
        return int(text)

    file_mb = whole(max_mb, _l("单个文件上限（MB）"), MAX_FILE_MB)
    files = whole(max_files, _l("每次最多文件数"), MAX_FILES)
    total_mb = whole(max_total_mb, _l("每次上传合计上限（MB）"), MAX_TOTAL_MB)
    if total_mb < file_mb:
        raise InvalidValue(_l("每次上传合计上限不能小于单个文件上限"))
    known = {kind.value for kind in FileKind}
    chosen = [kind for kind in dict.fromkeys(types) if kind in known]
    if not chosen:
        raise InvalidValue(_l("请至少允许一种文件类型"))
    settings.put(session, "attachment_max_mb", file_mb)
    settings.put(session, "upload_max_files", files)
    settings.put(session, "upload_max_total_mb", total_mb)
    settings.put(session, "attachment_types", chosen)


def _entity(entity: Any) -> AttachmentEntity:
    try:
        return AttachmentEntity(entity)
    except ValueError:
        raise OutOfScope(_l("记录不存在")) from None


def record_of(session: Session, entity: Any, record_id: Any, actor: Actor) -> Any:
    """The record the files hang on, loaded in the actor's scope (OutOfScope otherwise)."""
    kind = _entity(entity)
    return scope.get_in_scope(session, scope.attachable()[kind], record_id, actor)


def _ctx(session: Session, actor: Actor) -> AuditContext:
    return session.info.get(audit.INFO_KEY) or AuditContext(actor.user_id, actor.display_name)


def _log(session: Session, actor: Actor, action: str, item: Attachment, **extra: Any) -> None:
    audit.record(session, ctx=_ctx(session, actor), action=action, entity="Attachment", entity_id=str(item.id),
                 details={"entity": str(item.entity), "record_id": item.record_id, "file_name": item.file_name,
                          "size": item.size, **extra})


def upload(session: Session, *, entity: Any, record_id: Any, files: list[tuple[BinaryIO, str | None]],
           actor: Actor, now: datetime, root: str | Path, note: str | None = None) -> list[Attachment]:
    """Attach `files` ((stream, name) pairs) to a record the actor sees. All or nothing: when
    any file is refused, FileRefused names each refused file and why, and nothing is kept."""
    if not actor.can(UPLOAD):
        raise PermissionDenied(_l("您没有上传附件的权限"))
    kind = _entity(entity)
    record = record_of(session, kind, record_id, actor)
    if not files:
        raise FileRefused(_l("请选择要上传的文件"))
    limit = limits(session)
    if len(files) > int(limit["upload_max_files"]):
        raise FileRefused(_l("一次最多上传 %(n)d 个文件，这次选了 %(c)d 个；请分批上传",
                             n=int(limit["upload_max_files"]), c=len(files)))
    note = (note or "").strip()[:255] or None
    stored: list[file_store.StoredFile] = []
    refusals: list[str] = []
    try:
        for stream, name in files:
            try:
                stored.append(file_store.save(stream, name, root=root, now=now,
                                              max_bytes=int(limit["attachment_max_mb"]) * MB,
                                              allowed=list(limit["attachment_types"])))
            except FileRefused as exc:
                refusals.append(str(exc))
        total = sum(item.size for item in stored)
        total_limit = int(limit["upload_max_total_mb"]) * MB
        if not refusals and total > total_limit:
            refusals.append(str(_l("这些文件合计 %(t)s，超过每次上传合计上限 %(m)s；请分批上传",
                                   t=file_store.mb(total), m=file_store.mb(total_limit))))
        if refusals:
            raise FileRefused(_l("没有上传任何文件：%(r)s", r="；".join(refusals)))
        made = [Attachment(entity=kind.value, record_id=record.id, note=note, uploaded_by_id=actor.user_id,
                           uploaded_at=now, **item.columns()) for item in stored]
        session.add_all(made)
        session.flush()
    except BaseException:
        file_store.delete(root, *(key for item in stored for key in (item.storage_key, item.thumb_key)))
        raise
    for item in made:
        _log(session, actor, "upload", item)
    return made


def _live(session: Session, entity: AttachmentEntity, record_id: int) -> list[Attachment]:
    return list(session.scalars(
        select(Attachment).options(selectinload(Attachment.uploaded_by))
        .where(Attachment.entity == entity.value, Attachment.record_id == record_id, Attachment.deleted_at.is_(None))
        .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())))


def for_record(session: Session, entity: Any, record_id: Any, actor: Actor) -> list[Attachment]:
    """A record's live files, newest first (OutOfScope when the actor does not see the record)."""
    kind = _entity(entity)
    record = record_of(session, kind, record_id, actor)
    return _live(session, kind, record.id)


def count_for(session: Session, entity: Any, record_ids: Iterable[int]) -> dict[int, int]:
    """Live files per record of one kind, for records the caller already shows (paperclips)."""
    ids = list(record_ids)
    if not ids:
        return {}
    rows = session.execute(select(Attachment.record_id, func.count()).where(
        Attachment.entity == _entity(entity).value, Attachment.record_id.in_(ids), Attachment.deleted_at.is_(None))
        .group_by(Attachment.record_id))
    return {record_id: count for record_id, count in rows}


def move_records(session: Session, entity: Any, from_ids: list[int], to_id: int) -> None:
    """Files follow their record when records are merged (客户合并 keeps one customer)."""
    if from_ids:
        session.execute(update(Attachment).where(Attachment.entity == _entity(entity).value,
                                                 Attachment.record_id.in_(from_ids)).values(record_id=to_id))


def visible(session: Session, actor: Actor, *, kind: str | None = None, entity: str | None = None,
            uploaded_by: int | None = None, offset: int = 0, limit: int = 50) -> list[Attachment]:
    """The live attachments of the records the actor sees, newest first (全部附件; with
    `uploaded_by`, 我上传的附件), optionally of one file kind and one record kind."""
    stmt = select(Attachment).where(Attachment.deleted_at.is_(None), scope.attachment_clause(actor))
    if kind in {k.value for k in FileKind}:
        stmt = stmt.where(Attachment.file_kind == kind)
    if entity in {e.value for e in AttachmentEntity}:
        stmt = stmt.where(Attachment.entity == entity)
    if uploaded_by is not None:
        stmt = stmt.where(Attachment.uploaded_by_id == uploaded_by)
    return list(session.scalars(stmt.order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())
                                .offset(offset).limit(limit)))


def drop_for_records(session: Session, entity: Any, record_ids: Select | list[int]) -> list[str]:
    """Records deleted for good (a customer purged from the bin) take their files with them: the
    rows go now, and the storage keys are returned for the caller to delete once the commit has
    succeeded, as `purge` does."""
    where = and_(Attachment.entity == _entity(entity).value, Attachment.record_id.in_(record_ids))
    keys = [key for row in session.execute(select(Attachment.storage_key, Attachment.thumb_key).where(where))
            for key in row if key]
    session.execute(delete_rows(Attachment).where(where))
    return keys


def _visible(session: Session, attachment_id: Any, actor: Actor, *, binned: bool = False) -> Attachment:
    state = Attachment.deleted_at.is_not(None) if binned else Attachment.deleted_at.is_(None)
    return scope.get_in_scope(session, Attachment, attachment_id, actor,
                              and_(scope.attachment_clause(actor), state))


def open_for_download(session: Session, attachment_id: Any, actor: Actor, *,
                      root: str | Path) -> tuple[Attachment, Path]:
    """A live file of a record the actor sees and where its bytes are; the download is logged.
    OutOfScope (404) for anything else, a file whose bytes are missing included."""
    item = _visible(session, attachment_id, actor)
    path = _path(root, item.storage_key)
    _log(session, actor, "download", item)
    return item, path


def thumbnail_of(session: Session, attachment_id: Any, actor: Actor, *, root: str | Path) -> Path:
    """The small picture of an image the actor may see (not logged: the list shows it)."""
    item = _visible(session, attachment_id, actor)
    if not item.thumb_key:
        raise OutOfScope(_l("记录不存在"))
    return _path(root, item.thumb_key)


def _path(root: str | Path, key: str) -> Path:
    try:
        path = file_store.path_of(root, key)
    except FileNotFoundError:
        raise OutOfScope(_l("记录不存在")) from None
    if not path.is_file():
        raise OutOfScope(_l("记录不存在"))
    return path


def may_delete(session: Session, item: Attachment, actor: Actor) -> bool:
    """The uploader, or whoever may upload and change the record the file hangs on."""
    if item.uploaded_by_id == actor.user_id:
        return True
    if not actor.can(UPLOAD):
        return False
    model = scope.attachable()[AttachmentEntity(item.entity)]
    clause = scope.write_clause_for(model, actor)
    if clause is None:
        clause = scope.clause_for(model, actor)
    return session.scalar(select(model.id).where(model.id == item.record_id, clause)) is not None


def delete(session: Session, attachment_id: Any, *, actor: Actor, now: datetime) -> Attachment:
    """Move a file to the recycle bin."""
    item = _visible(session, attachment_id, actor)
    if not may_delete(session, item, actor):
        raise PermissionDenied(_l("只有上传人或能修改该记录的人可以删除这个附件"))
    item.deleted_at, item.deleted_by_id = now, actor.user_id
    session.flush()
    _log(session, actor, "delete", item)
    return item


def binned(session: Session, actor: Actor, *, limit: int = 200, offset: int = 0) -> list[Attachment]:
    """The recycle bin: deleted files of records the actor sees, most recently deleted first."""
    if not actor.can(BIN):
        raise PermissionDenied(_l("您没有附件回收站的权限"))
    return list(session.scalars(
        select(Attachment).options(selectinload(Attachment.uploaded_by))
        .where(Attachment.deleted_at.is_not(None), scope.attachment_clause(actor))
        .order_by(Attachment.deleted_at.desc(), Attachment.id.desc()).limit(limit).offset(offset)))


def restore(session: Session, attachment_id: Any, *, actor: Actor) -> Attachment:
    if not actor.can(BIN):
        raise PermissionDenied(_l("您没有附件回收站的权限"))
    item = _visible(session, attachment_id, actor, binned=True)
    item.deleted_at, item.deleted_by_id = None, None
    session.flush()
    _log(session, actor, "restore", item)
    return item


def purge(session: Session, attachment_id: Any, *, actor: Actor) -> list[str]:
    """Remove a binned file's row; returns the storage keys whose bytes the caller removes once
    the commit has succeeded (file_store.delete), so a failed commit never loses a file."""
    if not actor.can(BIN):
        raise PermissionDenied(_l("您没有附件回收站的权限"))
    item = _visible(session, attachment_id, actor, binned=True)
    keys = [key for key in (item.storage_key, item.thumb_key) if key]
    _log(session, actor, "purge", item)
    session.delete(item)
    session.flush()
    return keys


def record_names(session: Session, items: Iterable[Attachment]) -> dict[tuple[str, int], str]:
    """What each file hangs on, by name (客户 华为, 订单 DD2026…): one query per kind of record. The
    files were loaded in scope, and a file is seen exactly when its record is."""
    wanted: dict[str, set[int]] = {}
    for item in items:
        wanted.setdefault(str(item.entity), set()).add(item.record_id)
    names: dict[tuple[str, int], str] = {}
    for entity, ids in wanted.items():
        model = scope.attachable()[AttachmentEntity(entity)]
        for record in session.scalars(select(model).where(model.id.in_(ids))):
            names[(entity, record.id)] = str(record)
    return names


def labels() -> dict[str, Any]:
    return {kind.value: label for kind, label in ENTITY_LABELS.items()}
