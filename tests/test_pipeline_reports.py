"""Pipeline reports (issue 18) on a small fixed pipeline, every figure worked out by hand below:
销售预测 (Σ amount and Σ amount × win % by month of expected close, by owner and department,
won ones apart), 销售机会漏斗 (open per stage, reached from the stage history, conversion),
赢单率与周期, 输单原因 and 线索转化率; scoped for the 总经理, the 主管 李 (销售一部) and the 业务员 陈;
each figure's drill-down conditions find exactly as many records as the figure says.

The clock is pinned at 2026-11-23 10:00 Shanghai: the forecast's default months are 2026-11 …
2027-04. Stage group 测试流程A: 接洽 10 %, 需求 30 %, 方案 60 %, 谈判 80 %; 测试流程B: 立项 50 %.

    opp  owner  group/stage  outcome  amount     expected    notes
    A1   陈     A 接洽       open     10,000.00  2026-11-30  was at 方案, moved back
    A2   陈     A 方案       open      5,000.50  2026-12-15  moved forward only
    A3   刘     A 谈判       open     20,000.00  2026-12-01  孙 collaborates
    A4   刘     A 需求       open      3,333.33  2027-04-30  30 % → 999.999 → ¥1,000.00
    A5   孙     A 方案       open      8,000.00  2026-11-01
    A6   孙     A 接洽       open      1,000.00  2027-05-01  after the months; created 2025
    A7   陈     A 谈判       open      7,000.00  2026-10-31  before the months
    P1   陈     B 立项       open     50,000.00  2026-12-20
    W1   陈     A 谈判       won      12,000.00              closed 2026-11-10; source 展会
    W2   孙     A 方案       won       6,000.00              closed 2026-10-31 17:00 UTC = 11-01 local; 网络
    L1   刘     A 需求       lost      4,000.00              closed 11-05 价格偏高; was at 谈判
    L2   陈     A 方案       lost      9,000.00              closed 10-20 价格偏高; source 展会
    L3   孙     A 接洽       lost        500.00              closed 11-12 选择了竞争对手; 网络
    I1   刘     A 接洽       invalid     100.00              closed 11-02; was at 谈判
"""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timezone
from decimal import Decimal
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from conftest import PASSWORD, Browserish, build_app, list_table
from models import Customer, Role, db
from models.dictionary import DictItem, DictKind
from models.lead import Lead, LeadStatus
from models.opportunity import (
    Opportunity, OpportunityCollaborator, OpportunityEvent, Outcome, Stage, StageGroup,
)
from models.org import Department, User
from rules import org, pipeline_reports
from rules.actor import Actor
from rules.links import Days, ListKind, ListLink, query_parameters
from rules.reports import Filters

UTC = timezone.utc
TZ = "Asia/Shanghai"
YEAR = Filters(start=date(2026, 1, 1), end=date(2026, 11, 23))
RANGE = "start=2026-01-01&end=2026-11-23"
MONTHS = pipeline_reports.default_forecast_filters(date(2026, 11, 23), TZ)
M = Decimal


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def dict_item(kind: DictKind, name: str) -> int:
    found = db.session.scalar(select(DictItem.id).where(DictItem.kind == kind, DictItem.name == name))
    if found is None:
        item = DictItem(kind=kind, name=name)
        db.session.add(item)
        db.session.flush()
        found = item.id
    return found


@pytest.fixture
def pipeline(app, make_user):
    return fill_pipeline(app, make_user)


