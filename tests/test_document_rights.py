"""文档中心的文件夹权限: who views, uploads into and manages which space, on SQLite and
PostgreSQL — company folders with and without grants, department folders down the department
tree, personal folders, grants to a role, a user and a department, and document.manage."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from models import User, db
from models.document import Document, DocumentFolder, FolderGrant, FolderKind, GrantLevel
from models.org import Department, Role
from rules import document_folders, documents, scope
from rules.actor import Actor
from rules.audit import AuditContext
from rules.errors import InvalidValue, OutOfScope, PermissionDenied
from conftest import FIXED_NOW

pytestmark = pytest.mark.both_dbs

STAFF = {
    "admin": ("系统管理员", ("总经办",)),
    "mgr": ("经理", ("销售部",)),
    "rep1": ("业务员", ("销售部", "销售一部")),
    "rep3": ("业务员", ("销售部", "销售二部")),
    "cs": ("业务员", ("客服部",)),
    "fin": ("财务", ("财务部",)),
}
V, U, M = GrantLevel.VIEW, GrantLevel.UPLOAD, GrantLevel.MANAGE
EVERYONE = set(STAFF)
# space -> level -> who holds it
EXPECTED = {
    "open": {V: EVERYONE, U: {"admin"}, M: {"admin"}},
    "closed": {V: {"admin", "fin", "rep3"}, U: {"admin", "rep3"}, M: {"admin"}},
    "sales_only": {V: {"admin", "mgr", "rep1", "rep3"}, U: {"admin", "mgr"}, M: {"admin", "mgr"}},
    "dept_sales": {V: {"admin", "mgr", "rep1", "rep3"}, U: {"admin", "mgr", "rep1", "rep3"}, M: {"admin"}},
    "dept_sales1": {V: {"admin", "rep1"}, U: {"admin", "rep1"}, M: {"admin"}},
    "rep1_own": {V: {"rep1"}, U: {"rep1"}, M: {"rep1"}},
}


def actor(username: str) -> Actor:
    return Actor.from_user(db.session.scalar(select(User).where(User.username == username)), has_shares=False)


def _department(name: str) -> int:
    return db.session.scalar(select(Department.id).where(Department.name == name))


def _top(name: str, kind: FolderKind, creator: int, **extra) -> DocumentFolder:
    folder = DocumentFolder(name=name, kind=kind, created_by_id=creator, created_at=FIXED_NOW, **extra)
    db.session.add(folder)
    db.session.flush()
    folder.root_id = folder.id
    return folder


@pytest.fixture(autouse=True)
def files_dir(app, tmp_path):
    app.config["FILES_DIR"] = str(tmp_path / "files")


@pytest.fixture
def spaces(app, make_user):
    ids = {name: make_user(name, role=role, department=dept) for name, (role, dept) in STAFF.items()}
    with app.app_context():
        admin = ids["admin"]
        folders = {
            "open": _top("公司制度", FolderKind.COMPANY, admin),
            "closed": _top("财务资料", FolderKind.COMPANY, admin),
            "sales_only": _top("销售资料", FolderKind.COMPANY, admin),
            "dept_sales": _top("销售部", FolderKind.DEPARTMENT, admin, department_id=_department("销售部")),
            "dept_sales1": _top("销售一部", FolderKind.DEPARTMENT, admin, department_id=_department("销售一部")),
            "rep1_own": _top("我的文档", FolderKind.PERSONAL, ids["rep1"], owner_id=ids["rep1"]),
        }
        finance_role = db.session.scalar(select(Role.id).where(Role.name == "财务"))
        db.session.add_all([
            FolderGrant(folder_id=folders["closed"].id, level=V, role_id=finance_role),
            FolderGrant(folder_id=folders["closed"].id, level=U, user_id=ids["rep3"]),
            FolderGrant(folder_id=folders["sales_only"].id, level=V, department_id=_department("销售部"),
                        include_children=True),
            FolderGrant(folder_id=folders["sales_only"].id, level=M, department_id=_department("销售部"),
                        include_children=False),
        ])
        db.session.commit()
        return ids, {key: f.id for key, f in folders.items()}


@pytest.mark.parametrize("username", sorted(STAFF))
def test_each_person_holds_exactly_the_rights_of_the_table(app, spaces, username):
    _ids, folders = spaces
    with app.app_context():
        who = actor(username)
        for level in GrantLevel:
            roots = set(db.session.scalars(scope.folder_roots(who, level)))
            expected = {folders[key] for key, table in EXPECTED.items() if username in table[level]}
            assert roots == expected, (username, level)
            for key, folder_id in folders.items():
                folder = db.session.get(DocumentFolder, folder_id)
                assert document_folders.may(db.session, who, folder, level) == (username in EXPECTED[key][level])


def test_a_document_deep_in_a_closed_space_follows_its_rights(app, spaces):
    ids, folders = spaces
    with app.app_context():
        admin = actor("admin")
        sub = document_folders.create(db.session, admin, name="2026 年报", parent_id=folders["closed"], now=FIXED_NOW)
        deeper = document_folders.create(db.session, admin, name="附表", parent_id=sub.id, now=FIXED_NOW)
        [version] = documents.upload(db.session, folder_id=deeper.id, files=[(io.BytesIO("利润表".encode()), "利润.txt")],
                                     actor=admin, now=FIXED_NOW, root=app.config["FILES_DIR"],
                                     ctx=AuditContext(ids["admin"], "admin"))
        db.session.commit()
        for username in STAFF:
            seen = username in EXPECTED["closed"][V]
            if seen:
                assert scope.get_in_scope(db.session, Document, version.document_id, actor(username))
                assert documents.open_version(db.session, actor(username), version.id,
                                              root=app.config["FILES_DIR"], ctx=AuditContext(None, None))
            else:
                with pytest.raises(OutOfScope):
                    documents.get(db.session, actor(username), version.document_id)
                with pytest.raises(OutOfScope):
                    documents.open_version(db.session, actor(username), version.id, root=app.config["FILES_DIR"],
                                           ctx=AuditContext(None, None))
                with pytest.raises(OutOfScope):
                    document_folders.get(db.session, actor(username), deeper.id)
        db.session.rollback()


def test_uploading_and_managing_need_their_level(app, spaces):
    _ids, folders = spaces
    with app.app_context():
        with pytest.raises(PermissionDenied, match="没有在文件夹「公司制度」上传文档的权限"):
            documents.upload(db.session, folder_id=folders["open"], files=[(io.BytesIO(b"x"), "a.txt")],
                             actor=actor("rep1"), now=FIXED_NOW, root=app.config["FILES_DIR"],
                             ctx=AuditContext(None, None))
        with pytest.raises(PermissionDenied, match="没有管理文件夹"):
            document_folders.create(db.session, actor("rep1"), name="子", parent_id=folders["dept_sales"], now=FIXED_NOW)
        with pytest.raises(PermissionDenied, match="管理文档中心"):
            document_folders.create(db.session, actor("mgr"), name="新公司文件夹", now=FIXED_NOW)
        # a grant of MANAGE lets the sales manager make sub-folders and grants there
        sub = document_folders.create(db.session, actor("mgr"), name="投标", parent_id=folders["sales_only"], now=FIXED_NOW)
        assert sub.root_id == folders["sales_only"] and sub.kind == FolderKind.COMPANY
        grant = document_folders.add_grant(db.session, actor("mgr"), sub.id, level="view", user_id=_ids["cs"])
        assert grant.folder_id == folders["sales_only"]  # grants always sit on the top folder
        assert document_folders.may(db.session, actor("cs"), sub, V)
        with pytest.raises(InvalidValue, match="不能授权"):
            document_folders.add_grant(db.session, actor("rep1"), folders["rep1_own"], level="view")
        db.session.rollback()


def test_the_first_visit_makes_my_documents_and_the_department_folder_once(app, spaces):
    _ids, _folders = spaces
    with app.app_context():
        cs = actor("cs")
        assert document_folders.ensure_own(db.session, cs, now=FIXED_NOW) is True
        assert document_folders.ensure_own(db.session, cs, now=FIXED_NOW) is False
        mine = {(f.name, str(f.kind)) for f in document_folders.visible(db.session, cs) if f.parent_id is None}
        assert {("我的文档", "personal"), ("客服部", "department"), ("公司制度", "company")} <= mine
        assert not any(name == "财务资料" for name, _kind in mine)
        db.session.rollback()


def test_a_folder_that_holds_something_is_not_deleted_and_moves_carry_rights(app, spaces):
    ids, folders = spaces
    with app.app_context():
        admin = actor("admin")
        a = document_folders.create(db.session, admin, name="甲", parent_id=folders["closed"], now=FIXED_NOW)
        [version] = documents.upload(db.session, folder_id=a.id, files=[(io.BytesIO("内容".encode()), "说明.txt")],
                                     actor=admin, now=FIXED_NOW, root=app.config["FILES_DIR"],
                                     ctx=AuditContext(ids["admin"], "admin"))
        with pytest.raises(InvalidValue, match="还有 1 个文档"):
            document_folders.delete(db.session, admin, a.id, now=FIXED_NOW)
        b = document_folders.create(db.session, admin, name="乙", parent_id=a.id, now=FIXED_NOW)
        with pytest.raises(InvalidValue, match="自己或它的子文件夹"):
            document_folders.move(db.session, admin, a.id, b.id)
        document_folders.move(db.session, admin, a.id, folders["open"])
        assert db.session.get(Document, version.document_id).root_id == folders["open"]
        assert documents.get(db.session, actor("cs"), version.document_id)  # the open space's rights now
        db.session.rollback()
