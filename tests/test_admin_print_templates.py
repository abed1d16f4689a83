"""The print template designer (打印模板, print.design): the list per document type, a refused
save that keeps everything typed, the logo through the file store (images only), the live
preview of the unsaved form on a real record, the company profile, and the English page."""
from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import select

from models import db
from models.printing import PrintTemplate
from models.system import AuditLog
from rules import print_data
from tests.print_records import documents

EDIT = "/admin/print_template/edit/"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _form(**changes):
    form = {"doc_type": "order", "name": "简洁订单", "paper": "A5", "landscape": "1", "margin_top": "10",
            "margin_right": "10", "margin_bottom": "10", "margin_left": "10", "header": "", "footer": "",
            "columns": ["index", "product_name", "quantity", "amount"], "active": "1",
            "body": "<h1>{{ company.name }} 订单 {{ order.number }}</h1>{{ order.total|money }} {{ order.total_words }}"}
    form.update(changes)
    return form


def test_only_designers_open_the_templates(client, admin_id, make_user):
    make_user("sales")
    client.login("sales")
    assert client.get("/admin/print_template/").status_code in (302, 403)
    client.logout()
    client.login("admin")
    page = client.get("/admin/print_template/").get_data(as_text=True)
    for label in ("客户资料", "订单", "发货单", "报价单", "合同", "收款单", "开票申请", "维修工单", "信封", "标准销售订单"):
        assert label in page


