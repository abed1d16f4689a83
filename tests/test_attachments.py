"""附件 on records: who may download (the record's scope, on SQLite and PostgreSQL), what is let in
(the content decides, not the name), what the browser is told (never run a file), the limits
(per file, per upload, a 500 MB request refused unread), the recycle bin and the audit log."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

import attachment_files as sample
from conftest import FIXED_NOW
from models import Customer, User, db
from models.attachment import Attachment
from models.customer import Contact, FollowUp
from models.system import AuditLog
from rules import attachments, scope, settings, sharing
from rules.actor import Actor
from rules.errors import FileRefused

MB = 1024 * 1024


@pytest.fixture
def files_dir(app, tmp_path) -> Path:
    folder = tmp_path / "files"
    app.config["FILES_DIR"] = str(folder)
    return folder


@pytest.fixture
def staff(app, make_user, make_customer, files_dir):
    ids = {"admin": make_user("admin", role="系统管理员", department=("总经办",), display_name="管理员"),
           "sup1": make_user("sup1", role="主管", department=("销售部", "销售一部")),
           "rep1": make_user("rep1", superior="sup1", display_name="王小明"),
           "rep2": make_user("rep2", superior="sup1"),
           "rep3": make_user("rep3", department=("销售部", "销售二部"))}
    ids["mine"] = make_customer("华为技术有限公司", ids["rep1"])
    ids["pool"] = make_customer("公海客户有限公司", None)
    with app.app_context():
        sharing.share(db.session, db.session.get(Customer, ids["mine"]), to_user=db.session.get(User, ids["rep3"]),
                      mode="read_only", until=None, actor=actor_of(ids["rep1"]), now=FIXED_NOW)
        db.session.commit()
    return ids


def actor_of(user_id: int) -> Actor:
    return Actor.from_user(db.session.get(User, user_id), today=FIXED_NOW.date())


def upload(client, entity: str, record_id: int, *files: tuple[str, bytes], note: str = ""):
    data = {"csrf_token": client.token("/admin/"), "entity": entity, "record_id": str(record_id), "note": note,
            "url": "/admin/attachment/", "files": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/admin/attachment/upload/", data=data, content_type="multipart/form-data",
                       follow_redirects=True)


def rows(app) -> list[Attachment]:
    with app.app_context():
        found = list(db.session.scalars(select(Attachment).order_by(Attachment.id)))
        for row in found:
            db.session.expunge(row)
        return found


def fetch(client, url: str):
    """GET a file and close the response (its file handle) at once."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def stored_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- who may download: the record's scope ------------------------------------------------------

@pytest.mark.both_dbs
def test_a_download_follows_the_scope_of_its_record(app, new_client, staff):
    owner = new_client()
    owner.login("rep1")
    page = upload(owner, "customer", staff["mine"], ("合同扫描件.pdf", sample.pdf()), ("现场照片.png", sample.png()))
    assert "已上传 2 个附件" in page.get_data(as_text=True)
    admin = new_client()
    admin.login("admin")
    upload(admin, "customer", staff["pool"], ("公海资料.pdf", sample.pdf()))
    contract, photo, pooled = (row.id for row in rows(app))

    expected = {  # who: (their own customer's files, the pool customer's file)
        "rep1": (200, 404),   # the owner
        "rep3": (200, 404),   # shared with (read only)
        "sup1": (200, 404),   # the owner's manager
        "rep2": (404, 404),   # another salesperson of the same department
        "admin": (200, 200),  # 全部
    }
    for username, (own, pool) in expected.items():
        reader = new_client()
        reader.login(username)
        assert fetch(reader, f"/admin/attachment/download/{contract}").status_code == own, username
        assert fetch(reader, f"/admin/attachment/thumb/{photo}").status_code == own, username
        assert fetch(reader, f"/admin/attachment/download/{pooled}").status_code == pool, username
        record = reader.get(f"/admin/customer/details/?id={staff['mine']}")
        assert ("合同扫描件.pdf" in record.get_data(as_text=True)) is (own == 200), username

    outsider = new_client()
    outsider.login("rep2")
    refused = upload(outsider, "customer", staff["mine"], ("偷放.pdf", sample.pdf()))
    assert refused.status_code == 404
    assert len(rows(app)) == 3
    got = fetch(owner, f"/admin/attachment/download/{contract}")
    assert got.data == sample.pdf()


