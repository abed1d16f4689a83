"""二维码: a contact's page carries its 名片 as a QR code (a PNG drawn here) and a .vcf with the
name, company, title, numbers and email in UTF-8; a quote's live share link has its QR code. A
contact or share outside the reader's scope answers 404 for its QR code too."""
from __future__ import annotations

from sqlalchemy import select

from models import Contact, Customer, db
from models.quote import QuoteShare
from rules import qr
from test_quote_shares import login, shared
from test_rules_orders import shop  # noqa: F401 - fixture
from test_rules_quotes import new_quote

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_a_contacts_card_as_qr_code_and_vcf_and_out_of_scope_is_404(app, client, make_user, make_customer):
    mine = make_user("chenxm", display_name="陈晓明")
    theirs = make_user("lisi", department=("销售部", "销售二部"))
    with app.app_context():
        for name, owner in (("杭州甲科技有限公司", mine), ("乙公司", theirs)):
            customer = db.session.get(Customer, make_customer(name, owner))
            db.session.add(Contact(customer_id=customer.id, name=f"王经理{owner}", is_primary=True,
                                   position="采购经理", mobile="15920001234", phone="0571-88880001",
                                   email="wang@example.com", custom={}))
        db.session.commit()
        ours, other = (db.session.scalar(select(Contact.id).where(Contact.name == f"王经理{u}"))
                       for u in (mine, theirs))
    client.login("chenxm")

    page = client.get(f"/admin/contact/details/?id={ours}").get_data(as_text=True)
    assert "名片二维码" in page and f"/admin/contact/{ours}/card.png" in page and "广东深圳 中国移动" in page
    image = client.get(f"/admin/contact/{ours}/card.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(PNG_MAGIC)
    assert image.data == qr.png(qr.contact_vcard(_contact(app, ours)))  # the page's QR carries the card below
    card = client.get(f"/admin/contact/{ours}/card.vcf")
    assert card.status_code == 200 and card.mimetype == "text/vcard" and "attachment" in card.headers[
        "Content-Disposition"]
    lines = card.data.decode("utf-8").split("\r\n")
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:3.0"] and "END:VCARD" in lines
    assert {f"FN:王经理{mine}", "ORG:杭州甲科技有限公司", "TITLE:采购经理", "TEL;TYPE=CELL:15920001234",
            "TEL;TYPE=WORK,VOICE:0571-88880001", "EMAIL;TYPE=INTERNET:wang@example.com"} <= set(lines)

    for address in (f"/admin/contact/details/?id={other}", f"/admin/contact/{other}/card.png",
                    f"/admin/contact/{other}/card.vcf"):
        assert client.get(address).status_code == 404, address


def _contact(app, contact_id: int) -> Contact:
    with app.app_context():
        contact = db.session.get(Contact, contact_id)
        contact.customer  # noqa: B018 - loaded before the session goes
        db.session.expunge_all()
        return contact


def test_a_quotes_share_link_as_qr_code_and_out_of_scope_is_404(app, shop, new_client):  # noqa: F811
    quote_id = new_quote(app, shop)
    token = shared(app, quote_id)
    with app.app_context():
        share_id = db.session.scalar(select(QuoteShare.id))
    rep = login(new_client, "rep")
    page = rep.get(f"/admin/quote/details/?id={quote_id}").get_data(as_text=True)
    assert f"/admin/quote_share/{share_id}/qr.png" in page and "二维码" in page
    image = rep.get(f"/admin/quote_share/{share_id}/qr.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(PNG_MAGIC)
    assert image.data == qr.png(f"http://localhost/q/{token}")
    assert login(new_client, "rep2").get(f"/admin/quote_share/{share_id}/qr.png").status_code == 404
