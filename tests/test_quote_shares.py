"""报价单分享链接: a salesperson makes a link on the quote page (7 days unless told, at most 90),
the customer opens /q/<token> without signing in and sees the quote's lines under a watermark
with their own name; each opening is counted on the link and on the quote (the clock pinned),
the owner is told once; an expired or revoked link is a friendly "链接已失效" page that says
nothing more; someone else's quote cannot be shared (404)."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select, update

from conftest import FIXED_NOW, list_table, run_at_once
from models import AuditLog, Notification, PrintTemplate, Quote, db
from models.quote import QuoteShare
from opportunity_helpers import actor_of
from rules import clock, print_templates, quote_shares
from rules.errors import InvalidValue, OutOfScope
from test_rules_orders import shop  # noqa: F401 - fixture
from test_rules_quotes import act, new_quote  # noqa: F401 - fixture


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def share_link(client, quote_id, days="", follow=True, **extra):
    return client.post_form(f"/admin/quote/details/?id={quote_id}", {"quote_id": str(quote_id), "days": days, **extra},
                            to="/admin/quote_share/create/", follow=follow)


def shared(app, quote_id, days=7) -> str:
    """A link made by the quote's owner through the rule (the page's own path has its tests)."""
    with app.app_context():
        token = quote_shares.create(db.session, quote_id, days=days, actor=actor_of(db.session, "rep"),
                                    now=FIXED_NOW).token
        db.session.commit()
    return token


def only_share(app) -> QuoteShare:
    with app.app_context():
        share = db.session.scalar(select(QuoteShare))
        db.session.expunge(share)
        return share


def test_a_link_made_on_the_quote_page_shows_the_quote_under_a_watermark(app, shop, new_client):
    quote_id = new_quote(app, shop)
    other_id = new_quote(app, shop, customer="other_customer", who="rep2", lines=[(shop["cup"], 1, None, "1")])
    rep = login(new_client, "rep")
    html = share_link(rep, quote_id).get_data(as_text=True)
    assert "已生成分享链接，2026-11-30 10:00 前有效" in html  # 7 days, shown in Beijing time
    share = only_share(app)
    assert share.expires_at == FIXED_NOW + timedelta(days=7)
    assert f"/q/{share.token}" in html and "复制链接" in html and "有效" in html
    assert len(share.token) >= 32

    customer = new_client()
    response = customer.get(f"/q/{share.token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "龙井茶" in page and "茶杯" in page and "BJ202611230001" in page
    assert "¥63.01" in page and "陆拾叁元零壹分" in page
    assert page.count("华星贸易 仅供查看 2026-11-23") >= 20  # the watermark, repeated across the page
    with app.app_context():
        other_number = str(db.session.get(Quote, other_id))
    assert "远方公司" not in page and other_number not in page.replace("BJ202611230001", "")
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"] and '<meta name="robots" content="noindex' in page
    assert "script-src 'self' 'nonce-" in response.headers["Content-Security-Policy"]
    assert "<script>" not in page  # every script from a file (CSP)


def test_openings_are_counted_on_the_link_and_the_quote_and_the_owner_told_once(app, shop, new_client, clock):
    quote_id = new_quote(app, shop)
    with app.app_context():
        share = quote_shares.create(db.session, quote_id, days="3", actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        token, version = share.token, db.session.get(Quote, quote_id).version
    customer = new_client()
    clock.advance(hours=2)
    assert customer.get(f"/q/{token}").status_code == 200
    clock.advance(hours=5)
    assert customer.get(f"/q/{token}").status_code == 200
    with app.app_context():
        share = db.session.scalar(select(QuoteShare))
        quote = db.session.get(Quote, quote_id)
        assert share.views == 2
        assert share.first_viewed_at == FIXED_NOW + timedelta(hours=2)
        assert share.last_viewed_at == FIXED_NOW + timedelta(hours=7)
        assert quote.viewed_at == FIXED_NOW + timedelta(hours=7)
        assert quote.version == version  # the customer's reading is no edit of the quote
        notes = list(db.session.scalars(select(Notification).where(Notification.user_id == shop["rep"])))
        assert [n.title for n in notes] == ["客户查看了报价单 BJ202611230001（华星贸易）"]
    rep = login(new_client, "rep")
    html = rep.get(f"/admin/quote/details/?id={quote_id}").get_data(as_text=True)
    assert "客户最近查看：2026-11-23 17:00" in html
    table = html.split('data-testid="share-table"')[1].split("</table>")[0]
    assert "2026-11-23 12:00" in table and "2026-11-23 17:00" in table and ">2<" in table
    listing = list_table(rep.get("/admin/quote/").get_data(as_text=True))
    assert "客户最近查看" in rep.get("/admin/quote/").get_data(as_text=True) and "2026-11-23 17:00" in listing


def test_a_colleague_signed_in_opening_the_link_is_not_counted(app, shop, new_client):
    quote_id = new_quote(app, shop)
    rep = login(new_client, "rep")
    share_link(rep, quote_id)
    html = rep.get(f"/q/{only_share(app).token}").get_data(as_text=True)
    assert "本次打开不计入客户查看次数" in html and "龙井茶" in html
    with app.app_context():
        assert db.session.scalar(select(QuoteShare.views)) == 0
        assert db.session.get(Quote, quote_id).viewed_at is None
        assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_an_expired_link_is_a_friendly_page_that_says_nothing_more(app, shop, new_client, clock):
    quote_id = new_quote(app, shop)
    token = shared(app, quote_id, days=1)
    customer = new_client()
    clock.advance(hours=23, minutes=59)
    assert customer.get(f"/q/{token}").status_code == 200
    clock.advance(minutes=1)
    response = customer.get(f"/q/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "链接已失效" in page and "已过期或已被撤销" in page
    assert "华星贸易" not in page and "BJ202611230001" not in page and "龙井茶" not in page
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        assert db.session.scalar(select(QuoteShare.views)) == 1
    for forged in ("x", "a" * 200, token[:-1] + ("A" if token[-1] != "A" else "B"), "..%2F..%2Fetc"):
        assert customer.get(f"/q/{forged}").status_code == 404
    rep = login(new_client, "rep")
    html = rep.get(f"/admin/quote/details/?id={quote_id}").get_data(as_text=True)
    assert "已过期" in html.split('data-testid="share-table"')[1] and "复制链接" not in html


def test_revoking_asks_first_and_cuts_the_link_off_at_once(app, shop, new_client):
    quote_id = new_quote(app, shop)
    rep = login(new_client, "rep")
    share_link(rep, quote_id, days="30")
    share = only_share(app)
    assert share.expires_at == FIXED_NOW + timedelta(days=30)
    html = rep.get(f"/admin/quote/details/?id={quote_id}").get_data(as_text=True)
    assert 'data-kechi-confirm="撤销后客户将无法再打开这个链接，确定撤销吗？"' in html
    customer = new_client()
    assert customer.get(f"/q/{share.token}").status_code == 200
    html = rep.post_form(f"/admin/quote/details/?id={quote_id}", {"quote_id": str(quote_id)},
                         to=f"/admin/quote_share/{share.id}/revoke/", follow=True).get_data(as_text=True)
    assert "分享链接已撤销，客户将无法再打开" in html and "已撤销" in html
    response = customer.get(f"/q/{share.token}")
    assert response.status_code == 404 and "链接已失效" in response.get_data(as_text=True)
    html = rep.post_form(f"/admin/quote/details/?id={quote_id}", {"quote_id": str(quote_id)},
                         to=f"/admin/quote_share/{share.id}/revoke/", follow=True).get_data(as_text=True)
    assert "该分享链接已撤销" in html  # an old tab
    with app.app_context():
        rows = list(db.session.scalars(select(AuditLog).where(AuditLog.entity == "QuoteShare").order_by(AuditLog.id)))
        assert [r.action for r in rows] == ["create", "update"]
        assert rows[0].changes["token"] == [None, "******"] or "******" in str(rows[0].changes["token"])
        assert share.token not in str(rows[0].changes)
        assert "revoked_at" in rows[1].changes and rows[1].actor_id == shop["rep"]


@pytest.mark.parametrize("days", ["0", "91", "abc", "7.5", "-3", "１０"])
def test_expiry_out_of_range_is_refused_and_nothing_made(app, shop, new_client, days):
    quote_id = new_quote(app, shop)
    rep = login(new_client, "rep")
    html = share_link(rep, quote_id, days=days).get_data(as_text=True)
    assert "有效天数应为 1 到 90 之间的整数" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(QuoteShare.id))) == 0


def test_someone_elses_quote_cannot_be_shared_or_revoked(app, shop, new_client):
    quote_id = new_quote(app, shop)
    rep2 = login(new_client, "rep2")
    response = rep2.post_form("/admin/quote/", {"quote_id": str(quote_id), "days": "7"}, to="/admin/quote_share/create/")
    assert response.status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(QuoteShare.id))) == 0
        with pytest.raises(OutOfScope):
            quote_shares.create(db.session, quote_id, days=7, actor=actor_of(db.session, "rep2"), now=FIXED_NOW)
        share = quote_shares.create(db.session, quote_id, days=7, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        share_id = share.id
    token = rep2.token("/admin/quote/")
    assert rep2.post(f"/admin/quote_share/{share_id}/revoke/", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(QuoteShare, share_id).revoked_at is None
    clerk = login(new_client, "clerk")  # 内勤 makes no quotes, so shares none
    response = clerk.post_form("/admin/", {"quote_id": str(quote_id), "days": "7"}, to="/admin/quote_share/create/")
    assert response.status_code in (403, 404)


def test_an_old_version_is_not_shared(app, shop):
    quote_id = new_quote(app, shop)
    act(app, quote_id, "send")
    act(app, quote_id, "revise")
    with app.app_context():
        with pytest.raises(quote_shares.ShareRefused, match="已有新版本"):
            quote_shares.create(db.session, quote_id, days=7, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        with pytest.raises(InvalidValue):
            quote_shares.expiry_days("100")


@pytest.mark.both_dbs
def test_the_counted_opening_and_a_lapsed_offer_on_both_databases(app, shop, new_client, clock):
    quote_id = new_quote(app, shop, valid_until=FIXED_NOW.date() + timedelta(days=2))
    token = shared(app, quote_id, days=90)
    customer = new_client()
    page = customer.get(f"/q/{token}").get_data(as_text=True)
    assert "本报价已过有效期" not in page
    clock.advance(days=5)
    page = customer.get(f"/q/{token}").get_data(as_text=True)
    assert "本报价已过有效期（2026-11-25）" in page and "华星贸易 仅供查看 2026-11-28" in page
    with app.app_context():
        share = db.session.scalar(select(QuoteShare))
        assert (share.views, share.first_viewed_at, share.last_viewed_at) == (
            2, FIXED_NOW, FIXED_NOW + timedelta(days=5))
        assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_the_public_pages_in_english(app, shop, new_client, clock):
    """The page's own layout in English (a company's print template is its own text, in Chinese)."""
    quote_id = new_quote(app, shop)
    with app.app_context():
        db.session.execute(update(PrintTemplate).where(PrintTemplate.doc_type == "quote").values(active=False))
        db.session.commit()
    token = shared(app, quote_id, days=1)
    customer = new_client()
    customer.get("/lang/en")
    page = customer.get(f"/q/{token}").get_data(as_text=True)
    assert '<html lang="en">' in page and "Quotation BJ202611230001" in page and "Line items" in page
    assert "华星贸易 For viewing only 2026-11-23" in page and "Total in RMB (in words)" in page
    assert "For 华星贸易 only; please do not forward." in page
    clock.advance(days=2)
    page = customer.get(f"/q/{token}").get_data(as_text=True)
    assert "This link is no longer valid" in page
    assert not re.search(r"[\u4e00-\u9fff]", page.split("<body")[1])  # no Chinese left on the page


def quote_template(body: str, *, name: str, default: bool) -> int:
    """A 报价单 print template saved the way the designer saves one (checked, one default)."""
    template = print_templates.save(db.session, None, print_templates.TemplateInput(
        doc_type="quote", name=name, body=body, is_default=default), actor=None, now=clock.now())
    db.session.commit()
    return template.id


def make_default_quote_template_that_no_longer_renders() -> None:
    """A default template whose field has since left the catalogue (stored before a change), which
    the check on save would now refuse: written directly, as an upgrade would leave it."""
    db.session.execute(update(PrintTemplate).where(PrintTemplate.doc_type == "quote").values(is_default=False))
    db.session.add(PrintTemplate(doc_type="quote", name="旧模板", body="{{ customer.nmae }}", is_default=True,
                                 columns=[], options={}))
    db.session.commit()


def test_the_default_quote_print_template_lays_out_the_page_in_a_frame_without_scripts(app, shop, new_client):
    token = shared(app, new_quote(app, shop))
    page = new_client().get(f"/q/{token}").get_data(as_text=True)
    assert 'data-testid="share-document"' in page and 'data-testid="share-builtin"' not in page
    frame = re.search(r'<iframe[^>]*>', page).group(0)
    assert 'sandbox="allow-same-origin"' in frame and "allow-scripts" not in frame
    document = unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert "龙井茶" in document and "茶杯" in document and "陆拾叁元零壹分" in document
    assert "打印人：rep" in document  # read as the colleague who made the link (the seeded default template)
    assert page.count("华星贸易 仅供查看 2026-11-23") >= 20


def test_a_template_that_no_longer_renders_falls_back_to_the_built_in_layout(app, shop, new_client):
    token = shared(app, new_quote(app, shop))
    with app.app_context():
        make_default_quote_template_that_no_longer_renders()
    response = new_client().get(f"/q/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="share-builtin"' in page
    assert "龙井茶" in page and "nmae" not in page


def test_the_page_shows_the_quote_under_the_watermark(app, shop, new_client):
    token = shared(app, new_quote(app, shop))
    response = new_client().get(f"/q/{token}")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "龙井茶" in page and "华星贸易 仅供查看 2026-11-23" in page


def test_a_link_may_be_shown_in_another_quote_template(app, shop, new_client):
    quote_id = new_quote(app, shop)
    with app.app_context():
        plain = quote_template("<p>不含价格版：{% for line in lines %}{{ line.product_name }} {% endfor %}</p>",
                               name="不含价格", default=False)
    rep = login(new_client, "rep")
    html = rep.get(f"/admin/quote/details/?id={quote_id}").get_data(as_text=True)
    assert 'name="template_id"' in html and "标准报价单（默认）" in html and "不含价格" in html
    html = share_link(rep, quote_id, days="7", template_id=str(plain)).get_data(as_text=True)
    assert "已生成分享链接" in html
    page = unescape(new_client().get(f"/q/{only_share(app).token}").get_data(as_text=True))
    assert "不含价格版：龙井茶 茶杯" in page and "¥16.00" not in page
    html = share_link(rep, quote_id, days="7", template_id="99999").get_data(as_text=True)
    assert "所选的打印模板不存在或已停用" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(QuoteShare.id))) == 1


@pytest.mark.both_dbs
def test_two_first_openings_at_once_count_twice_and_tell_the_owner_once(app, shop):
    token = shared(app, new_quote(app, shop))
    results = run_at_once(app, [lambda session: quote_shares.open_shared(session, token, now=FIXED_NOW)] * 2)
    assert results == ["ok", "ok"]
    with app.app_context():
        share = db.session.scalar(select(QuoteShare))
        assert (share.views, share.first_viewed_at) == (2, FIXED_NOW)
        assert db.session.scalar(select(func.count(Notification.id))) == 1
