"""Finance reports (issue 19) on a small fixed book, every figure worked out by hand below:
应收账龄 (by customer / owner / department, its buckets per kind of debt), 回款统计 (by month /
owner / method), 回款计划与实际, 逾期回款, 开票与回款, 合同金额 (by month / owner / product); scoped for
the 总经理 boss, the 主管 li (销售一部), the 业务员 chen and sun and the 财务 cai; each figure's
drill-down conditions, read back from its URL parameters, find exactly as many records.

The clock is pinned at 2026-11-23 10:00 Shanghai (a Monday). Customers: 甲 and 乙 are chen's,
丙 sun's, 丁 liu's. chen and liu work in 销售一部, sun in 销售二部.

    contract owner cust status     signed      total   received w/o  invoiced  instalments
    C1       chen  甲   active     2026-09-01  30,000  10,000   0    20,000    P1 09-15 10,000 paid;
                                   (ends 2026-12-10)                            P2 10-20 10,000 unpaid (34 days);
                                                                                P3 11-27 10,000 not due
    C2       chen  甲   active     2026-11-10   5,000   1,000   0              none (13 days)
    C3       liu   丁   completed  2026-06-01   8,000   7,900 100     8,000    none, settled
    C4       liu   乙   active     2026-08-20  12,000   2,000   0              P4 08-25 6,000, 2,000 paid (90 days);
                                                                                P5 11-23 6,000 due today (0 days)
    C5       sun   丙   active     2026-07-01  20,000       0   0              P6 08-01 20,000 (114 days);
                                                                                P7 07-15 5,000 void
    C6 draft (sun), C7 approving (chen), C8 void (liu): never counted.

    order  owner cust state         total  kept   received refunded  approved                     contract
    O1     chen  甲   shipped       3,000          500               2026-10-23 16:30 UTC = 10-24 local (30 days)
    O2     sun   丙   completed     1,000  800   1,000    200        settled (a return refunded)
    O3     liu   乙   pending_review  500                            not receivable
    O4     chen  甲   shipped       4,000            0               part of C1: counted in the contract
    O5     sun   丙   picking       2,000            0               never recorded: order date 2026-05-01

    receipt  owner  on       kind    method    amount  w/o  paid        status
    R1       chen   C1/P1    receipt transfer  10,000       2026-09-15  approved
    R2       chen   C2       receipt cash       1,000       2026-11-12  approved
    R3       liu    C3       receipt transfer   7,900  100  2026-07-10  approved
    R4       liu    C4/P4    receipt wechat     2,000       2026-09-01  approved
    R5       chen   O1       receipt alipay       500       2026-11-01  approved
    R6       sun    O2       receipt cash       1,000       2026-10-05  approved
    R7       sun    C5/P6    receipt transfer   3,000       2026-11-20  pending: never counted
    R8       chen   C1       receipt transfer     999       2026-11-02  rejected: never counted
    R9       sun    O2       refund  transfer     200       2026-11-05  approved

    invoice owner on  amount   status     issued
    I1      chen  C1  20,000   issued     2026-09-20
    I2      liu   C3   8,000   issued     2026-07-05
    I3      liu   C3  -8,000   issued     2026-11-10 (红冲 of I2)
    I4      liu   C3   8,000   issued     2026-11-10
    I5      chen  C1   5,000   requested; I6 sun C5 3,000 approved (待开票): never counted

    lines: C1 产品A 10 × 30,000; C2 产品B 5 × 5,000; C3 产品A 2 × 8,000; C4 产品A 3 × 6,000 + 产品B 6 × 6,000;
           C5 产品B 20 × 20,000; C6 (draft) 产品A 1 × 9,999
"""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import Customer, db
from models.contract import Contract, ContractLine, ContractStatus
from models.invoice import Invoice, InvoiceStatus
from models.org import Department, User
from models.payment_plan import PaymentPlan, PlanStatus
from models.product import Product
from models.sales import Order, Payment, PaymentKind, PaymentStatus
from rules import finance_drill, finance_reports
from rules.actor import Actor
from rules.links import Days, ListKind, ListLink, query_parameters
from rules.reports import Filters

UTC = timezone.utc
TODAY = date(2026, 11, 23)
YEAR = Filters(start=date(2026, 1, 1), end=TODAY)
RANGE = "start=2026-01-01&end=2026-11-23"
M = Decimal
USERS = ("boss", "li", "chen", "sun", "cai")


@pytest.fixture
def book(app, make_user):
    return fill_book(app, make_user)


