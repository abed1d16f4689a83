"""合同 in the panel: a salesperson writes a contract with lines, submits it (no approval flow
applies on this branch: it takes effect), a locked contract's edit is refused with nothing
changed, 生成订单 never past the contracted quantity, quick search by number / name / customer,
the scope truth table for list, detail and export, the 即将到期 list, the customer 360 tab and
the buttons on a won opportunity and an accepted quote."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import list_table, sheet_rows, xlsx_export
from models import Order, db
from models.contract import Contract, ContractLine
from test_rules_contracts import (  # noqa: F401 - fixtures
    TODAY, _quote, _won_opportunity, act, new_contract, no_approval_flow, team,
)
from test_rules_orders import shop  # noqa: F401 - fixture


def login(new_client, username):
    client = new_client()
    client.login(username)
    return client


def contract_form(shop, **extra):
    data = {"title": "华星茶叶年度供货", "customer": str(shop["customer"]), "opportunity": "", "contact": "",
            "owner": "", "signed_on": "", "start_on": "2026-12-01", "end_on": "2027-11-30", "remind_days": "",
            "price_level": str(shop["wholesale"]), "tax_rate": "0.13", "our_signatory": "", "their_signatory": "王经理",
            "terms": "分三期付款", "notes": "",
            "lines-0-product": str(shop["tea"]), "lines-0-quantity": "3", "lines-0-unit_price": "",
            "lines-0-discount_rate": "0.9", "lines-0-notes": "",
            "lines-1-product": str(shop["cup"]), "lines-1-quantity": "7", "lines-1-unit_price": "",
            "lines-1-discount_rate": "0.85", "lines-1-notes": ""}
    data.update(extra)
    return data


def test_a_salesperson_writes_submits_and_the_contract_locks(app, team, new_client):
    rep = login(new_client, "rep")
    html = rep.post_form("/admin/contract/new/", contract_form(team), follow=True).get_data(as_text=True)
    assert "合同 HT202611230001 已保存为草稿" in html and "创建记录成功" not in html
    assert "¥63.01" in html and "9折" in html and "分三期付款" in html and "王经理" in html
    assert 'id="kechi-contract-submit"' in html and 'id="kechi-contract-void"' not in html  # 业务员 may not 作废
    with app.app_context():
        contract_id = db.session.scalar(select(Contract.id))
    html = rep.post_form(f"/admin/contract/details/?id={contract_id}", {},
                         to=f"/admin/contract/move/submit/?id={contract_id}", follow=True).get_data(as_text=True)
    assert "合同已生效（无需审批）" in html and "执行中" in html and "已审批生效并锁定" in html
    assert 'id="kechi-contract-submit"' not in html and 'id="kechi-contract-order-open"' in html
    # The edit page is closed and a forged save changes nothing.
    html = rep.get(f"/admin/contract/edit/?id={contract_id}", follow_redirects=True).get_data(as_text=True)
    assert "已审批生效并锁定，不能修改" in html
    form = contract_form(team, title="偷偷改名", **{"lines-0-quantity": "300"})
    rep.post_form(f"/admin/contract/details/?id={contract_id}", form, to=f"/admin/contract/edit/?id={contract_id}",
                  follow=True)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.title == "华星茶叶年度供货" and contract.lines[0].quantity == 3


def test_orders_from_the_page_never_pass_the_contracted_quantity(app, team, new_client):
    contract_id = new_contract(app, team)
    act(app, contract_id, "submit")
    with app.app_context():
        tea, cup = db.session.scalars(select(ContractLine.id).where(ContractLine.contract_id == contract_id)
                                      .order_by(ContractLine.id)).all()
    rep = login(new_client, "rep")
    page = f"/admin/contract/details/?id={contract_id}"
    html = rep.post_form(page, {f"qty-{tea}": "2", f"qty-{cup}": "0"},
                         to=f"/admin/contract/move/order/?id={contract_id}", follow=True).get_data(as_text=True)
    assert "已生成订单" in html and "等待审核" in html
    html = rep.post_form(page, {f"qty-{tea}": "5", f"qty-{cup}": "0"},
                         to=f"/admin/contract/move/order/?id={contract_id}", follow=True).get_data(as_text=True)
    assert "合同数量 3，已下单 2，最多还能下单 1" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.get(ContractLine, tea).ordered_quantity == 2
    html = rep.get(page).get_data(as_text=True)
    assert "由本合同生成的订单" in html


def test_quick_search_by_number_name_and_customer(app, team, new_client):
    first = new_contract(app, team, title="龙井年度供货合同")
    second = new_contract(app, team, title="茶杯补货")
    rep = login(new_client, "rep")
    with app.app_context():
        numbers = {i: str(db.session.get(Contract, i)) for i in (first, second)}
    # a number is looked up by its beginning, in any case; digits alone still match anywhere
    for term, wanted in [(numbers[second], {second}), (numbers[second].lower(), {second}),
                         (numbers[first][:10].lower(), {first, second}), (numbers[first][2:10], {first, second}),
                         ("龙井", {first}), ("华星", {first, second})]:
        listing = list_table(rep.get(f"/admin/contract/?search={term}").get_data(as_text=True))
        assert {i for i in (first, second) if numbers[i] in listing} == wanted, term


# who → sees the rep's contract on the list, its page and the export: the owner, a manager over
# the owner's department, an all-scope clerk, a salesperson elsewhere (no), the same salesperson
# once the customer is shared with them, or once they hold an approval task of the contract.
SCOPE = [("rep", None, True), ("boss", None, True), ("clerk", None, True), ("rep2", None, False),
         ("rep2", "share", True), ("rep2", "approver", True)]


def _open_the_door(app, team, contract_id, how):
    from models import CustomerShare
    from models.approval import ApprovalRequest, ApprovalTask

    with app.app_context():
        if how == "share":
            db.session.add(CustomerShare(customer_id=team["customer"], user_id=team["rep2"],
                                         shared_by_id=team["rep"]))
        elif how == "approver":
            request_ = ApprovalRequest(doc_type="contract", doc_id=contract_id, title="合同", submitter_id=team["rep"],
                                       owner_id=team["rep"], open_key=f"contract:{contract_id}")
            db.session.add(request_)
            db.session.flush()
            db.session.add(ApprovalTask(request_id=request_.id, step_index=0, approver_id=team["rep2"]))
        db.session.commit()


@pytest.mark.parametrize("who, how, sees", SCOPE)
def test_scope_truth_table_list_detail_export(app, team, new_client, who, how, sees):
    contract_id = new_contract(app, team)
    _open_the_door(app, team, contract_id, how)
    with app.app_context():
        number = str(db.session.get(Contract, contract_id))
    client = login(new_client, who)
    assert (number in list_table(client.get("/admin/contract/").get_data(as_text=True))) is sees
    assert client.get(f"/admin/contract/details/?id={contract_id}").status_code == (200 if sees else 404)
    rows = sheet_rows(xlsx_export(client, "contract"))
    assert rows[0][:3] == ("合同编号", "合同名称", "客户名称")
    assert any(row[0] == number for row in rows[1:]) is sees
    found = list_table(client.get(f"/admin/contract/?search={number}").get_data(as_text=True))
    assert (f"details/?id={contract_id}" in found) is sees
    if how is not None:  # seeing a contract through its customer or an approval does not hand it over
        assert client.get(f"/admin/contract/edit/?id={contract_id}").status_code == 404


def test_only_the_owners_side_changes_a_contract(app, team, new_client):
    contract_id = new_contract(app, team)
    rep2 = login(new_client, "rep2")
    assert rep2.get(f"/admin/contract/edit/?id={contract_id}").status_code == 404
    response = rep2.post_form("/admin/contract/", {}, to=f"/admin/contract/move/submit/?id={contract_id}")
    assert response.status_code == 404
    assert act  # the rules refuse too (tests/test_rules_contracts.py)
    with app.app_context():
        assert db.session.get(Contract, contract_id).status == "draft"


def test_the_expiring_list_shows_contracts_in_force_ending_soon(app, team, new_client):
    soon = new_contract(app, team, title="即将到期的", end_on=TODAY + timedelta(days=10))
    later = new_contract(app, team, title="明年到期的", end_on=TODAY + timedelta(days=200))
    draft = new_contract(app, team, title="草稿不算", end_on=TODAY + timedelta(days=5))
    for contract_id in (soon, later):
        act(app, contract_id, "submit")
    rep = login(new_client, "rep")
    html = rep.get("/admin/contract_expiring/").get_data(as_text=True)
    listing = list_table(html)
    assert "即将到期的" in listing and "明年到期的" not in listing and "草稿不算" not in listing
    assert "30 天内到期" in html
    assert draft


def test_customer_tab_opportunity_and_quote_buttons(app, team, new_client):
    opportunity_id = _won_opportunity(app, team)
    quote_id = _quote(app, team)
    rep = login(new_client, "rep")
    html = rep.get(f"/admin/customer/details/?id={team['customer']}").get_data(as_text=True)
    assert "这位客户还没有合同" in html
    html = rep.get(f"/admin/opportunity/details/?id={opportunity_id}").get_data(as_text=True)
    assert 'id="kechi-new-contract"' in html
    response = rep.post_form(f"/admin/opportunity/details/?id={opportunity_id}",
                             {"opportunity_id": str(opportunity_id)}, to="/admin/contract/from_opportunity/")
    assert response.status_code == 302 and "/admin/contract/edit/" in response.headers["Location"]
    html = rep.get(f"/admin/opportunity/details/?id={opportunity_id}").get_data(as_text=True)
    assert 'id="kechi-new-contract"' not in html and "kechi-contract-link" in html
    html = rep.get(f"/admin/quote/details/?id={quote_id}").get_data(as_text=True)
    assert 'id="kechi-quote-contract"' in html
    html = rep.post_form(f"/admin/quote/details/?id={quote_id}", {"quote_id": str(quote_id)},
                         to="/admin/contract/from_quote/", follow=True).get_data(as_text=True)
    assert "已生成合同草稿" in html and "修改合同" in html
    html = rep.get(f"/admin/customer/details/?id={team['customer']}").get_data(as_text=True)
    assert html.count('kechi-contract-table"') == 1 and "HT202611230002" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Contract.id))) == 2


def test_custom_fields_on_the_form_page_list_and_export(app, team, new_client):
    from models import CustomField

    with app.app_context():
        db.session.add(CustomField(entity="contract", key="project_no", label="项目编号", field_type="text",
                                   show_in_list=True, importable=True, required=True))
        db.session.commit()
    rep = login(new_client, "rep")
    html = rep.post_form("/admin/contract/new/", contract_form(team), follow=True).get_data(as_text=True)
    assert "项目编号" in html and "已保存为草稿" not in html  # required: the form is kept
    html = rep.post_form("/admin/contract/new/", contract_form(team, cf_project_no="XM-2026-08"),
                         follow=True).get_data(as_text=True)
    assert "已保存为草稿" in html and "XM-2026-08" in html
    assert "XM-2026-08" in list_table(rep.get("/admin/contract/").get_data(as_text=True))
    rows = sheet_rows(xlsx_export(rep, "contract"))
    assert "项目编号" in rows[0] and rows[1][rows[0].index("项目编号")] == "XM-2026-08"
    with app.app_context():
        assert db.session.scalar(select(Contract.custom)) == {"project_no": "XM-2026-08"}


def test_a_draft_is_changed_through_its_form_and_repriced(app, team, new_client):
    contract_id = new_contract(app, team)
    rep = login(new_client, "rep")
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        line_ids = [line.id for line in contract.lines]
        version = contract.version
    form = contract_form(team, title="改成两年期", version=str(version),
                         **{"lines-0-id": str(line_ids[0]), "lines-0-quantity": "4",
                            "lines-1-id": str(line_ids[1])})
    html = rep.post_form(f"/admin/contract/edit/?id={contract_id}", form, follow=True).get_data(as_text=True)
    assert "改成两年期" in html and "¥77.41" in html  # 4 × 16.00 × 0.9 = 57.60 + 19.81
    with app.app_context():
        assert db.session.get(Contract, contract_id).total.to_eng_string() == "77.41"


@pytest.mark.parametrize("rows", [3, 20])
def test_the_list_issues_the_same_statements_for_3_rows_as_for_20(app, team, new_client, rows):
    from test_statement_counts import counted

    for index in range(rows):
        new_contract(app, team, title=f"合同{index}")
    rep = login(new_client, "boss")
    with counted(app) as seen:
        html = rep.get("/admin/contract/").get_data(as_text=True)
    assert all(f"合同{index}" in list_table(html) for index in range(rows))
    assert len(seen) <= 12, "\n".join(seen)  # 12 today for 3 rows and for 20: login, scope, menu, count, page…


def test_contract_settings_number_pattern_and_reminders(app, team, new_client):
    admin = login(new_client, "boss")
    assert admin.get("/admin/contract_settings/").status_code == 403  # settings.manage only
    with app.app_context():
        from models import Role, User

        user = db.session.get(User, team["boss"])
        user.role = db.session.scalar(select(Role).where(Role.name == "系统管理员"))
        db.session.commit()
    admin = login(new_client, "boss")
    page = admin.get("/admin/contract_settings/").get_data(as_text=True)
    assert "HT202611230001" in page  # the next number, as a preview
    html = admin.post_form("/admin/contract_settings/", {"contract_number_pattern": "SH-{yyyy}-{seq:03d}",
                                                         "contract_remind_days": "15", "contract_expiring_days": "45"},
                           follow=True).get_data(as_text=True)
    assert "合同设置已保存" in html
    html = admin.post_form("/admin/contract_settings/", {"contract_number_pattern": "SH-{yyyy}-{seq:03d}",
                                                         "contract_remind_days": "400", "contract_expiring_days": "45"},
                           follow=True).get_data(as_text=True)
    assert "天数应为 0 到 365 之间的整数" in html
    contract_id = new_contract(app, team)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert (contract.number, contract.remind_days) == ("SH-2026-001", 15)
