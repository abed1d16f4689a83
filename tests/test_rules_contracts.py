"""合同: money priced as orders price it, the state machine as a truth table on both databases
(with the approval mechanism's calls recorded at its seam), edits of a contract in approval or
approved refused with nothing written, 新版本 of a voided one, lines copied from a won opportunity
and an accepted quote (once), orders never taking more than the contracted quantity (also two at
once), the expiry reminders job, and who sees which contract."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, run_at_once
from models import Customer, Notification, OpportunityLine, Order, Quote, QuoteLine, db
from models.approval import ApprovalAction
from models.contract import Contract, ContractEvent, ContractLine
from models.opportunity import Outcome
from opportunity_helpers import make_group, make_opportunity
from rules import activity, contracts, orders, quotes, scope
from rules.errors import InvalidValue, OutOfScope, PermissionDenied
from test_rules_orders import TZ, actor_of, shop  # noqa: F401 - fixture

D = Decimal
TODAY = date(2026, 11, 23)
REAL_REQUIRES_APPROVAL = contracts._requires_approval


@pytest.fixture(autouse=True)
def no_approval_flow(monkeypatch):
    """Unless a test says otherwise, no approval flow applies to contracts, so 提交 takes effect at
    once (the default flows rules/approvals seeds would otherwise decide what submit does)."""
    monkeypatch.setattr(contracts, "_requires_approval", lambda session, contract: False)


@pytest.fixture
def team(app, shop, make_user):
    """The shop, plus 经理 boss over the sales department (may 作废 and 完成)."""
    shop["boss"] = make_user("boss", role="经理", department=("销售部",))
    return shop


@pytest.fixture
def approvals_seam(monkeypatch):
    """The approval mechanism is another module (rules/approvals.py): here a flow always applies,
    and what the contract asks of it is recorded."""
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(contracts, "_requires_approval", lambda session, contract: True)
    monkeypatch.setattr(contracts, "_submit_for_approval",
                        lambda session, contract, **kw: calls.append(("submit", contract.id)))
    monkeypatch.setattr(contracts, "_cancel_approval",
                        lambda session, contract, **kw: calls.append(("cancel", contract.id)))
    return calls


def new_contract(app, shop, *, who="rep", lines=None, **extra) -> int:
    """3 罐龙井 at ¥16.00 9折 and 7 盒茶杯 at ¥3.33 8.5折 (批发价), tax 13% — the quotes' worked example."""
    lines = lines if lines is not None else [(shop["tea"], 3, None, "0.9"), (shop["cup"], 7, None, "0.85")]
    extra.setdefault("title", "龙井年度供货合同")
    with app.app_context():
        contract = Contract(customer_id=shop["customer"], price_level_id=shop["wholesale"], tax_rate=D("0.13"),
                            lines=[ContractLine(product_id=p, quantity=q, unit_price=price, discount_rate=D(rate))
                                   for p, q, price, rate in lines], **extra)
        contracts.create(db.session, contract, actor=actor_of(db.session, who), now=FIXED_NOW, tz=TZ)
        db.session.commit()
        return contract.id


def act(app, contract_id, action, who="rep", **kwargs):
    with app.app_context():
        actor = actor_of(db.session, who)
        try:
            if action == "approve":
                contracts.on_approved(db.session, db.session.get(Contract, contract_id), actor=actor, now=FIXED_NOW)
                result = None
            elif action in ("reject", "withdraw"):
                contracts.on_returned(db.session, db.session.get(Contract, contract_id), actor=actor, now=FIXED_NOW,
                                      action=ApprovalAction(action), reason=kwargs.get("reason", "价格再议"))
                result = None
            else:
                if action == "void":
                    kwargs.setdefault("reason", "客户改签")
                if action in ("revise", "create_order"):
                    kwargs.setdefault("tz", TZ)
                result = getattr(contracts, action)(db.session, contract_id, actor=actor, now=FIXED_NOW, **kwargs)
            db.session.commit()
            return getattr(result, "id", result)
        except Exception:
            db.session.rollback()
            raise


def status_of(app, contract_id) -> str:
    with app.app_context():
        return db.session.get(Contract, contract_id).status


def events_of(app, contract_id) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(ContractEvent.action).where(ContractEvent.contract_id == contract_id)
                                       .order_by(ContractEvent.id)))


