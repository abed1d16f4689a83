"""产品导入 through the import wizard: counts and reasons in the rejected-rows file, update by
code, the template, who may import products; and the retention of import/export files."""
from __future__ import annotations

import io
import re
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from conftest import csrf_token, latest_job, sheet_rows, start_import, upload_sheet
from models import CustomField, Product, db
from models.job import JobRecord
from rules import products
from test_import_customers import crash_after_batches


def book(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "产品"
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


HEADER = ["产品编号", "产品名称", "规格", "单位", "产品类别", "零售价", "批发价", "成本价", "积分", "保修月数"]
ROWS = [  # sheet rows 3-11: a title row and the header sit above them
    ["P-001", "激光打印机", "A4 黑白", "台", "办公设备/打印机", 1299, "1,100", 899, 10, 12],   # 3 imported
    ["p-002", "硒鼓", None, "个", "耗材", "¥88.50", None, 40, None, None],                     # 4 imported (P-002)
    ["P-001", "激光打印机二号", None, "台", "打印机", 1399, None, None, None, None],            # 5 skipped: row 3
    ["P-100", "旧产品新名字", None, None, None, 20, None, None, None, None],                   # 6 skipped: exists
    ["P-003", "扫描仪", None, "台", "不存在的类别", 500, None, None, None, None],               # 7 rejected: category
    ["P-004", "投影仪", None, "台", "办公设备", "面议", None, None, None, None],                # 8 rejected: price
    ["P-005", None, None, "台", "办公设备", 100, None, None, None, None],                       # 9 rejected: no name
    ["P-006", "转接头", None, "个", "配件", 10, None, None, None, None],                        # 10 rejected: 2 配件
    ["P-007", "订书机", None, "个", "办公设备", 10, None, -5, None, "十二"],                     # 11 rejected
]


@pytest.fixture
def clerk(make_user, app):
    """内勤 manages products; the catalogue has categories, three price levels, a custom field
    and one existing product."""
    uid = make_user("zhaoli", role="内勤", department=("商务部",), display_name="赵丽")
    with app.app_context():
        s = db.session
        levels = products.ensure_default_levels(s)
        products.ensure_category_path(s, ["办公设备", "打印机"])
        products.ensure_category_path(s, ["办公设备", "耗材"])
        products.ensure_category_path(s, ["办公设备", "配件"])
        products.ensure_category_path(s, ["电脑", "配件"])
        s.add(CustomField(entity="product", key="warranty", label="保修月数", field_type="number"))
        old = Product(code="P-100", name="旧产品", unit="件", cost=Decimal("5"), custom={})
        products.set_prices(s, old, {levels[0].id: "10", levels[1].id: "8"})
        products.validate(s, old, confirmed=False)
        s.add(old)
        s.commit()
    return uid


def upload(client, data: bytes, name: str = "产品.xlsx", entity: str = "product"):
    return upload_sheet(client, data, name=name, entity=entity)


def start(client, job_id: int, **changes):
    return start_import(client, job_id, **changes)


def prices_of(code: str) -> dict[str, Decimal]:
    product = db.session.scalar(select(Product).where(Product.code == code))
    return {p.level.name: p.price for p in product.prices}


@pytest.mark.both_dbs
def test_a_products_sheet_imports_with_exact_counts_and_reasons(app, client, clerk):
    client.login("zhaoli")
    page = client.get("/admin/excel/?entity=product").get_data(as_text=True)
    assert re.search(r'<option value="product"\s+selected>产品</option>', page)
    assert upload(client, book([["2026年产品目录"], HEADER, *ROWS])).status_code == 302
    job = latest_job(app)
    assert job.kind == "import_product" and job.params["header_row"] == 1
    assert job.params["mapping"][:8] == ["code", "name", "spec", "unit", "category", job.params["mapping"][5],
                                         job.params["mapping"][6], "cost"]
    assert job.params["mapping"][5].startswith("price:") and job.params["mapping"][9] == "cf:warranty"
    page = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    assert "遇到已有的产品编号时" in page and "更新已有产品（按产品编号）" in page and "导入的客户归属" not in page
    assert "与文件第 3 行重复" in page and "不能导入" in page  # the preview shows each row's fate

    assert start(client, job.id).status_code == 302
    job = latest_job(app)
    assert job.status == "done", job.error
    assert (job.total, job.imported, job.updated, job.skipped, job.rejected) == (9, 2, 0, 2, 5)

    with app.app_context():
        printer = db.session.scalar(select(Product).where(Product.code == "P-001"))
        assert (printer.name, printer.spec, printer.unit, printer.cost, printer.points) == (
            "激光打印机", "A4 黑白", "台", Decimal("899.00"), 10)
        assert printer.category.name == "打印机" and printer.custom == {"warranty": 12}
        assert printer.mnemonic == products.normalize.mnemonic("激光打印机")
        assert prices_of("P-001") == {"零售价": Decimal("1299.00"), "批发价": Decimal("1100.00")}
        toner = db.session.scalar(select(Product).where(Product.code == "P-002"))  # codes are kept upper-case
        assert toner.category.name == "耗材" and prices_of("P-002") == {"零售价": Decimal("88.50")}
        assert db.session.scalar(select(Product.name).where(Product.code == "P-100")) == "旧产品"  # skipped
        assert db.session.scalar(select(db.func.count(Product.id))) == 3

    rejected = sheet_rows(client.get(f"/admin/excel/{job.id}/result.xlsx"))
    assert rejected[0][:3] == ("行号", "产品编号", "产品名称") and rejected[0][-1] == "原因"
    reasons = {row[0]: row[-1] for row in rejected[1:]}
    assert set(reasons) == {7, 8, 9, 10, 11}  # sheet rows (a title row sits above the header)
    assert reasons[7] == "产品类别“不存在的类别”不存在，请先在“产品类别”中添加"
    assert reasons[8] == "价格格式不正确：面议"
    assert reasons[9] == "请填写产品名称"
    assert reasons[10] == "有多个名为“配件”的产品类别，请写完整路径（如 办公设备/配件）"
    assert "保修月数：应为数字" in reasons[11] and "成本价不能为负数" in reasons[11]
    assert rejected[2][1:6] == ("P-004", "投影仪", None, "台", "办公设备")  # the original values
    with client.get(f"/admin/excel/{job.id}/result.xlsx") as response:
        skipped = list(openpyxl.load_workbook(io.BytesIO(response.data))["跳过的行"].iter_rows(values_only=True))
    skipped = {row[0]: row[-1] for row in skipped[1:]}
    assert skipped == {5: "与文件第 3 行重复（产品编号 P-001）", 6: "产品编号“P-100”已被“旧产品”使用"}

    page = client.get(f"/admin/excel/{job.id}/").get_data(as_text=True)
    assert "导入产品" in page and "查看产品列表" in page


def test_update_mode_updates_existing_products_by_code(app, client, clerk):
    client.login("zhaoli")
    upload(client, book([["编号", "零售价", "备注", "在售"], ["p-100", "15.5", "换了包装", "停售"],
                         ["P-200", "9", None, None]]))
    job = latest_job(app)
    assert job.params["mapping"] == ["code", job.params["mapping"][1], "notes", "active"]
    response = start(client, job.id)  # without a name column, skipping needs the name
    assert response.status_code == 200 and "请为必填项选择对应的列：产品名称" in response.get_data(as_text=True)
    assert start(client, job.id, on_duplicate="update").status_code == 302
    job = latest_job(app)
    assert (job.total, job.imported, job.updated, job.skipped, job.rejected) == (2, 0, 1, 0, 1), job.error
    with app.app_context():
        old = db.session.scalar(select(Product).where(Product.code == "P-100"))
        assert (old.name, old.unit, old.notes, old.active, old.cost) == ("旧产品", "件", "换了包装", False,
                                                                         Decimal("5.00"))
        assert prices_of("P-100") == {"零售价": Decimal("15.50"), "批发价": Decimal("8.00")}  # untouched level kept
    reasons = {r[0]: r[-1] for r in sheet_rows(client.get(f"/admin/excel/{job.id}/result.xlsx"))[1:]}
    assert reasons == {3: "请填写产品名称"}  # a new code still needs a name


def test_the_product_template_marks_required_columns(app, client, clerk):
    client.login("zhaoli")
    page = client.get("/admin/excel/").get_data(as_text=True)
    assert "/admin/excel/template/product.xlsx" in page
    response = client.get("/admin/excel/template/product.xlsx")
    assert response.status_code == 200
    assert "%E4%BA%A7%E5%93%81%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF" in response.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    header, example = list(workbook.active.iter_rows(values_only=True))[:2]
    assert header[:2] == ("产品编号*", "产品名称*")
    assert {"规格（含量/包装）", "单位", "产品类别", "零售价", "批发价", "VIP价", "成本价", "保修月数"} <= set(header)
    assert not any(h.endswith("*") for h in header[2:])
    assert example[:2] == ("P-0001", "激光打印机")
    notes = [r[0] for r in workbook["填写说明"].iter_rows(values_only=True)]
    assert any("办公设备/打印机" in n for n in notes)
    # the template round-trips: its example row imports
    upload(client, response.data)
    start(client, latest_job(app).id)
    job = latest_job(app)
    assert (job.imported, job.rejected) == (1, 0), job.error


def test_only_those_who_manage_products_import_them(app, client, clerk, make_user):
    make_user("chenxm", display_name="陈晓明")  # 业务员: product.view only
    client.login("chenxm")
    page = client.get("/admin/excel/?entity=product").get_data(as_text=True)
    assert 'value="product"' not in page and "template/product.xlsx" not in page
    token = csrf_token(page)
    response = client.post("/admin/excel/", data={"csrf_token": token, "entity": "product",
                                                  "file": (io.BytesIO(book([HEADER, ROWS[0]])), "p.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(JobRecord.id)) is None


def test_a_crash_between_batches_then_continue_imports_every_product_once(app, client, clerk, monkeypatch):
    client.login("zhaoli")
    rows = [[f"K-{i:04d}", f"批量产品{i}", "打印机", 10 + i] for i in range(250)]
    rows.append(["k-0005", "文件里重复的编号", "打印机", 1])  # in the last batch: repeats the first batch's row
    upload(client, book([["产品编号", "产品名称", "产品类别", "零售价"], *rows]))
    job = latest_job(app)
    app.config.update(IMPORT_BATCH_SIZE=100)
    crash_after_batches(monkeypatch, 2)
    with pytest.raises(RuntimeError):
        start(client, job.id)
    job = latest_job(app)
    assert job.status == "failed" and job.done == 200 and job.imported == 200
    monkeypatch.undo()
    token = client.token(f"/admin/excel/{job.id}/")
    client.post(f"/admin/excel/{job.id}/resume/", data={"csrf_token": token})
    job = latest_job(app)
    assert (job.status, job.total, job.imported, job.skipped, job.rejected) == ("done", 251, 250, 1, 0)
    with app.app_context():
        codes = list(db.session.scalars(select(Product.code).where(Product.code.like("K-%"))))
        assert len(codes) == len(set(codes)) == 250
    assert len(sheet_rows(client.get(f"/admin/excel/{job.id}/result.xlsx"))) == 1  # nothing rejected
    with client.get(f"/admin/excel/{job.id}/result.xlsx") as response:
        rows = list(openpyxl.load_workbook(io.BytesIO(response.data))["跳过的行"].iter_rows(values_only=True))
    assert rows[1][0] == 252 and rows[1][-1] == "与文件第 7 行重复（产品编号 K-0005）"