def fill_book(app, make_user) -> dict:
    ids = {
        "boss": make_user("boss", role="总经理", department=("总经办",), display_name="张总"),
        "li": make_user("li", role="主管", department=("销售部", "销售一部"), display_name="李主管"),
        "chen": make_user("chen", role="业务员", department=("销售部", "销售一部"), display_name="陈晓明"),
        "liu": make_user("liu", role="业务员", department=("销售部", "销售一部"), display_name="刘芳"),
        "sun": make_user("sun", role="业务员", department=("销售部", "销售二部"), display_name="孙伟"),
        "cai": make_user("cai", role="财务", department=("财务部",), display_name="蔡会计"),
    }
    with app.app_context():
        s = db.session
        cust = {}
        for name, owner in (("甲", "chen"), ("乙", "chen"), ("丙", "sun"), ("丁", "liu")):
            c = Customer(name=f"客户{name}", owner_id=ids[owner])
            s.add(c)
            s.flush()
            cust[name] = c.id
        products = {}
        for name in ("产品A", "产品B"):
            p = Product(name=name, code=name)
            s.add(p)
            s.flush()
            products[name] = p.id
        contracts = {}

        def contract(key, owner, customer, status, signed, total, received="0", written_off="0", invoiced="0",
                     end=None, lines=()):
            c = Contract(number=key, title=f"合同{key}", customer_id=cust[customer], owner_id=ids[owner],
                         status=status, signed_on=signed, end_on=end, total=M(total), received=M(received),
                         written_off=M(written_off), invoiced=M(invoiced))
            s.add(c)
            s.flush()
            for product, qty, amount in lines:
                s.add(ContractLine(contract_id=c.id, product_id=products[product], quantity=qty, amount=M(amount)))
            contracts[key] = c.id

        A = ContractStatus
        contract("C1", "chen", "甲", A.ACTIVE, date(2026, 9, 1), "30000", "10000", invoiced="20000",
                 end=date(2026, 12, 10), lines=[("产品A", 10, "30000")])
        contract("C2", "chen", "甲", A.ACTIVE, date(2026, 11, 10), "5000", "1000", end=date(2027, 6, 30),
                 lines=[("产品B", 5, "5000")])
        contract("C3", "liu", "丁", A.COMPLETED, date(2026, 6, 1), "8000", "7900", "100", "8000",
                 lines=[("产品A", 2, "8000")])
        contract("C4", "liu", "乙", A.ACTIVE, date(2026, 8, 20), "12000", "2000", end=date(2026, 12, 1),
                 lines=[("产品A", 3, "6000"), ("产品B", 6, "6000")])
        contract("C5", "sun", "丙", A.ACTIVE, date(2026, 7, 1), "20000", lines=[("产品B", 20, "20000")])
        contract("C6", "sun", "丙", A.DRAFT, date(2026, 11, 1), "9999", lines=[("产品A", 1, "9999")])
        contract("C7", "chen", "甲", A.APPROVING, date(2026, 11, 2), "7000")
        contract("C8", "liu", "乙", A.VOID, date(2026, 10, 1), "7777")
        plans = {}

        def plan(key, contract_key, period, due, amount, received, status):
            c = s.get(Contract, contracts[contract_key])
            p = PaymentPlan(contract_id=c.id, customer_id=c.customer_id, owner_id=c.owner_id, period=period,
                            due_on=due, amount=M(amount), received=M(received), status=status)
            s.add(p)
            s.flush()
            plans[key] = p.id

        P = PlanStatus
        plan("P1", "C1", 1, date(2026, 9, 15), "10000", "10000", P.PAID)
        plan("P2", "C1", 2, date(2026, 10, 20), "10000", "0", P.OVERDUE)
        plan("P3", "C1", 3, date(2026, 11, 27), "10000", "0", P.PENDING)
        plan("P4", "C4", 1, date(2026, 8, 25), "6000", "2000", P.OVERDUE)
        plan("P5", "C4", 2, date(2026, 11, 23), "6000", "0", P.PENDING)
        plan("P6", "C5", 1, date(2026, 8, 1), "20000", "0", P.PENDING)  # the daily job has not run
        plan("P7", "C5", 2, date(2026, 7, 15), "5000", "0", P.VOID)
        orders = {}

        def order(key, owner, customer, state, total, *, received="0", refunded="0", returned="0", approved=None,
                  contract_key=None, day=date(2026, 10, 1)):
            o = Order(number=key, customer_id=cust[customer], salesperson_id=ids[owner], state=state, order_date=day,
                      total=M(total), received=M(received), refunded=M(refunded), returned_amount=M(returned),
                      approved_at=approved, contract_id=contracts.get(contract_key))
            s.add(o)
            s.flush()
            orders[key] = o.id

        order("O1", "chen", "甲", "shipped", "3000", received="500", approved=datetime(2026, 10, 23, 16, 30, tzinfo=UTC))
        order("O2", "sun", "丙", "completed", "1000", received="1000", refunded="200", returned="200",
              approved=datetime(2026, 10, 2, 2, tzinfo=UTC))
        order("O3", "liu", "乙", "pending_review", "500")
        order("O4", "chen", "甲", "shipped", "4000", approved=datetime(2026, 10, 2, 2, tzinfo=UTC), contract_key="C1")
        order("O5", "sun", "丙", "picking", "2000", day=date(2026, 5, 1))

        def pay(owner, amount, paid, method, *, contract_key=None, plan_key=None, order_key=None,
                kind=PaymentKind.RECEIPT, status=PaymentStatus.APPROVED, write_off="0"):
            customer = (s.get(Contract, contracts[contract_key]).customer_id if contract_key
                        else s.get(Order, orders[order_key]).customer_id)
            s.add(Payment(owner_id=ids[owner], amount=M(amount), paid_on=paid, method=method, kind=kind, status=status,
                          contract_id=contracts.get(contract_key), plan_id=plans.get(plan_key),
                          order_id=orders.get(order_key), customer_id=customer, write_off=M(write_off)))

        pay("chen", "10000", date(2026, 9, 15), "transfer", contract_key="C1", plan_key="P1")
        pay("chen", "1000", date(2026, 11, 12), "cash", contract_key="C2")
        pay("liu", "7900", date(2026, 7, 10), "transfer", contract_key="C3", write_off="100")
        pay("liu", "2000", date(2026, 9, 1), "wechat", contract_key="C4", plan_key="P4")
        pay("chen", "500", date(2026, 11, 1), "alipay", order_key="O1")
        pay("sun", "1000", date(2026, 10, 5), "cash", order_key="O2")
        pay("sun", "3000", date(2026, 11, 20), "transfer", contract_key="C5", plan_key="P6", status=PaymentStatus.PENDING)
        pay("chen", "999", date(2026, 11, 2), "transfer", contract_key="C1", status=PaymentStatus.REJECTED)
        pay("sun", "200", date(2026, 11, 5), "transfer", order_key="O2", kind=PaymentKind.REFUND)

        def invoice(key, owner, contract_key, amount, status, issued=None):
            c = s.get(Contract, contracts[contract_key])
            s.add(Invoice(number=key, customer_id=c.customer_id, contract_id=c.id, owner_id=ids[owner],
                          title_name="抬头", amount=M(amount), status=status, issued_on=issued))

        I = InvoiceStatus
        invoice("I1", "chen", "C1", "20000", I.ISSUED, date(2026, 9, 20))
        invoice("I2", "liu", "C3", "8000", I.ISSUED, date(2026, 7, 5))
        invoice("I3", "liu", "C3", "-8000", I.ISSUED, date(2026, 11, 10))
        invoice("I4", "liu", "C3", "8000", I.ISSUED, date(2026, 11, 10))
        invoice("I5", "chen", "C1", "5000", I.REQUESTED)
        invoice("I6", "sun", "C5", "3000", I.APPROVED)
        s.commit()
    return {"users": ids, "customers": cust, "contracts": contracts, "plans": plans, "orders": orders,
            "products": products}


