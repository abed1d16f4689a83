"""手机版 PWA: the service worker keeps only static files and the offline page, so a phone whose
user logged out and lost the network shows 网络不可用 for a customer's address, never the
customer it showed before."""
from __future__ import annotations

import pytest

from conftest import log_in, screenshot

pytestmark = pytest.mark.browser


def test_after_logout_offline_a_customer_page_is_the_offline_page(app, phone_page, make_user, make_customer):
    from playwright.sync_api import expect

    rep = make_user("chenxm", display_name="陈晓明")
    cid = make_customer("北京华宇科技有限公司", rep, phone="13812345678")
    log_in(phone_page, "chenxm")
    phone_page.wait_for_url("**/admin/**")
    address = f"{phone_page.base}/m/customers/{cid}/"
    phone_page.goto(address)
    expect(phone_page.get_by_test_id("m-customer-head")).to_contain_text("北京华宇科技有限公司")
    expect(phone_page.get_by_test_id("m-call")).to_have_attribute("href", "tel:13812345678")
    # The worker is installed and controls the page (it claims the open pages on activation).
    assert phone_page.evaluate("""() => navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller
        ? true : new Promise(done => navigator.serviceWorker.addEventListener("controllerchange", () => done(true))))""")
    phone_page.goto(address)  # seen twice: had anything kept pages, this one would be kept now
    expect(phone_page.get_by_test_id("m-customer-head")).to_be_visible()

    phone_page.goto(phone_page.base + "/admin/")
    with phone_page.expect_navigation(url="**/login**"):
        phone_page.evaluate("document.querySelector('form[action$=\"/logout\"]').submit()")
    expect(phone_page.get_by_text("您已安全退出")).to_be_visible()

    phone_page.context.set_offline(True)
    try:
        phone_page.goto(address)
        expect(phone_page.get_by_test_id("m-offline")).to_contain_text("网络不可用")
        assert "北京华宇" not in phone_page.content() and "13812345678" not in phone_page.content()
        screenshot(phone_page, "mobile-offline-after-logout")
    finally:
        phone_page.context.set_offline(False)
