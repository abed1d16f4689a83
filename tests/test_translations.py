"""The English catalogue is complete, keeps every placeholder, and an English user sees English."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from sqlalchemy import select

from conftest import list_table
from models import Customer, User, db

PO_PATH = Path(__file__).resolve().parent.parent / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# %(name)s, %(max).0f, %(a)02d, %d, %s and the escaped %%
PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]?\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")


def _catalog():
    with PO_PATH.open("rb") as po_file:
        return read_po(po_file)


def _entries():
    return [message for message in _catalog() if message.id]


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_every_message_has_an_english_translation():
    missing = []
    for message in _entries():
        forms = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if not forms or not all(form and form.strip() for form in forms):
            missing.append(message.id)
        if message.fuzzy:
            missing.append(("fuzzy", message.id))
    assert not missing, f"{len(missing)} untranslated: {missing[:20]}"


def test_every_translation_keeps_the_placeholders_of_its_source():
    broken = []
    for message in _entries():
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        forms = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        wanted = set(_placeholders(ids[-1]))
        for form in forms:
            if "python-format" in message.flags or wanted:
                if set(_placeholders(form)) != wanted:
                    broken.append((message.id, form))
    assert not broken, broken[:20]


def test_sms_placeholders_stay_as_typed():
    """{称呼}-style tokens are what users type into templates: the English text keeps them."""
    for message in _entries():
        if isinstance(message.id, str):
            tokens = set(re.findall(r"\{[^{}]+\}", message.id))
            assert tokens <= set(re.findall(r"\{[^{}]+\}", message.string)), message.id


def test_no_translation_sits_inside_a_javascript_string():
    """A prompt once sat in confirm('{{ _('…') }}') inside onsubmit: the browser decodes &#39;
    before the script runs, so an apostrophe in the English text broke the button. Prompts now
    live in data-kechi-confirm attributes (static/js/kechi-page.js), which Jinja escapes whole."""
    templates = PO_PATH.parent.parent.parent.parent / "templates"
    quoted = {path.name for path in templates.rglob("*.html")
              if re.search(r"'\{\{ _\(", path.read_text(encoding="utf-8"))}
    assert not quoted, quoted


@pytest.fixture
def english_user(app, make_user, make_customer) -> int:
    rep = make_user("rep1", display_name="Li Lei")
    make_customer("华为技术", rep, phone="0571-88888888")
    with app.app_context():
        db.session.get(User, rep).locale = "en"
        db.session.commit()
    return rep


def test_an_english_user_sees_the_workbench_in_english(client, english_user):
    client.login("rep1")
    page = client.get("/admin/").get_data(as_text=True)
    for text in ("Workbench", "Customers", "Customer Pool", "Customers Visible to Me", "Due Today",
                 "Unread Notifications", "Hello, Li Lei!", "Log Out", "Pool Customers", "Ownership History",
                 "Customize Workbench"):
        assert text in page, text
    for chinese in ("我可见的客户", "退出登录", "您好！"):
        assert chinese not in page, chinese


def test_an_english_user_sees_the_customer_list_in_english(client, english_user):
    client.login("rep1")
    page = client.get("/admin/customer/").get_data(as_text=True)
    assert "华为技术" in page  # the data stays as entered
    for text in ("Customer Name", "Customer Code", "Salesperson", "Next Contact", "Export to Excel",
                 "Release to Pool", "Protect Customers"):
        assert text in page, text
    for chinese in ("客户名称", "客户编号", "导出Excel", "放弃到客户池"):
        assert chinese not in page, chinese


def test_notifications_are_shown_in_the_readers_language_not_the_senders(app, make_user, make_customer, new_client):
    """An English-speaking manager assigns customers to a Chinese-speaking salesperson and the other
    way round: each bell reads in its owner's language; the list still finds the Chinese text."""
    from rules import pool as pool_rules

    make_user("mgr", role="经理", department=("销售部",), display_name="Manager Wang")
    make_user("rep1", superior="mgr", display_name="陈晓明")
    rep2 = make_user("rep2", superior="mgr", display_name="Li Lei")
    ids = [make_customer(f"公海{i}号", None) for i in range(3)]
    with app.app_context():
        pool = pool_rules.default_pool(db.session)
        for cid in ids:
            customer = db.session.get(Customer, cid)
            customer.pool_id, customer.pool_reason = pool.id, "new"
        for username, locale in (("mgr", "en"), ("rep2", "en")):
            db.session.scalar(select(User).where(User.username == username)).locale = locale
        rep1 = db.session.scalar(select(User.id).where(User.username == "rep1"))
        db.session.commit()
    manager = new_client()
    manager.login("mgr")
    manager.post_form(f"/admin/customer/assign/?ids={ids[0]},{ids[1]}", {"to_user": str(rep1)})
    manager.post_form(f"/admin/customer/assign/?ids={ids[2]}", {"to_user": str(rep2)})

    chinese = new_client()
    chinese.login("rep1")
    bell = chinese.get("/admin/").get_data(as_text=True)
    assert "Manager Wang 给您指派了 2 位客户" in bell and "assigned" not in bell
    listed = chinese.get("/admin/notification/?search=指派").get_data(as_text=True)
    assert "Manager Wang 给您指派了 2 位客户" in list_table(listed)

    english = new_client()
    english.login("rep2")
    bell = english.get("/admin/").get_data(as_text=True)
    assert "Manager Wang assigned 1 customer(s) to you" in bell
    assert "给您指派了" not in bell
    listed = english.get("/admin/notification/").get_data(as_text=True)
    assert "给您指派了" not in list_table(listed)