def actor(name: str) -> Actor:
    return Actor.from_user(db.session.scalar(select(User).where(User.username == name)))


def by_name(table) -> dict[str, dict]:
    return {str(r["name"]): r for r in table.rows}


def listed(user: str, link: ListLink) -> int:
    """How many rows the list behind `link` shows to `user`, read back from the link's URL
    parameters the way the list reads them (admin_views/finance_drill.py)."""
    from admin_views import finance_drill as view_drill

    from flask import current_app

    model = finance_drill.MODELS[link.kind]
    with current_app.test_request_context("/?" + urlencode(query_parameters(link))):
        where = [finance_drill.scope_clause(link.kind, actor(user)), *view_drill.clauses(link.kind)]
        found = db.session.scalar(select(func.count(model.id)).where(*where))
    assert found == finance_drill.count(db.session, actor(user), link)
    return found


def assert_drills_match(user: str, rows) -> int:
    """Every count with a link: the list behind it holds exactly that many records."""
    checked = 0
    for row in rows:
        for key, link in (row.get("cell_drill") or {}).items():
            value = row[key]
            if isinstance(value, int) and not isinstance(value, bool):
                assert listed(user, link) == value, (user, row.get("name") or row.get("bucket"), key)
                checked += 1
    return checked


# --- 应收账龄 ----------------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_ageing_by_customer_puts_each_debt_in_its_bucket(app, book):
    with app.app_context():
        table = finance_reports.ageing(db.session, actor("boss"), YEAR, today=TODAY)
        assert [r["name"] for r in table.rows] == ["客户甲", "客户丙", "客户乙"]
        rows = by_name(table)
        # 甲: P3 not due; C2 (13 days) and O1 (approved 10-24 local: 30 days) in 0–30; P2 (34 days) in 31–60
        assert [rows["客户甲"][k] for k in ("not_due", "d0_30", "d31_60", "d61_90", "d90")] == [
            M("10000.00"), M("6500.00"), M("10000.00"), M("0"), M("0")]
        assert (rows["客户甲"]["past_due"], rows["客户甲"]["total"]) == (M("16500.00"), M("26500.00"))
        assert (rows["客户甲"]["plan_count"], rows["客户甲"]["contract_count"], rows["客户甲"]["order_count"]) == (2, 1, 1)
        # 乙: P5 due today (0 days), P4 90 days with 2,000 of 6,000 paid
        assert (rows["客户乙"]["d0_30"], rows["客户乙"]["d61_90"], rows["客户乙"]["total"]) == (
            M("6000.00"), M("4000.00"), M("10000.00"))
        # 丙: P6 114 days; O5 approved before 审核 was recorded: from its order date 2026-05-01; P7 void
        assert (rows["客户丙"]["d90"], rows["客户丙"]["plan_count"], rows["客户丙"]["order_count"]) == (
            M("22000.00"), 1, 1)
        totals = table.totals
        assert [totals[k] for k in ("not_due", "d0_30", "d31_60", "d61_90", "d90", "total")] == [
            M("10000.00"), M("12500.00"), M("10000.00"), M("4000.00"), M("22000.00"), M("58500.00")]
        buckets = {b["key"]: b for b in table.extra["buckets"]}
        assert (buckets["d0_30"]["plan"], buckets["d0_30"]["contract"], buckets["d0_30"]["order"]) == (
            M("6000.00"), M("4000.00"), M("2500.00"))
        assert [(b["plan_count"], b["contract_count"], b["order_count"]) for b in table.extra["buckets"]] == [
            (1, 0, 0), (1, 1, 1), (1, 0, 0), (1, 0, 0), (1, 0, 1)]
        assert assert_drills_match("boss", table.rows) == 6
        assert assert_drills_match("boss", table.extra["buckets"]) == 10