def fill_pipeline(app, make_user) -> dict:
    ids = {
        "boss": make_user("boss", role="总经理", department=("总经办",), display_name="张总"),
        "li": make_user("li", role="主管", department=("销售部", "销售一部"), display_name="李主管"),
        "chen": make_user("chen", role="业务员", department=("销售部", "销售一部"), display_name="陈晓明"),
        "liu": make_user("liu", role="业务员", department=("销售部", "销售一部"), display_name="刘芳"),
        "sun": make_user("sun", role="业务员", department=("销售部", "销售二部"), display_name="孙伟"),
    }
    with app.app_context():
        users = {k: db.session.get(User, v) for k, v in ids.items()}
        group_a = StageGroup(name="测试流程A", sort_order=-2)
        group_b = StageGroup(name="测试流程B", sort_order=-1)
        db.session.add_all([group_a, group_b])
        db.session.flush()
        stages = {}
        for order, (name, pct) in enumerate([("接洽", 10), ("需求", 30), ("方案", 60), ("谈判", 80)]):
            stages[name] = Stage(group_id=group_a.id, name=name, sort_order=order * 10, probability=pct)
        stages["立项"] = Stage(group_id=group_b.id, name="立项", sort_order=0, probability=50)
        db.session.add_all(stages.values())
        db.session.flush()
        customer = Customer(name="测试客户", owner_id=users["boss"].id)
        db.session.add(customer)
        db.session.flush()
        expo, web = dict_item(DictKind.SOURCE, "展会"), dict_item(DictKind.SOURCE, "网络")
        price, rival = dict_item(DictKind.LOSS_REASON, "价格偏高"), dict_item(DictKind.LOSS_REASON, "选择了竞争对手")
        opps = {}

        def opp(key, owner, stage, outcome, amount, *, expected=None, closed=None, created=utc(2026, 6, 1, 2),
                source=None, reason=None):
            o = Opportunity(number=key, title=key, customer_id=customer.id, group_id=stages[stage].group_id,
                            stage_id=stages[stage].id, outcome=outcome, amount=M(amount), expected_close_on=expected,
                            closed_at=closed, owner_id=users[owner].id, department_id=users[owner].department_id,
                            source_id=source, loss_reason_id=reason, created_at=created, updated_at=created)
            db.session.add(o)
            db.session.flush()
            opps[key] = o

        def moves(key, *path):
            for before, after in zip(path, path[1:]):
                db.session.add(OpportunityEvent(opportunity_id=opps[key].id, action="move",
                                                from_stage_id=stages[before].id, to_stage_id=stages[after].id,
                                                at=utc(2026, 7, 1, 2)))

        opp("A1", "chen", "接洽", Outcome.OPEN, "10000", expected=date(2026, 11, 30))
        moves("A1", "接洽", "需求", "方案", "接洽")
        opp("A2", "chen", "方案", Outcome.OPEN, "5000.50", expected=date(2026, 12, 15))
        moves("A2", "接洽", "需求", "方案")
        opp("A3", "liu", "谈判", Outcome.OPEN, "20000", expected=date(2026, 12, 1))
        db.session.add(OpportunityCollaborator(opportunity_id=opps["A3"].id, user_id=users["sun"].id))
        opp("A4", "liu", "需求", Outcome.OPEN, "3333.33", expected=date(2027, 4, 30))
        opp("A5", "sun", "方案", Outcome.OPEN, "8000", expected=date(2026, 11, 1))
        opp("A6", "sun", "接洽", Outcome.OPEN, "1000", expected=date(2027, 5, 1), created=utc(2025, 12, 31, 2))
        opp("A7", "chen", "谈判", Outcome.OPEN, "7000", expected=date(2026, 10, 31))
        opp("P1", "chen", "立项", Outcome.OPEN, "50000", expected=date(2026, 12, 20))
        opp("W1", "chen", "谈判", Outcome.WON, "12000", closed=utc(2026, 11, 10, 2), source=expo)
        opp("W2", "sun", "方案", Outcome.WON, "6000", closed=utc(2026, 10, 31, 17), source=web)
        opp("L1", "liu", "需求", Outcome.LOST, "4000", closed=utc(2026, 11, 5, 2), reason=price)
        moves("L1", "谈判", "需求")
        opp("L2", "chen", "方案", Outcome.LOST, "9000", closed=utc(2026, 10, 20, 2), reason=price, source=expo)
        opp("L3", "sun", "接洽", Outcome.LOST, "500", closed=utc(2026, 11, 12, 2), reason=rival, source=web)
        opp("I1", "liu", "接洽", Outcome.INVALID, "100", closed=utc(2026, 11, 2, 2))
        moves("I1", "谈判", "接洽")

        def lead(name, owner, source, status, created=utc(2026, 5, 1, 2), deleted=None):
            db.session.add(Lead(name=name, owner_id=users[owner].id if owner else None, source_id=source,
                                department_id=users[owner].department_id if owner else None, status=status,
                                created_at=created, updated_at=created, deleted_at=deleted))

        lead("线索1", "chen", web, LeadStatus.CONVERTED)
        lead("线索2", "chen", web, LeadStatus.INVALID)
        lead("线索3", "liu", web, LeadStatus.CONVERTED)
        lead("线索4", "sun", web, LeadStatus.NEW)
        lead("线索5", "chen", expo, LeadStatus.FOLLOWING)
        lead("线索6", "liu", expo, LeadStatus.CONVERTED)
        lead("池中线索", None, web, LeadStatus.NEW)
        lead("去年线索", "chen", web, LeadStatus.CONVERTED, created=utc(2025, 12, 31, 2))
        lead("删除线索", "chen", web, LeadStatus.CONVERTED, deleted=utc(2026, 6, 1))
        db.session.commit()
        found = {"users": ids, "group_a": group_a.id, "group_b": group_b.id,
               "stages": {k: s.id for k, s in stages.items()}, "opps": {k: o.id for k, o in opps.items()},
               "sources": {"展会": expo, "网络": web}, "reasons": {"价格偏高": price, "选择了竞争对手": rival}}
    return found


