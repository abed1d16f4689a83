"""The finance widgets of the workbench: 本周应回款, 逾期回款 and 即将到期合同 count the signed-in
user's own instalments and contracts (tests/test_finance_reports.py's book, the clock on Monday
2026-11-23); 待我审批 appears once the approvals module is there."""
from __future__ import annotations

import importlib.util
import re

import pytest

from test_finance_reports import fill_book


def widget(html: str, key: str) -> str:
    start = html.index(f'data-widget="{key}"')
    return html[start:html.index("</div>\n    </div>", start)]


def value(html: str, key: str) -> str:
    block = widget(html, key)
    return re.sub(r"<[^>]+>", "", re.search(r'kechi-widget-value">(.*?)</div>', block, re.S).group(1)).strip()


# user → (本周应回款 count, its unpaid amount, 逾期回款 count, its unpaid amount, 即将到期合同)
EXPECTED = {
    "chen": ("1", "¥10,000.00", "1", "¥10,000.00", "1"),  # P3 due Friday 11-27; P2 since 10-20; C1 ends 12-10
    "liu": ("1", "¥6,000.00", "1", "¥4,000.00", "1"),     # P5 due today; P4 4,000 of 6,000 left; C4 ends 12-01
    "sun": ("0", "¥0.00", "1", "¥20,000.00", "0"),        # P6 not yet marked 逾期 by the job; C5 has no end
}


@pytest.mark.both_dbs
@pytest.mark.parametrize("user", list(EXPECTED))
def test_finance_widgets_count_my_own_instalments_and_contracts(app, make_user, new_client, user):
    fill_book(app, make_user)
    client = new_client()
    client.login(user)
    html = client.get("/admin/").get_data(as_text=True)
    week, week_owed, overdue, overdue_owed, expiring = EXPECTED[user]
    assert value(html, "plans_due_this_week") == week and f"未回 {week_owed}" in widget(html, "plans_due_this_week")
    assert value(html, "overdue_plans") == overdue and f"未回 {overdue_owed}" in widget(html, "overdue_plans")
    assert value(html, "expiring_contracts") == expiring
    assert "30 天内到期的执行中合同" in widget(html, "expiring_contracts")
    assert ('data-widget="waiting_approvals"' in html) == (importlib.util.find_spec("rules.approvals") is not None)


def test_the_widgets_need_their_permissions(app, make_user, new_client):
    fill_book(app, make_user)
    client = new_client()
    client.login("boss")  # 总经理: payment.view and contract.view
    html = client.get("/admin/").get_data(as_text=True)
    assert value(html, "plans_due_this_week") == "0" and value(html, "expiring_contracts") == "0"
    from models import Role, db
    from sqlalchemy import select

    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        role.permissions = [p for p in role.permissions if p not in ("payment.view", "contract.view")]
        db.session.commit()
    rep = new_client()
    rep.login("chen")
    html = rep.get("/admin/").get_data(as_text=True)
    assert 'data-widget="plans_due_this_week"' not in html and 'data-widget="expiring_contracts"' not in html
