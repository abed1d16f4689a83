"""The back half of a sale, as the people who do it click through it (issue 19): the salesperson
turns a won opportunity into a contract (新建合同, its lines copied) and submits it (提交审批); his
manager finds it on 我的审批 and approves it, so it takes effect (执行中) and locks; the salesperson
splits it into two instalments, registers the customer's transfer against the first; 财务 confirms
it on 我的审批 and it counts as received; the salesperson requests an invoice, 财务 approves and
issues it; the 应收账龄 report shows what is left, and its figure opens the 回款计划 list with the
same amount. Every page under the nonce-only CSP; screenshots along the way."""
from __future__ import annotations

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import FIXED_NOW, log_in, screenshot
from models import Contract, Customer, Department, Invoice, Opportunity, OpportunityLine, Product, ProductPrice, db
from models.opportunity import Outcome, Stage
from opportunity_helpers import make_opportunity
from rules import invoice_titles, products, stage_groups
from rules.actor import Actor

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("KECHI_JOURNEY_SHOTS", "/work/shots/journey19"))


def shot(page, name: str) -> None:
    path = screenshot(page, f"finance-{name}")
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def _company(app, make_user, make_customer) -> dict[str, int]:
    """陈晓明 (业务员, 销售一部) reports to 李强 (主管, the department's 负责人); 钱慧 is 财务. His
    customer has its 发票抬头, and his opportunity for three teaching panels at 9.5折 is won."""
    lead = make_user("lizg", role="主管", display_name="李强")
    rep = make_user("chenxm", superior="lizg", display_name="陈晓明")
    make_user("qianhui", role="财务", department=("财务部",), display_name="钱慧")
    customer_id = make_customer("青禾教育科技有限公司", rep)
    with app.app_context():
        db.session.scalar(select(Department).where(Department.name == "销售一部")).manager_id = lead
        levels = {level.name: level.id for level in products.ensure_default_levels(db.session)}
        panel = Product(code="JX80", name="智能教学一体机", spec="86英寸", unit="台", cost=Decimal("5200"))
        db.session.add(panel)
        db.session.flush()
        db.session.add(ProductPrice(product_id=panel.id, level_id=levels["批发价"], price=Decimal("9800.00")))
        stage_groups.ensure_default(db.session)
        last_stage = db.session.scalar(select(Stage.id).order_by(Stage.group_id, Stage.sort_order.desc()).limit(1))
        actor = Actor.from_user(db.session.get(Customer, customer_id).owner, has_shares=False)
        invoice_titles.save(db.session, customer_id, {
            "kind": "company", "name": "青禾教育科技有限公司", "tax_no": "91330106MA2GL1QX7K",
            "bank": "招商银行杭州分行", "account": "571908765410201", "address": "杭州市西湖区文三路 90 号",
            "phone": "0571-88881234"}, actor=actor, now=FIXED_NOW)
        db.session.commit()
        panel_id = panel.id
    opportunity_id = make_opportunity(app, owner_id=rep, customer_id=customer_id, stage_id=last_stage,
                                      amount="27930.00", title="50 人智慧教室", outcome=Outcome.WON)
    with app.app_context():
        db.session.get(Opportunity, opportunity_id).closed_at = FIXED_NOW
        db.session.add(OpportunityLine(opportunity_id=opportunity_id, product_id=panel_id, quantity=3,
                                       unit_price=Decimal("9800.00"), discount_rate=Decimal("0.95"),
                                       amount=Decimal("27930.00")))
        db.session.commit()
    return {"customer": customer_id, "opportunity": opportunity_id}


def sign_in_as(page, who: str) -> None:
    """Another person at the same browser (log_in signs the previous one out)."""
    log_in(page, who)
    page.wait_for_url("**/admin/**")


def _approve_first_waiting(page, who: str, title_part: str, name: str) -> None:
    """`who` signs in, finds the request on 我的审批 (待我审批) and approves it on its page."""
    from playwright.sync_api import expect

    sign_in_as(page, who)
    page.goto(page.base + "/admin/approval/")
    row = page.locator("table.kechi-approvals tbody tr", has_text=title_part)
    expect(row).to_have_count(1)
    shot(page, f"{name}-waiting")
    row.locator("a").first.click()
    expect(page.locator('[data-testid="approval-status"]')).to_have_text("审批中")
    page.fill('input[name="comment"]', "同意")
    page.click('[data-testid="approval-approve"]')
    expect(page.locator(".alert-success")).to_contain_text("已同意")
    shot(page, f"{name}-approved")


