"""手机归属地: a Chinese mobile's province, city and carrier from phonenumbers' data in Chinese,
named as the customer's own region fields name them; stored on the customer when its mobile is
saved (form, importer), shown beside the number, filtered and counted in 客户数量报表; the
importer offers it for a customer without a province; the upgrade fills it for old customers."""
from __future__ import annotations

import re
from html import unescape

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import MIGRATIONS_DIR
from conftest import app_at_revision, latest_job, start_import, upload_sheet
from models import Contact, Customer, Lead, db
from rules import phone_region
from test_import_check import workbook

SAMPLES = [  # typed as people type them → (province, city, carrier)
    ("13800138000", ("北京市", "北京市", "中国移动")),
    ("15920001234", ("广东省", "深圳市", "中国移动")),
    ("186 2000 1234", ("广东省", "广州市", "中国联通")),
    ("15958141234", ("浙江省", "杭州市", "中国移动")),
    ("+86 177 1703 1234", ("上海市", "上海市", "中国电信")),
    ("13912345678.0", ("江苏省", "常州市", "中国移动")),
    ("19912345678", (None, None, "中国电信")),  # a 号段 the data knows only the carrier of
    ("010-88888888", None),  # a landline has no 归属地 of this kind
    ("+852 2123 4567", None),
    ("电话见备注", None),
]


def test_sample_numbers_give_province_city_and_carrier():
    found = {typed: phone_region.lookup(typed) for typed, _expected in SAMPLES}
    assert {typed: (f.province, f.city, f.carrier) if f else None for typed, f in found.items()} == dict(SAMPLES)
    assert phone_region.label("15920001234") == "广东深圳 中国移动"
    assert phone_region.label("13800138000") == "北京 中国移动"  # a municipality is named once
    assert phone_region.label("0571-88888888") == ""


@pytest.fixture
def rep(make_user):
    return make_user("chenxm", display_name="陈晓明")


def _rows(html: str) -> dict[str, tuple[int, str | None]]:
    """客户数量报表's rows: name → (count, drill address)."""
    table = html.split('id="kechi-report-table"', 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if not cells:
            continue
        link = re.search(r'href="([^"]+)"', cells[0])
        name = re.sub(r"<[^>]+>", "", cells[0]).strip()
        rows[name] = (int(re.sub(r"<[^>]+>", "", cells[1]).strip()), unescape(link.group(1)) if link else None)
    return rows


def test_the_form_stores_it_the_pages_show_it_and_the_filter_and_report_count_it(app, client, rep):
    client.login("chenxm")
    for name, mobile in (("深圳甲科技", "159 2000 1234"), ("广州乙贸易", "18620001234"), ("北京丙商行", "13800138000"),
                         ("丁工作室", "")):
        response = client.post_form("/admin/customer/new/", {"name": name, "kind": "company", "mobile": mobile})
        assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    with app.app_context():
        stored = {c.name: (c.mobile_province, c.mobile_city) for c in db.session.scalars(select(Customer))}
        shenzhen = db.session.scalar(select(Customer.id).where(Customer.name == "深圳甲科技"))
        db.session.add(Contact(customer_id=shenzhen, name="王经理", is_primary=True, mobile="15958141234", custom={}))
        db.session.add(Lead(name="上海线索", mobile="17717031234", owner_id=rep, custom={}))
        db.session.commit()
        contact = db.session.scalar(select(Contact.id))
        lead = db.session.scalar(select(Lead.id))
    assert stored == {"深圳甲科技": ("广东省", "深圳市"), "广州乙贸易": ("广东省", "广州市"),
                      "北京丙商行": ("北京市", "北京市"), "丁工作室": (None, None)}

    # beside every mobile: the customer's page (its own and its contacts'), the list, the contact, the lead
    page = client.get(f"/admin/customer/details/?id={shenzhen}").get_data(as_text=True)
    assert "广东深圳 中国移动" in page and "浙江杭州 中国移动" in page
    assert "北京 中国移动" in client.get("/admin/customer/").get_data(as_text=True)
    assert "浙江杭州 中国移动" in client.get(f"/admin/contact/details/?id={contact}").get_data(as_text=True)
    assert "上海 中国电信" in client.get(f"/admin/lead/details/?id={lead}").get_data(as_text=True)

    report = client.get("/admin/reports/customers/?by=mobile_province").get_data(as_text=True)
    assert "客户手机归属地（省份）" in report
    rows = _rows(report)
    assert {k: n for k, (n, _link) in rows.items()} == {"广东省": 2, "北京市": 1, "未设置": 1}
    listed = client.get(rows["广东省"][1]).get_data(as_text=True)
    assert "深圳甲科技" in listed and "广州乙贸易" in listed and "北京丙商行" not in listed
    assert "手机归属地" in listed  # the filter, named, on the list


def test_the_importer_suggests_the_region_and_fills_it_when_asked(app, client, rep):
    client.login("chenxm")
    data = workbook(["客户名称", "手机", "省份"], [["深圳甲科技", "15920001234", None],
                                               ["杭州乙贸易", "13800138000", "浙江"],
                                               ["丙商行", "0571-88888888", None]])
    upload_sheet(client, data, name="客户.xlsx", entity="customer")
    job = latest_job(app)
    preview = client.get(f"/admin/excel/{job.id}/mapping/").get_data(as_text=True)
    assert "可按手机归属地补全：广东省 深圳市" in preview and "按手机归属地补全省市" in preview
    assert preview.count("按手机归属地补全：") == 1  # 杭州乙 has a province, 丙 no mobile

    start_import(client, job.id, owner="me", region_from_mobile="1")
    assert latest_job(app).status == "done"
    with app.app_context():
        found = {c.name: (c.province, c.city, c.mobile_province) for c in db.session.scalars(select(Customer))}
    assert found == {"深圳甲科技": ("广东省", "深圳市", "广东省"), "杭州乙贸易": ("浙江省", None, "北京市"),
                     "丙商行": (None, None, None)}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_upgrade_fills_the_region_of_existing_customers(tmp_path, kind):
    with app_at_revision(kind, tmp_path, "7b1e4d9a2c61"):
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO customers (id, kind, name, mobile, custom, has_deal, created_at, updated_at) VALUES "
                "(1, 'company', '甲', '15920001234', '{}', false, :now, :now), "
                "(2, 'company', '乙', '13800138000', '{}', false, :now, :now), "
                "(3, 'company', '丙', NULL, '{}', false, :now, :now), "
                "(4, 'company', '丁', '19912345678', '{}', false, :now, :now)"), {"now": "2026-11-01 08:00:00"})
        upgrade(directory=MIGRATIONS_DIR)
        rows = db.session.execute(select(Customer.id, Customer.mobile_province, Customer.mobile_city)
                                  .order_by(Customer.id)).all()
    assert [tuple(r) for r in rows] == [(1, "广东省", "深圳市"), (2, "北京市", "北京市"), (3, None, None),
                                        (4, None, None)]