def actor(name: str) -> Actor:
    return Actor.from_user(db.session.scalar(select(User).where(User.username == name)))


def by_name(table) -> dict[str, dict]:
    return {str(r["name"]): r for r in table.rows}


def drill_count(user: str, link: ListLink) -> int:
    """How many records the list a figure opens shows to `user` (the same conditions the list
    adds to its own scope)."""
    model = Lead if link.kind is ListKind.LEAD else Opportunity
    where = pipeline_reports.link_where(db.session, actor(user), link, TZ)
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def assert_drills_match(user: str, table, *, extra_rows=()) -> int:
    """Every figure with a link: the list behind it holds exactly that many records (money
    figures: the link of the count beside them). Returns how many links were checked."""
    checked = 0
    for row in [*table.rows, *extra_rows]:
        for key, link in (row.get("cell_drill") or {}).items():
            value = row[key]
            if isinstance(value, int):
                assert drill_count(user, link) == value, (user, row["name"], key)
                checked += 1
    return checked


# --- 销售预测 -----------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_forecast_by_owner_is_amount_times_the_stage_probability_per_month(app, pipeline):
    with app.app_context():
        table = pipeline_reports.forecast(db.session, actor("boss"), MONTHS)
        rows = by_name(table)
        assert [str(r["name"]) for r in table.rows] == ["陈晓明", "刘芳", "孙伟"]  # by 预测金额
        chen, liu, sun = rows["陈晓明"], rows["刘芳"], rows["孙伟"]
        # 陈: A1 10,000 × 10 % in November; A2 5,000.50 × 60 % + P1 50,000 × 50 % in December
        assert (chen["amount_2026-11"], chen["weighted_2026-11"]) == (M("10000.00"), M("1000.00"))
        assert (chen["amount_2026-12"], chen["weighted_2026-12"]) == (M("55000.50"), M("28000.30"))
        assert (chen["count"], chen["amount"], chen["weighted"]) == (3, M("65000.50"), M("29000.30"))
        assert (chen["won_count"], chen["won_amount"]) == (1, M("12000.00"))  # W1; A7 is before the months
        # 刘: A3 20,000 × 80 %; A4 3,333.33 × 30 % = 999.999 → 1,000.00
        assert liu["weighted_2026-12"] == M("16000.00") and liu["weighted_2027-04"] == M("1000.00")
        assert (liu["count"], liu["amount"], liu["weighted"], liu["won_count"]) == (2, M("23333.33"), M("17000.00"), 0)
        # 孙: A5 8,000 × 60 %; A6 closes in May, after the months; W2 won on 1 November local
        assert (sun["count"], sun["weighted"], sun["won_count"], sun["won_amount"]) == (1, M("4800.00"), 1, M("6000.00"))
        assert table.totals["weighted"] == M("50800.30") and table.totals["amount"] == M("96333.83")
        assert table.totals["won_amount"] == M("18000.00")
        months = {r["month"]: r for r in table.extra["chart_rows"]}
        assert list(months) == ["2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04"]
        assert (months["2026-11"]["amount"], months["2026-11"]["weighted"], months["2026-11"]["won_amount"]) == (
            M("18000.00"), M("5800.00"), M("18000.00"))
        assert (months["2026-12"]["amount"], months["2026-12"]["weighted"], months["2026-12"]["won_amount"]) == (
            M("75000.50"), M("44000.30"), M("0.00"))
        assert months["2027-01"]["weighted"] == M("0.00") and months["2027-04"]["weighted"] == M("1000.00")