def test_lines_priced_as_orders_price_them_and_numbered(app, team):
    contract_id = new_contract(app, team)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert [(line.unit_price, line.amount) for line in contract.lines] == [(D("16.00"), D("43.20")),
                                                                             (D("3.33"), D("19.81"))]
        assert (contract.gross, contract.discount, contract.total) == (D("71.31"), D("8.30"), D("63.01"))
        assert (contract.amount_ex_tax, contract.tax) == (D("55.76"), D("7.25"))
        assert contract.number == "HT202611230001" and contract.revision == 1 and contract.status == "draft"
        assert contract.signed_on == TODAY and contract.remind_days == 30
    assert events_of(app, contract_id) == ["create"]


# How each state is reached from a fresh draft (with the approval flow applying).
PATHS = {"draft": [], "approving": ["submit"], "active": ["submit", "approve"],
         "completed": ["submit", "approve", "complete"], "void": ["void"]}
# (from, action) → the state after, or None: refused with the state unchanged.
TABLE = [
    ("draft", "submit", "approving"), ("draft", "approve", None), ("draft", "reject", None),
    ("draft", "complete", None), ("draft", "void", "void"), ("draft", "revise", None),
    ("approving", "submit", None), ("approving", "approve", "active"), ("approving", "reject", "draft"),
    ("approving", "withdraw", "draft"), ("approving", "complete", None), ("approving", "void", "void"),
    ("approving", "revise", None),
    ("active", "submit", None), ("active", "approve", None), ("active", "reject", None),
    ("active", "complete", "completed"), ("active", "void", "void"), ("active", "revise", None),
    ("completed", "submit", None), ("completed", "approve", None), ("completed", "complete", None),
    ("completed", "void", None), ("completed", "revise", None),
    ("void", "submit", None), ("void", "approve", None), ("void", "complete", None), ("void", "void", None),
    ("void", "revise", "void"),
]


@pytest.mark.both_dbs
@pytest.mark.parametrize("start, action, after", TABLE, ids=[f"{s}-{a}" for s, a, _ in TABLE])
def test_state_machine_truth_table(app, team, approvals_seam, start, action, after):
    contract_id = new_contract(app, team)
    for step in PATHS[start]:
        act(app, contract_id, step, who="boss")
    before = events_of(app, contract_id)
    if after is None:
        with pytest.raises(contracts.ContractRefused, match="当前状态为|只有已作废"):
            act(app, contract_id, action, who="boss")
        assert status_of(app, contract_id) == start
        assert events_of(app, contract_id) == before  # nothing written
        return
    act(app, contract_id, action, who="boss")
    assert status_of(app, contract_id) == after
    assert len(events_of(app, contract_id)) > len(before)
    if (start, action) == ("approving", "void"):
        assert approvals_seam[-1] == ("cancel", contract_id)  # the pending approval ends with it


def test_submit_hands_the_contract_to_the_approval_flow(app, team, approvals_seam):
    contract_id = new_contract(app, team)
    act(app, contract_id, "submit")
    assert approvals_seam == [("submit", contract_id)]
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.status == "approving" and contract.submitted_at is not None
        customer = db.session.get(Customer, team["customer"])
        assert customer.last_activity_at is not None
    act(app, contract_id, "reject", reason="价格过低")
    assert status_of(app, contract_id) == "draft"
    assert events_of(app, contract_id) == ["create", "submit", "reject"]


def test_without_an_approval_flow_submit_takes_effect_at_once(app, team):
    contract_id = new_contract(app, team)
    act(app, contract_id, "submit")  # no approval flow applies (none, disabled, or under its threshold)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.status == "active" and contract.approved_at is not None
    assert events_of(app, contract_id) == ["create", "submit", "approve"]


def test_a_salesperson_may_not_void_or_complete(app, team):
    contract_id = new_contract(app, team)
    with pytest.raises(PermissionDenied, match="作废"):
        act(app, contract_id, "void", who="rep")
    assert status_of(app, contract_id) == "draft"


def test_void_needs_a_reason(app, team):
    contract_id = new_contract(app, team)
    with pytest.raises(InvalidValue, match="作废原因"):
        act(app, contract_id, "void", who="boss", reason="  ")