@pytest.mark.both_dbs
def test_ageing_by_owner_and_department(app, book):
    with app.app_context():
        owners = by_name(finance_reports.ageing(db.session, actor("boss"), YEAR, today=TODAY, by="owner"))
        assert {k: r["total"] for k, r in owners.items()} == {
            "陈晓明": M("26500.00"), "孙伟": M("22000.00"), "刘芳": M("10000.00")}
        departments = finance_reports.ageing(db.session, actor("boss"), YEAR, today=TODAY, by="department")
        assert {k: r["total"] for k, r in by_name(departments).items()} == {
            "销售一部": M("36500.00"), "销售二部": M("22000.00")}
        assert assert_drills_match("boss", departments.rows) == 4
        # the page's department choice: 销售二部 only
        second = db.session.scalar(select(Department.id).where(Department.name == "销售二部"))
        chosen = finance_reports.ageing(db.session, actor("boss"), Filters(YEAR.start, YEAR.end, department_id=second),
                                        today=TODAY)
        assert set(by_name(chosen)) == {"客户丙"} and chosen.totals["total"] == M("22000.00")
        assert assert_drills_match("boss", chosen.extra["buckets"]) == 10


def test_ageing_lists_those_owing_most_and_totals_everyone(app, book):
    with app.app_context():
        table = finance_reports.ageing(db.session, actor("boss"), YEAR, today=TODAY, limit=2)
        assert [r["name"] for r in table.rows] == ["客户甲", "客户丙"]
        assert (table.totals["total"], table.totals["past_due"], table.totals["plan_count"]) == (
            M("58500.00"), M("48500.00"), 5)
        assert "只列出应收余额最多的 2 个" in str(table.note)


# Who sees what: chen sees 刘's C4 through the customer 乙 he owns; li his department; sun his own.
AGEING_SCOPE = {"boss": M("58500.00"), "cai": M("58500.00"), "li": M("36500.00"), "chen": M("36500.00"),
                "sun": M("22000.00")}


@pytest.mark.both_dbs
@pytest.mark.parametrize("user", USERS)
def test_ageing_in_each_users_scope(app, book, user):
    with app.app_context():
        table = finance_reports.ageing(db.session, actor(user), YEAR, today=TODAY)
        assert table.totals["total"] == AGEING_SCOPE[user]
        assert assert_drills_match(user, [*table.rows, *table.extra["buckets"]]) >= 10


# --- 回款统计 ----------------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_receipts_by_month_owner_and_method(app, book):
    with app.app_context():
        table = finance_reports.receipts(db.session, actor("boss"), YEAR)
        rows = by_name(table)
        assert len(table.rows) == 11  # every month of the range, quiet ones as zero
        assert (rows["2026-07"]["receipt_amount"], rows["2026-07"]["write_off"]) == (M("7900.00"), M("100.00"))
        assert (rows["2026-09"]["receipt_count"], rows["2026-09"]["receipt_amount"]) == (2, M("12000.00"))
        november = rows["2026-11"]  # R2 + R5; R9 refunded; R7 pending and R8 rejected not counted
        assert (november["receipt_count"], november["receipt_amount"], november["refund_count"],
                november["refund_amount"], november["net"]) == (2, M("1500.00"), 1, M("200.00"), M("1300.00"))
        assert (table.totals["receipt_count"], table.totals["receipt_amount"], table.totals["write_off"],
                table.totals["net"]) == (6, M("22400.00"), M("100.00"), M("22200.00"))
        assert assert_drills_match("boss", table.rows) == 22
        owners = finance_reports.receipts(db.session, actor("boss"), YEAR, by="owner")
        assert {r["name"]: r["net"] for r in owners.rows} == {
            "陈晓明": M("11500.00"), "刘芳": M("9900.00"), "孙伟": M("800.00")}
        assert assert_drills_match("boss", owners.rows) == 6
        methods = finance_reports.receipts(db.session, actor("boss"), YEAR, by="method")
        assert {r["name"]: r["net"] for r in methods.rows} == {
            "银行转账": M("17700.00"), "现金": M("2000.00"), "微信": M("2000.00"), "支付宝": M("500.00")}
        assert assert_drills_match("boss", methods.rows) == 8