def test_a_refused_save_keeps_what_was_typed(app, client, admin_id):
    client.login("admin")
    body = "<p>我的新版式</p>{{ customer.nmae }}"
    response = client.post_form(EDIT + "?doc_type=order", _form(body=body, name="我的订单模板", margin_top="12"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "字段 customer.nmae 不存在" in page
    assert "&lt;p&gt;我的新版式&lt;/p&gt;{{ customer.nmae }}" in page
    assert 'value="我的订单模板"' in page and 'id="margin_top" name="margin_top" inputmode="numeric" value="12"' in page
    assert 'value="A5" selected' in page and re.search(r'id="landscape"[^>]*checked', page)
    assert re.search(r'value="quantity" checked', page) and not re.search(r'value="unit_price" checked', page)
    with app.app_context():
        assert db.session.scalar(select(PrintTemplate).where(PrintTemplate.name == "我的订单模板")) is None


def test_escape_refused_on_save(client, admin_id):
    client.login("admin")
    page = client.post_form(EDIT + "?doc_type=order", _form(body="{{ ''.__class__.__mro__ }}")).get_data(as_text=True)
    assert "模板试图访问不允许的内容：__class__" in page


def test_save_with_logo_then_refused_logo_keeps_the_old_one(app, client, admin_id, tmp_path):
    client.login("admin")
    data = dict(_form(), csrf_token=client.token(EDIT + "?doc_type=order"), logo=(io.BytesIO(_png()), "标志.png"))
    response = client.post(EDIT + "?doc_type=order", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.scalar(select(PrintTemplate).where(PrintTemplate.name == "简洁订单"))
        assert saved.logo_key and saved.paper == "A5" and saved.landscape
        assert saved.columns == ["index", "product_name", "quantity", "amount"]
        ident, logo = saved.id, saved.logo_key
        logged = db.session.scalars(select(AuditLog).where(AuditLog.entity == "PrintTemplate", AuditLog.entity_id == str(ident))).all()
        assert [(row.action, row.actor_id, row.entity_label) for row in logged] == [("create", admin_id, "简洁订单")]
    url = f"{EDIT}?id={ident}"
    page = client.get(url).get_data(as_text=True)
    assert "data:image/png;base64," in page
    data = dict(_form(name="改名"), version="1", csrf_token=client.token(url),
                logo=(io.BytesIO(b"MZ\x90\x00 not an image"), "logo.png"))
    page = client.post(url, data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "logo.png" in page and 'value="改名"' in page
    with app.app_context():
        again = db.session.get(PrintTemplate, ident)
        assert again.logo_key == logo and again.name == "简洁订单"


def test_live_preview_prints_the_unsaved_form_on_a_real_record(app, client, admin_id, make_customer):
    customer = make_customer("杭州青禾贸易有限公司", admin_id)
    ids = documents(app, customer, admin_id)
    client.login("admin")
    token = client.token(EDIT + "?doc_type=order")
    response = client.post("/admin/print_template/preview/",
                           data=dict(_form(body="<b>{{ customer.name }}</b> {{ order.number }} {{ order.total_words }}"),
                                     record="DD2026A001", csrf_token=token))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<b>杭州青禾贸易有限公司</b> DD2026A001 壹仟贰佰叁拾肆元伍角整" in html
    assert "size: 210mm 148mm" in html  # A5 landscape
    refused = client.post("/admin/print_template/preview/", data=dict(
        _form(body="{% for i in range(10**9) %}{% endfor %}"), record="", csrf_token=token)).get_data(as_text=True)
    assert "模板循环次数过多" in refused
    unknown = client.post("/admin/print_template/preview/", data=dict(
        _form(body="{{ order.number }}", name=""), record="没有这张单", csrf_token=token)).get_data(as_text=True)
    assert "没有找到“没有这张单”，以下为示例数据" in unknown and "DD20261123001" in unknown
    assert ids["order"]


def test_preview_never_shows_a_record_outside_scope(app, client, make_user, make_customer):
    owner = make_user("zhang")
    customer = make_customer("别人的客户", owner)
    documents(app, customer, owner)
    designer = make_user("designer", role="系统管理员", department=("总经办",))
    with app.app_context():
        from models.org import Role, User
        from models.org import DataScope
        role = Role(name="模板设计员", data_scope=DataScope.SELF, permissions=["print.design"])
        db.session.add(role)
        db.session.flush()
        db.session.get(User, designer).role_id = role.id
        db.session.commit()
    client.login("designer")
    token = client.token(EDIT + "?doc_type=order")
    html = client.post("/admin/print_template/preview/", data=dict(
        _form(body="{{ customer.name }}"), record="DD2026A001", csrf_token=token)).get_data(as_text=True)
    assert "别人的客户" not in html and "示例数据" in html


def test_company_profile(app, client, admin_id):
    client.login("admin")
    page = client.post_form("/admin/print_template/company/", {"name": "上海客池", "zip_code": "2012"},
                            follow=True).get_data(as_text=True)
    assert "邮编请填写 6 位数字" in page and 'value="上海客池"' in page
    client.post_form("/admin/print_template/company/", {"name": "上海客池", "zip_code": "201203",
                                                        "bank": "招商银行"})
    with app.app_context():
        profile = print_data.company_profile(db.session)
    assert profile["name"] == "上海客池" and profile["bank"] == "招商银行" and profile["zip_code"] == "201203"


def test_copy_default_delete(app, client, admin_id):
    client.login("admin")
    with app.app_context():
        seeded = db.session.scalar(select(PrintTemplate).where(PrintTemplate.doc_type == "quote"))
        ident = seeded.id
    response = client.post_form("/admin/print_template/", {}, to=f"/admin/print_template/copy/?id={ident}")
    twin = int(response.headers["Location"].split("id=")[1])
    client.post_form("/admin/print_template/", {}, to=f"/admin/print_template/default/?id={twin}")
    with app.app_context():
        assert db.session.get(PrintTemplate, twin).is_default and not db.session.get(PrintTemplate, ident).is_default
    client.post_form("/admin/print_template/", {}, to=f"/admin/print_template/delete/?id={twin}")
    with app.app_context():
        assert db.session.get(PrintTemplate, twin).deleted_at is not None
        actions = db.session.scalars(select(AuditLog.action).where(AuditLog.entity == "PrintTemplate", AuditLog.entity_id == str(twin))
                                     .order_by(AuditLog.id)).all()
        assert actions == ["create", "update", "update"]  # copied, made the default, deleted (to the bin)
        assert db.session.get(PrintTemplate, ident).is_default


def test_english_page(app, client, admin_id):
    client.login("admin")
    with app.app_context():
        from models.org import User
        db.session.get(User, admin_id).locale = "en"
        db.session.commit()
    page = client.get(EDIT + "?doc_type=order").get_data(as_text=True)
    assert "Template Name" in page and "Customer Name" in page and "Refresh preview" in page and "模板" not in page.split("<textarea")[0]
    assert "Columns of the line items" in page
