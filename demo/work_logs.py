"""Demo work logs (工作日志): a week of daily logs of the salespeople and their supervisors with
the figures the reports count, a weekly log, leaders' comments, some read and some not, and
业务员 set as the role that must submit (so 未提交 shows someone today)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Role, User, WorkLog
from models.work_log import WorkLogPeriod
from rules import work_logs
from rules.actor import Actor
from rules.clock import local_date
from rules.work_logs import Draft

TZ = "Asia/Shanghai"
WRITERS = ("chenxm", "liufang", "sunwei", "lizg", "zhaozg")
CONTENT = [
    "上午电话回访了 5 家老客户，其中 2 家有追加订单意向；下午上门拜访杭州一家贸易公司，介绍了新品。",
    "整理了本月重点客户名单，给 3 家意向客户发送了报价单；跟进上周的样品反馈，客户比较满意。",
    "参加部门例会，汇报了重点客户进展；下午和客户确认了合同条款，预计本周签约。",
    "处理了一笔退货申请，和仓库确认了补发时间；给两位新客户做了产品演示。",
    "走访了工业园区的 4 家企业，收集到 2 条有效线索，已录入系统。",
]
PLANS = ["明天继续跟进报价，争取拿下第一笔订单。", "准备下周的客户拜访计划，约好周三上门。",
         "催收上月的尾款，确认开票信息。", ""]
PROBLEMS = ["", "", "客户反映交期偏长，需要和仓库协调。", "竞争对手报价低 8%，需要领导支持价格政策。"]
COMMENTS = ["报价之后两天内一定要回访，别让客户凉了。", "思路清楚，继续保持。", "价格问题下周例会上统一讨论。"]


def seed_work_logs(session: Session, users: dict[str, User], *, now: datetime) -> None:
    """Idempotent: does nothing once any log exists. Today's logs are left unwritten for some, so
    the 未提交 list and the reminder have someone to show."""
    if session.scalar(select(func.count(WorkLog.id))):
        return
    salesperson = session.scalar(select(Role.id).where(Role.name == "业务员"))
    if salesperson is not None:
        work_logs.save_settings(session, role_ids=[salesperson], hour=work_logs.DEFAULT_HOUR)
    today = local_date(now, TZ)
    last_workday = today - timedelta(days=1)
    while last_workday.weekday() >= 5:
        last_workday -= timedelta(days=1)
    n = 0
    for back in range(7, 0, -1):
        day = today - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for i, name in enumerate(WRITERS):
            user = users.get(name)
            if user is None:
                continue
            n += 1
            pick = back + i
            actor = Actor.from_user(user, today=day)
            at = datetime.combine(day, datetime.min.time(), tzinfo=now.tzinfo) + timedelta(hours=10, minutes=n % 50)
            log = work_logs.submit(session, actor, period=WorkLogPeriod.DAILY, day=day, now=at, tz=TZ,
                                   draft=Draft(CONTENT[pick % len(CONTENT)], PLANS[pick % len(PLANS)],
                                               PROBLEMS[pick % len(PROBLEMS)]))
            if day < last_workday:  # the older ones were read and some commented on; the last working day's wait
                for recipient in log.recipients:
                    recipient.read_at = at + timedelta(hours=3)
                if n % 3 == 0 and user.superior is not None:  # the superior reads every log sent to them
                    work_logs.comment(session, Actor.from_user(user.superior, today=day), log.id,
                                      COMMENTS[n % len(COMMENTS)], now=at + timedelta(hours=4))
    monday = today - timedelta(days=today.weekday() + 7)
    if "chenxm" in users:
        work_logs.submit(session, Actor.from_user(users["chenxm"], today=monday + timedelta(days=6)),
                         period=WorkLogPeriod.WEEKLY, day=monday, now=now - timedelta(days=today.weekday() + 1),
                         tz=TZ, draft=Draft("本周共拜访客户 12 家，新增意向客户 3 家，签订合同 1 份。",
                                            "下周重点跟进两家大客户的招标。", "样品寄送周期较长。"))
    session.flush()