RECEIPT_SCOPE = {"boss": (6, M("22200.00")), "cai": (6, M("22200.00")), "li": (5, M("21400.00")),
                 "chen": (4, M("13500.00")), "sun": (1, M("800.00"))}


@pytest.mark.both_dbs
@pytest.mark.parametrize("user", USERS)
def test_receipts_in_each_users_scope(app, book, user):
    with app.app_context():
        table = finance_reports.receipts(db.session, actor(user), YEAR, by="owner")
        assert (table.totals["receipt_count"], table.totals["net"]) == RECEIPT_SCOPE[user]
        assert_drills_match(user, table.rows)


# --- 回款计划与实际, 逾期回款 -------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_plan_against_actual_by_month(app, book):
    with app.app_context():
        table = finance_reports.plan_vs_actual(db.session, actor("boss"), YEAR)
        rows = by_name(table)
        # August: P4 6,000 (2,000 received) and P6 20,000; P7 (July) is void; P3 (11-27) after the range
        assert (rows["2026-08"]["plan_count"], rows["2026-08"]["plan_amount"], rows["2026-08"]["plan_received"],
                rows["2026-08"]["unpaid"]) == (2, M("26000.00"), M("2000.00"), M("24000.00"))
        assert rows["2026-07"]["plan_count"] == 0 and rows["2026-07"]["actual"] == M("7900.00")
        assert (rows["2026-09"]["plan_amount"], round(rows["2026-09"]["rate"], 1), rows["2026-09"]["actual"]) == (
            M("10000.00"), M("100.0"), M("12000.00"))
        assert (rows["2026-11"]["plan_count"], rows["2026-11"]["actual"], rows["2026-11"]["payment_count"]) == (
            1, M("1300.00"), 3)
        assert (table.totals["plan_count"], table.totals["plan_amount"], table.totals["plan_received"],
                table.totals["actual"], table.totals["payment_count"]) == (5, M("52000.00"), M("12000.00"),
                                                                           M("22200.00"), 7)
        assert round(table.totals["rate"], 2) == M("23.08")
        assert assert_drills_match("boss", table.rows) == 22
        chen = finance_reports.plan_vs_actual(db.session, actor("chen"), YEAR)
        assert (chen.totals["plan_count"], chen.totals["plan_amount"], chen.totals["actual"]) == (
            4, M("32000.00"), M("13500.00"))
        assert_drills_match("chen", chen.rows)


@pytest.mark.both_dbs
def test_overdue_by_owner_goes_by_due_date_not_the_status(app, book):
    with app.app_context():
        table = finance_reports.overdue_by_owner(db.session, actor("boss"), YEAR, today=TODAY)
        assert [(r["name"], r["count"], r["due"], r["oldest"], r["days"]) for r in table.rows] == [
            ("孙伟", 1, M("20000.00"), date(2026, 8, 1), 114),   # P6 still 待回款: the job has not run
            ("陈晓明", 1, M("10000.00"), date(2026, 10, 20), 34),
            ("刘芳", 1, M("4000.00"), date(2026, 8, 25), 90)]    # P5 is due today: not overdue yet
        assert (table.totals["count"], table.totals["due"], table.totals["days"]) == (3, M("34000.00"), 114)
        assert assert_drills_match("boss", table.rows) == 3


OVERDUE_SCOPE = {"boss": {"孙伟", "陈晓明", "刘芳"}, "cai": {"孙伟", "陈晓明", "刘芳"}, "li": {"陈晓明", "刘芳"},
                 "chen": {"陈晓明", "刘芳"}, "sun": {"孙伟"}}


@pytest.mark.both_dbs
@pytest.mark.parametrize("user", USERS)
def test_overdue_in_each_users_scope(app, book, user):
    with app.app_context():
        table = finance_reports.overdue_by_owner(db.session, actor(user), YEAR, today=TODAY)
        assert set(by_name(table)) == OVERDUE_SCOPE[user]
        assert_drills_match(user, table.rows)


