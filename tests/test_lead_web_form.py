"""留资表单: the administrator's form publishes /f/<key>; a visitor's post lands as a lead in the
form's lead pool with its source, past the honeypot, the CAPTCHA and the per-address limit."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from conftest import csrf_token
from models import DictItem, LoginCaptcha, Pool, db
from models.lead import Lead, LeadStatus
from models.lead_form import LeadForm, LeadFormPost


@pytest.fixture
def web_form(app):
    with app.app_context():
        pool = Pool(name="网站线索池", kind="lead")
        source = DictItem(kind="source", name="官网留资")
        db.session.add_all([pool, source])
        db.session.flush()
        form = LeadForm(name="官网咨询", key="k" * 32, enabled=True, pool_id=pool.id, source_id=source.id,
                        title="免费获取报价", fields={"company": "shown", "mobile": "required"},
                        thank_you="感谢留言，顾问将在一个工作日内联系您", max_posts_per_ip=3)
        db.session.add(form)
        db.session.commit()
        return {"key": form.key, "pool_id": pool.id, "source_id": source.id, "form_id": form.id}


def open_page(client, key):
    """GET the form as a visitor does; returns the CSRF token and the CAPTCHA's answer."""
    page = client.get(f"/f/{key}")
    assert page.status_code == 200
    with client.session_transaction() as s:
        captcha_id = s["lead_form_captcha"]
    with client.application.app_context():
        answer = db.session.get(LoginCaptcha, captcha_id).answer
    return page.get_data(as_text=True), csrf_token(page.get_data(as_text=True)), answer


def post(client, key, **fields):
    _html, token, answer = open_page(client, key)
    data = {"csrf_token": token, "name": "李女士", "company": "云帆文化传媒", "mobile": "13598765432",
            "captcha": answer.lower(), "website": ""}
    data.update(fields)
    return client.post(f"/f/{key}", data=data)


def leads(app):
    with app.app_context():
        return db.session.scalars(select(Lead)).all()


def test_a_visitor_leaves_details_and_a_lead_waits_in_the_pool_with_the_forms_source(app, client, web_form):
    html, _token, _answer = open_page(client, web_form["key"])
    assert "免费获取报价" in html and "公司名称" in html and "手机" in html and "验证码" in html
    assert "<script" not in html  # nothing inline for the Content-Security-Policy to refuse
    response = post(client, web_form["key"])
    assert response.status_code == 302
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "感谢留言，顾问将在一个工作日内联系您" in thanks
    [lead] = leads(app)
    assert (lead.name, lead.company, lead.mobile, lead.owner_id, lead.pool_id, lead.source_id, lead.status) == (
        "李女士", "云帆文化传媒", "13598765432", None, web_form["pool_id"], web_form["source_id"], LeadStatus.NEW)


def test_a_filled_honeypot_is_thanked_and_dropped(app, client, web_form):
    response = post(client, web_form["key"], website="http://spam.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
    assert leads(app) == []


def test_a_wrong_captcha_keeps_what_the_visitor_typed(app, client, web_form):
    response = post(client, web_form["key"], captcha="0000", company="云帆文化传媒有限公司")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "验证码错误，请重新输入" in html
    assert 'value="云帆文化传媒有限公司"' in html and 'value="13598765432"' in html
    assert leads(app) == []


def test_a_required_field_and_a_malformed_mobile_are_named(app, client, web_form):
    html = post(client, web_form["key"], mobile="").get_data(as_text=True)
    assert "请填写手机" in html
    html = post(client, web_form["key"], mobile="12345").get_data(as_text=True)
    assert "手机号码格式不正确" in html
    assert leads(app) == []


def test_a_flood_from_one_address_is_refused_and_writes_nothing(app, client, web_form):
    for i in range(3):
        assert post(client, web_form["key"], mobile=f"1359876543{i}").status_code == 302
    response = post(client, web_form["key"], mobile="13598765439")
    assert response.status_code == 429
    assert "提交过于频繁，请 10 分钟后再试" in response.get_data(as_text=True)
    assert len(leads(app)) == 3
    with app.app_context():
        assert db.session.scalar(select(func.count(LeadFormPost.id))) == 3


def test_the_limit_frees_up_after_ten_minutes(app, client, web_form, clock):
    for i in range(3):
        post(client, web_form["key"], mobile=f"1359876543{i}")
    clock.advance(minutes=11)
    assert post(client, web_form["key"], mobile="13598765439").status_code == 302
    assert len(leads(app)) == 4


def test_a_disabled_form_and_an_unknown_key_are_not_found(app, client, web_form):
    assert client.get("/f/no-such-form").status_code == 404
    with app.app_context():
        db.session.get(LeadForm, web_form["form_id"]).enabled = False
        db.session.commit()
    assert client.get(f"/f/{web_form['key']}").status_code == 404
    assert client.post(f"/f/{web_form['key']}", data={"name": "x"}).status_code == 404


def test_the_administrator_creates_a_form_and_regenerates_its_address(app, client, admin_id, web_form):
    client.login("admin")
    page = client.get("/admin/lead_form/new/")
    assert page.status_code == 200
    response = client.post_form("/admin/lead_form/new/", {
        "name": "展会表单", "enabled": "y", "pool": str(web_form["pool_id"]), "source": str(web_form["source_id"]),
        "max_posts_per_ip": "5", "field_mobile": "required", "field_email": "shown"})
    assert response.status_code == 302
    with app.app_context():
        made = db.session.scalar(select(LeadForm).where(LeadForm.name == "展会表单"))
        assert made.fields == {"mobile": "required", "email": "shown"} and len(made.key) >= 32
        old_key = made.key
    listing = client.get("/admin/lead_form/").get_data(as_text=True)
    assert f"/f/{old_key}" in listing
    client.post_form("/admin/lead_form/", {}, to=f"/admin/lead_form/{made.id}/regenerate/")
    with app.app_context():
        assert db.session.get(LeadForm, made.id).key != old_key
    assert client.get(f"/f/{old_key}").status_code == 404


def test_salespeople_cannot_open_the_form_settings(client, make_user):
    make_user("rep")
    client.login("rep")
    assert client.get("/admin/lead_form/").status_code == 403
