"""Upload bombs (issue 15, item 1): a tiny workbook that declares or holds a huge sheet, a
shared-string bomb, a zip whose members inflate past the limit, a CSV of too many lines. Each
is refused with a message that names the limit, before any parser runs in the web process;
a file that passes the inspection but needs more memory than IMPORT_PARSE_MEMORY_MB fails its
own job, and the server keeps serving. The bomb files are built here with zipfile, a few KB each."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from conftest import latest_job, upload_sheet
from models import User, db
from models.job import JobRecord, JobStatus

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def workbook(sheet_xml: str, shared: str | bytes | None = None) -> bytes:
    """A minimal .xlsx (one sheet 客户, optionally shared strings) that calamine reads."""
    sst_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                   '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                   'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
                   'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   + (f'<Override PartName="/xl/sharedStrings.xml" ContentType="{sst_type}"/>' if shared else "")
                   + "</Types>")
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" '
                   'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml",
                   f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} xmlns:r="{REL}"><sheets>'
                   '<sheet name="客户" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships"><Relationship Id="rId1" Type="{REL}/worksheet" '
                   'Target="worksheets/sheet1.xml"/>'
                   + (f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                      if shared else "") + "</Relationships>")
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared:
            z.writestr("xl/sharedStrings.xml", shared)
    return buf.getvalue()


def far_corner_sheet(corner: str = "XFD1048576", *, declared: bool = True) -> bytes:
    """Two cells, A1 and `corner`: calamine allocates every cell in between."""
    row = "".join(ch for ch in corner if ch.isdigit())
    dimension = f'<dimension ref="A1:{corner}"/>' if declared else ""
    return workbook(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>{dimension}<sheetData>'
                    '<row r="1"><c r="A1" t="inlineStr"><is><t>客户名称</t></is></c></row>'
                    f'<row r="{row}"><c r="{corner}" t="inlineStr"><is><t>甲公司</t></is></c></row>'
                    "</sheetData></worksheet>")


def shared_string_sheet(shared: str | bytes) -> bytes:
    return workbook(f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><dimension ref="A1:A2"/><sheetData>'
                    '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
                    "</sheetData></worksheet>", shared)


@pytest.fixture
def sales(make_user):
    return make_user("chenxm", display_name="陈晓明")


def jobs_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(JobRecord.id)))


def refused(app, client, data: bytes, name: str = "客户.xlsx") -> str:
    """Upload; the answer must be the upload page again with the reason, and no job."""
    before = jobs_count(app)
    response = upload_sheet(client, data, name=name, entity="customer")
    assert response.status_code == 200
    assert jobs_count(app) == before  # refused before a job (and so a parser) ever saw it
    assert client.get("/admin/excel/").status_code == 200  # and the server still answers
    return response.get_data(as_text=True)


@pytest.mark.both_dbs
def test_a_workbook_declaring_a1_to_xfd1048576_is_refused_before_parsing(app, client, sales):
    bomb = far_corner_sheet()
    assert len(bomb) < 5000  # 1.5 KB on disk, 512 GB in calamine's dense range
    client.login("chenxm")
    page = refused(app, client, bomb)
    assert "A1:XFD1048576" in page and "17179869184 个单元格，超过上限 10000000 个" in page
    with app.app_context():
        db.session.get(User, sales).locale = "en"
        db.session.commit()
    page = refused(app, client, bomb)
    assert "A1:XFD1048576" in page and "17179869184 cells, more than the limit of 10000000" in page


def test_a_sheet_that_does_not_declare_its_range_fails_its_own_job(app, client, sales):
    """No <dimension>: the cheap inspection cannot see it; the job's inspection counts the cell
    references before calamine does, and says why."""
    client.login("chenxm")
    response = upload_sheet(client, far_corner_sheet(declared=False), name="客户.xlsx", entity="customer")
    assert response.status_code == 200
    assert "A1:XFD1048576" in response.get_data(as_text=True) and "个单元格，超过上限" in response.get_data(as_text=True)
    job = latest_job(app)
    assert job.status == JobStatus.FAILED and "个单元格" in job.error
    page = client.get(f"/admin/excel/{job.id}/").get_data(as_text=True)
    assert "个单元格，超过上限" in page


def test_a_shared_string_bomb_is_refused(app, client, sales):
    client.login("chenxm")
    declared = (f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="60000000" uniqueCount="60000000">'
                + "<si><t>客户名称</t></si>" * 1000 + "</sst>")
    page = refused(app, client, shared_string_sheet(declared))
    assert "60000000 个共享字符串" in page and "超过上限 2000000 个" in page

    # Not declared: the job counts them (the ratio check is loosened so the count is what refuses)
    app.config.update(IMPORT_MAX_SHARED_STRINGS=100_000, IMPORT_MAX_COMPRESSION_RATIO=100_000)
    undeclared = f'<?xml version="1.0" encoding="UTF-8"?><sst {NS}>' + "<si><t>a</t></si>" * 300_000 + "</sst>"
    bomb = shared_string_sheet(undeclared)
    assert len(bomb) < 100_000
    response = upload_sheet(client, bomb, name="客户.xlsx", entity="customer")
    assert "个共享字符串（xl/sharedStrings.xml），超过上限 100000 个" in response.get_data(as_text=True)
    assert latest_job(app).status == JobStatus.FAILED


def test_a_zip_whose_members_inflate_past_the_limits_is_refused(app, client, sales):
    client.login("chenxm")
    padding = " " * (20 * 1024 * 1024)  # 20 MB of blanks deflate to about 20 KB
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'
             f'<row r="1"><c r="A1" t="inlineStr"><is><t>客户名称</t></is></c></row></sheetData>{padding}</worksheet>')
    bomb = workbook(sheet)
    assert len(bomb) < 100_000
    page = refused(app, client, bomb)
    assert "xl/worksheets/sheet1.xml" in page and "压缩比异常" in page and "上限 100 倍" in page
    app.config["IMPORT_MAX_UNCOMPRESSED_BYTES"] = 10 * 1024 * 1024
    page = refused(app, client, bomb)
    assert "文件解压后共 20 MB，超过上限 10 MB" in page


def test_a_csv_of_too_many_lines_is_refused(app, client, sales):
    client.login("chenxm")
    app.config["IMPORT_MAX_ROWS"] = 100
    data = ("客户名称\n" + "".join(f"公司{i}\n" for i in range(150))).encode()
    page = refused(app, client, data, name="客户.csv")
    assert "文件有 151 行，超过上限 100 行" in page


@pytest.mark.both_dbs
def test_a_file_that_passes_inspection_but_needs_too_much_memory_fails_its_job(app, client, sales):
    """10.4 million cells need about 330 MB in calamine: under a 200 MB limit the child process
    fails, the job says why, and the server goes on serving. A normal sheet reads fine under
    the same limit."""
    client.login("chenxm")
    app.config.update(IMPORT_MAX_CELLS=100_000_000, IMPORT_MAX_ROWS=1_000_000, IMPORT_PARSE_MEMORY_MB=200)
    assert upload_sheet(client, far_corner_sheet("C3"), name="客户.xlsx", entity="customer").status_code == 302
    assert latest_job(app).status == JobStatus.DRAFT

    response = upload_sheet(client, far_corner_sheet("Z400000"), name="客户.xlsx", entity="customer")
    assert "文件无法解析：超出内存限制（200 MB）" in response.get_data(as_text=True)
    job = latest_job(app)
    assert job.status == JobStatus.FAILED and "超出内存限制" in job.error
    assert "超出内存限制" in client.get(f"/admin/excel/{job.id}/").get_data(as_text=True)
    assert client.get("/admin/customer/").status_code == 200

    # A file past every limit would abort any process that parsed it (512 GB): only the child goes
    app.config.update(IMPORT_MAX_CELLS=10**12, IMPORT_MAX_ROWS=10**8)
    response = upload_sheet(client, far_corner_sheet(), name="客户.xlsx", entity="customer")
    assert "文件无法解析：超出内存限制" in response.get_data(as_text=True)
    assert client.get("/admin/excel/").status_code == 200


@pytest.mark.both_dbs
def test_parallel_reading_is_bounded(app, client, sales, make_user, new_client):
    client.login("chenxm")
    with app.app_context():
        for _ in range(2):
            db.session.add(JobRecord(kind="import_customer", status=JobStatus.READING, user_id=sales, params={}))
        db.session.commit()
    page = refused(app, client, "客户名称\n甲公司\n".encode(), name="客户.csv")
    assert "您已有 2 个文件正在读取，请等它们读完再上传" in page

    other = make_user("wangfang", display_name="王芳")
    with app.app_context():
        for _ in range(6):
            db.session.add(JobRecord(kind="import_customer", status=JobStatus.READING, user_id=other, params={}))
        db.session.commit()
    colleague = new_client()
    colleague.login("wangfang")
    app.config["IMPORT_MAX_READING_PER_USER"] = 10
    page = refused(app, colleague, "客户名称\n甲公司\n".encode(), name="客户.csv")
    assert "服务器正在读取的文件较多，请稍后再上传" in page


def test_choosing_another_sheet_is_read_by_a_preview_job_not_the_request(app, client, sales):
    import openpyxl

    from conftest import csrf_token

    wb = openpyxl.Workbook()
    wb.active.title = "客户"
    wb.active.append(["客户名称", "手机"])
    wb.active.append(["甲公司", "13900139001"])
    wb.create_sheet("联系人").append(["公司名称", "地址", "Email"])
    wb["联系人"].append(["乙公司", "杭州", "b@example.com"])
    buf = io.BytesIO()
    wb.save(buf)
    client.login("chenxm")
    assert upload_sheet(client, buf.getvalue(), name="客户.xlsx", entity="customer").status_code == 302
    job = latest_job(app)
    assert job.params["headers"] == ["客户名称", "手机"]
    page = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    client.post(f"/admin/excel/{job.id}/mapping/", data={"csrf_token": csrf_token(page), "sheet": "联系人"})
    job = latest_job(app)
    assert job.status == JobStatus.DRAFT and job.params["sheet"] == "联系人"
    assert job.params["headers"] == ["公司名称", "地址", "Email"]
    page = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    assert "乙公司" in page and "b@example.com" in page  # the sample rows the job read


def test_the_page_waits_while_the_preview_job_reads(app, client, sales):
    """In rq or threaded mode the upload answers at once; the mapping page shows 读取中 and polls."""
    client.login("chenxm")
    with app.app_context():
        job = JobRecord(kind="import_customer", status=JobStatus.READING, user_id=sales, params={},
                        file_name="客户.xlsx")
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    page = client.get(f"/admin/excel/{job_id}/mapping/").get_data(as_text=True)
    assert 'id="kechi-reading"' in page and "读取中" in page and "kechi-reading.js" in page
    assert client.get(f"/admin/excel/{job_id}/status.json").get_json()["status"] == "reading"
    assert client.get(f"/admin/excel/{job_id}/").status_code == 302