# --- 开票与回款, 合同金额 --------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_invoices_issued_against_receipts(app, book):
    with app.app_context():
        table = finance_reports.invoices_vs_receipts(db.session, actor("boss"), YEAR)
        rows = by_name(table)
        assert (rows["2026-07"]["invoiced"], rows["2026-07"]["received"], rows["2026-07"]["difference"]) == (
            M("8000.00"), M("7900.00"), M("100.00"))
        # 红冲 I3 and the new I4 cancel out; the refund lowers the cash
        assert (rows["2026-11"]["invoice_count"], rows["2026-11"]["invoiced"], rows["2026-11"]["received"]) == (
            2, M("0.00"), M("1300.00"))
        assert (table.totals["invoice_count"], table.totals["invoiced"], table.totals["received"],
                table.totals["difference"]) == (4, M("28000.00"), M("22200.00"), M("5800.00"))
        assert assert_drills_match("boss", table.rows) == 22
        owners = finance_reports.invoices_vs_receipts(db.session, actor("boss"), YEAR, by="owner")
        assert [(r["name"], r["invoiced"], r["received"]) for r in owners.rows] == [
            ("陈晓明", M("20000.00"), M("11500.00")), ("刘芳", M("8000.00"), M("9900.00")), ("孙伟", M("0"), M("800.00"))]
        assert assert_drills_match("boss", owners.rows) == 6
        chen = finance_reports.invoices_vs_receipts(db.session, actor("chen"), YEAR, by="owner")
        assert (chen.totals["invoiced"], chen.totals["received"]) == (M("20000.00"), M("13500.00"))
        assert_drills_match("chen", chen.rows)


@pytest.mark.both_dbs
def test_contract_amounts_by_month_owner_and_product(app, book):
    with app.app_context():
        table = finance_reports.contract_amounts(db.session, actor("boss"), YEAR)
        rows = by_name(table)
        assert [(m, rows[m]["count"], rows[m]["total"]) for m in ("2026-06", "2026-07", "2026-08", "2026-09", "2026-11")] == [
            ("2026-06", 1, M("8000.00")), ("2026-07", 1, M("20000.00")), ("2026-08", 1, M("12000.00")),
            ("2026-09", 1, M("30000.00")), ("2026-11", 1, M("5000.00"))]  # C6 draft, C7 approving, C8 void
        assert (table.totals["count"], table.totals["total"], table.totals["received"], table.totals["written_off"],
                table.totals["outstanding"], table.totals["invoiced"]) == (
            5, M("75000.00"), M("20900.00"), M("100.00"), M("54000.00"), M("28000.00"))
        assert assert_drills_match("boss", table.rows) == 11
        owners = finance_reports.contract_amounts(db.session, actor("boss"), YEAR, by="owner")
        assert [(r["name"], r["count"], r["total"]) for r in owners.rows] == [
            ("陈晓明", 2, M("35000.00")), ("刘芳", 2, M("20000.00")), ("孙伟", 1, M("20000.00"))]
        assert assert_drills_match("boss", owners.rows) == 3
        products = finance_reports.contract_amounts(db.session, actor("boss"), YEAR, by="product")
        assert [(r["name"], r["count"], r["quantity"], r["amount"]) for r in products.rows] == [
            ("产品A", 3, 15, M("44000.00")), ("产品B", 3, 31, M("31000.00"))]
        assert assert_drills_match("boss", products.rows) == 2


CONTRACT_SCOPE = {"boss": (5, M("75000.00")), "cai": (5, M("75000.00")), "li": (4, M("55000.00")),
                  "chen": (3, M("47000.00")), "sun": (1, M("20000.00"))}
INVOICE_SCOPE = {"boss": M("28000.00"), "cai": M("28000.00"), "li": M("28000.00"), "chen": M("20000.00"),
                 "sun": M("0")}


@pytest.mark.both_dbs
@pytest.mark.parametrize("user", USERS)
def test_contracts_and_invoices_in_each_users_scope(app, book, user):
    with app.app_context():
        table = finance_reports.contract_amounts(db.session, actor(user), YEAR, by="owner")
        assert (table.totals["count"], table.totals["total"]) == CONTRACT_SCOPE[user]
        assert_drills_match(user, table.rows)
        products = finance_reports.contract_amounts(db.session, actor(user), YEAR, by="product")
        assert_drills_match(user, products.rows)
        invoices = finance_reports.invoices_vs_receipts(db.session, actor(user), YEAR, by="owner")
        assert invoices.totals["invoiced"] == INVOICE_SCOPE[user]


# --- links ----------------------------------------------------------------------------------------

