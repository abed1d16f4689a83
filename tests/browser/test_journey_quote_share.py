"""A salesperson shares a quote with the customer: 生成分享链接 on the quote page, 复制链接, and the
customer opens the link on a phone without signing in — the lines, the total in words, and the
watermark with the customer's name over the page; the salesperson sees the opening on the quote
page, revokes the link (asked first) and the phone's next visit says the link is no longer valid.
Every page without a Content-Security-Policy complaint."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from conftest import FIXED_NOW, log_in, screenshot
from models import PriceLevel, PrintTemplate, Product, ProductPrice, Quote, QuoteLine, db
from opportunity_helpers import actor_of
from rules import messaging, quotes

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}


def test_share_a_quote_open_it_on_a_phone_and_revoke_it(app, page, browser, live_server, make_user, make_customer):
    from playwright.sync_api import expect

    rep = make_user("chenxm", display_name="陈晓明")
    customer_id = make_customer("西湖龙井茶庄", rep)
    with app.app_context():
        messaging.save_settings(db.session, {"company_name": "杭州客池茶业有限公司"})
        retail = PriceLevel(name="零售价")
        tea = Product(code="LJ250", name="明前龙井", spec="250g/罐", unit="罐", cost=Decimal("120"))
        cup = Product(code="BZ06", name="青瓷茶杯", spec="6只/盒", unit="盒", cost=Decimal("30"))
        db.session.add_all([retail, tea, cup])
        db.session.flush()
        db.session.add_all([ProductPrice(product_id=tea.id, level_id=retail.id, price=Decimal("268.00")),
                            ProductPrice(product_id=cup.id, level_id=retail.id, price=Decimal("88.00"))])
        quote = Quote(customer_id=customer_id, price_level_id=retail.id, tax_rate=Decimal("0.13"),
                      terms="款到发货；报价含13%增值税。",
                      lines=[QuoteLine(product_id=tea.id, quantity=2, discount_rate=Decimal("0.9")),
                             QuoteLine(product_id=cup.id, quantity=3, discount_rate=Decimal("1"))])
        quotes.create(db.session, quote, actor=actor_of(db.session, "chenxm"), now=FIXED_NOW, tz="Asia/Shanghai")
        # no 报价单 print template: the page's own mobile layout (the template's page has its own test)
        db.session.execute(update(PrintTemplate).where(PrintTemplate.doc_type == "quote").values(active=False))
        db.session.commit()
        quote_id = quote.id

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    log_in(page, "chenxm")
    page.goto(page.base + f"/admin/quote/details/?id={quote_id}")
    expect(page.locator("[data-testid=share-empty]")).to_contain_text("还没有分享链接")
    page.fill("#kechi-share-days", "14")
    page.click("#kechi-share-create button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("已生成分享链接，2026-12-07 10:00 前有效")
    copy = page.locator("[data-kechi-copy]").first
    copy.click()
    expect(copy).to_have_text("已复制")
    link = page.evaluate("navigator.clipboard.readText()")
    assert link.startswith(live_server + "/q/") and link == copy.get_attribute("data-kechi-copy")
    screenshot(page, "70-quote-share-section")

    phone = browser.new_context(**PHONE)
    refused: list[str] = []
    customer = phone.new_page()
    customer.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    customer.goto(link)
    expect(customer.locator("[data-testid=quote-lines]")).to_contain_text("明前龙井")
    expect(customer.locator("[data-testid=quote-lines]")).to_contain_text("9折")
    expect(customer.locator("[data-testid=quote-total]")).to_have_text("¥746.40")
    expect(customer.locator(".qs-words")).to_contain_text("柒佰肆拾陆元肆角")
    watermark = customer.locator("[data-testid=watermark] span").first
    expect(watermark).to_have_text("西湖龙井茶庄 仅供查看 2026-11-23")
    assert customer.evaluate("getComputedStyle(document.querySelector('.qs-watermark')).pointerEvents") == "none"
    assert customer.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    screenshot(customer, "71-quote-share-phone")

    page.reload()
    table = page.locator("[data-testid=share-table]")
    expect(table).to_contain_text("有效")
    expect(page.locator("[data-testid=quote-viewed-at]")).to_contain_text("2026-11-23 10:00")
    page.once("dialog", lambda dialog: dialog.accept())
    table.locator("button", has_text="撤销").click()
    expect(page.locator(".alert-success")).to_contain_text("分享链接已撤销")
    expect(table).to_contain_text("已撤销")

    customer.reload()
    expect(customer.locator("[data-testid=share-gone]")).to_contain_text("链接已失效")
    screenshot(customer, "72-quote-share-gone-phone")
    phone.close()
    assert refused == []


def test_the_print_template_page_fits_a_phone(app, browser, live_server, make_user, make_customer):
    """With a default 报价单 print template the customer reads the paper layout, scaled to the phone's
    width and at its full height (one scroll, no frame inside the page), still under the watermark."""
    from playwright.sync_api import expect

    from rules import quote_shares

    rep = make_user("chenxm", display_name="陈晓明")
    customer_id = make_customer("西湖龙井茶庄", rep)
    with app.app_context():
        retail = PriceLevel(name="零售价")
        products = [Product(code=f"LJ{n:03d}", name=f"明前龙井 {n} 号", spec="250g/罐", unit="罐", cost=Decimal("120"))
                    for n in range(1, 9)]
        db.session.add_all([retail, *products])
        db.session.flush()
        db.session.add_all([ProductPrice(product_id=p.id, level_id=retail.id, price=Decimal("268.00")) for p in products])
        quote = Quote(customer_id=customer_id, price_level_id=retail.id, tax_rate=Decimal("0.13"),
                      lines=[QuoteLine(product_id=p.id, quantity=2, discount_rate=Decimal("0.95")) for p in products])
        quotes.create(db.session, quote, actor=actor_of(db.session, "chenxm"), now=FIXED_NOW, tz="Asia/Shanghai")
        token = quote_shares.create(db.session, quote.id, days=7, actor=actor_of(db.session, "chenxm"),
                                    now=FIXED_NOW).token
        db.session.commit()

    phone = browser.new_context(**PHONE)
    refused: list[str] = []
    customer = phone.new_page()
    customer.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    customer.goto(f"{live_server}/q/{token}")
    expect(customer.frame_locator("iframe[data-kechi-fit]").locator("body")).to_contain_text("明前龙井 8 号")
    customer.wait_for_function("document.querySelector('[data-kechi-fit-box]').style.height !== ''")
    box = customer.locator("[data-kechi-fit-box]").bounding_box()
    assert box["width"] <= 390 and box["height"] > 150
    assert customer.evaluate("""() => { const f = document.querySelector('iframe[data-kechi-fit]');
        return f.contentDocument.documentElement.scrollHeight <= parseFloat(f.style.height) + 1; }""")  # no inner scroll
    assert customer.evaluate("document.documentElement.scrollWidth") <= 390
    expect(customer.locator("[data-testid=watermark] span").first).to_have_text("西湖龙井茶庄 仅供查看 2026-11-23")
    screenshot(customer, "73-quote-share-template-phone")
    phone.close()
    assert refused == []