@pytest.mark.both_dbs
def test_forecast_by_department_and_each_users_scope(app, pipeline):
    with app.app_context():
        table = pipeline_reports.forecast(db.session, actor("boss"), MONTHS, by="department")
        rows = by_name(table)
        assert set(rows) == {"销售一部", "销售二部"}
        assert rows["销售一部"]["weighted"] == M("46000.30") and rows["销售二部"]["weighted"] == M("4800.00")
        # 主管 李 (本部门): 陈 and 刘 only
        li = by_name(pipeline_reports.forecast(db.session, actor("li"), MONTHS))
        assert set(li) == {"陈晓明", "刘芳"}
        # 业务员 陈: own opportunities only
        chen = pipeline_reports.forecast(db.session, actor("chen"), MONTHS)
        assert set(by_name(chen)) == {"陈晓明"} and chen.totals["weighted"] == M("29000.30")
        # 业务员 孙 sees 刘's A3, on which 孙 collaborates, as the opportunity list shows it
        sun = by_name(pipeline_reports.forecast(db.session, actor("sun"), MONTHS))
        assert set(sun) == {"孙伟", "刘芳"}
        assert (sun["刘芳"]["count"], sun["刘芳"]["weighted"]) == (1, M("16000.00"))
        # the page's department choice: 销售二部 for the 总经理
        second = db.session.scalar(select(Department.id).where(Department.name == "销售二部"))
        chosen = pipeline_reports.forecast(db.session, actor("boss"), Filters(
            start=MONTHS.start, end=MONTHS.end, department_id=second))
        assert set(by_name(chosen)) == {"孙伟"}


@pytest.mark.both_dbs
@pytest.mark.parametrize("user", ["boss", "li", "chen"])
def test_every_forecast_figure_opens_a_list_of_as_many_opportunities(app, pipeline, user):
    with app.app_context():
        table = pipeline_reports.forecast(db.session, actor(user), MONTHS)
        per_month = 0
        for row in table.rows:
            for key, link in row["cell_drill"].items():
                if key.startswith("amount_"):
                    month = key.removeprefix("amount_")
                    listed = db.session.scalars(select(Opportunity.amount).where(
                        *pipeline_reports.link_where(db.session, actor(user), link, TZ))).all()
                    assert sum(listed, M("0")) == row.get(key, M("0")), (row["name"], month)
                    per_month += 1
            assert drill_count(user, row["cell_drill"]["won_count"]) == row["won_count"]
        assert per_month == 6 * len(table.rows)


# --- 销售机会漏斗 -------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_funnel_counts_open_per_stage_and_the_furthest_stage_reached(app, pipeline):
    with app.app_context():
        table = pipeline_reports.funnel(db.session, actor("boss"), YEAR, group_id=pipeline["group_a"])
        rows = by_name(table)
        assert [str(r["name"]) for r in table.rows] == ["接洽", "需求", "方案", "谈判", "赢单"]
        # open now (A6 was created in 2025: outside the range)
        assert (rows["接洽"]["open_count"], rows["接洽"]["open_amount"]) == (1, M("10000.00"))
        assert (rows["需求"]["open_count"], rows["需求"]["open_amount"]) == (1, M("3333.33"))
        assert (rows["方案"]["open_count"], rows["方案"]["open_amount"]) == (2, M("13000.50"))
        assert (rows["谈判"]["open_count"], rows["谈判"]["open_amount"]) == (2, M("27000.00"))
        # furthest stage: 接洽 L3; 需求 A4; 方案 A1 (moved back), A2, A5, L2; 谈判 A3, A7, L1 (moved back);
        # won W1, W2 reached every stage; I1 (invalid) none
        assert [r["reached"] for r in table.rows] == [11, 10, 9, 5, 2]
        assert [None if r["conversion"] is None else round(r["conversion"], 1) for r in table.rows] == [
            None, M("90.9"), M("90.0"), M("55.6"), M("40.0")]
        outcomes = {o["name"]: (o["count"], o["amount"]) for o in table.extra["outcomes"]}
        assert outcomes == {"进行中": (6, M("53333.83")), "赢单": (2, M("18000.00")), "输单": (3, M("13500.00")),
                            "无效": (1, M("100.00"))}
        assert assert_drills_match("boss", table) == 9
        for o in table.extra["outcomes"]:
            assert drill_count("boss", o["drill"]) == o["count"], o["name"]


