"""Three wrong passwords from this browser: the login page shows an image CAPTCHA; the right
password with the characters typed from the image signs in."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import PASSWORD, screenshot
from models import LoginCaptcha, db

pytestmark = pytest.mark.browser


def test_the_captcha_appears_after_failures_and_a_person_can_solve_it(app, page, make_user):
    from playwright.sync_api import expect

    make_user("chenxm", display_name="陈晓明")
    page.goto(page.base + "/login")
    for _ in range(3):
        page.fill("#username", "chenxm")
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        expect(page.locator("[data-testid=login-error]")).to_have_text("用户名或密码错误")
    captcha = page.locator("[data-testid=login-captcha] img")
    expect(captcha).to_be_visible()
    assert page.evaluate("img => img.naturalWidth", captcha.element_handle()) > 0  # a real image
    page.fill("#username", "chenxm")
    page.fill("#password", PASSWORD)
    screenshot(page, "login-captcha")
    with app.app_context():  # the person reads the image; the test reads what the server stored
        answer = db.session.scalars(select(LoginCaptcha.answer)).one()
    page.fill("#captcha", answer.lower())
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("工作台")
    assert all(url.startswith(page.base) or url.startswith("data:") for url in page.requested)