# --- content, not the name ---------------------------------------------------------------------

@pytest.mark.parametrize("name,content,why", [
    ("报价.pdf", sample.EXE, "可执行程序"),
    ("说明.txt", sample.HTML, "网页或 SVG"),
    ("logo.svg", sample.SVG, "网页或 SVG"),
    ("logo.png", sample.SVG, "网页或 SVG"),
    ("合同.docx", sample.zip_bomb(), "压缩炸弹"),
])
def test_a_dangerous_file_is_refused_by_its_content_and_nothing_is_kept(app, client, staff, files_dir,
                                                                         name, content, why):
    client.login("rep1")
    page = upload(client, "customer", staff["mine"], ("好文件.png", sample.png()), (name, content))
    text = page.get_data(as_text=True)
    assert "没有上传任何文件" in text and why in text and name in text
    assert rows(app) == [] and stored_files(files_dir) == []


def test_real_office_files_images_and_pdfs_are_told_apart_by_content(app, client, staff):
    client.login("rep1")
    upload(client, "customer", staff["mine"], ("a.bin", sample.docx()), ("b.dat", sample.xlsx()),
           ("c", sample.png()), ("d.txt", sample.pdf()), ("备注.txt", "你好，世界".encode("gb18030")))
    found = {row.file_name: (row.file_kind, row.mime) for row in rows(app)}
    assert found["a.bin"][0] == "word" and found["b.dat"][0] == "excel"
    assert found["c"] == ("image", "image/png") and found["d.txt"] == ("pdf", "application/pdf")
    assert found["备注.txt"][0] == "text"
    assert next(row for row in rows(app) if row.file_name == "c").thumb_key


def test_the_browser_is_never_asked_to_run_a_file(app, client, staff):
    client.login("rep1")
    upload(client, "customer", staff["mine"], ("图.png", sample.png()), ("合同 2026.txt", "甲方：华为".encode()),
           ("表.xlsx", sample.xlsx()))
    by_name = {row.file_name: row.id for row in rows(app)}
    for name, inline in (("图.png", True), ("合同 2026.txt", False), ("表.xlsx", False)):
        response = fetch(client, f"/admin/attachment/download/{by_name[name]}")
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("inline" if inline else "attachment"), name
        assert "filename*=UTF-8''" in disposition and "%E5%90%88%E5%90%8C" in disposition or name != "合同 2026.txt"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith("sandbox")
    text = fetch(client, f"/admin/attachment/download/{by_name['合同 2026.txt']}")
    assert text.mimetype == "text/plain"


def test_folders_and_nul_bytes_in_a_name_are_dropped(app, client, staff, files_dir):
    client.login("rep1")
    upload(client, "customer", staff["mine"], ("../../etc/passwd.txt", b"root:x:0:0"))
    with app.app_context():
        made = attachments.upload(db.session, entity="customer", record_id=staff["mine"],
                                  files=[(io.BytesIO(b"hello"), "a\x00b/..\\c\x00.txt")], actor=actor_of(staff["rep1"]),
                                  now=FIXED_NOW, root=files_dir)
        db.session.commit()
        assert made[0].file_name == "c.txt"
    first = rows(app)[0]
    assert first.file_name == "passwd.txt"
    assert all(files_dir in path.parents for path in stored_files(files_dir))
    assert not any("passwd" in str(path) for path in stored_files(files_dir))


# --- limits ------------------------------------------------------------------------------------