def test_won_opportunity_to_contract_approval_instalments_receipt_invoice_and_ageing(app, page, make_user,
                                                                                      make_customer):
    from playwright.sync_api import expect

    ids = _company(app, make_user, make_customer)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of 新建合同, 提交审批

    # 1. 陈晓明 writes the contract from the won opportunity: its line is copied, a draft
    log_in(page, "chenxm")
    page.goto(page.base + f"/admin/opportunity/details/?id={ids['opportunity']}")
    page.click("#kechi-new-contract")
    expect(page.locator("#title")).to_have_value("50 人智慧教室")
    page.fill("#end_on", "2027-11-22")
    page.fill("#their_signatory", "周校长")
    shot(page, "01-contract-form")
    page.locator("input[type=submit][value='保存']").click()
    expect(page.locator(".kechi-contract-state")).to_have_text("草稿")
    expect(page.locator(".kechi-contract-total")).to_have_text("¥27,930.00")
    contract_url = page.url

    # 2. 提交审批: read-only while 李强 decides
    page.click("#kechi-contract-submit")
    expect(page.locator(".kechi-contract-state")).to_have_text("审批中")
    expect(page.locator('[data-testid="approval-status"]')).to_have_text("审批中")
    expect(page.locator('[data-approver="李强"]').first).to_contain_text("待审批")
    expect(page.locator("#kechi-contract-submit")).to_have_count(0)
    shot(page, "02-contract-submitted")

    # 3. the manager approves on 我的审批; the contract takes effect and locks
    _approve_first_waiting(page, "lizg", "50 人智慧教室", "03-manager")
    page.goto(contract_url)
    expect(page.locator(".kechi-contract-state")).to_have_text("执行中")
    expect(page.locator('[data-testid="approval-status"]')).to_have_text("已通过")
    shot(page, "04-contract-active")

    # 4. 陈晓明 splits it into two instalments, a month apart
    sign_in_as(page, "chenxm")
    page.goto(contract_url)
    editor = page.locator("#payment-plan form[data-kechi-plan-editor]")
    editor.locator("[data-kechi-plan-split-n]").fill("2")
    editor.locator("[data-kechi-plan-split-first]").fill("2026-11-23")
    editor.locator("[data-kechi-plan-split]").click()
    expect(editor.locator("[data-kechi-plan-body] [name=amount]").nth(1)).to_have_value("13965.00")
    expect(editor.locator("[data-kechi-plan-diff]")).to_have_text("与合同金额一致")
    shot(page, "05-plan-editor")
    editor.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("回款计划已保存，共 2 期")
    instalments = page.locator("#payment-plan .kechi-plan-table tbody tr")
    expect(instalments).to_have_count(2)
    expect(instalments.nth(1)).to_contain_text("2026-12-23")

    # 5. the customer's transfer against the first instalment, registered from its 回款 button
    instalments.nth(0).locator(".kechi-plan-pay").click()
    expect(page.locator(".kechi-receipt-target")).to_contain_text("第1期")
    expect(page.locator("[data-kechi-room]")).to_have_text("¥13,965.00")
    page.fill("#amount", "13965")
    page.select_option("#method", label="银行转账")
    shot(page, "06-receipt-form")
    page.click("#kechi-save-receipt")
    expect(page.locator(".alert-success")).to_contain_text("已登记回款 ¥13,965.00，等待审核后计入实收")

    # 6. 财务 confirms it on 我的审批: it counts as received, the instalment is paid
    _approve_first_waiting(page, "qianhui", "¥13,965.00", "07-finance-receipt")
    page.goto(contract_url)
    expect(page.locator('[data-money="received"]')).to_have_text("¥13,965.00")
    expect(page.locator('[data-money="outstanding"]')).to_have_text("¥13,965.00")
    expect(page.locator("#payment-plan .kechi-plan-table tbody tr").nth(0)).to_contain_text("已回款")
    shot(page, "08-contract-received")

    # 7. 陈晓明 requests an invoice for what was paid; 财务 approves it and issues it
    sign_in_as(page, "chenxm")
    page.goto(contract_url)
    page.click("#kechi-invoice-request")
    page.fill("#amount", "13965")
    shot(page, "09-invoice-request")
    page.click("#kechi-invoice-submit")
    expect(page.locator(".kechi-invoice-state")).to_have_text("审批中")
    with app.app_context():
        number = db.session.scalar(select(Invoice.number))
    _approve_first_waiting(page, "qianhui", number, "10-finance-invoice")
    page.goto(page.base + "/admin/invoice/")
    page.click(f".model-list a:has-text('{number}')")
    expect(page.locator(".kechi-invoice-state")).to_have_text("待开票")
    page.fill("#invoice_no", "33012400000088")
    page.click("#kechi-invoice-issue")
    expect(page.locator(".kechi-invoice-state")).to_have_text("已开票")
    shot(page, "11-invoice-issued")
    page.goto(contract_url)
    expect(page.locator('[data-money="invoiced"]')).to_have_text("¥13,965.00")
    shot(page, "12-contract-invoiced")

    # 8. 应收账龄: the second instalment is what is left, not yet due; its figure opens the list
    page.goto(page.base + "/admin/reports/ageing/")
    row = page.locator("#kechi-report-table tr", has_text="青禾教育科技有限公司")
    expect(row).to_contain_text("¥13,965.00")
    shot(page, "13-ageing")
    bucket = page.locator(".kechi-ageing-buckets tr", has_text="未到期")
    expect(bucket).to_contain_text("¥13,965.00")
    bucket.locator("a").first.click()
    expect(page.locator("table.model-list tbody tr")).to_have_count(1)
    listed = page.locator("table.model-list tbody tr").first
    expect(listed).to_contain_text("2026-12-23")
    expect(listed).to_contain_text("¥13,965.00")
    shot(page, "14-ageing-drilled")
    with app.app_context():
        contract = db.session.scalar(select(Contract))
        assert (contract.status, contract.received, contract.invoiced) == ("active", Decimal("13965.00"),
                                                                            Decimal("13965.00"))
