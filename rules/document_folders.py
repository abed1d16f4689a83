"""文档中心的文件夹: company folders (document.manage creates them), one folder per department
(made when one of its members first opens the centre), and each user's 我的文档 (made on their
first visit). Rights live on the top folder (a 空间) and are read through scope.folder_roots:
- VIEW: see and download; UPLOAD: add documents and versions; MANAGE: sub-folders, deleting,
  the grants of the top folder.
A sub-folder always belongs to its top folder's space; moving it into another space moves its
documents' rights with it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models.document import Document, DocumentFolder, FolderGrant, FolderKind, GrantLevel
from models.org import Department, Role, User
from rules import scope
from rules.actor import Actor
from rules.errors import InvalidValue, OutOfScope, PermissionDenied

NAME_MAX = 100
PERSONAL_NAME = "我的文档"
LEVEL_LABELS = {GrantLevel.VIEW: _l("查看"), GrantLevel.UPLOAD: _l("上传"), GrantLevel.MANAGE: _l("管理")}
KIND_LABELS = {FolderKind.COMPANY: _l("公司文件夹"), FolderKind.DEPARTMENT: _l("部门文件夹"),
               FolderKind.PERSONAL: _l("个人文件夹")}


def may(session: Session, actor: Actor, folder: DocumentFolder, level: GrantLevel) -> bool:
    """Whether the actor holds `level` in the space `folder` belongs to."""
    root_id = folder.root_id or folder.id
    return session.scalar(scope.folder_roots(actor, level).where(DocumentFolder.id == root_id)) is not None


def roots(session: Session, actor: Actor, level: GrantLevel) -> set[int]:
    """The spaces in which the actor holds `level` (one query, for a page that asks per folder)."""
    return set(session.scalars(scope.folder_roots(actor, level)))


def get(session: Session, actor: Actor, folder_id: object) -> DocumentFolder:
    """A live folder the actor may see, or OutOfScope (404)."""
    folder = scope.get_in_scope(session, DocumentFolder, folder_id, actor)
    if folder.deleted_at is not None:
        raise OutOfScope(_l("记录不存在"))
    return folder


def require(session: Session, actor: Actor, folder: DocumentFolder, level: GrantLevel) -> None:
    if not may(session, actor, folder, level):
        messages = {GrantLevel.UPLOAD: _l("您没有在文件夹「%(n)s」上传文档的权限", n=folder.name),
                    GrantLevel.MANAGE: _l("您没有管理文件夹「%(n)s」的权限", n=folder.name)}
        raise PermissionDenied(messages.get(level, _l("记录不存在")))


def visible(session: Session, actor: Actor) -> list[DocumentFolder]:
    """Every live folder the actor may see, top folders first (company, department, personal)."""
    order = {FolderKind.COMPANY.value: 0, FolderKind.DEPARTMENT.value: 1, FolderKind.PERSONAL.value: 2}
    rows = session.scalars(select(DocumentFolder).where(scope.folder_clause(actor), DocumentFolder.deleted_at.is_(None))
                           .order_by(DocumentFolder.sort_order, DocumentFolder.name, DocumentFolder.id)).all()
    return sorted(rows, key=lambda f: (order.get(str(f.kind), 3), f.parent_id is not None))


@dataclass(frozen=True)
class TreeNode:
    folder: DocumentFolder
    depth: int


def tree(folders: list[DocumentFolder]) -> list[TreeNode]:
    """The folders in display order, each under its parent (depth-first)."""
    children: dict[int | None, list[DocumentFolder]] = {}
    ids = {f.id for f in folders}
    for folder in folders:
        children.setdefault(folder.parent_id if folder.parent_id in ids else None, []).append(folder)
    out: list[TreeNode] = []

    def walk(parent: int | None, depth: int) -> None:
        for folder in children.get(parent, []):
            out.append(TreeNode(folder, depth))
            walk(folder.id, depth + 1)

    walk(None, 0)
    return out


def _clean(name: str | None) -> str:
    text = " ".join((name or "").split())
    if not text:
        raise InvalidValue(_l("请填写文件夹名称"))
    if len(text) > NAME_MAX:
        raise InvalidValue(_l("文件夹名称最多 %(n)d 个字", n=NAME_MAX))
    if "/" in text or "\\" in text:
        raise InvalidValue(_l("文件夹名称不能包含 / 或 \\"))
    return text


def _check_unique(session: Session, name: str, parent_id: int | None, kind: FolderKind | None,
                  exclude: int | None = None) -> None:
    stmt = select(DocumentFolder.id).where(DocumentFolder.name == name, DocumentFolder.deleted_at.is_(None))
    stmt = stmt.where(DocumentFolder.parent_id == parent_id) if parent_id else stmt.where(
        DocumentFolder.parent_id.is_(None), DocumentFolder.kind == kind)
    if exclude:
        stmt = stmt.where(DocumentFolder.id != exclude)
    if session.scalar(stmt.limit(1)) is not None:
        raise InvalidValue(_l("这里已有名为「%(n)s」的文件夹", n=name))


def _top(session: Session, *, name: str, kind: FolderKind, actor: Actor, now: datetime,
         department_id: int | None = None, owner_id: int | None = None) -> DocumentFolder:
    folder = DocumentFolder(name=name, kind=kind, department_id=department_id, owner_id=owner_id,
                            created_by_id=actor.user_id, created_at=now)
    session.add(folder)
    session.flush()
    folder.root_id = folder.id
    session.flush()
    return folder


def ensure_own(session: Session, actor: Actor, *, now: datetime) -> bool:
    """The actor's 我的文档 and their department's folder, made on their first visit; whether
    anything was made (the caller commits)."""
    made = False
    personal = select(DocumentFolder.id).where(DocumentFolder.kind == FolderKind.PERSONAL,
                                               DocumentFolder.owner_id == actor.user_id,
                                               DocumentFolder.parent_id.is_(None))
    if session.scalar(personal.limit(1)) is None:
        _top(session, name=PERSONAL_NAME, kind=FolderKind.PERSONAL, owner_id=actor.user_id, actor=actor, now=now)
        made = True
    if actor.department_id is not None:
        mine = select(DocumentFolder.id).where(DocumentFolder.kind == FolderKind.DEPARTMENT,
                                               DocumentFolder.department_id == actor.department_id,
                                               DocumentFolder.parent_id.is_(None))
        if session.scalar(mine.limit(1)) is None:
            department = session.get(Department, actor.department_id)
            _top(session, name=department.name[:NAME_MAX], kind=FolderKind.DEPARTMENT,
                 department_id=department.id, actor=actor, now=now)
            made = True
    return made


def create(session: Session, actor: Actor, *, name: str, parent_id: object = None, now: datetime) -> DocumentFolder:
    """A company folder (top level: document.manage) or a sub-folder (MANAGE in its space)."""
    name = _clean(name)
    if parent_id in (None, ""):
        if not actor.can("document.manage"):
            raise PermissionDenied(_l("只有拥有“管理文档中心”权限的人可以新建公司文件夹"))
        _check_unique(session, name, None, FolderKind.COMPANY)
        return _top(session, name=name, kind=FolderKind.COMPANY, actor=actor, now=now)
    parent = get(session, actor, parent_id)
    require(session, actor, parent, GrantLevel.MANAGE)
    _check_unique(session, name, parent.id, None)
    folder = DocumentFolder(name=name, kind=parent.kind, parent_id=parent.id, root_id=parent.root_id,
                            department_id=parent.department_id, owner_id=parent.owner_id,
                            created_by_id=actor.user_id, created_at=now)
    session.add(folder)
    session.flush()
    return folder


def rename(session: Session, actor: Actor, folder_id: object, name: str) -> DocumentFolder:
    folder = get(session, actor, folder_id)
    require(session, actor, folder, GrantLevel.MANAGE)
    name = _clean(name)
    if folder.parent_id is None and folder.kind != FolderKind.COMPANY:
        raise InvalidValue(_l("部门文件夹和“我的文档”不能改名"))
    _check_unique(session, name, folder.parent_id, FolderKind(folder.kind), exclude=folder.id)
    folder.name = name
    session.flush()
    return folder


def _subtree_ids(session: Session, folder: DocumentFolder) -> list[int]:
    ids, frontier = [folder.id], [folder.id]
    while frontier:
        frontier = list(session.scalars(select(DocumentFolder.id).where(DocumentFolder.parent_id.in_(frontier))))
        ids += frontier
    return ids


def move(session: Session, actor: Actor, folder_id: object, parent_id: object) -> DocumentFolder:
    """A sub-folder into another folder (MANAGE in both spaces); its documents follow, and take
    the rights of the space they land in."""
    folder = get(session, actor, folder_id)
    if folder.parent_id is None:
        raise InvalidValue(_l("顶层文件夹不能移动"))
    require(session, actor, folder, GrantLevel.MANAGE)
    target = get(session, actor, parent_id)
    require(session, actor, target, GrantLevel.MANAGE)
    subtree = _subtree_ids(session, folder)
    if target.id in subtree:
        raise InvalidValue(_l("不能把文件夹移到它自己或它的子文件夹里"))
    _check_unique(session, folder.name, target.id, None, exclude=folder.id)
    folder.parent_id = target.id
    if target.root_id != folder.root_id:
        session.execute(update(DocumentFolder).where(DocumentFolder.id.in_(subtree)).values(
            root_id=target.root_id, kind=target.kind, department_id=target.department_id, owner_id=target.owner_id))
        session.execute(update(Document).where(Document.folder_id.in_(subtree)).values(root_id=target.root_id))
    session.flush()
    session.refresh(folder)
    return folder


def delete(session: Session, actor: Actor, folder_id: object, *, now: datetime) -> DocumentFolder:
    """An empty sub-folder or company folder; a folder that still holds something is refused,
    so nothing disappears with it."""
    folder = get(session, actor, folder_id)
    require(session, actor, folder, GrantLevel.MANAGE)
    if folder.parent_id is None and folder.kind != FolderKind.COMPANY:
        raise InvalidValue(_l("部门文件夹和“我的文档”不能删除"))
    inside = session.scalar(select(func.count(Document.id)).where(Document.folder_id == folder.id,
                                                                  Document.deleted_at.is_(None)))
    children = session.scalar(select(func.count(DocumentFolder.id)).where(DocumentFolder.parent_id == folder.id,
                                                                          DocumentFolder.deleted_at.is_(None)))
    if inside or children:
        raise InvalidValue(_l("文件夹「%(n)s」里还有 %(d)d 个文档、%(f)d 个子文件夹：请先移走或删除它们",
                              n=folder.name, d=inside, f=children))
    folder.deleted_at = now
    session.flush()
    return folder


# --- grants of a space ---------------------------------------------------------------------------

def _space(session: Session, actor: Actor, folder_id: object) -> DocumentFolder:
    folder = get(session, actor, folder_id)
    root = session.get(DocumentFolder, folder.root_id or folder.id)
    require(session, actor, root, GrantLevel.MANAGE)
    if root.kind == FolderKind.PERSONAL:
        raise InvalidValue(_l("“我的文档”只有本人可以使用，不能授权给别人"))
    return root


def grants(session: Session, actor: Actor, folder_id: object) -> tuple[DocumentFolder, list[FolderGrant]]:
    """The space a folder belongs to and its grants (for those who manage it)."""
    root = _space(session, actor, folder_id)
    rows = session.scalars(select(FolderGrant).where(FolderGrant.folder_id == root.id).order_by(FolderGrant.id)).all()
    return root, list(rows)


def add_grant(session: Session, actor: Actor, folder_id: object, *, level: str, user_id: object = None,
              role_id: object = None, department_id: object = None, include_children: bool = True) -> FolderGrant:
    """A right on the space for one user, one role, one department (with its sub-departments or
    not), or, naming none of them, for everyone."""
    root = _space(session, actor, folder_id)
    try:
        grant_level = GrantLevel(level)
    except ValueError:
        raise InvalidValue(_l("请选择权限级别")) from None
    holders = {"user_id": (user_id, User), "role_id": (role_id, Role), "department_id": (department_id, Department)}
    chosen = {key: value for key, (value, _model) in holders.items() if value not in (None, "")}
    if len(chosen) > 1:
        raise InvalidValue(_l("一条授权只能给一位员工、一个角色或一个部门"))
    values: dict[str, int | None] = {"user_id": None, "role_id": None, "department_id": None}
    for key, raw in chosen.items():
        model = holders[key][1]
        try:
            record = session.get(model, int(raw))
        except (TypeError, ValueError):
            record = None
        if record is None:
            raise InvalidValue(_l("授权对象不存在"))
        values[key] = record.id
    grant = FolderGrant(folder_id=root.id, level=grant_level.value, include_children=bool(include_children), **values)
    session.add(grant)
    session.flush()
    return grant


def remove_grant(session: Session, actor: Actor, grant_id: object) -> None:
    try:
        grant = session.get(FolderGrant, int(grant_id))
    except (TypeError, ValueError):
        grant = None
    if grant is None:
        raise OutOfScope(_l("记录不存在"))
    _space(session, actor, grant.folder_id)
    session.delete(grant)
    session.flush()


def holder_label(session: Session, grant: FolderGrant) -> str:
    if grant.user_id:
        user = session.get(User, grant.user_id)
        return str(_l("员工：%(n)s", n=user.display_name if user else grant.user_id))
    if grant.role_id:
        role = session.get(Role, grant.role_id)
        return str(_l("角色：%(n)s", n=role.name if role else grant.role_id))
    if grant.department_id:
        department = session.get(Department, grant.department_id)
        name = department.name if department else grant.department_id
        if grant.include_children:
            return str(_l("部门：%(n)s（含下属部门）", n=name))
        return str(_l("部门：%(n)s", n=name))
    return str(_l("所有人"))
