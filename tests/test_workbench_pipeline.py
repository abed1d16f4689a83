"""The pipeline's workbench widgets: 我的销售机会 by stage, 本月预计成交, 停滞的销售机会 and
待跟进线索, each counting the signed-in salesperson's own records and leading to the board,
the stale list or the lead list."""
from __future__ import annotations

import re
from datetime import date, timedelta

from conftest import FIXED_NOW
from models import db
from models.lead import Lead, LeadStatus
from models.opportunity import Outcome
from opportunity_helpers import make_group, make_opportunity


def widget(html: str, key: str) -> str:
    start = html.index(f'data-widget="{key}"')
    return html[start:html.index("</div>\n    </div>", start)]


def value(html: str, key: str) -> str:
    block = widget(html, key)
    return re.sub(r"<[^>]+>", "", re.search(r'kechi-widget-value">(.*?)</div>', block, re.S).group(1)).strip()


def test_pipeline_widgets_count_my_own_records(app, make_user, make_customer, client):
    rep = make_user("rep", display_name="陈晓明")
    other = make_user("rep_b")
    customer = make_customer("杭州茶叶有限公司", rep)
    stages = make_group(app)
    old = FIXED_NOW - timedelta(days=20)
    for owner, stage, amount, close, outcome, created in [
            (rep, "初步接洽", "1000", None, Outcome.OPEN, old),                      # stale: 20 days, never followed up
            (rep, "方案报价", "10000", date(2026, 11, 30), Outcome.OPEN, FIXED_NOW),  # closes this month
            (rep, "方案报价", "2000", date(2026, 12, 5), Outcome.OPEN, FIXED_NOW),
            (rep, "方案报价", "7000", date(2026, 11, 25), Outcome.WON, old),         # closed: nowhere
            (other, "方案报价", "9000", date(2026, 11, 26), Outcome.OPEN, old)]:     # someone else's
        make_opportunity(app, owner_id=owner, customer_id=customer, stage_id=stages[stage], amount=amount,
                         expected_close_on=close, outcome=outcome, created_at=created)
    with app.app_context():
        db.session.add_all([
            Lead(name="新来的线索", owner_id=rep, status=LeadStatus.NEW),                                  # never followed up
            Lead(name="今天要回访", owner_id=rep, status=LeadStatus.FOLLOWING, last_follow_up_at=old,
                 next_contact_at=date(2026, 11, 23)),
            Lead(name="下周再说", owner_id=rep, status=LeadStatus.FOLLOWING, last_follow_up_at=old,
                 next_contact_at=date(2026, 11, 30)),
            Lead(name="已转化", owner_id=rep, status=LeadStatus.CONVERTED, next_contact_at=date(2026, 11, 1)),
            Lead(name="别人的", owner_id=other, status=LeadStatus.NEW)])
        db.session.commit()
    client.login("rep")
    html = client.get("/admin/").get_data(as_text=True)
    mine = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", widget(html, "my_opportunities")))
    assert "初步接洽 · 1 个 ¥1,000.00" in mine and "方案报价 · 2 个 ¥12,000.00" in mine
    assert mine.index("初步接洽") < mine.index("方案报价")
    assert "/admin/opportunity-board/?owner=me" in widget(html, "my_opportunities")
    assert value(html, "closing_this_month") == "1" and "合计 ¥10,000.00" in widget(html, "closing_this_month")
    assert "month=2026-11" in widget(html, "closing_this_month")
    assert value(html, "stale_opportunities") == "1"
    assert "/admin/opportunity-board/stale/?owner=me" in widget(html, "stale_opportunities")
    assert value(html, "leads_to_follow") == "2"


def test_widgets_say_what_to_do_when_empty(app, make_user, client):
    make_user("rep")
    client.login("rep")
    html = client.get("/admin/").get_data(as_text=True)
    assert "暂无进行中的销售机会" in widget(html, "my_opportunities")
    assert value(html, "closing_this_month") == "0" and value(html, "stale_opportunities") == "0"
