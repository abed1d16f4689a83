"""The 文档中心 pages as people use them: the first visit, several files uploaded at once, search by
a word inside a file, versions, downloads that never run in the browser, someone else's files
answering 404, refusals that keep nothing, the grants editor, the 全部附件 tab within one's scope,
and the pages in English."""
from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from conftest import FIXED_NOW
from models import User, db
from models.attachment import Attachment
from models.document import Document, DocumentFolder, DocumentVersion, FolderGrant, FolderKind
from rules import settings


@pytest.fixture
def people(app, make_user, tmp_path):
    app.config["FILES_DIR"] = str(tmp_path / "files")
    return {"rep1": make_user("rep1"), "rep2": make_user("rep2"),
            "admin": make_user("admin", role="系统管理员", department=("总经办",))}


def my_folder(app, username: str) -> int:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        return db.session.scalar(select(DocumentFolder.id).where(DocumentFolder.kind == FolderKind.PERSONAL,
                                                                 DocumentFolder.owner_id == user_id))


def post_files(client, folder_id: int, files: list[tuple[bytes, str]], follow: bool = True):
    token = client.token(f"/admin/document/?folder={folder_id}")
    # encoded in memory: the test client spools a large body to a temporary file it never closes
    boundary, body = encode_multipart(MultiDict([("csrf_token", token), ("folder_id", str(folder_id))] + [
        ("files", FileStorage(io.BytesIO(data), filename=name)) for data, name in files]))
    return client.post("/admin/document/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       follow_redirects=follow)


def download(client, version_id: int):
    """A download, read and closed (the server closes the stored file the same way)."""
    response = client.get(f"/admin/document/download/{version_id}")
    response.get_data()
    response.close()
    return response


def version_of(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(DocumentVersion.id).join(Document, Document.id == DocumentVersion.document_id)
                                 .where(Document.name == name).order_by(DocumentVersion.number.desc()))


def test_a_first_visit_shows_my_documents_and_says_what_to_do(app, client, people):
    client.login("rep1")
    html = client.get("/admin/document/").get_data(as_text=True)
    assert "我的文档" in html and "销售一部" in html
    assert "还没有文档。在左边选一个文件夹" in html
    folder_html = client.get(f"/admin/document/?folder={my_folder(app, 'rep1')}").get_data(as_text=True)
    assert "这个文件夹还是空的。用上面的“上传”" in folder_html


@pytest.mark.both_dbs
def test_several_files_uploaded_at_once_are_listed_found_by_their_words_and_downloaded_safely(app, client, people):
    client.login("rep1")
    client.get("/admin/document/")
    folder = my_folder(app, "rep1")
    html = post_files(client, folder, [("华南区渠道返利政策".encode(), "返利 政策.txt"),
                                       (b"%PDF-1.4\n%%EOF\n", "扫描件.pdf")]).get_data(as_text=True)
    assert "已上传 2 个文件" in html and "返利 政策.txt" in html and "扫描件.pdf" in html
    found = client.get("/admin/document/?q=渠道返利").get_data(as_text=True)
    assert "返利 政策.txt" in found and "扫描件.pdf" not in found
    recent = client.get("/admin/document/").get_data(as_text=True)
    assert "返利 政策.txt" in recent

    text = download(client, version_of(app, '返利 政策.txt'))
    assert text.status_code == 200 and text.data == "华南区渠道返利政策".encode()
    assert text.headers["Content-Type"].startswith("text/plain")  # what the content is, downloaded, never sniffed
    assert text.headers["Content-Disposition"].startswith("attachment")
    assert "filename*=UTF-8''" + quote("返利 政策.txt") in text.headers["Content-Disposition"]
    assert text.headers["X-Content-Type-Options"] == "nosniff"
    assert text.headers["Content-Security-Policy"].startswith("sandbox;")
    scan = download(client, version_of(app, '扫描件.pdf'))
    assert scan.headers["Content-Type"] == "application/pdf" and scan.headers["Content-Disposition"].startswith("inline")
    assert scan.headers["Content-Security-Policy"].startswith("sandbox;")

    other = app.test_client()
    from conftest import Browserish
    other = Browserish(other)
    other.login("rep2")
    document_id = db_document_id(app, "返利 政策.txt")
    assert download(other, version_of(app, '返利 政策.txt')).status_code == 404
    assert other.get(f"/admin/document/doc/{document_id}").status_code == 404
    assert other.get(f"/admin/document/?folder={folder}").status_code == 404
    assert "返利 政策.txt" not in other.get("/admin/document/?q=渠道返利").get_data(as_text=True)


def db_document_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Document.id).where(Document.name == name))