@pytest.mark.both_dbs
@pytest.mark.parametrize("state, message", [("approving", "正在审批中"), ("active", "已审批生效并锁定"),
                                            ("completed", "已审批生效并锁定"), ("void", "已作废")])
def test_editing_a_locked_contract_is_refused_and_nothing_changes(app, team, approvals_seam, state, message):
    contract_id = new_contract(app, team)
    for step in PATHS[state]:
        act(app, contract_id, step, who="boss")
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        contract.lines[0].quantity = 300
        contract.title = "改过的名称"
        with pytest.raises(contracts.ContractLocked, match=message):
            contracts.edit(db.session, contract, actor=actor_of(db.session, "rep"), now=FIXED_NOW, tz=TZ)
        db.session.rollback()
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        assert contract.title == "龙井年度供货合同" and contract.lines[0].quantity == 3
        assert contract.total == D("63.01")


def test_a_draft_is_edited_and_repriced(app, team):
    contract_id = new_contract(app, team)
    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        contract.lines[0].quantity = 4
        contracts.edit(db.session, contract, actor=actor_of(db.session, "rep"), now=FIXED_NOW, tz=TZ)
        db.session.commit()
        assert contract.lines[0].amount == D("57.60") and contract.total == D("77.41")


def test_a_new_version_copies_the_voided_contract(app, team):
    contract_id = new_contract(app, team, end_on=date(2027, 11, 22))
    act(app, contract_id, "void", who="boss")
    new_id = act(app, contract_id, "revise")
    with app.app_context():
        old, new = db.session.get(Contract, contract_id), db.session.get(Contract, new_id)
        assert (new.number, new.revision, new.previous_id, new.status) == (old.number, 2, old.id, "draft")
        assert str(new) == f"{old.number}-V2"
        assert [(l.product_id, l.quantity, l.amount) for l in new.lines] == \
            [(l.product_id, l.quantity, l.amount) for l in old.lines]
        assert new.total == old.total and new.end_on == old.end_on and old.status == "void"
    with pytest.raises(contracts.ContractRefused, match="已有新版本"):
        act(app, contract_id, "revise")


def test_bad_lines_and_dates_are_refused_with_nothing_written(app, team):
    with pytest.raises(InvalidValue, match="至少需要一条产品明细"):
        new_contract(app, team, lines=[])
    with pytest.raises(InvalidValue, match="结束日期不能早于开始日期"):
        new_contract(app, team, start_on=date(2027, 1, 1), end_on=date(2026, 12, 1))
    with pytest.raises(InvalidValue, match="数量必须大于 0"):
        new_contract(app, team, lines=[(team["tea"], 0, None, "1")])
    with app.app_context():
        assert db.session.scalar(select(func.count(Contract.id))) == 0
        assert db.session.scalar(select(func.count(ContractLine.id))) == 0


# --- from an opportunity, from a quote ---------------------------------------------------------

def _won_opportunity(app, team, outcome=Outcome.WON, stages=None) -> int:
    stages = stages or make_group(app)
    opportunity_id = make_opportunity(app, owner_id=team["rep"], customer_id=team["customer"],
                                      stage_id=stages["谈判签约"], outcome=outcome, title="华星茶叶采购")
    with app.app_context():
        db.session.add_all([OpportunityLine(opportunity_id=opportunity_id, product_id=team["tea"], quantity=5,
                                            unit_price=D("18.00"), discount_rate=D("0.95"), amount=D("85.50"))])
        db.session.commit()
    return opportunity_id


def test_from_a_won_opportunity_lines_are_copied_once(app, team):
    opportunity_id = _won_opportunity(app, team)
    with app.app_context():
        contract = contracts.from_opportunity(db.session, opportunity_id, actor=actor_of(db.session, "rep"),
                                              now=FIXED_NOW, tz=TZ)
        db.session.commit()
        assert (contract.title, contract.opportunity_id, contract.customer_id, contract.owner_id) == \
            ("华星茶叶采购", opportunity_id, team["customer"], team["rep"])
        assert [(l.product_id, l.quantity, l.unit_price, l.discount_rate, l.amount) for l in contract.lines] == \
            [(team["tea"], 5, D("18.00"), D("0.9500"), D("85.50"))]
        assert contract.total == D("85.50") and contract.status == "draft"
        number = str(contract)
    with app.app_context(), pytest.raises(contracts.ContractRefused, match=f"已有合同 {number}"):
        contracts.from_opportunity(db.session, opportunity_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW,
                                   tz=TZ)