@pytest.mark.both_dbs
def test_funnel_in_the_scope_of_a_salesperson_and_a_supervisor(app, pipeline):
    with app.app_context():
        chen = pipeline_reports.funnel(db.session, actor("chen"), YEAR, group_id=pipeline["group_a"])
        # A1 (方案 before moving back), A2, L2 at 方案; A7 at 谈判; W1 won
        assert [r["reached"] for r in chen.rows] == [5, 5, 5, 2, 1]
        assert assert_drills_match("chen", chen) == 9
        li = pipeline_reports.funnel(db.session, actor("li"), YEAR, group_id=pipeline["group_a"])
        # 陈's five and 刘's A3 (谈判), A4 (需求), L1 (谈判 before moving back); I1 invalid
        assert [r["reached"] for r in li.rows] == [8, 8, 7, 4, 1]
        assert assert_drills_match("li", li) == 9
        other = pipeline_reports.funnel(db.session, actor("boss"), YEAR, group_id=pipeline["group_b"])
        assert [r["reached"] for r in other.rows] == [1, 0]


# --- 赢单率与周期, 输单原因, 线索转化率 ----------------------------------------------------------------

@pytest.mark.both_dbs
def test_win_rate_and_cycle_by_owner_and_by_source(app, pipeline):
    with app.app_context():
        table = pipeline_reports.win_rates(db.session, actor("boss"), YEAR)
        rows = by_name(table)
        assert {k: (r["won"], r["lost"], round(r["rate"], 1)) for k, r in rows.items()} == {
            "陈晓明": (1, 1, M("50.0")), "孙伟": (1, 1, M("50.0")), "刘芳": (0, 1, M("0.0"))}
        # W1: 2026-06-01 02:00 → 11-10 02:00 = 162 days; L2: → 10-20 02:00 = 141 days
        assert (rows["陈晓明"]["won_cycle"], rows["陈晓明"]["cycle"]) == (162.0, 151.5)
        # W2: 2026-06-01 02:00 → 10-31 17:00 = 152.625 days
        assert rows["孙伟"]["won_cycle"] == 152.6
        assert round(table.totals["rate"], 1) == M("40.0") and table.totals["won_amount"] == M("18000.00")
        assert assert_drills_match("boss", table) == 6
        sources = by_name(pipeline_reports.win_rates(db.session, actor("boss"), YEAR, by="source"))
        assert {k: (r["won"], r["lost"]) for k, r in sources.items()} == {"展会": (1, 1), "网络": (1, 1), "未设置": (0, 1)}
        assert set(by_name(pipeline_reports.win_rates(db.session, actor("chen"), YEAR))) == {"陈晓明"}


@pytest.mark.both_dbs
def test_loss_reasons_count_and_amount(app, pipeline):
    with app.app_context():
        table = pipeline_reports.loss_reasons(db.session, actor("boss"), YEAR)
        assert [(r["name"], r["count"], r["amount"], round(r["share"], 1)) for r in table.rows] == [
            ("价格偏高", 2, M("13000.00"), M("66.7")), ("选择了竞争对手", 1, M("500.00"), M("33.3"))]
        assert assert_drills_match("boss", table) == 2
        li = pipeline_reports.loss_reasons(db.session, actor("li"), YEAR)
        assert [(r["name"], r["count"]) for r in li.rows] == [("价格偏高", 2)]
        november = pipeline_reports.loss_reasons(db.session, actor("boss"), Filters(date(2026, 11, 1), date(2026, 11, 23)))
        assert [(r["name"], r["count"]) for r in november.rows] == [("价格偏高", 1), ("选择了竞争对手", 1)]


@pytest.mark.both_dbs
def test_lead_conversion_by_source(app, pipeline):
    with app.app_context():
        table = pipeline_reports.lead_conversion(db.session, actor("boss"), YEAR)
        assert {r["name"]: (r["created"], r["converted"], r["invalid"], r["open"], round(r["rate"], 1))
                for r in table.rows} == {"网络": (4, 2, 1, 1, M("50.0")), "展会": (2, 1, 0, 1, M("50.0"))}
        assert round(table.totals["rate"], 1) == M("50.0")
        assert assert_drills_match("boss", table) == 6
        chen = pipeline_reports.lead_conversion(db.session, actor("chen"), YEAR)
        assert {r["name"]: (r["created"], r["converted"]) for r in chen.rows} == {"网络": (2, 1), "展会": (1, 0)}
        assert assert_drills_match("chen", chen) == 6


