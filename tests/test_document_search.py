"""文档中心: words inside uploaded PDF, Word, Excel and text files are found by search (1–2
Chinese characters as well as longer phrases), only within the reader's scope; versions keep the
old files; bad files are refused whole or kept without their text, never half-stored."""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW
from jobs import document_text as text_jobs
from models import AuditLog, User, db
from models.document import Document, DocumentFolder, DocumentVersion, FolderKind, TextStatus
from rules import document_folders, document_search, document_text, documents, pdf
from rules.actor import Actor
from rules.audit import AuditContext
from rules.errors import FileRefused

pytestmark = pytest.mark.both_dbs


def actor(username: str) -> Actor:
    return Actor.from_user(db.session.scalar(select(User).where(User.username == username)), has_shares=False)


def pdf_bytes(text: str) -> bytes:
    if not pdf.available():
        pytest.skip("pango is not installed")
    return pdf.html_to_pdf(f"<html><body><h1>报价说明</h1><p>{text}</p></body></html>")


def docx_bytes(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "付款方式"
    table.rows[0].cells[1].text = "银行承兑汇票"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "价格表"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def centre(app, make_user, tmp_path):
    app.config["FILES_DIR"] = str(tmp_path / "files")
    ids = {"rep1": make_user("rep1"), "rep2": make_user("rep2"),
           "admin": make_user("admin", role="系统管理员", department=("总经办",))}
    with app.app_context():
        for username in ids:
            document_folders.ensure_own(db.session, actor(username), now=FIXED_NOW)
        db.session.commit()
    return ids


def personal(username: str) -> int:
    return db.session.scalar(select(DocumentFolder.id).where(
        DocumentFolder.kind == FolderKind.PERSONAL, DocumentFolder.owner_id == actor(username).user_id))


def upload(app, username: str, files: list[tuple[bytes, str]], folder_id: int | None = None) -> list[DocumentVersion]:
    """Upload as a user, commit, then run the text job as the queue would."""
    who = actor(username)
    written = documents.upload(db.session, folder_id=folder_id or personal(username),
                               files=[(io.BytesIO(data), name) for data, name in files], actor=who, now=FIXED_NOW,
                               root=app.config["FILES_DIR"], ctx=AuditContext(who.user_id, username))
    db.session.commit()
    ids = [v.id for v in written]
    for version_id in ids:
        text_jobs.extract_version(version_id)
    return [db.session.get(DocumentVersion, i) for i in ids]


def names(username: str, term: str) -> set[str]:
    return {d.name for d in document_search.find(db.session, actor(username), term)}


def test_words_inside_pdf_word_excel_and_text_files_are_found(app, centre):
    with app.app_context():
        versions = upload(app, "rep1", [
            (pdf_bytes("华东区年度采购合同，交货期三十天"), "采购.pdf"),
            (docx_bytes("本协议由甲乙双方签订", "保修期为两年"), "协议.docx"),
            (xlsx_bytes([["产品", "单价"], ["不锈钢阀门", 128.5], ["铜管", 36]]), "价格.xlsx"),
            ("会议纪要：讨论渠道返利政策".encode("gb18030"), "纪要.txt"),
        ])
        assert [v.text_status for v in versions] == [TextStatus.DONE] * 4
        assert names("rep1", "采购合同") == {"采购.pdf"}
        assert names("rep1", "华东") == {"采购.pdf"}          # two characters
        assert names("rep1", "保修期") == {"协议.docx"}
        assert names("rep1", "承兑汇票") == {"协议.docx"}     # inside a table
        assert names("rep1", "不锈钢阀门") == {"价格.xlsx"}
        assert names("rep1", "价格表") == {"价格.xlsx"}       # the sheet's name
        assert names("rep1", "返利") == {"纪要.txt"}          # GB18030 text
        assert names("rep1", "协议") == {"协议.docx", }       # by name too
        assert names("rep1", "阀") == {"价格.xlsx"}           # one character
        assert names("rep1", "火星") == set()
        assert "采购合同" in document_search.snippet(db.session, versions[0].document_id, "采购合同")


def test_search_respects_scope(app, centre):
    with app.app_context():
        upload(app, "rep1", [(docx_bytes("绝密的投标底价"), "底价.docx")])
        assert names("rep1", "投标底价") == {"底价.docx"}
        assert names("rep2", "投标底价") == set()            # another salesperson's 我的文档
        assert names("admin", "投标底价") == set()           # document.manage never opens personal folders
        company = document_folders.create(db.session, actor("admin"), name="公司制度", now=FIXED_NOW)
        db.session.commit()
        upload(app, "admin", [(docx_bytes("差旅报销标准"), "报销.docx")], folder_id=company.id)
        assert names("rep2", "报销标准") == {"报销.docx"}    # a company folder without grants: everyone


def test_a_new_version_keeps_the_old_one_and_search_follows_the_current(app, centre):
    with app.app_context():
        [first] = upload(app, "rep1", [("第一版：价格九折".encode(), "方案.txt")])
        who = actor("rep1")
        second = documents.new_version(db.session, document_id=first.document_id,
                                       stream=io.BytesIO("第二版：价格八折".encode()), name="方案v2.txt", actor=who,
                                       now=FIXED_NOW, root=app.config["FILES_DIR"], ctx=AuditContext(who.user_id, "rep1"),
                                       note="降价")
        db.session.commit()
        text_jobs.extract_version(second.id)
        document = db.session.get(Document, first.document_id)
        assert document.current_version == 2 and document.name == "方案.txt"
        assert [(v.number, v.file_name, v.note) for v in documents.versions(db.session, document)] == [
            (2, "方案v2.txt", "降价"), (1, "方案.txt", None)]
        old, old_path = documents.open_version(db.session, who, first.id, root=app.config["FILES_DIR"],
                                               ctx=AuditContext(who.user_id, "rep1"))
        assert old_path.read_bytes() == "第一版：价格九折".encode()
        assert names("rep1", "八折") == {"方案.txt"} and names("rep1", "九折") == set()
        # an upload named like a document already in the folder is its next version
        [third] = upload(app, "rep1", [("第三版".encode(), "方案.txt")])
        assert third.number == 3 and third.document_id == first.document_id
        documents.rename(db.session, who, first.document_id, "报价方案.txt", now=FIXED_NOW)
        db.session.commit()
        assert names("rep1", "报价方案") == {"报价方案.txt"} and names("rep1", "第三版") == {"报价方案.txt"}
        uploads = db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "upload",
                                                                          AuditLog.entity == "Document"))
        downloads = db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "download"))
        assert (uploads, downloads) == (3, 1)


