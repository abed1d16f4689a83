"""The periodic schedule: one table, fed to `rq cron` in production and to the in-process
scheduler in embedded mode. Cron strings are in the firm's local time (TIMEZONE)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter
from flask import Flask

from jobs import (
    backup, contracts, file_retention, maintenance, messaging, quotes, recovery, recycle, reminders, reports,
)
from jobs import payment_plans  # 回款计划
from jobs import document_text  # 文档中心: text for search
from jobs import calendar as calendar_jobs  # 日程
from jobs import tasks  # 待办 (issue 21)
from jobs import work_logs  # 工作日志
from jobs import care as care_jobs  # 满意度回访, 生日关怀 (issue 22)
from jobs import sla as sla_jobs  # 客户服务 SLA (issue 22)
from jobs.queue import enqueue
from rules import clock

log = logging.getLogger(__name__)

SCHEDULE: list[tuple[Callable[[], object], str]] = [
    (maintenance.heartbeat, "* * * * *"),
    (recovery.recover_abandoned_jobs, "* * * * *"),  # RQ jobs whose worker died: requeued (workers check too)
    (maintenance.purge_old_login_logs, "30 3 * * *"),
    (file_retention.purge_expired_files, "40 3 * * *"),  # import/export files past FILE_RETENTION_DAYS
    (backup.backup_database, "20 2 * * *"),  # embedded mode: a copy of the SQLite database, BACKUP_KEEP kept
    (reminders.send_due_reminders, "0 8 * * *"),
    (recycle.recycle_customers, "0 1 * * *"),
    (recycle.recycle_leads, "10 1 * * *"),  # 线索池: the same rules, for leads
    (recycle.warn_due_recycles, "30 8 * * *"),
    (quotes.expire_quotes, "5 0 * * *"),  # 已发送 quotes past their 有效期 → 已过期
    (contracts.remind_expiring_contracts, "15 8 * * *"),  # 合同到期提醒 (issue 19)
    (payment_plans.mark_overdue_plans, "15 0 * * *"),  # 回款计划: instalments past due → 逾期
    (payment_plans.send_plan_reminders, "35 8 * * *"),  # 回款提醒: before due and on 逾期
    (messaging.dispatch_pending, "* * * * *"),   # scheduled sends, retries, held by quiet hours or Redis
    (messaging.birthday_greetings, "5 * * * *"),
    (messaging.holiday_greetings, "10 * * * *"),
    (messaging.run_sfa, "15 * * * *"),
    (reports.refresh_summaries, "*/10 * * * *"),  # report totals on large databases
    (document_text.extract_pending, "*/5 * * * *"),  # 文档中心: versions whose text was not read yet
    (calendar_jobs.remind_upcoming_events, "* * * * *"),  # 日程: 提前提醒 before each occurrence
    (tasks.remind_due_tasks, "50 8 * * *"),  # 待办: overdue and due soon, grouped per user
    (work_logs.remind_missing_work_logs, "2 * * * *"),  # 工作日志: 未提交 reminders from the set hour, once a day
    (care_jobs.send_satisfaction_surveys, "*/10 * * * *"),  # 满意度回访: tickets just resolved (issue 22)
    (care_jobs.send_birthday_care, "20 * * * *"),  # 生日关怀短信, once per person a year (issue 22)
    (sla_jobs.watch_sla, "*/5 * * * *"),  # SLA: 即将超时 to assignees, 已超时 escalated to team leaders, once each
]


class EmbeddedScheduler(threading.Thread):
    """Wakes every few seconds (in real time) and enqueues whatever the schedule says is due;
    what is due is decided by the process clock (rules.clock), so a pinned or moved clock fires
    exactly what a real day at that instant would."""

    def __init__(self, app: Flask, schedule=SCHEDULE, tick_seconds: float = 5.0) -> None:
        super().__init__(name="kechi-scheduler", daemon=True)
        self.app = app
        self.schedule = schedule
        self.tick_seconds = tick_seconds
        self.stopped = threading.Event()
        self.zone = ZoneInfo(app.config["TIMEZONE"])

    def run(self) -> None:
        now = self._now()
        due = {func: croniter(expr, now).get_next(datetime) for func, expr in self.schedule}
        while not self._sleep():
            now = self._now()
            for func, expr in self.schedule:
                if due[func] <= now:
                    due[func] = croniter(expr, now).get_next(datetime)
                    with self.app.app_context():
                        try:
                            enqueue(func)
                        except Exception:  # the scheduler must outlive one failing job
                            log.exception("periodic job %s failed", func.__name__)

    def _now(self) -> datetime:
        return clock.now().astimezone(self.zone)

    def _sleep(self) -> bool:
        """One tick; True once stopped. A plain sleep rather than Event.wait(timeout): a timed
        wait never returns under libfaketime (`make test-clock`, wolfcw/libfaketime#390)."""
        time.sleep(self.tick_seconds)
        return self.stopped.is_set()

    def stop(self) -> None:
        self.stopped.set()


def start_embedded_scheduler(app: Flask) -> EmbeddedScheduler:
    scheduler = EmbeddedScheduler(app)
    scheduler.start()
    return scheduler