# --- links, pages, export ---------------------------------------------------------------------

def test_a_figure_names_its_list_with_plain_query_parameters():
    link = ListLink.of(ListKind.OPPORTUNITY, {"owner": 3, "department_in": (4, 5), "outcome": "open",
                                              "close_month": "2026-12", "closed_on": Days(date(2026, 11, 1), date(2026, 11, 30)),
                                              "pipeline_stage_reached": 7, "loss_reason": 9})
    assert query_parameters(link) == [
        ("owner_id", "3"), ("department_id", "4"), ("department_id", "5"), ("outcome", "open"),
        ("close_month", "2026-12"), ("closed_from", "2026-11-01"), ("closed_to", "2026-11-30"),
        ("reached_stage_id", "7"), ("loss_reason_id", "9")]


def page_rows(html: str) -> dict[str, list[str]]:
    table = re.search(r'id="kechi-report-table".*?</table>', html, re.S).group(0)
    rows = {}
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
        rows[cells[0]] = cells
    return rows


@pytest.mark.both_dbs
def test_the_pages_show_the_figures_with_money_and_percent_and_their_definition(app, pipeline, new_client):
    client = new_client()
    client.login("boss")
    html = client.get("/admin/reports/forecast/").get_data(as_text=True)
    rows = page_rows(html)
    assert rows["陈晓明"][1:5] == ["¥10,000.00", "¥1,000.00", "¥55,000.50", "¥28,000.30"]
    assert rows["合计"][-3:] == ["¥50,800.30", "2", "¥18,000.00"]
    assert "统计口径" in html and "金额 × 所处阶段的赢率" in html and 'id="kechi-chart-data"' in html
    months = re.search(r'id="kechi-forecast-months".*?</table>', html, re.S).group(0)
    november = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(
        r"<td[^>]*>(.*?)</td>", re.search(r"<tr><td>2026-11</td>.*?</tr>", months, re.S).group(0), re.S)]
    assert november == ["2026-11", "2", "¥18,000.00", "¥5,800.00", "2", "¥18,000.00"]
    html = client.get(f"/admin/reports/pipeline-funnel/?start=2026-01-01&end=2026-11-23&group={pipeline['group_a']}"
                      ).get_data(as_text=True)
    rows = page_rows(html)
    assert rows["方案"] == ["方案", "60.0%", "2", "¥13,000.50", "9", "90.0%"]
    assert rows["赢单"][-2:] == ["2", "40.0%"]
    assert "kechi-pipeline-outcomes" in html
    for url in ("/admin/reports/win-rate/", "/admin/reports/loss-reasons/", "/admin/reports/lead-conversion/"):
        response = client.get(url + "?start=2026-01-01&end=2026-11-23")
        assert response.status_code == 200, url
    chen = new_client()
    chen.login("chen")
    assert set(page_rows(chen.get("/admin/reports/forecast/").get_data(as_text=True))) == {"负责人", "陈晓明", "合计"}


def test_an_empty_forecast_says_what_to_do(app, make_user, new_client):
    make_user("boss", role="总经理", department=("总经办",))
    client = new_client()
    client.login("boss")
    html = client.get("/admin/reports/forecast/").get_data(as_text=True)
    assert "请在销售机会中填写预计成交日期和金额" in html


def test_the_xlsx_export_holds_the_figures(app, pipeline, new_client):
    client = new_client()
    client.login("boss")
    response = client.get("/admin/reports/forecast/export")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("负责人", "2026-11 金额", "2026-11 预测金额")
    chen = next(r for r in rows if r[0] == "陈晓明")
    assert chen[header.index("2026-12 预测金额")] == 28000.30 or Decimal(str(chen[header.index("2026-12 预测金额")])) == M("28000.30")
    total = rows[-1]
    assert total[0] == "合计" and Decimal(str(total[header.index("预测金额合计")])) == M("50800.30")
    response = client.get(f"/admin/reports/pipeline-funnel/export?start=2026-01-01&end=2026-11-23&group={pipeline['group_a']}")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert [r[4] for r in rows[1:]] == [11, 10, 9, 5, 2]