def test_a_bad_file_refuses_the_whole_upload_and_leaves_nothing(app, centre):
    with app.app_context():
        root = Path(app.config["FILES_DIR"])
        with pytest.raises(FileRefused) as refused:
            upload(app, "rep1", [("好文件".encode(), "好.txt"), (b"MZ\x90\x00" + b"\x00" * 200, "发票.pdf")])
        assert "发票.pdf" in str(refused.value) and "可执行程序" in str(refused.value)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Document.id))) == 0
        assert not [p for p in root.rglob("*") if p.is_file()]
        with pytest.raises(FileRefused, match="网页或 SVG"):
            upload(app, "rep1", [(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "图.txt")])
        db.session.rollback()


def test_unreadable_or_oversized_files_are_kept_without_their_text(app, centre, tmp_path):
    with app.app_context():
        [broken] = upload(app, "rep1", [(b"%PDF-1.7\n" + b"\x00garbage" * 100, "坏的.pdf")])
        assert broken.text_status == TextStatus.FAILED
        assert names("rep1", "坏的") == {"坏的.pdf"}  # still found by name, still downloadable
        # a workbook declaring A1:XFD1048576 is read row by row, never padded to its dimension
        sheet = tmp_path / "wide.xlsx"
        sheet.write_bytes(xlsx_bytes([["宽表测试"]]))
        patched = tmp_path / "patched.xlsx"
        with zipfile.ZipFile(sheet) as src, zipfile.ZipFile(patched, "w") as out:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename.startswith("xl/worksheets/"):
                    data = data.replace(b'<dimension ref="A1"/>', b'<dimension ref="A1:XFD1048576"/>')
                out.writestr(item, data)
        started = time.monotonic()
        found = document_text.extract(patched, "excel")
        assert found.status == TextStatus.DONE and "宽表测试" in found.text
        assert time.monotonic() - started < 5
        long_text = ("客户" * 150_000).encode()
        capped = tmp_path / "long.txt"
        capped.write_bytes(long_text)
        assert len(document_text.extract(capped, "text").text) == document_text.MAX_CHARS


def test_versions_left_pending_are_read_by_the_periodic_job(app, centre):
    with app.app_context():
        who = actor("rep1")
        documents.upload(db.session, folder_id=personal("rep1"), files=[(io.BytesIO("队列停了也能搜到".encode()), "停机.txt")],
                         actor=who, now=FIXED_NOW, root=app.config["FILES_DIR"], ctx=AuditContext(who.user_id, "rep1"))
        db.session.commit()  # as when the queue was down at upload: nothing read yet
        assert names("rep1", "队列") == set()
        assert text_jobs.extract_pending() == 1
        assert names("rep1", "队列") == {"停机.txt"}
        assert text_jobs.extract_pending() == 0