def test_a_refused_file_keeps_nothing_and_names_the_file(app, client, people, tmp_path):
    client.login("rep1")
    client.get("/admin/document/")
    html = post_files(client, my_folder(app, "rep1"), [("正常".encode(), "正常.txt"),
                                                       (b"MZ" + b"\x00" * 100, "报价.pdf")]).get_data(as_text=True)
    assert "没有上传任何文件" in html and "报价.pdf" in html and "可执行程序" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Document.id))) == 0
    assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]


def test_uploads_follow_the_upload_settings_not_the_site_request_limit(app, client, people):
    with app.app_context():
        settings.put(db.session, "upload_max_total_mb", 1)
        db.session.commit()
    client.login("rep1")
    client.get("/admin/document/")
    refused = post_files(client, my_folder(app, "rep1"), [(b"a" * (2 * 1024 * 1024 + 10), "大.txt")], follow=False)
    assert refused.status_code == 413 and "文件太大" in refused.get_data(as_text=True)
    with app.app_context():
        settings.put(db.session, "upload_max_total_mb", 40)
        settings.put(db.session, "attachment_max_mb", 30)
        db.session.commit()
    big = b"b" * (app.config["MAX_CONTENT_LENGTH"] + 1024)  # over the site's request limit
    assert "已上传 1 个文件" in post_files(client, my_folder(app, "rep1"), [(big, "大.txt")]).get_data(as_text=True)


def test_a_new_version_keeps_the_old_one_downloadable(app, client, people):
    client.login("rep1")
    client.get("/admin/document/")
    post_files(client, my_folder(app, "rep1"), [("第一版".encode(), "方案.txt")])
    document_id = db_document_id(app, "方案.txt")
    first = version_of(app, "方案.txt")
    page = f"/admin/document/doc/{document_id}"
    token = client.token(page)
    html = client.post(f"{page}/version", data={"csrf_token": token, "note": "改了价格",
                                                "file": (io.BytesIO("第二版".encode()), "方案-新.txt")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "已上传第 2 版" in html and "改了价格" in html and "方案-新.txt" in html
    assert download(client, first).data == "第一版".encode()
    assert download(client, version_of(app, '方案.txt')).data == "第二版".encode()
    html = client.post_form(page, {}, to=f"{page}/delete", follow=True).get_data(as_text=True)
    assert "已移到文档回收站" in html
    assert client.get(page).status_code == 404
    assert "方案.txt" not in client.get("/admin/document/?q=第二版").get_data(as_text=True)
    bin_html = client.get("/admin/document/bin").get_data(as_text=True)
    assert "方案.txt" in bin_html
    client.post_form("/admin/document/bin", {}, to=f"/admin/document/bin/{document_id}/restore")
    assert client.get(page).status_code == 200
    assert "方案.txt" in client.get("/admin/document/?q=第二版").get_data(as_text=True)


def test_the_grants_editor_opens_a_company_folder_to_one_department(app, client, people, make_user):
    make_user("cs", department=("客服部",))
    client.login("admin")
    html = client.post_form("/admin/document/", {"name": "投标资料"}, to="/admin/document/folder/new",
                            follow=True).get_data(as_text=True)
    assert "已新建文件夹「投标资料」" in html
    with app.app_context():
        folder = db.session.scalar(select(DocumentFolder.id).where(DocumentFolder.name == "投标资料"))
        sales = db.session.scalar(select(User.department_id).where(User.username == "rep1"))
    grants = f"/admin/document/folder/{folder}/grants"
    assert "还没有授权" in client.get(grants).get_data(as_text=True)
    html = client.post_form(grants, {"holder": f"department:{sales}", "level": "view", "include_children": "1"},
                            to=f"{grants}/add", follow=True).get_data(as_text=True)
    assert "已添加授权" in html and "部门：销售一部（含下属部门）" in html
    from conftest import Browserish
    for username, status in (("rep1", 200), ("cs", 404)):
        reader = Browserish(app.test_client())
        reader.login(username)
        assert reader.get(f"/admin/document/?folder={folder}").status_code == status
    rep = Browserish(app.test_client())
    rep.login("rep1")
    refused = rep.get(grants, follow_redirects=True).get_data(as_text=True)
    assert "您没有管理文件夹「投标资料」的权限" in refused
    with app.app_context():
        assert db.session.scalar(select(func.count(FolderGrant.id))) == 1


@pytest.mark.both_dbs
def test_all_attachments_lists_only_what_the_reader_may_see(app, client, people, make_customer):
    mine = make_customer("甲公司", people["rep1"])
    theirs = make_customer("乙公司", people["rep2"])
    with app.app_context():
        for record, owner, name, kind in ((mine, "rep1", "甲的合同.pdf", "pdf"), (mine, "rep1", "门头照.png", "image"),
                                          (theirs, "rep2", "乙的合同.pdf", "pdf")):
            db.session.add(Attachment(entity="customer", record_id=record, uploaded_by_id=people[owner],
                                      uploaded_at=FIXED_NOW, file_name=name, storage_key="2026/11/" + "0" * 32,
                                      size=2048, mime="application/pdf", file_kind=kind, sha256="0" * 64))
        db.session.commit()
    client.login("rep1")
    html = client.get("/admin/document/attachments").get_data(as_text=True)
    assert "甲的合同.pdf" in html and "门头照.png" in html and "乙的合同.pdf" not in html
    assert f"/admin/customer/details/?id={mine}" in html and "客户 甲公司" in html  # the record by its name
    only_pdf = client.get("/admin/document/attachments?kind=pdf").get_data(as_text=True)
    assert "甲的合同.pdf" in only_pdf and "门头照.png" not in only_pdf
    assert "没有符合筛选条件的附件" in client.get("/admin/document/attachments?entity=order").get_data(as_text=True)
    second = client.get("/admin/document/attachments?page=1").get_data(as_text=True)
    assert "甲的合同.pdf" not in second.split("data-testid=\"attachment-filters\"")[1], second
    assert "上一页" in second and "第 2 页" in second
    client.logout()
    client.login("rep2")
    assert "甲的合同.pdf" not in client.get("/admin/document/attachments").get_data(as_text=True)


def test_the_document_centre_in_english(app, client, people):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "rep1")).locale = "en"
        db.session.commit()
    client.login("rep1")
    html = client.get("/admin/document/").get_data(as_text=True)
    assert "Recently updated" in html and "No documents yet" in html and "All attachments" in html
    assert "My documents" in html
    assert "最近更新" not in html
    html = client.get(f"/admin/document/?folder={my_folder(app, 'rep1')}").get_data(as_text=True)
    assert "Upload" in html and "This folder is empty" in html
    assert "No attachments you can see yet" in client.get("/admin/document/attachments").get_data(as_text=True)
    html = post_files(client, my_folder(app, "rep1"), [("纪要".encode(), "纪要.txt")]).get_data(as_text=True)
    assert "1 files uploaded" in html and "<td>Text</td>" in html


