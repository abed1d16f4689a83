"""The English catalogue is complete, keeps every placeholder, and an English user sees English."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from models import User, db

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


def test_translations_inside_javascript_quotes_have_no_apostrophe():
    """confirm('{{ _('…') }}') in an onsubmit attribute: the browser decodes &#39; before the
    script runs, so an apostrophe in the English text would end the string and break the button."""
    templates = PO_PATH.parent.parent.parent.parent / "templates"
    quoted = set()
    for path in templates.rglob("*.html"):
        quoted |= set(re.findall(r"'\{\{ _\('([^']+)'\) \}\}'", path.read_text(encoding="utf-8")))
    assert quoted, "expected confirm('{{ _(...) }}') prompts in the templates"
    translations = {message.id: message.string for message in _entries()}
    bad = {msgid: translations.get(msgid) for msgid in quoted if "'" in (translations.get(msgid) or "")}
    assert not bad, bad


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
