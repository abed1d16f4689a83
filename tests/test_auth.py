"""Login, idle timeout, forced logout, CSRF and security headers."""
from __future__ import annotations

from sqlalchemy import select

from conftest import PASSWORD
from models import Customer, LoginLog, User, db


def test_login_page_is_chinese_and_a_good_login_reaches_the_workbench(app, client, make_user):
    make_user("rep1")
    page = client.get("/login").get_data(as_text=True)
    assert "用户名" in page and "密码" in page and "登录" in page
    response = client.login("rep1", follow=True)
    body = response.get_data(as_text=True)
    assert "工作台" in body and "rep1" in body
    with app.app_context():
        log = db.session.scalars(select(LoginLog)).one()
        assert log.success and log.username == "rep1" and log.ip == "127.0.0.1"


def test_wrong_password_says_so_and_keeps_the_username(app, client, make_user):
    make_user("rep1")
    response = client.login("rep1", "wrong-password")
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "用户名或密码错误" in body and "次" not in body.split("用户名或密码错误", 1)[1][:20]
    assert 'value="rep1"' in body


def test_a_disabled_user_cannot_log_in_and_their_open_session_ends(app, client, new_client, make_user, admin_id):
    rep = make_user("rep1")
    client.login("rep1")
    assert client.get("/admin/").status_code == 200
    admin = new_client()
    admin.login("admin")
    done = admin.action("/admin/user/", "disable", [rep])
    assert "已停用 1 名员工" in done.get_data(as_text=True)
    after = client.get("/admin/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    refused = new_client().login("rep1")
    assert "该账号已停用" in refused.get_data(as_text=True)
    admin.action("/admin/user/", "enable", [rep])
    assert new_client().login("rep1").status_code == 302


def test_an_idle_session_expires_after_thirty_minutes(app, client, make_user, clock):
    make_user("rep1")
    client.login("rep1")
    clock.advance(minutes=29)
    assert client.get("/admin/customer/").status_code == 200
    clock.advance(minutes=29)  # 29 minutes after the last request: still fine
    assert client.get("/admin/customer/").status_code == 200
    clock.advance(minutes=31)
    expired = client.get("/admin/customer/")
    assert expired.status_code == 302 and "/login" in expired.headers["Location"]
    page = client.get(expired.headers["Location"]).get_data(as_text=True)
    assert "未操作，请重新登录" in page


def test_a_forced_out_user_lands_on_login(app, client, new_client, make_user, admin_id):
    rep = make_user("rep1")
    client.login("rep1")
    client.get("/admin/")
    admin = new_client()
    admin.login("admin")
    online = admin.get("/admin/online_users/").get_data(as_text=True)
    assert "rep1" in online
    admin.action("/admin/online_users/", "force_logout", [rep])
    response = client.get("/admin/customer/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "rep1" not in admin.get("/admin/online_users/").get_data(as_text=True)


def test_logout_ends_every_copy_of_the_session_cookie(app, client, new_client, make_user):
    make_user("rep1")
    client.login("rep1")
    cookie = client.get_cookie("session").value
    client.logout()
    thief = new_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/admin/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_session_is_renewed_at_login(app, client, make_user):
    make_user("rep1")
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    client.login("rep1")
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_posts_without_a_csrf_token_are_refused(app, client, make_user, make_customer):
    rep = make_user("rep1")
    cid = make_customer("华为", rep)
    assert client.post("/login", data={"username": "rep1", "password": PASSWORD}).status_code == 401
    client.login("rep1")
    client.post("/admin/customer/new/", data={"name": "无令牌客户", "kind": "company"})
    client.post("/admin/customer/delete/", data={"id": str(cid)})
    client.post("/admin/customer/action/", data={"action": "delete", "rowid": [str(cid)]})
    client.post("/logout")
    with app.app_context():
        assert db.session.get(Customer, cid).deleted_at is None
        assert db.session.scalar(select(Customer).where(Customer.name == "无令牌客户")) is None
    assert client.get("/admin/").status_code == 200  # the token-less logout did nothing


def test_security_headers(app, client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirects_after_login_are_ignored(app, client, make_user):
    make_user("rep1")
    token = client.token("/login?next=https://evil.example/")
    response = client.client.post("/login?next=https://evil.example/",
                                  data={"username": "rep1", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/admin/")


def test_a_user_without_a_permission_gets_403_and_no_menu_entry(app, client, make_user):
    make_user("rep1")
    client.login("rep1")
    assert client.get("/admin/user/").status_code == 403
    assert client.get("/admin/audit_log/").status_code == 403
    assert "系统设置" not in client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "rep1")).active
