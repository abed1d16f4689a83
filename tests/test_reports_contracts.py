"""公司销售报表 and 业务员业绩 with contracts and their receipts (issue 19): on top of the order-only
shop of tests/test_reports.py, contracts in every state, an order produced from a contract, and
receipts booked on contracts (one credited to a colleague of the contract's owner, one pending,
one refund, one on a voided contract, one paid this year on last year's contract). Every figure
is worked out by hand below; the order-only figures are those of tests/test_reports.py."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from conftest import FIXED_NOW
from models import Order, db
from models.contract import Contract
from models.sales import Payment
from rules import report_summary, reports
from test_reports import FILTERS, RANGE, actor, by_name, login, page_table, shop  # noqa: F401  (shop: fixture)

D = Decimal


@pytest.fixture
def deals(app, shop):  # noqa: F811
    with app.app_context():
        def contract(number, cust, owner, signed, status, total, received=0, written_off=0, deleted=False):
            k = Contract(number=number, title=f"{number} 合同", customer_id=shop[cust], owner_id=shop[owner],
                         signed_on=signed, status=status, total=D(total), received=D(received),
                         written_off=D(written_off),
                         deleted_at=datetime(2026, 6, 1, tzinfo=timezone.utc) if deleted else None)
            db.session.add(k)
            db.session.flush()
            return k

        def pay(k, owner, paid, amount, *, kind="receipt", status="approved", write_off=0, order=None, cust="c1"):
            db.session.add(Payment(contract_id=k.id, order_id=order.id if order else None, customer_id=shop[cust],
                                   owner_id=shop[owner], kind=kind, amount=D(amount), paid_on=paid, status=status,
                                   write_off=D(write_off), method="bank"))

        k1 = contract("HT1", "c1", "chen", date(2026, 3, 15), "active", 2000, received=1400)
        k2 = contract("HT2", "c3", "liu", date(2026, 4, 5), "completed", 1000, received=990, written_off=10)
        k3 = contract("HT3", "c4", "sun", date(2026, 4, 8), "void", 700, received=200)
        contract("HT4", "c2", "chen", date(2026, 5, 1), "draft", 5000)
        contract("HT5", "c2", "chen", date(2026, 5, 2), "approving", 6000)
        contract("HT6", "c1", "chen", date(2026, 5, 3), "active", 3000, deleted=True)
        k7 = contract("HT7", "c4", "sun", date(2025, 12, 1), "active", 400, received=400)
        # O7 came from HT1: its 800 and its receipt count once, in HT1.
        o7 = Order(number="O7", customer_id=shop["c1"], salesperson_id=shop["chen"], order_date=date(2026, 3, 20),
                   state="shipped", total=D(800), received=D(500), contract_id=k1.id)
        db.session.add(o7)
        db.session.flush()
        pay(k1, "chen", date(2026, 3, 20), 1000)
        pay(k1, "chen", date(2026, 6, 1), 500, order=o7)
        pay(k1, "chen", date(2026, 7, 1), 100, kind="refund")
        pay(k1, "chen", date(2026, 8, 1), 300, status="pending")  # not yet approved: not 实收
        pay(k2, "chen", date(2026, 4, 10), 990, write_off=10, cust="c3")  # chen collected liu's contract
        pay(k3, "sun", date(2026, 4, 9), 200, cust="c4")  # the contract was voided since: to be refunded
        pay(k7, "sun", date(2026, 1, 5), 400, cust="c4")  # last year's contract, paid this year
        db.session.commit()
    return shop


def months(table):
    return {r["month"]: r for r in table.rows}


FIGURES = ("orders", "contracts", "receivable", "received", "outstanding", "refundable", "refunded")


@pytest.mark.both_dbs
def test_company_sales_counts_executed_contracts_once_and_orders_of_a_contract_in_it(app, deals):
    with app.app_context():
        table = reports.company_sales(db.session, actor(app, deals["boss"]), FILTERS)
    march, april, may = months(table)["2026-03"], months(table)["2026-04"], months(table)["2026-05"]
    # O1 1000/1000 + O2 500/200 as before; HT1 2000 with 1000 + 500 − 100 received; O7 is in HT1.
    assert tuple(march[k] for k in FIGURES) == (2, 1, D("3500.00"), D("2600.00"), D("900.00"), 0, 0)
    # orders as before (800 / 900 / 300 / 300 / 100); HT2 1000 settled by 990 + 10 抹零;
    # voided HT3 owes nothing and its 200 is to be refunded.
    assert tuple(april[k] for k in FIGURES) == (3, 1, D("1800.00"), D("2090.00"), D("300.00"), D("500.00"),
                                                D("100.00"))
    assert (may["contracts"], may["receivable"]) == (0, 0)  # draft, 审批中 and deleted contracts do not count
    assert tuple(table.totals[k] for k in FIGURES) == (5, 2, D("5300.00"), D("4690.00"), D("1200.00"),
                                                       D("500.00"), D("100.00"))


@pytest.mark.both_dbs
def test_company_sales_of_a_supervisor_count_the_contracts_of_their_department(app, deals):
    with app.app_context():
        table = reports.company_sales(db.session, actor(app, deals["li"]), FILTERS)
        chen = reports.company_sales(db.session, actor(app, deals["chen"]), FILTERS)
    april = months(table)["2026-04"]  # HT3 is 孙伟's, of 销售二部
    assert tuple(april[k] for k in FIGURES) == (2, 1, D("1800.00"), D("1790.00"), D("300.00"), D("200.00"),
                                                D("100.00"))
    assert months(table)["2026-03"]["receivable"] == D("3500.00")
    assert (chen.totals["contracts"], chen.totals["receivable"]) == (1, D("3800.00"))  # O1 O2 O6 + HT1


@pytest.mark.both_dbs
def test_performance_credits_contracts_to_their_owner_and_receipts_to_whom_they_are_credited(app, deals):
    with app.app_context():
        boss = by_name(reports.salesperson_performance(db.session, actor(app, deals["boss"]), FILTERS))
        li = by_name(reports.salesperson_performance(db.session, actor(app, deals["li"]), FILTERS))
        chen = by_name(reports.salesperson_performance(db.session, actor(app, deals["chen"]), FILTERS))
    keys = ("orders", "contracts", "amount", "received")
    # orders O1 O2 O6 (1800, 1200 received) as before, O7 left to HT1; HT1 2000; receipts credited to
    # chen: 1000 + 500 − 100 on HT1 and 990 on liu's HT2 (抹零 and the pending 300 are not 实收).
    assert tuple(boss["陈晓明"][k] for k in keys) == (3, 1, D("3800.00"), D("3590.00"))
    assert tuple(boss["刘芳"][k] for k in keys) == (1, 1, D("1500.00"), D("700.00"))
    # HT3 is void (neither sale nor 实收); HT7 was signed last year, its receipt paid this year.
    assert tuple(boss["孙伟"][k] for k in keys) == (0, 0, D("0.00"), D("400.00"))
    assert tuple(li["陈晓明"][k] for k in keys) == tuple(boss["陈晓明"][k] for k in keys)
    assert set(li) == {"陈晓明", "刘芳"}
    assert set(chen) == {"陈晓明"} and chen["陈晓明"]["received"] == D("3590.00")


@pytest.mark.both_dbs
def test_workbench_month_sales_count_contracts_by_signing_date(app, deals):
    with app.app_context():
        this, previous, _daily = reports.month_sales(db.session, actor(app, deals["boss"]), date(2026, 4, 23),
                                                     app.config["TIMEZONE"])
    # April 1–23: O3 500 (kept after its return) + HT2 1000 (O6 is of the 28th); March 1–23: O1 1000
    # + HT1 2000 (O7 is in HT1).
    assert (this, previous) == (D("1500.00"), D("3000.00"))


@pytest.mark.both_dbs
def test_summaries_still_agree_with_the_raw_rows_when_orders_belong_to_contracts(app, deals):
    with app.app_context():
        tz = app.config["TIMEZONE"]

        def figures(user_id):
            who = actor(app, user_id)
            return [reports.company_sales(db.session, who, FILTERS).rows,
                    sorted(reports.salesperson_performance(db.session, who, FILTERS).rows, key=lambda r: r["name"]),
                    reports.month_sales(db.session, who, date(2026, 4, 23), tz)]

        raw = {u: figures(deals[u]) for u in ("boss", "li", "chen")}
        assert report_summary.refresh(db.session, now=FIXED_NOW, tz=tz, threshold=0) is True
        db.session.commit()
        for user, expected in raw.items():
            assert figures(deals[user]) == expected, user


def test_the_pages_show_the_contract_figures_and_say_what_counts(app, deals, new_client):
    boss = login(new_client, "boss")
    html = boss.get(f"/admin/reports/sales/?{RANGE}").get_data(as_text=True)
    table = page_table(html)
    assert table[0][-1] == "合同数"
    assert table[-1][:3] == ["合计", "5", "¥5,300.00"] and table[-1][-1] == "2"
    assert "合同应收 = 执行中和已完成的合同金额" in html
    assert "由合同生成的订单只在其合同中计算一次" in html
    html = boss.get(f"/admin/reports/salespeople/?{RANGE}").get_data(as_text=True)
    table = page_table(html)
    assert table[0][-1] == "成交合同"
    chen = next(r for r in table if r[0] == "陈晓明")
    assert chen[:4] == ["陈晓明", "3", "¥3,800.00", "¥3,590.00"] and chen[-1] == "1"
    assert "按回款的业绩归属人计入实收" in html
