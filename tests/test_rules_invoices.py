"""开票 rules: 发票抬头 and 税号 checks, a request never beyond its contract or order (also two at
the same instant on PostgreSQL), issue / 寄出 / 作废 / 红冲 with their refusals, contract.invoiced
kept, and the balances (应收/已收/已开票/未开票/已收未开/已开未收) in Python and SQL agreeing, as
seeded-random property tests."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from conftest import FIXED_NOW, run_at_once
from models import (
    ApprovalFlow, Contract, Customer, Invoice, InvoiceEvent, InvoiceTitle, Notification, Order, Sequence, db,
)
from models.contract import ContractStatus
from rules import contract_balances, invoice_titles, invoices, notifications
from rules.errors import InvalidValue, OutOfScope, PermissionDenied
from test_rules_orders import TZ, actor_of, move, new_order, shop  # noqa: F401 - fixture

D = Decimal
TAX_NO = "91310000MA1FL8XQ3K"


def new_contract(app, shop, *, total="1000.00", owner="rep", customer="customer", status=ContractStatus.ACTIVE,
                 number="HT202611230001", received="0") -> int:
    with app.app_context():
        owner_id = actor_of(db.session, owner).user_id
        contract = Contract(number=number, revision=1, title="年度供货合同", customer_id=shop[customer],
                            owner_id=owner_id, status=status, signed_on=date(2026, 11, 1), tax_rate=D("0.13"),
                            total=D(total), received=D(received))
        db.session.add(contract)
        db.session.commit()
        return contract.id


def new_title(app, shop, *, who="rep", customer="customer", **values) -> int:
    values = {"kind": "company", "name": "华星贸易有限公司", "tax_no": TAX_NO, "bank": "工商银行上海分行",
              "account": "1001 2345 6789", "address": "上海市浦东新区世纪大道 100 号", "phone": "021-55556666",
              **values}
    with app.app_context():
        title = invoice_titles.save(db.session, shop[customer], values, actor=actor_of(db.session, who), now=FIXED_NOW)
        db.session.commit()
        return title.id


def invoice_flow(app, enabled: bool) -> None:
    """Switch the 开票 approval flow (seeded with rules/approvals) on or off: most tests here are
    about invoicing, and test the approval path once, below."""
    with app.app_context():
        db.session.execute(update(ApprovalFlow).where(ApprovalFlow.doc_type == "invoice").values(enabled=enabled))
        db.session.commit()


@pytest.fixture
def books(app, shop, make_user):
    """The shop, a 财务 clerk, an active ¥1,000.00 contract of 华星贸易 owned by rep, and a title;
    invoices need no approval here."""
    invoice_flow(app, False)
    shop["fin"] = make_user("fin", role="财务", department=("财务部",))
    shop["contract"] = new_contract(app, shop)
    shop["title"] = new_title(app, shop)
    return shop


def ask(app, books, amount, *, who="rep", doc="contract", **extra) -> int:
    with app.app_context():
        kwargs = {"contract_id": books["contract"]} if doc == "contract" else {}
        kwargs.update(extra)
        invoice = invoices.request(db.session, actor=actor_of(db.session, who), now=FIXED_NOW, tz=TZ,
                                   title_id=books["title"], amount=amount, invoice_type="special", **kwargs)
        db.session.commit()
        return invoice.id


def act(app, name, invoice_id, who="fin", **kwargs):
    with app.app_context():
        actor = actor_of(db.session, who)
        if name in ("issue", "reverse"):
            kwargs.setdefault("tz", TZ)
        result = getattr(invoices, name)(db.session, invoice_id, actor=actor, now=FIXED_NOW, **kwargs)
        db.session.commit()
        return result.id


def invoiced(app, contract_id) -> Decimal:
    with app.app_context():
        return db.session.get(Contract, contract_id).invoiced


# --- 发票抬头 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("91310000MA1FL8XQ3K", "91310000MA1FL8XQ3K"),       # 18: 统一社会信用代码
    ("９１３１００００ＭＡ１ＦＬ８ＸＱ３Ｋ", "91310000MA1FL8XQ3K"),  # full-width, as some keyboards type it
    ("91310000ma1fl8xq3k", "91310000MA1FL8XQ3K"),
    ("310104 123456 789", "310104123456789"),          # 15: the old 税务登记证号
    ("31010419800101123X01", "31010419800101123X01"),  # 20
])
def test_tax_numbers_of_15_18_or_20_characters_are_kept_tidied(raw, expected):
    assert invoice_titles.check_tax_no(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ("9131000MA1FL8XQ3K", "税号应为 15、18 或 20 位（统一社会信用代码为 18 位），您填写的是 17 位"),
    ("91310000MA1FL8XQ3K1", "您填写的是 19 位"),
    ("91310000MA1FL8XQ3#", "税号只能包含数字和大写字母"),
])
def test_a_malformed_tax_number_is_refused_with_what_is_wrong(raw, message):
    with pytest.raises(InvalidValue, match=message):
        invoice_titles.check_tax_no(raw)


def test_several_titles_one_default_and_a_company_needs_its_tax_number(app, books):
    second = new_title(app, books, name="华星贸易（苏州）有限公司", tax_no="913205000000000001", is_default="1")
    person = new_title(app, books, kind="personal", name="王华星", tax_no="", bank="", account="")
    with app.app_context():
        listed = invoice_titles.titles(db.session, books["customer"])
        assert [t.id for t in listed] == [second, books["title"], person]  # the default first
        assert [t.is_default for t in listed] == [True, False, False]
        with pytest.raises(InvalidValue, match="企业抬头必须填写税号"):
            invoice_titles.save(db.session, books["customer"], {"kind": "company", "name": "无税号公司"},
                                actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.rollback()
        invoice_titles.remove(db.session, books["customer"], second, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        assert [t.id for t in invoice_titles.titles(db.session, books["customer"])] == [person, books["title"]]
        assert db.session.get(InvoiceTitle, person).is_default  # the newest other one inherits
        # someone who does not see the customer cannot see or change its titles
        with pytest.raises(OutOfScope):
            invoice_titles.save(db.session, books["customer"], {"kind": "personal", "name": "某人"},
                                actor=actor_of(db.session, "rep2"), now=FIXED_NOW)


def test_a_special_invoice_needs_a_company_title_with_bank_account_address_and_phone(app, books):
    person = new_title(app, books, kind="personal", name="王华星", tax_no="")
    bare = new_title(app, books, name="华星简称公司", bank="", account="", address="", phone="")
    with app.app_context():
        rep = actor_of(db.session, "rep")
        with pytest.raises(InvalidValue, match="增值税专用发票只能开给企业，“王华星”是个人抬头"):
            invoices.request(db.session, actor=rep, now=FIXED_NOW, tz=TZ, title_id=person, amount="100",
                             invoice_type="special", contract_id=books["contract"])
        db.session.rollback()
        with pytest.raises(InvalidValue, match="需要抬头“华星简称公司”的开户行、账号、地址、电话"):
            invoices.request(db.session, actor=rep, now=FIXED_NOW, tz=TZ, title_id=bare, amount="100",
                             invoice_type="special", contract_id=books["contract"])
        db.session.rollback()
        normal = invoices.request(db.session, actor=rep, now=FIXED_NOW, tz=TZ, title_id=person, amount="100",
                                  invoice_type="normal", contract_id=books["contract"])
        assert normal.title_name == "王华星"


# --- the request and its room ------------------------------------------------------------------------

def test_a_request_snapshots_the_title_splits_the_tax_and_waits_for_issue(app, books):
    invoice_id = ask(app, books, "565.00")
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.number == "KP202611230001"
        assert (invoice.amount, invoice.amount_ex_tax, invoice.tax) == (D("565.00"), D("500.00"), D("65.00"))
        assert invoice.title_name == "华星贸易有限公司" and invoice.tax_no == TAX_NO
        assert invoice.status == "approved"  # no approval flow: straight to 待开票
        assert invoice.owner_id == actor_of(db.session, "rep").user_id
        assert [e.action for e in db.session.scalars(select(InvoiceEvent).order_by(InvoiceEvent.id))] == \
            ["create", "submit"]
        # later edits of the title leave the request alone
        invoice_titles.save(db.session, books["customer"], {"kind": "company", "name": "华星新名称", "tax_no": TAX_NO},
                            actor=actor_of(db.session, "rep"), now=FIXED_NOW, title_id=books["title"])
        db.session.commit()
        assert db.session.get(Invoice, invoice_id).title_name == "华星贸易有限公司"
    assert invoiced(app, books["contract"]) == D("0")  # requested is not yet invoiced


def test_more_than_the_contract_allows_is_refused_with_the_room_and_nothing_written(app, books):
    ask(app, books, "600")
    with pytest.raises(invoices.OverInvoiced, match=r"合同 HT202611230001 可开票余额为 ¥400.00（合同总额 ¥1,000.00，"
                                                    r"已开票及申请中 ¥600.00），本次申请 ¥400.01 超出了余额"):
        ask(app, books, "400.01")
    with app.app_context():
        assert db.session.scalar(select(func.count(Invoice.id))) == 1
        assert db.session.scalar(select(Sequence.value).where(Sequence.name == "invoice")) == 1
    ask(app, books, "400")  # exactly the room is fine


@pytest.mark.parametrize("amount, message", [
    ("0", "开票金额必须大于 0"), ("-5", "开票金额必须大于 0"), ("abc", "开票金额格式不正确"),
    ("1.005", "开票金额最多两位小数"), ("NaN", "开票金额格式不正确"),
])
def test_bad_amounts_are_refused(app, books, amount, message):
    with pytest.raises(InvalidValue, match=message):
        ask(app, books, amount)


def test_only_an_effective_contract_in_scope_and_with_the_permission(app, books):
    draft = new_contract(app, books, status=ContractStatus.DRAFT, number="HT-DRAFT")
    with pytest.raises(invoices.InvoiceRefused, match="合同 HT-DRAFT 尚未生效"):
        ask(app, books, "10", contract_id=draft, doc="none")
    with app.app_context():  # so its page offers no 申请开票 either
        assert invoices.room(db.session, contract=db.session.get(Contract, draft)) == 0
    with pytest.raises(OutOfScope):
        ask(app, books, "10", who="rep2")
    with pytest.raises(PermissionDenied, match="您没有申请开票的权限"):
        ask(app, books, "10", who="clerk")  # 内勤 sees invoices but does not request them


def test_an_order_is_invoiced_up_to_what_it_is_due_once_approved(app, books):
    order_id = new_order(app, books)  # ¥77.23, 等待审核
    with pytest.raises(invoices.InvoiceRefused, match="审核后才能申请开票"):
        ask(app, books, "10", doc="order", order_id=order_id)
    move(app, order_id, "approve")
    with pytest.raises(invoices.OverInvoiced, match=r"订单 DD202611230001 可开票余额为 ¥77.23"):
        ask(app, books, "77.24", doc="order", order_id=order_id)
    invoice_id = ask(app, books, "77.23", doc="order", order_id=order_id)
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).contract_id is None


def test_an_order_of_a_contract_counts_against_the_contract(app, books):
    order_id = new_order(app, books)
    move(app, order_id, "approve")
    with app.app_context():
        db.session.get(Order, order_id).contract_id = books["contract"]
        db.session.commit()
    ask(app, books, "950")
    with pytest.raises(invoices.OverInvoiced, match="合同 HT202611230001 可开票余额为 ¥50.00"):
        ask(app, books, "60", doc="order", order_id=order_id)
    invoice_id = ask(app, books, "50", doc="order", order_id=order_id)
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).contract_id == books["contract"]


def test_a_customer_alone_may_be_invoiced_without_a_cap(app, books):
    invoice_id = ask(app, books, "5000", doc="customer", customer_id=books["customer"])
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.contract_id, invoice.order_id, invoice.customer_id) == (None, None, books["customer"])


# --- issue, 寄出, 作废, 红冲 -------------------------------------------------------------------------

def test_issue_send_and_the_contract_invoiced_follows(app, books):
    invoice_id = ask(app, books, "300")
    with pytest.raises(PermissionDenied, match="您没有开票的权限"):
        act(app, "issue", invoice_id, who="rep", invoice_no="044031900111")
    with pytest.raises(InvalidValue, match="请填写发票号码"):
        act(app, "issue", invoice_id, invoice_no=" ")
    with pytest.raises(InvalidValue, match="开票日期不能晚于今天（2026-11-23）"):
        act(app, "issue", invoice_id, invoice_no="044031900111", issued_on=date(2026, 11, 24))
    with pytest.raises(invoices.InvoiceRefused, match="开票后才能寄出"):
        act(app, "send", invoice_id, carrier="顺丰速运", tracking_no="SF100")
    act(app, "issue", invoice_id, invoice_no="044031900111", issued_on=date(2026, 11, 20))
    assert invoiced(app, books["contract"]) == D("300.00")
    with app.app_context():  # the requester hears of it, once
        notes = list(db.session.scalars(select(Notification).where(Notification.user_id == books["rep"])))
        assert [(notifications.title_of(n), n.link) for n in notes] == [
            ("您申请的发票 KP202611230001 已开具，发票号码 044031900111", f"invoice/{invoice_id}")]
    with pytest.raises(invoices.InvoiceRefused, match="当前状态为“已开票”，不能开票：只有“待开票”的申请可以开票"):
        act(app, "issue", invoice_id, invoice_no="044031900112")
    with pytest.raises(InvalidValue, match="请填写快递公司和快递单号"):
        act(app, "send", invoice_id, carrier="顺丰速运", tracking_no="")
    act(app, "send", invoice_id, carrier="顺丰速运", tracking_no="SF 1234 5678")
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.status, invoice.invoice_no, invoice.issued_on) == ("issued", "044031900111", date(2026, 11, 20))
        assert (invoice.carrier, invoice.tracking_no) == ("顺丰速运", "SF12345678")
    other = ask(app, books, "100")
    with pytest.raises(InvalidValue, match="发票号码 044031900111 已登记在开票申请 KP202611230001 上"):
        act(app, "issue", other, invoice_no="044031900111")


def test_void_before_issue_frees_the_room_and_an_issued_one_is_reversed_instead(app, books):
    first = ask(app, books, "1000")
    with pytest.raises(InvalidValue, match="请填写作废原因"):
        act(app, "void", first, who="rep", reason="")
    act(app, "void", first, who="rep", reason="客户要求改开普票")
    ask(app, books, "1000")  # the room came back
    second = db_last(app)
    act(app, "issue", second, invoice_no="044031900200")
    with pytest.raises(invoices.InvoiceRefused, match="只有“申请”、“审批中”、“待开票”的申请可以作废"):
        act(app, "void", second, reason="写错了")


def db_last(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(Invoice.id)))


def test_a_reversal_is_a_negative_issued_invoice_once_and_restores_the_room(app, books):
    invoice_id = ask(app, books, "800")
    act(app, "issue", invoice_id, invoice_no="044031900300")
    with pytest.raises(invoices.OverInvoiced):
        ask(app, books, "200.01")
    with pytest.raises(InvalidValue, match="请填写红冲原因"):
        act(app, "reverse", invoice_id, reason="", invoice_no="044031900301")
    red_id = act(app, "reverse", invoice_id, reason="金额开错", invoice_no="044031900301")
    with app.app_context():
        red = db.session.get(Invoice, red_id)
        assert (red.status, red.amount, red.amount_ex_tax, red.tax) == ("issued", D("-800.00"), D("-707.96"),
                                                                        D("-92.04"))
        assert red.reverses_id == invoice_id and red.invoice_no == "044031900301"
    assert invoiced(app, books["contract"]) == D("0.00")
    with pytest.raises(invoices.InvoiceRefused, match="发票 KP202611230001 已于 2026-11-23 红冲（KP202611230002）"):
        act(app, "reverse", invoice_id, reason="再冲一次", invoice_no="044031900302")
    with pytest.raises(invoices.InvoiceRefused, match="本身是红字发票，不能再红冲"):
        act(app, "reverse", red_id, reason="冲红字", invoice_no="044031900303")
    ask(app, books, "1000")  # the whole contract may be invoiced again


def test_a_request_not_yet_issued_cannot_be_reversed(app, books):
    invoice_id = ask(app, books, "10")
    with pytest.raises(invoices.InvoiceRefused, match="只有已开票的发票可以红冲；未开票的申请请作废"):
        act(app, "reverse", invoice_id, reason="不要了", invoice_no="1")


def test_an_electronic_invoice_is_not_posted(app, books):
    with app.app_context():
        invoice = invoices.request(db.session, actor=actor_of(db.session, "rep"), now=FIXED_NOW, tz=TZ,
                                   title_id=books["title"], amount="10", invoice_type="electronic",
                                   contract_id=books["contract"])
        db.session.commit()
        invoice_id = invoice.id
    act(app, "issue", invoice_id, invoice_no="26312000000012345678")
    with pytest.raises(invoices.InvoiceRefused, match="电子发票无需寄出"):
        act(app, "send", invoice_id, carrier="顺丰速运", tracking_no="SF1")


def test_returned_by_the_approval_goes_back_to_requested_and_may_be_resubmitted(app, books):
    """The INVOICE hooks rules/approvals calls (rejected / withdrawn / approved)."""
    invoice_id = ask(app, books, "100")
    with app.app_context():
        fin = actor_of(db.session, "fin")
        invoice = db.session.get(Invoice, invoice_id)
        db.session.execute(Invoice.__table__.update().where(Invoice.id == invoice_id).values(status="approving"))
        invoices.on_returned(db.session, invoice, actor=fin, now=FIXED_NOW, action="reject", reason="金额不对")
        db.session.commit()
        assert db.session.get(Invoice, invoice_id).status == "requested"
        last = db.session.scalar(select(InvoiceEvent).order_by(InvoiceEvent.id.desc()).limit(1))
        assert (last.action, last.note) == ("reject", "金额不对")
        invoices.submit(db.session, invoice_id, actor=actor_of(db.session, "rep"), now=FIXED_NOW)
        db.session.commit()
        assert db.session.get(Invoice, invoice_id).status == "approved"
        with pytest.raises(invoices.InvoiceRefused, match="刚刚已被他人处理"):
            invoices.on_approved(db.session, db.session.get(Invoice, invoice_id), actor=fin, now=FIXED_NOW)


def test_with_the_invoice_flow_finance_approves_before_it_is_issued(app, books):
    """Through rules/approvals (the seeded 开票审批: one step, role 财务): 审批中 until 财务 approves;
    a rejection sends it back to 申请; voiding one in approval ends its request."""
    approvals = pytest.importorskip("rules.approvals")
    from rules import approval_flows  # the default flows moved out of rules/approvals.py

    with app.app_context():
        approval_flows.ensure_default_flows(db.session)
        db.session.commit()
    invoice_flow(app, True)
    invoice_id = ask(app, books, "300")
    with app.app_context():
        assert db.session.get(Invoice, invoice_id).status == "approving"
        pending = approvals.current(db.session, "invoice", invoice_id)
        assert pending is not None and pending.amount == D("300.00")
    with pytest.raises(invoices.InvoiceRefused, match="只有“待开票”的申请可以开票"):
        act(app, "issue", invoice_id, invoice_no="1001")
    with app.app_context():
        approvals.approve(db.session, pending.id, actor=actor_of(db.session, "fin"), now=FIXED_NOW)
        db.session.commit()
        assert db.session.get(Invoice, invoice_id).status == "approved"
    act(app, "issue", invoice_id, invoice_no="1001")
    rejected = ask(app, books, "100")
    with app.app_context():
        request_id = approvals.current(db.session, "invoice", rejected).id
        approvals.reject(db.session, request_id, actor=actor_of(db.session, "fin"), now=FIXED_NOW, reason="抬头不对")
        db.session.commit()
        assert db.session.get(Invoice, rejected).status == "requested"
    voided = ask(app, books, "100")
    act(app, "void", voided, who="rep", reason="不需要了")
    with app.app_context():
        assert approvals.current(db.session, "invoice", voided) is None
        assert approvals.latest(db.session, "invoice", voided).status == "cancelled"


# --- two at the same instant --------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_two_requests_at_the_same_instant_never_exceed_the_contract(app, books):
    def requester(who):
        def job(session):
            invoices.request(session, actor=actor_of(session, who), now=FIXED_NOW, tz=TZ, title_id=books["title"],
                             amount="600", invoice_type="normal", contract_id=books["contract"])
        return job

    results = run_at_once(app, [requester("rep"), requester("fin")])
    assert results.count("ok") == 1, results
    assert all("可开票余额为 ¥400.00" in r or "locked" in r for r in results if r != "ok"), results
    with app.app_context():
        assert db.session.scalar(select(func.sum(Invoice.amount))) == D("600.00")


@pytest.mark.both_dbs
def test_two_reversals_at_the_same_instant_make_one(app, books):
    invoice_id = ask(app, books, "500")
    act(app, "issue", invoice_id, invoice_no="044031900400")

    def reverser(number):
        def job(session):
            invoices.reverse(session, invoice_id, actor=actor_of(session, "fin"), now=FIXED_NOW, tz=TZ,
                             reason="开错", invoice_no=number)
        return job

    results = run_at_once(app, [reverser("R1"), reverser("R2")])
    assert results.count("ok") == 1, results
    assert invoiced(app, books["contract"]) == D("0.00")


# --- properties: never beyond the contract, balances agree -----------------------------------------------

def test_random_requests_voids_issues_and_reversals_never_exceed_the_contract(app, books):
    """Seeded random walks (hypothesis is not among the requirements): whatever happens,
    everything live on the contract ≤ its total, contract.invoiced = issued net of 红冲, and
    the balance identities hold in Python and in SQL."""
    rng = random.Random(19)
    total = D("1000.00")
    numbers = iter(range(10_000, 99_999))
    for _step in range(60):
        with app.app_context():
            live = list(db.session.scalars(select(Invoice).where(Invoice.contract_id == books["contract"])))
        choice = rng.random()
        try:
            if choice < 0.45 or not live:
                ask(app, books, str(D(rng.randint(1, 60000)) / 100), who=rng.choice(["rep", "fin"]))
            else:
                target = rng.choice(live)
                if target.status == "approved" and choice < 0.75:
                    act(app, "issue", target.id, invoice_no=str(next(numbers)))
                elif target.status == "issued" and target.amount > 0 and choice < 0.9:
                    act(app, "reverse", target.id, reason="随机红冲", invoice_no=str(next(numbers)))
                else:
                    act(app, "void", target.id, reason="随机作废")
        except (invoices.InvoiceRefused, InvalidValue):
            pass
        with app.app_context():
            rows = list(db.session.scalars(select(Invoice).where(Invoice.contract_id == books["contract"])))
            counted = sum((i.amount for i in rows if i.status in invoices.COUNTING), D(0))
            issued = sum((i.amount for i in rows if i.status == "issued"), D(0))
            contract = db.session.get(Contract, books["contract"])
            assert counted <= total
            assert contract.invoiced == issued <= total
            assert invoices.contract_room(db.session, contract) == total - counted
    with app.app_context():
        assert db.session.scalar(select(func.count(Invoice.id))) > 10  # the walk did something


def _check_identities(balances: contract_balances.Balances) -> None:
    assert balances.invoiced + balances.uninvoiced == max(balances.receivable, balances.invoiced)
    assert balances.received_not_invoiced - balances.invoiced_not_received == balances.received - balances.invoiced
    assert min(balances.received_not_invoiced, balances.invoiced_not_received) == 0
    assert all(value >= 0 for key, value in balances.as_dict().items() if key not in ("received", "invoiced"))


def test_balances_agree_in_python_and_sql_over_random_contracts(app, books):
    rng = random.Random(5)
    states = [s.value for s in ContractStatus]
    with app.app_context():
        for index in range(40):
            total = D(rng.randint(0, 500_000)) / 100
            invoiced_ = min(total, D(rng.randint(0, 600_000)) / 100)
            db.session.add(Contract(number=f"HTP{index:04d}", revision=1, title="随机合同", customer_id=books[
                rng.choice(["customer", "other_customer"])], owner_id=actor_of(db.session, "rep").user_id,
                status=rng.choice(states), signed_on=date(2026, 1, 1) + timedelta(days=index), total=total,
                received=D(rng.randint(0, 600_000)) / 100, invoiced=invoiced_))
        db.session.commit()
        contracts = list(db.session.scalars(select(Contract)))
        by_sql = {row.id: row for row in db.session.execute(select(Contract.id, *contract_balances.contract_columns()))}
        expected_by_customer: dict[int, contract_balances.Balances] = {}
        for contract in contracts:
            python = contract_balances.of_contract(contract)
            _check_identities(python)
            row = by_sql[contract.id]
            assert {key: D(getattr(row, key)) for key in contract_balances.LABELS} == python.as_dict()
            if contract.status in ("active", "completed"):
                assert python.invoiced + python.uninvoiced == python.receivable
            expected_by_customer[contract.customer_id] = expected_by_customer.get(
                contract.customer_id, contract_balances.NOTHING) + contract_balances.Balances(
                python.receivable, python.received, D(0))
        sums = contract_balances.of_customers(db.session, [books["customer"], books["other_customer"]])
        for customer_id, balances in sums.items():
            assert (balances.receivable, balances.received) == (expected_by_customer[customer_id].receivable,
                                                                expected_by_customer[customer_id].received)
            assert balances.invoiced == D(0)  # no invoice was issued: contract.invoiced here is made up
            _check_identities(balances)


def test_a_customers_balances_add_contracts_orders_outside_contracts_and_issued_invoices(app, books):
    order_id = new_order(app, books)  # ¥77.23
    move(app, order_id, "approve")
    invoice_id = ask(app, books, "300")
    act(app, "issue", invoice_id, invoice_no="044031900500")
    with app.app_context():
        db.session.get(Contract, books["contract"]).received = D("450.00")
        db.session.commit()
        balances = contract_balances.of_customer(db.session, books["customer"])
        assert (balances.receivable, balances.received, balances.invoiced) == (D("1077.23"), D("450.00"), D("300.00"))
        assert (balances.uninvoiced, balances.received_not_invoiced, balances.invoiced_not_received) == \
            (D("777.23"), D("150.00"), D("0"))
        order = db.session.get(Order, order_id)
        assert contract_balances.of_order(db.session, order).receivable == D("77.23")
        order.contract_id = books["contract"]  # part of the contract: counted there, not twice
        db.session.commit()
        assert contract_balances.of_customer(db.session, books["customer"]).receivable == D("1000.00")
        assert contract_balances.of_order(db.session, order) == contract_balances.NOTHING
        assert db.session.scalar(select(func.count(Customer.id))) == 2