def test_english_labels(app, pipeline, new_client):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "boss")).locale = "en"
        db.session.commit()
    client = new_client()
    client.login("boss")
    html = client.get("/admin/reports/forecast/").get_data(as_text=True)
    assert "Sales forecast" in html and "Weighted" in html and "Owner" in html
    html = client.get(f"/admin/reports/pipeline-funnel/?start=2026-01-01&end=2026-11-23&group={pipeline['group_a']}"
                      ).get_data(as_text=True)
    assert "Reached" in html and "Conversion" in html


def test_a_salesperson_without_report_permission_gets_no_report(app, pipeline, new_client):
    with app.app_context():
        role = db.session.scalar(select(User).where(User.username == "chen")).role
        role.permissions = [p for p in role.permissions if p != "report.view"]
        db.session.commit()
    client = new_client()
    client.login("chen")
    assert client.get("/admin/reports/forecast/").status_code in (302, 403)


# --- the lists a figure opens, end to end ---------------------------------------------------------

def drill_links(html: str) -> list[tuple[str, str]]:
    """(figure, URL) of every figure in the table, the month and the outcome cards that links to
    a list."""
    table = re.search(r'id="kechi-report-table".*?</table>', html, re.S).group(0)
    found = [(unescape(text), unescape(url)) for url, text in
             re.findall(r'<a href="([^"]+)" data-kechi-drill="[^"]+">([^<]+)</a>', table)]
    for card in re.findall(r'id="kechi-(?:forecast-months|pipeline-outcomes)".*?</table>', html, re.S):
        found += [(unescape(text), unescape(url)) for url, text in re.findall(r'<a href="([^"]+)">(\d+)</a>', card)]
    return found


@pytest.mark.both_dbs
@pytest.mark.parametrize("user", ["boss", "li", "chen"])
def test_each_figure_on_the_pages_opens_a_list_with_as_many_rows(app, tmp_path, user):
    kind = app.config["DB_KIND"]
    application = build_app(kind, tmp_path)

    def make_user(username, role="业务员", department=("销售部", "销售一部"), display_name=None):
        with application.app_context():
            dept = org.ensure_department_path(db.session, list(department))
            user_obj = org.create_user(db.session, username=username, password=PASSWORD,
                                       display_name=display_name or username,
                                       role=db.session.scalar(select(Role).where(Role.name == role)), department=dept)
            db.session.commit()
            return user_obj.id

    ids = fill_pipeline(application, make_user)
    client = Browserish(application.test_client())
    client.login(user)
    pages = ["/admin/reports/forecast/", f"/admin/reports/pipeline-funnel/?{RANGE}&group={ids['group_a']}",
             f"/admin/reports/win-rate/?{RANGE}", f"/admin/reports/win-rate/?{RANGE}&by=source",
             f"/admin/reports/loss-reasons/?{RANGE}", f"/admin/reports/lead-conversion/?{RANGE}"]
    checked = 0
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        for figure, url in drill_links(html):
            if figure.startswith("¥"):
                continue  # money opens the same list as the count beside it
            listed = client.get(url)
            assert listed.status_code == 200, url
            assert list_table(listed.get_data(as_text=True)).count("<tr") - 1 == int(figure), (page, url)
            checked += 1
    assert checked >= 15, (user, checked)
    with application.app_context():
        db.session.remove()
        if kind == "postgresql":
            db.drop_all()
        db.engine.dispose()


def test_a_drill_parameter_no_link_could_carry_is_refused(app, pipeline, tmp_path):
    application = build_app("sqlite", tmp_path)
    client = Browserish(application.test_client())
    with application.app_context():
        dept = org.ensure_department_path(db.session, ["总经办"])
        org.create_user(db.session, username="gm", password=PASSWORD, display_name="gm",
                        role=db.session.scalar(select(Role).where(Role.name == "总经理")), department=dept)
        db.session.commit()
    client.login("gm")
    for bad in ("owner_id=abc", "outcome=maybe", "close_month=2026-13", "closed_from=2026-02-30", "status=x"):
        assert client.get(f"/admin/opportunity/?{bad}" if "status" not in bad else f"/admin/lead/?{bad}").status_code == 400, bad
    assert client.get("/admin/opportunity/?close_month=2026-12&outcome=open").status_code == 200