def test_only_a_won_opportunity_makes_a_contract(app, team):
    opportunity_id = _won_opportunity(app, team, outcome=Outcome.OPEN)
    with app.app_context(), pytest.raises(contracts.ContractRefused, match="只有赢单的销售机会"):
        contracts.from_opportunity(db.session, opportunity_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW,
                                   tz=TZ)


def _quote(app, team, *, accept=True) -> int:
    with app.app_context():
        quote = Quote(customer_id=team["customer"], price_level_id=team["wholesale"], tax_rate=D("0.13"),
                      terms="货到付款",
                      lines=[QuoteLine(product_id=team["tea"], quantity=3, discount_rate=D("0.9")),
                             QuoteLine(product_id=team["cup"], quantity=7, discount_rate=D("0.85"))])
        actor = actor_of(db.session, "rep")
        quotes.create(db.session, quote, actor=actor, now=FIXED_NOW, tz=TZ)
        quotes.send(db.session, quote.id, actor=actor, now=FIXED_NOW)
        if accept:
            quotes.accept(db.session, quote.id, actor=actor, now=FIXED_NOW)
        db.session.commit()
        return quote.id


def test_from_an_accepted_quote_lines_and_money_are_copied_once(app, team):
    quote_id = _quote(app, team)
    with app.app_context():
        contract = contracts.from_quote(db.session, quote_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW, tz=TZ)
        db.session.commit()
        quote = db.session.get(Quote, quote_id)
        assert [(l.product_id, l.quantity, l.unit_price, l.discount_rate, l.amount) for l in contract.lines] == \
            [(l.product_id, l.quantity, l.unit_price, l.discount_rate, l.amount) for l in quote.lines]
        assert (contract.total, contract.tax, contract.terms, contract.quote_id) == \
            (quote.total, quote.tax, "货到付款", quote.id)
    with app.app_context(), pytest.raises(contracts.ContractRefused, match="已转为合同"):
        contracts.from_quote(db.session, quote_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW, tz=TZ)


def test_a_quote_not_accepted_does_not_become_a_contract(app, team):
    quote_id = _quote(app, team, accept=False)
    with app.app_context(), pytest.raises(contracts.ContractRefused, match="只有客户已接受的报价单可以转合同"):
        contracts.from_quote(db.session, quote_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW, tz=TZ)
    with app.app_context():
        assert db.session.scalar(select(func.count(Contract.id))) == 0


# --- orders from a contract ------------------------------------------------------------------------

def _active(app, team) -> int:
    contract_id = new_contract(app, team)
    act(app, contract_id, "submit")  # no flow applies: in force at once
    return contract_id


def test_an_order_takes_what_is_left_at_the_contracts_prices(app, team):
    contract_id = _active(app, team)
    with app.app_context():
        tea_line = db.session.scalar(select(ContractLine.id).where(ContractLine.contract_id == contract_id,
                                                                   ContractLine.product_id == team["tea"]))
    first = act(app, contract_id, "create_order", quantities={tea_line: 2})
    second = act(app, contract_id, "create_order")  # the rest
    with app.app_context():
        one, two = db.session.get(Order, first), db.session.get(Order, second)
        assert one.contract_id == contract_id and one.state == "pending_review"
        assert [(l.product_id, l.quantity, l.unit_price, l.discount_rate) for l in one.lines] == \
            [(team["tea"], 2, D("16.00"), D("0.9000"))]
        assert sorted((l.product_id, l.quantity) for l in two.lines) == [(team["tea"], 1), (team["cup"], 7)]
        assert one.total + two.total == D("63.01")  # 28.80 + 14.40 + 19.81
        contract = db.session.get(Contract, contract_id)
        assert [(l.quantity, l.ordered_quantity) for l in contract.lines] == [(3, 3), (7, 7)]
    with pytest.raises(contracts.QuantityExceeded, match="已全部生成订单"):
        act(app, contract_id, "create_order")
    assert events_of(app, contract_id).count("order") == 2