def test_a_finance_figure_names_its_list_with_plain_query_parameters():
    link = ListLink.of(ListKind.PAYMENT_PLAN, {"owner": 3, "owner_department_tree": 4, "outstanding": "1",
                                               "due_on": Days(None, date(2026, 8, 24))})
    assert query_parameters(link) == [("owner_id", "3"), ("owner_department_tree", "4"), ("outstanding", "1"),
                                      ("due_to", "2026-08-24")]
    link = ListLink.of(ListKind.PAYMENT, {"status_in": ("approved",), "payment_kind": "receipt", "method": "cash",
                                          "paid_on": Days(date(2026, 11, 1), date(2026, 11, 23))})
    assert query_parameters(link) == [("status", "approved"), ("kind", "receipt"), ("method", "cash"),
                                      ("paid_from", "2026-11-01"), ("paid_to", "2026-11-23")]
    link = ListLink.of(ListKind.CONTRACT, {"owner_department_only": 5, "customer": 7, "without_plan": "1", "product": 2,
                                           "signed_on": Days(date(2026, 1, 1), date(2026, 1, 31))})
    assert query_parameters(link) == [("owner_department", "5"), ("customer_id", "7"), ("without_plan", "1"),
                                      ("product_id", "2"), ("signed_from", "2026-01-01"), ("signed_to", "2026-01-31")]


def test_a_drill_parameter_no_link_could_carry_is_refused(app):
    from admin_views import finance_drill as view_drill
    from admin_views.params import BadParameter

    for bad in ("owner_id=abc", "outstanding=yes", "due_from=2026-02-30", "status=a%20b", "method=%E7%8E%B0",
                "owner_department=-1"):
        with app.test_request_context(f"/?{bad}"):
            with pytest.raises(BadParameter):
                view_drill.clauses(ListKind.PAYMENT_PLAN)
    with app.test_request_context("/?outstanding=1&due_to=2026-08-24&status=overdue"):
        assert len(view_drill.clauses(ListKind.PAYMENT_PLAN)) == 4


# --- the pages, their export and their scope ------------------------------------------------------

def page_rows(html: str) -> dict[str, list[str]]:
    table = re.search(r'id="kechi-report-table".*?</table>', html, re.S).group(0)
    rows = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        rows[cells[0]] = cells
    return rows


PAGES = {
    "ageing": "/admin/reports/ageing/", "receipts": f"/admin/reports/receipts/?{RANGE}",
    "plan_actual": f"/admin/reports/plan-actual/?{RANGE}", "overdue": "/admin/reports/overdue/",
    "invoices": f"/admin/reports/invoices/?{RANGE}", "contracts": f"/admin/reports/contracts/?{RANGE}",
}


@pytest.mark.both_dbs
def test_the_pages_show_the_figures_and_their_definition(app, book, new_client):
    client = new_client()
    client.login("boss")
    html = client.get(PAGES["ageing"]).get_data(as_text=True)
    rows = page_rows(html)
    assert rows["客户甲"][1:8] == ["¥10,000.00", "¥6,500.00", "¥10,000.00", "¥0.00", "¥0.00", "¥16,500.00",
                                 "¥26,500.00"]
    assert rows["合计"][7] == "¥58,500.00"
    assert "统计口径" in html and "没有回款计划的合同从签订日起算" in html and 'id="kechi-chart-data"' in html
    assert "截至 2026-11-23" in html and 'id="start"' not in html  # as of today: no date range
    assert 'id="kechi-ageing-buckets"' in html
    html = client.get(PAGES["receipts"] + "&by=method").get_data(as_text=True)
    assert page_rows(html)["银行转账"][1:] == ["2", "¥17,900.00", "¥100.00", "1", "¥200.00", "¥17,700.00"]
    assert "抹零为结清尾差而免收的金额" in html
    assert page_rows(client.get(PAGES["plan_actual"]).get_data(as_text=True))["合计"][5] == "23.1%"
    assert page_rows(client.get(PAGES["overdue"]).get_data(as_text=True))["孙伟"][1:] == [
        "1", "¥20,000.00", "1", "2026-08-01", "114"]
    assert page_rows(client.get(PAGES["invoices"]).get_data(as_text=True))["合计"][1:] == [
        "4", "¥28,000.00", "7", "¥22,200.00", "¥5,800.00"]
    assert page_rows(client.get(PAGES["contracts"] + "&by=product").get_data(as_text=True))["产品A"][1:] == [
        "3", "15", "¥44,000.00"]


def test_empty_pages_say_what_to_do(app, make_user, new_client):
    make_user("boss", role="总经理", department=("总经办",))
    client = new_client()
    client.login("boss")
    assert "合同审批通过并登记回款计划后" in client.get(PAGES["ageing"]).get_data(as_text=True)
    assert "先为执行中的合同登记回款计划" in client.get(PAGES["plan_actual"]).get_data(as_text=True)
    assert "没有签订并审批通过的合同" in client.get(PAGES["contracts"]).get_data(as_text=True)


def export_rows(client, url: str) -> list[tuple]:
    path, _q, query = url.partition("?")
    response = client.get(path + "export" + ("?" + query if query else ""))
    assert response.status_code == 200, url
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