def test_a_sub_folder_is_moved_from_its_page_and_keeps_its_documents(app, client, people):
    client.login("rep1")
    client.get("/admin/document/")
    mine = my_folder(app, "rep1")
    for name in ("报价", "归档"):
        client.post_form(f"/admin/document/?folder={mine}", {"name": name, "parent_id": str(mine)},
                         to="/admin/document/folder/new")
    with app.app_context():
        quotes, archive = (db.session.scalar(select(DocumentFolder.id).where(DocumentFolder.name == n))
                           for n in ("报价", "归档"))
    post_files(client, quotes, [("旧报价".encode(), "旧报价.txt")])
    page = client.get(f"/admin/document/?folder={quotes}").get_data(as_text=True)
    assert 'data-testid="move-folder"' in page
    html = client.post_form(f"/admin/document/?folder={quotes}", {"parent_id": str(archive)},
                            to=f"/admin/document/folder/{quotes}/move", follow=True).get_data(as_text=True)
    assert "已移动文件夹" in html and "旧报价.txt" in html
    crumbs = html[html.index('class="breadcrumb'):html.index("</ol>")]
    assert crumbs.index("归档") < crumbs.index("报价")


def test_uploads_and_downloads_are_named_in_the_audit_log(app, client, people):
    client.login("admin")
    client.get("/admin/document/")
    post_files(client, my_folder(app, "admin"), [("年度计划".encode(), "计划.txt")])
    download(client, version_of(app, "计划.txt"))
    page = client.get("/admin/audit_log/?search=").get_data(as_text=True)
    table = page[page.index("<table"):]
    assert "上传" in table and "下载" in table and "文档" in table and "计划.txt" in table
