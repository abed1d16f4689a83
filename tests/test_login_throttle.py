"""Failed logins slow attackers down but never lock anyone out (issue 15, item 3): growing
delays per account and per client IP, a CAPTCHA after a few failures, the same answer for
unknown, wrong-password and disabled accounts until the password is right, the per-role IP
allow-list at login and on every request, and `flask unlock-user` for recovery.

The CAPTCHA is solved the way only the server could: its answer is read from the database row
whose id the server put into the client's session."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from conftest import PASSWORD, csrf_token
from models import LoginCaptcha, LoginLog, Role, User, db
from models.system import LoginReason

ERROR = re.compile(r'data-testid="login-error">([^<]*)<')
WAIT = re.compile(r"请 (\d+) 秒后再试")


def from_ip(client, ip: str):
    client.client.environ_base["REMOTE_ADDR"] = ip
    return client


def captcha_answer(app, client) -> str | None:
    """What the server expects for the CAPTCHA the client was last shown."""
    with client.session_transaction() as sess:
        captcha_id = sess.get("login_captcha")
    if not captcha_id:
        return None
    with app.app_context():
        row = db.session.get(LoginCaptcha, captcha_id)
        return row.answer if row else None


def message(response) -> str:
    match = ERROR.search(response.get_data(as_text=True))
    return match.group(1) if match else ""


def attempt(app, client, username: str, password: str, *, solve: bool = True):
    """Sign in as a person at the login page would: fill in the CAPTCHA when one is shown (and
    once more if the answer to the first try asks for one)."""
    page = client.get("/login").get_data(as_text=True)
    for _ in range(2):
        data = {"username": username, "password": password, "csrf_token": csrf_token(page)}
        if solve and 'data-testid="login-captcha"' in page:
            data["captcha"] = captcha_answer(app, client)
        response = client.post("/login", data=data)
        page = response.get_data(as_text=True)
        if not (solve and message(response) == "请输入图片中的验证码"):
            break
    return response


def wait_of(response) -> int:
    match = WAIT.search(message(response))
    return int(match.group(1)) if match else 0


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


@pytest.mark.both_dbs
def test_twenty_two_wrong_passwords_lock_out_neither_the_boss_nor_the_admin(app, new_client, make_user,
                                                                           admin_id, clock):
    make_user("zhangzong", role="总经理", department=("总经办",))
    attacker = from_ip(new_client(), "203.0.113.9")
    answers = {}
    for username in ("zhangzong", "admin"):
        answers[username] = [attempt(app, attacker, username, f"guess-{i}") for i in range(22)]
    for username, responses in answers.items():
        assert all(r.status_code in (401, 429) for r in responses)
        assert wait_of(responses[-1]) > 0, username  # slowed down ...
    owners = {username: from_ip(new_client(), "10.0.0.8") for username in ("zhangzong", "admin")}
    waits = {}
    for username, owner in owners.items():
        first = attempt(app, owner, username, PASSWORD)
        waits[username] = wait_of(first)
        assert 0 < waits[username] <= 4 and not signed_in(owner), message(first)  # seconds, not the day
    clock.advance(seconds=max(waits.values()))
    for username, owner in owners.items():
        response = attempt(app, owner, username, PASSWORD)
        assert response.status_code == 302, message(response)
        assert signed_in(owner)
    with app.app_context():
        reasons = set(db.session.scalars(select(LoginLog.reason).where(LoginLog.success.is_(False))))
        assert {LoginReason.BAD_PASSWORD, LoginReason.THROTTLED} <= reasons
        assert LoginReason.LOCKED not in reasons


def test_an_attacker_who_waits_out_every_delay_still_cannot_keep_the_admin_out(app, new_client, admin_id, clock):
    attacker = from_ip(new_client(), "203.0.113.9")
    failures = 0
    while failures < 22:
        response = attempt(app, attacker, "admin", "guess")
        if wait_of(response):
            clock.advance(seconds=wait_of(response))
        else:
            assert message(response) == "用户名或密码错误"
            failures += 1
    admin = from_ip(new_client(), "10.0.0.8")
    wait = wait_of(attempt(app, admin, "admin", PASSWORD))
    assert 0 < wait <= app.config["LOGIN_MAX_DELAY_SECONDS"]
    clock.advance(seconds=wait)
    assert attempt(app, admin, "admin", PASSWORD).status_code == 302


@pytest.mark.both_dbs
def test_brute_force_is_throttled_without_checking_the_password(app, client, make_user, clock):
    make_user("rep1")
    for i in range(10):
        assert message(attempt(app, client, "rep1", f"guess-{i}")) == "用户名或密码错误"
    eleventh = attempt(app, client, "rep1", PASSWORD)  # the right one, but too soon
    assert eleventh.status_code == 429
    assert message(eleventh) == "登录尝试过于频繁，请 2 秒后再试"
    assert not signed_in(client)
    with app.app_context():
        last = db.session.scalars(select(LoginLog).order_by(LoginLog.id.desc())).first()
        assert (last.success, last.reason) == (False, LoginReason.THROTTLED)
    clock.advance(seconds=2)
    assert message(attempt(app, client, "rep1", "guess-11")) == "用户名或密码错误"
    assert message(attempt(app, client, "rep1", PASSWORD)) == "登录尝试过于频繁，请 4 秒后再试"  # growing
    clock.advance(seconds=3)
    assert message(attempt(app, client, "rep1", PASSWORD)) == "登录尝试过于频繁，请 1 秒后再试"
    clock.advance(seconds=1)
    assert attempt(app, client, "rep1", PASSWORD).status_code == 302


def test_a_captcha_is_required_after_three_failures_and_a_wrong_one_checks_no_password(app, client, make_user):
    make_user("rep1")
    for _ in range(3):
        assert 'data-testid="login-captcha"' not in client.get("/login").get_data(as_text=True)
        attempt(app, client, "rep1", "guess")
    page = client.get("/login").get_data(as_text=True)
    assert 'data-testid="login-captcha"' in page and 'src="data:image/png;base64,' in page
    wrong = client.post("/login", data={"username": "rep1", "password": PASSWORD, "captcha": "XXXX",
                                        "csrf_token": csrf_token(page)})
    assert message(wrong) == "验证码错误，请重新输入" and not signed_in(client)
    # The image is used up by one attempt: its answer does not work twice.
    page = client.get("/login").get_data(as_text=True)
    answer = captcha_answer(app, client)
    with client.session_transaction() as sess:
        used = sess["login_captcha"]
    client.post("/login", data={"username": "rep1", "password": "guess", "captcha": answer,
                                "csrf_token": csrf_token(page)})
    page = client.get("/login").get_data(as_text=True)
    with client.session_transaction() as sess:
        sess["login_captcha"] = used
    replay = client.post("/login", data={"username": "rep1", "password": PASSWORD, "captcha": answer,
                                         "csrf_token": csrf_token(page)})
    assert message(replay) == "验证码错误，请重新输入" and not signed_in(client)
    assert attempt(app, client, "rep1", PASSWORD).status_code == 302


@pytest.mark.both_dbs
def test_unknown_wrong_password_and_disabled_accounts_get_the_same_answers(app, new_client, make_user, clock):
    make_user("rep1")
    gone = make_user("gone")
    with app.app_context():
        db.session.get(User, gone).active = False
        db.session.commit()

    def story(username: str, ip: str) -> list[tuple[int, str, str]]:
        client = from_ip(new_client(), ip)
        seen = []
        for i in range(12):
            response = attempt(app, client, username, f"guess-{i}")
            body = response.get_data(as_text=True)
            body = re.sub(r'value="[^"]*"', 'value=""', body)  # CSRF token, the username typed
            body = re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', body)  # a fresh image
            seen.append((response.status_code, message(response), body))
        return seen

    stories = [story("rep1", "10.0.0.1"), story("gone", "10.0.0.2"), story("nobody", "10.0.0.3")]
    assert stories[0] == stories[1] == stories[2]
    assert [s[1] for s in stories[0][:10]] == ["用户名或密码错误"] * 10
    assert stories[0][10][:2] == (429, "登录尝试过于频繁，请 2 秒后再试")
    # Only the right password tells a disabled account apart.
    clock.advance(seconds=2)
    told = attempt(app, from_ip(new_client(), "10.0.0.2"), "gone", PASSWORD)
    assert message(told) == "该账号已停用，请联系管理员"


def test_one_ip_is_throttled_across_usernames(app, new_client, make_user):
    make_user("rep1")
    bot = from_ip(new_client(), "198.51.100.7")
    messages = [message(attempt(app, bot, f"user{i}", "guess")) for i in range(60)]
    assert messages[:30] == ["用户名或密码错误"] * 30
    assert all(WAIT.search(m) for m in messages[30:])
    # From that address even a real account's right password waits ...
    assert wait_of(attempt(app, bot, "rep1", PASSWORD)) > 0
    # ... while the same account signs in from anywhere else.
    assert attempt(app, from_ip(new_client(), "10.0.0.8"), "rep1", PASSWORD).status_code == 302


def test_the_role_ip_allow_list_refuses_login_and_ends_open_sessions(app, new_client, make_user):
    make_user("rep1")
    rep = from_ip(new_client(), "10.8.1.2")
    assert rep.login("rep1").status_code == 302
    with app.app_context():
        db.session.scalar(select(Role).where(Role.name == "业务员")).allowed_networks = "10.8.0.0/16\n192.168.1.7"
        db.session.commit()
    assert signed_in(rep)  # inside the office network
    from_ip(rep, "172.16.0.5")  # the laptop left it
    out = rep.get("/admin/customer/")
    assert out.status_code == 302 and "/login" in out.headers["Location"]
    assert "当前IP不允许登录该账号" in rep.get(out.headers["Location"]).get_data(as_text=True)
    from_ip(rep, "10.8.1.2")
    assert not signed_in(rep)  # that session is over, back inside too
    outside = from_ip(new_client(), "172.16.0.5")
    assert message(outside.login("rep1", "wrong")) == "用户名或密码错误"  # nothing told before the password
    refused = outside.login("rep1")
    assert refused.status_code == 401 and message(refused) == "当前IP不允许登录该账号"
    assert from_ip(new_client(), "192.168.1.7").login("rep1").status_code == 302
    with app.app_context():
        reasons = list(db.session.scalars(select(LoginLog.reason).where(LoginLog.ip == "172.16.0.5")))
        assert reasons == [LoginReason.BAD_PASSWORD, LoginReason.IP_DENIED]


def test_the_role_form_edits_the_allow_list_and_refuses_a_typo(app, client, admin_id):
    client.login("admin")
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        role_id, fields = role.id, {"name": role.name, "data_scope": role.data_scope,
                                    "permissions": list(role.permissions)}
    url = f"/admin/role/edit/?id={role_id}"
    page = client.get(url).get_data(as_text=True)
    assert "IP限制登录" in page
    bad = client.post_form(url, dict(fields, allowed_networks="10.8.0.0/33"))
    assert "不是有效的 IP 地址或网段" in bad.get_data(as_text=True)
    client.post_form(url, dict(fields, allowed_networks="10.8.0.0/16, 192.168.1.7"))
    with app.app_context():
        assert db.session.get(Role, role_id).allowed_networks == "10.8.0.0/16\n192.168.1.7/32"


def test_unlock_user_cli_clears_the_delay(app, new_client, admin_id, runner):
    attacker = from_ip(new_client(), "203.0.113.9")
    for i in range(10):
        attempt(app, attacker, "admin", f"guess-{i}")
    admin = from_ip(new_client(), "10.0.0.8")
    assert wait_of(attempt(app, admin, "admin", PASSWORD)) > 0
    result = runner.invoke(args=["unlock-user", "admin"])
    assert result.exit_code == 0 and "admin" in result.output
    # No wait, and no CAPTCHA either: the account's failures are cleared.
    assert 'data-testid="login-captcha"' not in admin.get("/login").get_data(as_text=True)
    assert admin.login("admin").status_code == 302
    unknown = runner.invoke(args=["unlock-user", "nobody"])
    assert unknown.exit_code != 0 and "nobody" in unknown.output


def test_the_administrator_unlock_action_clears_the_delay(app, new_client, make_user, admin_id):
    rep = make_user("rep1")
    for i in range(10):
        attempt(app, from_ip(new_client(), "203.0.113.9"), "rep1", f"guess-{i}")
    assert wait_of(attempt(app, from_ip(new_client(), "10.0.0.8"), "rep1", PASSWORD)) > 0
    admin = from_ip(new_client(), "10.0.0.9")
    admin.login("admin")
    done = admin.action("/admin/user/", "unlock", [rep])
    assert "已解除 1 名员工的登录限制" in done.get_data(as_text=True)
    assert from_ip(new_client(), "10.0.0.8").login("rep1").status_code == 302


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(tmp_path):
    from conftest import build_app

    proxied = build_app("sqlite", tmp_path, TRUSTED_PROXIES=1)
    browser = proxied.test_client()
    page = browser.get("/login").get_data(as_text=True)
    browser.post("/login", data={"username": "nobody", "password": "guess", "csrf_token": csrf_token(page)},
                 headers={"X-Forwarded-For": "198.51.100.23"})
    with proxied.app_context():
        assert db.session.scalars(select(LoginLog.ip)).one() == "198.51.100.23"