# The export's 合计 row per user: the same truth table as the figures.
EXPORT_TOTALS = {
    "ageing": ("应收余额", {u: v for u, v in AGEING_SCOPE.items()}),
    "receipts": ("净回款", {u: v[1] for u, v in RECEIPT_SCOPE.items()}),
    "contracts": ("合同金额", {u: v[1] for u, v in CONTRACT_SCOPE.items()}),
    "invoices": ("开票金额", INVOICE_SCOPE),
    "overdue": ("逾期未回金额", {"boss": M("34000"), "cai": M("34000"), "li": M("14000"), "chen": M("14000"),
                              "sun": M("20000")}),
    "plan_actual": ("计划回款", {"boss": M("52000"), "cai": M("52000"), "li": M("32000"), "chen": M("32000"),
                              "sun": M("20000")}),
}


@pytest.mark.both_dbs
@pytest.mark.parametrize("user", USERS)
def test_each_export_holds_what_the_user_may_see(app, book, new_client, user):
    client = new_client()
    client.login(user)
    for page, (column, totals) in EXPORT_TOTALS.items():
        rows = export_rows(client, PAGES[page])
        header, total = rows[0], rows[-1]
        assert total[0] == "合计", (page, user)
        assert M(str(total[header.index(column)] or 0)) == totals[user], (page, user)
    names = {r[0] for r in export_rows(client, PAGES["ageing"] + "?by=owner")[1:-1]}
    assert names == {"boss": {"陈晓明", "刘芳", "孙伟"}, "cai": {"陈晓明", "刘芳", "孙伟"}, "li": {"陈晓明", "刘芳"},
                     "chen": {"陈晓明", "刘芳"}, "sun": {"孙伟"}}[user]


def test_english_labels(app, book, new_client):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "boss")).locale = "en"
        db.session.commit()
    client = new_client()
    client.login("boss")
    html = client.get(PAGES["ageing"]).get_data(as_text=True)
    assert "Receivables ageing" in html and "Not yet due" in html and "Over 90 days" in html


def test_a_user_without_report_permission_gets_no_finance_report(app, book, new_client):
    with app.app_context():
        role = db.session.scalar(select(User).where(User.username == "chen")).role
        role.permissions = [p for p in role.permissions if p != "report.view"]
        db.session.commit()
    client = new_client()
    client.login("chen")
    for url in PAGES.values():
        assert client.get(url).status_code in (302, 403), url


# --- the lists a figure opens, end to end (once the list modules are merged) -----------------------

LIST_MODULES = {ListKind.CONTRACT: "admin_views.contracts", ListKind.PAYMENT_PLAN: "admin_views.payment_plans",
                ListKind.PAYMENT: "admin_views.receipts", ListKind.INVOICE: "admin_views.invoices"}


def drill_links(html: str) -> list[tuple[str, str]]:
    """(figure, URL) of every count in the table and the ageing card that links to a list."""
    table = re.search(r'id="kechi-report-table".*?</table>', html, re.S).group(0)
    found = [(unescape(text), unescape(url)) for url, text in
             re.findall(r'<a href="([^"]+)" data-kechi-drill="[^"]+">([^<]+)</a>', table)]
    for card in re.findall(r'id="kechi-ageing-buckets".*?</table>', html, re.S):
        found += [(unescape(text), unescape(url)) for url, text in re.findall(r'<a href="([^"]+)">(\d+)</a>', card)]
    return [(figure, url) for figure, url in found if not figure.startswith("¥")]


@pytest.mark.parametrize("user", ["boss", "li", "chen"])
def test_each_figure_on_the_pages_opens_a_list_with_as_many_rows(app, book, new_client, user):
    import importlib.util

    from conftest import list_table

    ready = {kind for kind, module in LIST_MODULES.items() if importlib.util.find_spec(module) is not None}
    endpoints = {f"/admin/{kind.value}/": kind for kind in ready}
    client = new_client()
    client.login(user)
    checked = 0
    for page in [*PAGES.values(), PAGES["ageing"] + "?by=owner", PAGES["receipts"] + "&by=owner"]:
        for figure, url in drill_links(client.get(page).get_data(as_text=True)):
            if urlparse(url).path not in endpoints:
                continue
            response = client.get(url)
            assert response.status_code == 200, url
            assert list_table(response.get_data(as_text=True)).count("<tr") - 1 == int(figure), (page, url)
            checked += 1
    if not ready:
        pytest.skip("the 合同/回款计划/回款/开票 lists are not on this branch yet")
    assert checked, user


def test_a_list_view_takes_the_drill_parameters_through_the_mixin(app, book):
    """What the coordinator adds to each finance list at merge: the mixin narrows list and count."""
    from admin_views.finance_drill import FinanceDrillMixin
    from flask import current_app

    class Base:
        def get_query(self):
            return db.session.query(PaymentPlan)

        def get_count_query(self):
            return db.session.query(func.count(PaymentPlan.id))

    class PlanList(FinanceDrillMixin, Base):
        drill_kind = ListKind.PAYMENT_PLAN

    with app.app_context(), current_app.test_request_context("/?outstanding=1&due_to=2026-11-22"):
        view = PlanList()
        assert view.get_count_query().scalar() == 3 == view.get_query().count()  # P2, P4, P6