def test_an_order_over_the_contracted_quantity_is_refused(app, team):
    contract_id = _active(app, team)
    with app.app_context():
        tea_line = db.session.scalar(select(ContractLine.id).where(ContractLine.contract_id == contract_id,
                                                                   ContractLine.product_id == team["tea"]))
    act(app, contract_id, "create_order", quantities={tea_line: 2})
    with pytest.raises(contracts.QuantityExceeded, match="合同数量 3，已下单 2，最多还能下单 1"):
        act(app, contract_id, "create_order", quantities={tea_line: 2})
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.get(ContractLine, tea_line).ordered_quantity == 2


def test_only_an_active_contract_makes_orders(app, team):
    contract_id = new_contract(app, team)
    with pytest.raises(contracts.ContractRefused, match="只有执行中的合同可以生成订单"):
        act(app, contract_id, "create_order")


def test_a_cancelled_order_gives_its_quantity_back(app, team):
    contract_id = _active(app, team)
    order_id = act(app, contract_id, "create_order")
    with app.app_context():
        orders.cancel(db.session, order_id, reason="客户推迟", actor=actor_of(db.session, "clerk"), now=FIXED_NOW)
        db.session.commit()
        assert [l.ordered_quantity for l in db.session.get(Contract, contract_id).lines] == [0, 0]
    act(app, contract_id, "create_order")


@pytest.mark.both_dbs
def test_two_orders_at_once_never_take_more_than_the_contract(app, team):
    contract_id = _active(app, team)
    with app.app_context():
        tea_line = db.session.scalar(select(ContractLine.id).where(ContractLine.contract_id == contract_id,
                                                                   ContractLine.product_id == team["tea"]))

    def order_two(session):
        contracts.create_order(session, contract_id, actor=actor_of(session, "rep"), now=FIXED_NOW, tz=TZ,
                               quantities={tea_line: 2})

    results = run_at_once(app, [order_two] * 3)
    assert results.count("ok") == 1, results
    assert all("最多还能下单 1" in r for r in results if r != "ok"), results
    with app.app_context():
        assert db.session.get(ContractLine, tea_line).ordered_quantity == 2
        taken = db.session.scalar(select(func.sum(Order.id * 0 + 1)).where(Order.contract_id == contract_id))
        assert taken == 1


# --- expiry, activity, scope ---------------------------------------------------------------------------

def test_expiry_reminder_once_within_the_window(app, team):
    soon = _active(app, team)
    later = new_contract(app, team, end_on=TODAY + timedelta(days=60))
    act(app, later, "submit")
    with app.app_context():
        db.session.get(Contract, soon).end_on = TODAY + timedelta(days=10)
        db.session.commit()
        assert contracts.remind_expiring(db.session, now=FIXED_NOW, today=TODAY) == 1
        assert contracts.remind_expiring(db.session, now=FIXED_NOW, today=TODAY + timedelta(days=1)) == 0
        db.session.commit()
        notes = list(db.session.scalars(select(Notification)))
        assert [n.user_id for n in notes] == [team["rep"]]
        assert "将于 2026-12-03 到期，还剩 10 天" in notes[0].title and notes[0].link == f"contract/{soon}"
        listed = set(db.session.scalars(select(Contract.id).where(contracts.expiring_clause(TODAY))))
        assert listed == {soon}


def test_a_contract_in_approval_or_in_force_keeps_the_customer_from_recycling(app, team, approvals_seam):
    contract_id = new_contract(app, team)
    with app.app_context():
        assert team["customer"] not in activity.busy_ids(db.session, [team["customer"]])
    act(app, contract_id, "submit")
    with app.app_context():
        assert team["customer"] in activity.busy_ids(db.session, [team["customer"]])
    act(app, contract_id, "void", who="boss")
    with app.app_context():
        assert team["customer"] not in activity.busy_ids(db.session, [team["customer"]])


def test_who_sees_and_who_changes_a_contract(app, team):
    contract_id = new_contract(app, team)
    with app.app_context():
        for who, sees in [("rep", True), ("boss", True), ("rep2", False), ("clerk", True)]:
            actor = actor_of(db.session, who)
            assert bool(scope.ids_in_scope(db.session, Contract, [contract_id], actor)) is sees, who
        with pytest.raises(OutOfScope):
            contracts.submit(db.session, contract_id, actor=actor_of(db.session, "rep2"), now=FIXED_NOW)
    assert status_of(app, contract_id) == "draft"


