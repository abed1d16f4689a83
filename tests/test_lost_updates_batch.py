"""A batch that writes a field the edit form also has (客户销售报表's 批量设置客户分类, one set-based
UPDATE) moves the row version on: a customer form opened before the batch is refused, not saved
over the new category. Run on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest

from models import Customer, db
from models.dictionary import DictItem, DictKind
from rules import rfm
from test_lost_updates import form_of, login, save
from test_reports import FILTERS, actor, shop  # noqa: F401 - fixture

pytestmark = pytest.mark.both_dbs


def test_a_form_opened_before_a_batch_category_change_is_refused(app, shop, new_client):
    url = f"/admin/customer/edit/?id={shop['c1']}"
    boss = login(new_client, "boss")
    fields = form_of(boss, url)
    with app.app_context():
        vip = DictItem(kind=DictKind.CATEGORY, name="VIP客户")
        db.session.add(vip)
        db.session.flush()
        assert rfm.set_category(db.session, actor(app, shop["boss"]), FILTERS, today=date(2026, 11, 23),
                                segment="important_value", category_id=vip.id) == 1
        db.session.commit()
        vip_id = vip.id
    fields["notes"] = "批量之前打开的表单"
    page = save(boss, url, fields).get_data(as_text=True)
    assert "请刷新后再改" in page and "批量之前打开的表单" in page
    with app.app_context():
        customer = db.session.get(Customer, shop["c1"])
        assert customer.category_id == vip_id and customer.notes != "批量之前打开的表单"