def test_over_the_limits_nothing_is_uploaded_and_the_message_says_which_file(app, client, staff, files_dir):
    with app.app_context():
        settings.put(db.session, "attachment_max_mb", 1)
        settings.put(db.session, "upload_max_files", 2)
        settings.put(db.session, "upload_max_total_mb", 1)
        db.session.commit()
    client.login("rep1")
    big = upload(client, "customer", staff["mine"], ("小.txt", b"ok"), ("大文件.txt", b"a" * (MB + 1)))
    assert "文件「大文件.txt」超过单个文件上限 1 MB" in big.get_data(as_text=True)
    many = upload(client, "customer", staff["mine"], ("1.txt", b"1"), ("2.txt", b"2"), ("3.txt", b"3"))
    assert "一次最多上传 2 个文件，这次选了 3 个" in many.get_data(as_text=True)
    total = upload(client, "customer", staff["mine"], ("1.txt", b"a" * (MB // 2 + 10)), ("2.txt", b"b" * (MB // 2 + 10)))
    assert "超过每次上传合计上限 1 MB" in total.get_data(as_text=True)
    assert rows(app) == [] and stored_files(files_dir) == []


class Bottomless(io.RawIOBase):
    """A request body that would be 500 MB: it counts what the server reads of it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return 0

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def readinto(self, buffer) -> int:
        self.read_bytes += len(buffer)
        buffer[:] = b"a" * len(buffer)
        return len(buffer)


def test_a_500_mb_upload_is_refused_unread_with_a_page_in_chinese(app, client, staff):
    client.login("rep1")
    body = Bottomless()
    response = client.post("/admin/attachment/upload/", input_stream=body, environ_overrides={"CONTENT_LENGTH": str(500 * MB)},
                           content_type="multipart/form-data; boundary=----kechi")
    text = response.get_data(as_text=True)
    assert response.status_code == 413, (response.request.environ.get("CONTENT_LENGTH"), text[:3000])
    assert "文件太大" in text and "合计不能超过 100 MB" in text and "分批上传" in text
    assert body.read_bytes == 0
    assert rows(app) == []
    # the limit is the upload route's own: 30 MB (over the site-wide 20 MB) is fine there
    page = upload(client, "customer", staff["mine"], ("扫描件.txt", b"x" * (21 * MB)))
    assert "超过单个文件上限 20 MB" in page.get_data(as_text=True)


def test_the_administrator_sets_the_limits_and_a_wrong_value_keeps_what_was_typed(app, client, staff):
    client.login("admin")
    refused = client.post_form("/admin/attachment_settings/", {"attachment_max_mb": "50", "upload_max_files": "3",
                                                               "upload_max_total_mb": "10",
                                                               "attachment_types": ["pdf"]}, follow=True)
    text = refused.get_data(as_text=True)
    assert "每次上传合计上限不能小于单个文件上限" in text and 'value="50"' in text
    client.post_form("/admin/attachment_settings/", {"attachment_max_mb": "5", "upload_max_files": "3",
                                                     "upload_max_total_mb": "10", "attachment_types": ["pdf"]})
    with app.app_context():
        assert attachments.limits(db.session) == {"attachment_max_mb": 5, "upload_max_files": 3,
                                                  "upload_max_total_mb": 10, "attachment_types": ["pdf"]}
    rep = client.__class__(app.test_client())
    rep.login("rep1")
    page = upload(rep, "customer", staff["mine"], ("图.png", sample.png()))
    assert "不允许上传图片类文件「图.png」" in page.get_data(as_text=True)
    assert client.get("/admin/attachment_settings/").status_code == 200
    assert rep.get("/admin/attachment_settings/").status_code == 403


# --- delete, the bin, the audit log --------------------------------------------------------------

def test_deleted_files_wait_in_the_bin_until_restored_or_purged(app, new_client, staff, files_dir):
    rep = new_client()
    rep.login("rep1")
    upload(rep, "customer", staff["mine"], ("合同.pdf", sample.pdf()), ("照片.png", sample.png()))
    contract, photo = (row.id for row in rows(app))
    sharee = new_client()
    sharee.login("rep3")
    assert sharee.post_form("/admin/attachment/", {"url": "/admin/"},
                            to=f"/admin/attachment/delete/{contract}", follow=True).status_code == 200
    assert rows(app)[0].deleted_at is None  # read-only sharee, not the uploader: refused
    rep.post_form("/admin/attachment/", {"url": f"/admin/customer/details/?id={staff['mine']}"},
                  to=f"/admin/attachment/delete/{contract}")
    rep.post_form("/admin/attachment/", {"url": "/admin/"}, to=f"/admin/attachment/delete/{photo}")
    assert fetch(rep, f"/admin/attachment/download/{contract}").status_code == 404
    assert "合同.pdf" not in rep.get(f"/admin/customer/details/?id={staff['mine']}").get_data(as_text=True)
    assert len(stored_files(files_dir)) == 3  # two files and a thumbnail stay until purged

    admin = new_client()
    admin.login("admin")
    bin_page = admin.get("/admin/attachment_bin/").get_data(as_text=True)
    assert "合同.pdf" in bin_page and "照片.png" in bin_page
    admin.post_form("/admin/attachment_bin/", {}, to=f"/admin/attachment_bin/restore/{contract}")
    assert fetch(rep, f"/admin/attachment/download/{contract}").status_code == 200
    admin.post_form("/admin/attachment_bin/", {}, to=f"/admin/attachment_bin/purge/{photo}")
    assert [row.id for row in rows(app)] == [contract]
    assert len(stored_files(files_dir)) == 1
    assert rep.get("/admin/attachment_bin/").status_code == 403  # 业务员 has no attachment.bin
    other = new_client()
    other.login("rep2")
    assert other.post_form("/admin/attachment/", {}, to=f"/admin/attachment/delete/{contract}").status_code == 404


def test_uploads_downloads_and_deletes_are_in_the_audit_log(app, client, staff):
    client.login("rep1")
    upload(client, "customer", staff["mine"], ("合同.pdf", sample.pdf()))
    attachment_id = rows(app)[0].id
    fetch(client, f"/admin/attachment/download/{attachment_id}")
    client.post_form("/admin/attachment/", {}, to=f"/admin/attachment/delete/{attachment_id}")
    with app.app_context():
        logged = [(row.action, row.actor_name, row.entity_id, row.changes["file_name"]) for row in db.session.scalars(
            select(AuditLog).where(AuditLog.entity == "Attachment").order_by(AuditLog.id))]
    assert logged == [("upload", "王小明", str(attachment_id), "合同.pdf"),
                      ("download", "王小明", str(attachment_id), "合同.pdf"),
                      ("delete", "王小明", str(attachment_id), "合同.pdf")]


# --- contacts and follow-ups, English ----------------------------------------------------------

def test_contacts_and_follow_ups_have_their_files_behind_a_paperclip(app, client, staff):
    with app.app_context():
        contact = Contact(customer_id=staff["mine"], name="李经理")
        follow_up = FollowUp(customer_id=staff["mine"], user_id=staff["rep1"], kind="phone", content="谈了价格",
                             happened_at=FIXED_NOW)
        db.session.add_all([contact, follow_up])
        db.session.commit()
        contact_id, follow_up_id = contact.id, follow_up.id
    client.login("rep1")
    upload(client, "contact", contact_id, ("名片.png", sample.png()))
    customer_page = client.get(f"/admin/customer/details/?id={staff['mine']}").get_data(as_text=True)
    assert f"/admin/attachment/record/contact/{contact_id}" in customer_page
    assert f"/admin/attachment/record/follow_up/{follow_up_id}" in customer_page
    page = client.get(f"/admin/attachment/record/contact/{contact_id}").get_data(as_text=True)
    assert "名片.png" in page and "李经理" in page
    outsider = client.__class__(app.test_client())
    outsider.login("rep2")
    assert outsider.get(f"/admin/attachment/record/contact/{contact_id}").status_code == 404
    assert outsider.get("/admin/attachment/record/nonsense/1").status_code == 404


def test_an_english_reader_gets_the_attachment_pages_in_english(app, client, staff):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "rep1")).locale = "en"
        db.session.commit()
    client.login("rep1")
    page = upload(client, "customer", staff["mine"], ("contract.exe", sample.EXE))
    text = page.get_data(as_text=True)
    assert "Nothing was uploaded" in text and "is a program" in text
    record = client.get(f"/admin/customer/details/?id={staff['mine']}").get_data(as_text=True)
    assert "Attachments" in record and "Upload" in record and "附件" not in record
    too_big = client.post("/admin/attachment/upload/", input_stream=Bottomless(), environ_overrides={"CONTENT_LENGTH": str(500 * MB)},
                          content_type="multipart/form-data; boundary=----kechi")
    assert "File Too Large" in too_big.get_data(as_text=True) and "in several batches" in too_big.get_data(as_text=True)


def test_rules_refuse_an_upload_without_the_permission(app, staff, files_dir):
    with app.app_context():
        from dataclasses import replace

        actor = replace(actor_of(staff["rep1"]), permissions=frozenset())
        with pytest.raises(Exception) as refused:
            attachments.upload(db.session, entity="customer", record_id=staff["mine"],
                               files=[(io.BytesIO(b"x"), "a.txt")], actor=actor, now=FIXED_NOW, root=files_dir)
        assert "没有上传附件的权限" in str(refused.value)
        with pytest.raises(FileRefused):
            attachments.upload(db.session, entity="customer", record_id=staff["mine"], files=[],
                               actor=actor_of(staff["rep1"]), now=FIXED_NOW, root=files_dir)


# --- at scale: the scoped list newest first probes records by key -------------------------

def sqlite_plan(stmt) -> str:
    compiled = stmt.compile(dialect=db.engine.dialect)
    values = tuple(compiled.params[name] for name in compiled.positiontup)
    rows = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), values).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_the_list_of_every_file_one_sees_reads_no_table_whole(app, client, staff):
    client.login("rep1")
    upload(client, "customer", staff["mine"], ("合同.pdf", sample.pdf()))
    with app.app_context():
        for username in ("rep1", "sup1", "admin"):
            actor = actor_of(db.session.scalar(select(User.id).where(User.username == username)))
            newest = (select(Attachment.id).where(Attachment.deleted_at.is_(None), scope.attachment_clause(actor))
                      .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc()).limit(50))
            plan = sqlite_plan(newest)
            # no table read whole to list what the reader sees (an IN over every visible contact
            # or follow-up scanned those tables on every list)
            assert not any(f"SCAN {table}" in plan for table in ("contacts", "follow_ups", "customers")), plan
            assert len(db.session.scalars(newest).all()) == 1


def test_a_merged_customers_files_follow_it_to_the_customer_kept(app, client, staff, make_customer):
    other = make_customer("华为技术（重复）", staff["rep1"])
    client.login("rep1")
    upload(client, "customer", other, ("重复客户的合同.pdf", sample.pdf()))
    with app.app_context():
        from rules import customers

        actor = actor_of(staff["rep1"])
        customers.merge(db.session, db.session.get(Customer, staff["mine"]), [db.session.get(Customer, other)],
                        actor=actor, now=FIXED_NOW)
        db.session.commit()
    page = client.get(f"/admin/customer/details/?id={staff['mine']}").get_data(as_text=True)
    assert "重复客户的合同.pdf" in page
    assert fetch(client, f"/admin/attachment/download/{rows(app)[0].id}").status_code == 200


def test_a_customer_purged_from_the_bin_takes_its_files_and_its_contacts_files_with_it(app, new_client, staff,
                                                                                       files_dir):
    with app.app_context():
        contact = Contact(customer_id=staff["mine"], name="李经理")
        db.session.add(contact)
        db.session.commit()
        contact_id = contact.id
    rep = new_client()
    rep.login("rep1")
    upload(rep, "customer", staff["mine"], ("合同扫描.pdf", sample.pdf()))
    upload(rep, "contact", contact_id, ("名片.png", sample.png()))
    assert len(rows(app)) == 2 and len(stored_files(files_dir)) == 3  # two files and the card's thumbnail
    with app.app_context():
        from rules import customers

        customers.to_bin(db.session, db.session.get(Customer, staff["mine"]), actor=actor_of(staff["rep1"]),
                         now=FIXED_NOW)
        db.session.commit()
    admin = new_client()
    admin.login("admin")
    page = admin.action("/admin/customer_bin/", "purge", [staff["mine"]]).get_data(as_text=True)
    assert "已彻底删除 1 位客户" in page
    assert rows(app) == [] and stored_files(files_dir) == []


def test_my_uploads_lists_only_what_i_uploaded_on_records_i_still_see(app, new_client, staff):
    rep, sup = new_client(), new_client()
    rep.login("rep1")
    sup.login("sup1")
    upload(rep, "customer", staff["mine"], ("我的报价.pdf", sample.pdf()))
    upload(sup, "customer", staff["mine"], ("主管的备注.pdf", sample.pdf()))
    mine = rep.get("/admin/attachment/").get_data(as_text=True)
    assert "我的报价.pdf" in mine and "主管的备注.pdf" not in mine and "华为技术有限公司" in mine
    with app.app_context():
        db.session.get(Customer, staff["mine"]).owner_id = staff["rep2"]  # handed to a colleague
        db.session.commit()
    assert "我的报价.pdf" not in rep.get("/admin/attachment/").get_data(as_text=True)
