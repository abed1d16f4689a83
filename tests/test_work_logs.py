"""工作日志 rules: the figures equal the 业务员业绩报表 of the same days (real rows on both
databases), one log per period, the superiors as default recipients with read receipts, comments
by several leaders (each notifying the author) and none by someone who may not read the log,
未提交 as a truth table, and the reminder once a day from the set hour."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Customer, FollowUp, Notification, NotificationKind, Order, Role, User, WorkLog, db
from models.work_log import WorkLogPeriod
from rules import reports, work_logs
from rules.actor import Actor
from rules.errors import ChangedMeanwhile, DuplicateEntry, InvalidValue, NotEditable, OutOfScope
from rules.work_logs import Draft

UTC = timezone.utc
TZ = "Asia/Shanghai"
DAY = date(2026, 11, 22)  # a Sunday; FIXED_NOW is Monday 2026-11-23 10:00 in Shanghai


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def team(app, make_user):
    """张总 (总经理, all) ← 王经理 (经理, 销售部 tree) ← 李主管 (主管, 销售一部) ← 陈 and 刘 (业务员);
    孙 (业务员, 销售二部, reporting to 王经理)."""
    ids = {"boss": make_user("boss", role="总经理", department=("总经办",), display_name="张总")}
    ids["wang"] = make_user("wang", role="经理", department=("销售部",), superior="boss", display_name="王经理")
    ids["li"] = make_user("li", role="主管", department=("销售部", "销售一部"), superior="wang", display_name="李主管")
    ids["chen"] = make_user("chen", superior="li", display_name="陈晓明")
    ids["liu"] = make_user("liu", superior="li", display_name="刘芳")
    ids["sun"] = make_user("sun", department=("销售部", "销售二部"), superior="wang", display_name="孙伟")
    return ids


def actor(user_id: int) -> Actor:
    return Actor.from_user(db.session.get(User, user_id), today=date(2026, 11, 23))


def write(user_id: int, *, day: date = DAY, period=WorkLogPeriod.DAILY, content="拜访三家客户", **kw) -> WorkLog:
    log = work_logs.submit(db.session, actor(user_id), period=period, day=day,
                           draft=Draft(content, kw.get("plan", "明天跟进报价"), kw.get("problems", ""),
                                       tuple(kw.get("recipients", ()))),
                           now=at(2026, 11, 23, 2), tz=TZ)
    db.session.commit()
    return log


def notes(user_id: int) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                   .order_by(Notification.id)))


# --- the figures -------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_figures_equal_the_salesperson_report_of_the_same_day(app, team):
    with app.app_context():
        chen, liu = team["chen"], team["liu"]

        def customer(name, who, created):
            c = Customer(name=name, owner_id=who, created_by_id=who, created_at=created, updated_at=created)
            db.session.add(c)
            db.session.flush()
            return c

        # 2026-11-21 16:30 UTC is 00:30 on the 22nd in Shanghai; 2026-11-22 16:30 UTC is the 23rd.
        c1 = customer("杭州一茶", chen, at(2026, 11, 21, 16, 30))
        customer("宁波二茶", chen, at(2026, 11, 22, 9))
        customer("温州三茶", chen, at(2026, 11, 22, 16, 30))  # the next local day
        customer("南京四茶", liu, at(2026, 11, 22, 3))  # a colleague's
        for who, when in [(chen, at(2026, 11, 22, 1)), (chen, at(2026, 11, 22, 8)), (chen, at(2026, 11, 22, 15)),
                          (chen, at(2026, 11, 21, 15)), (liu, at(2026, 11, 22, 2))]:
            db.session.add(FollowUp(customer_id=c1.id, user_id=who, content="回访", happened_at=when))
        for number, who, day, state, total, received in [
                ("O1", chen, DAY, "completed", "1000.00", "600.00"),
                ("O2", chen, DAY, "pending_review", "9999.00", "0"),  # not a sale yet
                ("O3", chen, date(2026, 11, 21), "completed", "500.00", "500.00"),
                ("O4", liu, DAY, "shipped", "300.00", "300.00")]:
            db.session.add(Order(number=number, customer_id=c1.id, salesperson_id=who, order_date=day, state=state,
                                 total=Decimal(total), received=Decimal(received)))
        db.session.commit()

        log = write(chen)
        report = reports.salesperson_performance(db.session, actor(team["boss"]),
                                                 reports.Filters(start=DAY, end=DAY, tz=TZ))
        row = {r["name"]: r for r in report.rows}["陈晓明"]
        expected = {key: str(row[key]) if kind == "money" else row[key] for key, _l, kind in work_logs.FIGURES}
        assert log.figures == expected
        assert log.figures == {"new_customers": 2, "follow_ups": 3, "orders": 1, "contracts": 0,
                               "amount": "1000.00", "received": "600.00"}

        week = write(chen, period=WorkLogPeriod.WEEKLY, content="本周总结")
        assert (week.period_start, week.period_end) == (date(2026, 11, 16), DAY)
        assert (week.figures["new_customers"], week.figures["orders"], week.figures["amount"]) == (2, 2, "1500.00")


# --- one per period; editing -------------------------------------------------------------------

@pytest.mark.both_dbs
def test_one_log_per_author_and_period(app, team):
    with app.app_context():
        write(team["chen"])
        with pytest.raises(DuplicateEntry, match="已经提交过了"):
            write(team["chen"], content="又写一遍")
        db.session.rollback()
        write(team["chen"], period=WorkLogPeriod.WEEKLY)  # a weekly log of the same week is another log
        write(team["liu"])  # and a colleague's daily log of the same day
        db.session.add(WorkLog(author_id=team["chen"], period="daily", period_start=DAY, period_end=DAY,
                               content="绕过规则", submitted_at=at(2026, 11, 23), created_at=at(2026, 11, 23),
                               updated_at=at(2026, 11, 23)))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(WorkLog.content).where(WorkLog.author_id == team["chen"],
                                                               WorkLog.period == "daily")) == "拜访三家客户"


def test_bad_input_is_refused_with_a_reason(app, team):
    with app.app_context():
        with pytest.raises(InvalidValue, match="请填写工作内容"):
            write(team["chen"], content="   ")
        with pytest.raises(InvalidValue, match="不能提前填写以后的日志"):
            write(team["chen"], day=date(2026, 11, 24))
        assert db.session.scalar(select(WorkLog.id)) is None


def test_only_the_author_edits_and_a_stale_form_is_refused(app, team):
    with app.app_context():
        log = write(team["chen"])
        opened = log.version
        work_logs.edit(db.session, actor(team["chen"]), log, draft=Draft("拜访四家客户"), version=opened,
                       now=at(2026, 11, 23, 3), tz=TZ)
        db.session.commit()
        with pytest.raises(ChangedMeanwhile):
            work_logs.edit(db.session, actor(team["chen"]), log, draft=Draft("旧页面的内容"), version=opened,
                           now=at(2026, 11, 23, 4), tz=TZ)
        db.session.rollback()
        with pytest.raises(NotEditable, match="只能修改自己的日志"):
            work_logs.edit(db.session, actor(team["li"]), log, draft=Draft("主管改的"), version=log.version,
                           now=at(2026, 11, 23, 4), tz=TZ)
        db.session.rollback()
        assert db.session.get(WorkLog, log.id).content == "拜访四家客户"


# --- recipients, read receipts, comments -------------------------------------------------------

def test_sent_to_the_superiors_and_chosen_colleagues_with_read_receipts(app, team):
    with app.app_context():
        log = write(team["chen"], recipients=[team["liu"], team["chen"]])
        assert sorted(r.user_id for r in log.recipients) == sorted([team["li"], team["wang"], team["liu"]])
        for uid in (team["li"], team["wang"], team["liu"]):
            [note] = notes(uid)
            assert (note.kind, note.title) == (NotificationKind.WORK_LOG, "陈晓明 提交了2026-11-22 日报，请查阅")
        assert notes(team["boss"]) == []  # the superior's superior's superior is not a default
        assert work_logs.to_read(db.session, actor(team["li"])) == (1, 0)

        work_logs.open_log(db.session, actor(team["li"]), log.id, now=at(2026, 11, 23, 5))
        work_logs.open_log(db.session, actor(team["boss"]), log.id, now=at(2026, 11, 23, 5))  # reads, not a recipient
        db.session.commit()
        receipts = dict(work_logs.receipts(db.session, log))
        assert receipts == {"李主管": at(2026, 11, 23, 5), "王经理": None, "刘芳": None}
        assert work_logs.to_read(db.session, actor(team["li"])) == (0, 0)
        # opening again keeps the first reading time
        work_logs.open_log(db.session, actor(team["li"]), log.id, now=at(2026, 11, 23, 9))
        db.session.commit()
        assert dict(work_logs.receipts(db.session, log))["李主管"] == at(2026, 11, 23, 5)


def test_several_leaders_comment_and_each_notifies_the_author(app, team):
    with app.app_context():
        log = write(team["chen"])
        work_logs.comment(db.session, actor(team["li"]), log.id, "报价要抓紧", now=at(2026, 11, 23, 3))
        work_logs.comment(db.session, actor(team["boss"]), log.id, "不错，继续保持", now=at(2026, 11, 23, 4))
        db.session.commit()
        assert [n.title for n in notes(team["chen"])] == ["李主管 点评了您的2026-11-22 日报",
                                                          "张总 点评了您的2026-11-22 日报"]
        assert work_logs.to_read(db.session, actor(team["chen"])) == (0, 2)
        work_logs.open_log(db.session, actor(team["chen"]), log.id, now=at(2026, 11, 23, 5))
        work_logs.comment(db.session, actor(team["chen"]), log.id, "收到", now=at(2026, 11, 23, 6))
        db.session.commit()
        assert work_logs.to_read(db.session, actor(team["chen"])) == (0, 0)
        assert [n.title for n in notes(team["li"]) if "回复" in n.title] == ["陈晓明 回复了2026-11-22 日报的点评"]


@pytest.mark.parametrize("reader, may", [("chen", True), ("li", True), ("wang", True), ("boss", True),
                                         ("liu", False), ("sun", False)])
def test_comment_only_by_those_who_may_read_the_log(app, team, reader, may):
    with app.app_context():
        log = write(team["chen"])
        if may:
            work_logs.comment(db.session, actor(team[reader]), log.id, "看过了", now=at(2026, 11, 23, 3))
        else:
            with pytest.raises(OutOfScope):
                work_logs.comment(db.session, actor(team[reader]), log.id, "看过了", now=at(2026, 11, 23, 3))
            db.session.rollback()
            assert log.comments == []


# --- search ------------------------------------------------------------------------------------

def test_search_by_person_period_and_keyword_within_scope(app, team):
    with app.app_context():
        write(team["chen"], content="拜访华为")
        write(team["chen"], day=DAY - timedelta(days=1), content="整理报价")
        write(team["liu"], content="电话回访华为")
        write(team["sun"], content="华为招标")
        write(team["chen"], period=WorkLogPeriod.MONTHLY, content="本月总结")

        def found(who, **query):
            rows, _more = work_logs.search(db.session, actor(team[who]), work_logs.Query(**query), page=1, per_page=50)
            return sorted((r.author, r.content) for r in rows)

        assert found("li", keyword="华为") == [("刘芳", "电话回访华为"), ("陈晓明", "拜访华为")]
        assert found("wang", keyword="华为", author_id=team["sun"]) == [("孙伟", "华为招标")]
        assert found("li", author_id=team["chen"], period=WorkLogPeriod.DAILY,
                     start=DAY - timedelta(days=1), end=DAY - timedelta(days=1)) == [("陈晓明", "整理报价")]
        assert found("li", period=WorkLogPeriod.MONTHLY) == [("陈晓明", "本月总结")]
        assert found("chen", keyword="华为") == [("陈晓明", "拜访华为")]  # 业务员: own logs only
        inbox, _ = work_logs.search(db.session, actor(team["li"]), work_logs.Query(box="inbox"), page=1, per_page=50)
        assert len(inbox) == 4 and {r.author for r in inbox} == {"陈晓明", "刘芳"}
        assert all(r.sent and r.read_at is None for r in inbox)


# --- 未提交 -------------------------------------------------------------------------------------

@pytest.mark.both_dbs
@pytest.mark.parametrize("who, listed", [
    ("chen", True),          # 业务员 in 李主管's department, no log for the day
    ("liu", False),          # submitted her daily log
    ("weekly", True),        # only a weekly log: the daily one is still missing
    ("yesterday", True),     # a daily log of another day
    ("li", False),           # 主管: not a role that must submit
    ("sun", False),          # 业务员 of another department: outside 李主管's scope
    ("gone", False),         # left the company (inactive)
])
def test_not_submitted_truth_table(app, team, make_user, who, listed):
    with app.app_context():
        extra = {"weekly": make_user("weekly", display_name="周报人"),
                 "yesterday": make_user("yesterday", display_name="昨日人"),
                 "gone": make_user("gone", display_name="离职人")}
        people = {**team, **extra}
        role = db.session.scalar(select(Role.id).where(Role.name == "业务员"))
        work_logs.save_settings(db.session, role_ids=[role], hour="18")
        db.session.get(User, extra["gone"]).active = False
        db.session.commit()
        write(team["liu"])
        write(extra["weekly"], period=WorkLogPeriod.WEEKLY)
        write(extra["yesterday"], day=DAY - timedelta(days=1))
        names = {r.id for r in work_logs.not_submitted(db.session, actor(team["li"]), DAY)}
        assert (people[who] in names) is listed


def test_settings_refuse_a_bad_hour(app, team):
    with app.app_context():
        with pytest.raises(InvalidValue, match="0 到 23"):
            work_logs.save_settings(db.session, role_ids=[], hour="25")
        with pytest.raises(InvalidValue, match="0 到 23"):
            work_logs.save_settings(db.session, role_ids=[], hour="六点")


def test_reminder_from_the_set_hour_once_a_day_and_not_at_weekends(app, team, clock):
    with app.app_context():
        role = db.session.scalar(select(Role.id).where(Role.name == "业务员"))
        work_logs.save_settings(db.session, role_ids=[role], hour=18)
        db.session.commit()
        write(team["liu"], day=date(2026, 11, 23))
        monday_10 = at(2026, 11, 23, 2)
        assert work_logs.remind_not_submitted(db.session, now=monday_10, tz=TZ) == 0  # before 18:00
        monday_18 = at(2026, 11, 23, 10, 5)
        assert work_logs.remind_not_submitted(db.session, now=monday_18, tz=TZ) == 2  # 陈 and 孙
        assert work_logs.remind_not_submitted(db.session, now=monday_18 + timedelta(hours=1), tz=TZ) == 0
        db.session.commit()
        [note] = notes(team["chen"])
        assert (note.kind, note.title) == (NotificationKind.WORK_LOG, "您 2026-11-23 的工作日志还未提交")
        assert notes(team["liu"]) == []
        saturday_19 = at(2026, 11, 28, 11)
        assert work_logs.remind_not_submitted(db.session, now=saturday_19, tz=TZ) == 0


def test_the_hourly_job_reminds_once(app, team, clock):
    from jobs.work_logs import remind_missing_work_logs

    with app.app_context():
        role = db.session.scalar(select(Role.id).where(Role.name == "业务员"))
        work_logs.save_settings(db.session, role_ids=[role], hour=9)
        db.session.commit()
        assert remind_missing_work_logs() == 3  # 陈, 刘, 孙 at 10:00 on Monday
        clock.advance(hours=1)
        assert remind_missing_work_logs() == 0
        assert len(notes(team["chen"])) == 1
