"""A salesperson drags cards across the board: a move the stage refuses puts the card back with
the reason, an allowed move carries it and the column sums follow, a drop on 赢单 closes it, and
a drop on 输单 asks for the reason first."""
from __future__ import annotations

from datetime import date

import pytest

from conftest import log_in, screenshot
from models import db
from models.opportunity import Opportunity, Outcome
from opportunity_helpers import make_group, make_opportunity

pytestmark = pytest.mark.browser


def test_drag_a_card_refused_then_moved_then_won(app, page, make_user, make_customer):
    from playwright.sync_api import expect

    rep = make_user("chenxm", display_name="陈晓明")
    customer = make_customer("西湖龙井茶庄", rep)
    stages = make_group(app)
    card_id = make_opportunity(app, owner_id=rep, customer_id=customer, stage_id=stages["需求确认"], amount="8000",
                               title="茶园扩建")
    make_opportunity(app, owner_id=rep, customer_id=customer, stage_id=stages["谈判签约"], amount="2000",
                     title="包装升级", expected_close_on=date(2026, 12, 1))

    log_in(page, "chenxm")
    page.goto(page.base + "/admin/opportunity-board/")
    card = page.locator(f'.kechi-card[data-id="{card_id}"]')
    quoting = page.locator(f'.kechi-board-column[data-stage="{stages["方案报价"]}"]')
    signing = page.locator(f'.kechi-board-column[data-stage="{stages["谈判签约"]}"]')
    asking = page.locator(f'.kechi-board-column[data-stage="{stages["需求确认"]}"]')
    expect(signing.locator(".kechi-col-amount")).to_have_text("¥2,000.00")

    card.drag_to(quoting.locator(".kechi-board-cards"))
    expect(page.locator(".kechi-board-message")).to_have_text("进入「方案报价」需要先填写：预计成交日期")
    expect(asking.locator(".kechi-card")).to_have_count(1)
    expect(quoting.locator(".kechi-card")).to_have_count(0)
    screenshot(page, "60-board-refused")

    card.drag_to(signing.locator(".kechi-board-cards"))
    expect(page.locator(".kechi-board-message")).to_have_text("已移到「谈判签约」")
    expect(signing.locator(".kechi-card")).to_have_count(2)
    expect(signing.locator(".kechi-col-count")).to_have_text("2")
    expect(signing.locator(".kechi-col-amount")).to_have_text("¥10,000.00")
    expect(signing.locator(".kechi-col-weighted")).to_have_text("¥8,000.00")
    expect(asking.locator(".kechi-col-count")).to_have_text("0")
    screenshot(page, "61-board-moved")

    card.drag_to(page.locator('.kechi-board-drop[data-target="won"]'))
    expect(page.locator(".kechi-outcome-question")).to_have_text("确定将“茶园扩建”标记为赢单吗？")
    page.fill("#kechi-note", "客户已签合同")
    page.click(".kechi-outcome-ok")
    expect(page.locator(".kechi-board-message")).to_have_text("已标记赢单")
    expect(card).to_have_count(0)
    expect(signing.locator(".kechi-col-amount")).to_have_text("¥2,000.00")
    screenshot(page, "62-board-won")

    other = page.locator(".kechi-card", has_text="包装升级")
    other.drag_to(page.locator('.kechi-board-drop[data-target="lost"]'))
    page.click(".kechi-outcome-ok")  # no reason chosen
    expect(page.locator(".kechi-board-message")).to_have_text("请选择输单原因")
    expect(other).to_have_count(1)
    other.drag_to(page.locator('.kechi-board-drop[data-target="lost"]'))
    page.select_option("#kechi-reason", label="选择了竞争对手")
    page.click(".kechi-outcome-ok")
    expect(page.locator(".kechi-board-message")).to_have_text("已标记输单")
    expect(other).to_have_count(0)
    expect(signing.locator(".kechi-col-count")).to_have_text("0")
    with app.app_context():
        row = db.session.get(Opportunity, card_id)
        assert (row.outcome, row.stage_id, row.outcome_note) == (Outcome.WON, stages["谈判签约"], "客户已签合同")
    assert [url for url in page.requested if not url.startswith(page.base)] == []