def test_a_quote_that_became_a_contract_no_longer_becomes_an_order(app, team):
    quote_id = _quote(app, team)
    with app.app_context():
        contract = contracts.from_quote(db.session, quote_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW, tz=TZ)
        db.session.commit()
        number = str(contract)
    with app.app_context(), pytest.raises(quotes.QuoteRefused, match=f"已转为合同 {number}"):
        quotes.convert(db.session, quote_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW, tz=TZ)
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0


def test_the_contract_plugs_into_the_approval_mechanism_by_its_names(app, team, monkeypatch):
    """Against a stand-in of rules/approvals with the agreed names (the real one is merged later)."""
    import sys

    import approvals_standin as standin

    monkeypatch.setitem(sys.modules, "rules.approvals", standin)
    monkeypatch.setattr(contracts, "_requires_approval", REAL_REQUIRES_APPROVAL)
    monkeypatch.setattr(standin, "calls", [])
    monkeypatch.setattr(standin, "registered", {})
    contracts._register()
    hooks = standin.registered["contract"]
    contract_id = new_contract(app, team)
    act(app, contract_id, "submit")
    assert status_of(app, contract_id) == "approving"
    assert standin.calls[0] == ("requires_approval", "contract", D("63.01"))
    assert standin.calls[1][:3] == ("submit", "contract", contract_id)
    title, amount, owner_id, self_ok = standin.calls[1][3]
    assert title.startswith("合同 HT202611230001") and (amount, owner_id, self_ok) == (D("63.01"), team["rep"], True)
    with app.app_context():
        contract = hooks.load(db.session, contract_id)
        assert hooks.link(contract).id == contract_id
        hooks.on_approved(db.session, contract, actor=actor_of(db.session, "boss"), now=FIXED_NOW)
        db.session.commit()
    assert status_of(app, contract_id) == "active"
    second = new_contract(app, team)
    act(app, second, "submit")
    act(app, second, "void", who="boss", reason="客户取消")
    assert standin.calls[-1] == ("cancel_for", "contract", second, "客户取消")


def test_merged_customers_bring_their_contracts_and_a_customer_with_contracts_is_not_purged(app, team):
    from rules import customers
    from rules.errors import PurgeRefused

    contract_id = new_contract(app, team)
    with app.app_context():
        rep = actor_of(db.session, "rep")
        keep = Customer(name="华星贸易集团", kind="company", owner_id=team["rep"])
        db.session.add(keep)
        db.session.flush()
        customers.merge(db.session, keep, [db.session.get(Customer, team["customer"])], actor=rep, now=FIXED_NOW)
        db.session.commit()
        assert db.session.get(Contract, contract_id).customer_id == keep.id
        customers.to_bin(db.session, keep, actor=rep, now=FIXED_NOW)
        db.session.commit()
        with pytest.raises(PurgeRefused, match="有合同"):
            customers.purge(db.session, keep)


def test_an_opportunity_makes_an_order_or_a_contract_not_both(app, team):
    """Its money would count twice: the direct order's and the contract's."""
    from rules import opportunities

    stages = make_group(app)
    with_contract = _won_opportunity(app, team, stages=stages)
    with app.app_context():
        rep = actor_of(db.session, "rep")
        contracts.from_opportunity(db.session, with_contract, actor=rep, now=FIXED_NOW, tz=TZ)
        db.session.commit()
        with pytest.raises(opportunities.OrderRefused, match="已有合同，请从合同生成订单"):
            opportunities.create_order(db.session, with_contract, actor=rep, now=FIXED_NOW, tz=TZ)
        db.session.rollback()
    with_order = _won_opportunity(app, team, stages=stages)
    with app.app_context():
        rep = actor_of(db.session, "rep")
        opportunities.create_order(db.session, with_order, actor=rep, now=FIXED_NOW, tz=TZ)
        db.session.commit()
        with pytest.raises(contracts.ContractRefused, match="已直接生成订单"):
            contracts.from_opportunity(db.session, with_order, actor=rep, now=FIXED_NOW, tz=TZ)
