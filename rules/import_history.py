"""The history a legacy sheet brings along: when each customer was entered, when it was last and
will next be contacted, and which salesperson (业务员) holds it.

An imported customer is counted where it really began (新增客户走势 and the summaries count by
created_at), and its recycle clock starts at its last contact as the sheet records it (or the
import day when the sheet has none): a customer nobody called for two years is what the pool is
for, whereas one called last week keeps its owner as long as a customer entered by hand would.
A salesperson is named by display name or username and must be an active colleague inside the
importer's data scope; anything else refuses the row with the reason, never a silent owner.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.org import User
from rules import normalize, scope
from rules.actor import Actor

ASSIGN_PERMISSION = "pool.assign"

# (key, label, header aliases, kind) as rules/importing.Column takes them. The dates keep the
# sheet's day; next_contact_at is the model's own date column. 负责人 is no alias of 业务员: in a
# customer sheet it is as often the customer's own person in charge.
COLUMN_SPECS: list[tuple[str, Any, tuple[str, ...], str]] = [
    ("created_on", _l("创建日期"), ("创建日期", "创建时间", "录入日期", "录入时间", "建档日期", "建档时间", "添加日期",
                                  "登记日期", "created", "created at", "created date", "create date"), "date"),
    ("last_contact_on", _l("最后联系"), ("最后联系", "最后联系时间", "最后联系日期", "最近联系", "最近联系时间",
                                     "最后跟进", "最后跟进时间", "上次联系", "上次联系时间", "last contact",
                                     "last contacted"), "date"),
    ("next_contact_at", _l("下次联系"), ("下次联系", "下次联系时间", "下次联系日期", "下次跟进", "下次跟进时间",
                                     "回访日期", "next contact"), "date"),
    ("owner", _l("业务员"), ("业务员", "所属业务员", "负责业务员", "归属人", "跟进人", "销售员", "所属员工",
                          "owner", "salesperson", "sales rep"), "user"),
]
HISTORY_KEYS = frozenset(spec[0] for spec in COLUMN_SPECS)


def drop_future_dates(values: dict[str, Any], *, today: date) -> list[str]:
    """A created or last-contact day after today is a typing error, not history: the day is
    dropped from the row (it is then imported as new today) and the reason returned."""
    problems = []
    for key, label in (("created_on", _l("创建日期")), ("last_contact_on", _l("最后联系"))):
        day = values.get(key)
        if isinstance(day, date) and day > today:
            problems.append(str(_l("%(f)s“%(d)s”晚于今天", f=label, d=day.isoformat())))
            values.pop(key)
    return problems


@dataclass(frozen=True)
class Colleague:
    id: int
    department_id: int | None


class Staff:
    """The salespeople a sheet may name: active users inside the importer's scope, looked up
    once per import by display name and by username."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.actor = actor
        self.by_username: dict[str, Colleague] = {}
        self.by_name: dict[str, list[Colleague]] = {}
        self.departments: dict[int, int | None] = {}
        self.labels: dict[int, str] = {}  # what 值对应 offers: 陈晓明（chenxm）, so two 张伟 are told apart
        rows = session.execute(select(User.id, User.username, User.display_name, User.department_id)
                               .where(User.active.is_(True), scope.owner_clause(User.id, actor))
                               .order_by(User.display_name, User.username))
        for uid, username, display_name, department_id in rows:
            colleague = Colleague(uid, department_id)
            self.by_username[normalize.text(username).lower()] = colleague
            self.by_name.setdefault(normalize.text(display_name).lower(), []).append(colleague)
            self.departments[uid] = department_id
            self.labels[uid] = f"{display_name or username}（{username}）"

    def may_assign(self, user_id: Any) -> bool:
        """Whether a customer may be given to this user: an active colleague in scope, and the
        importer themself unless they may assign customers."""
        return user_id in self.departments and (user_id == self.actor.user_id or self.actor.can(ASSIGN_PERMISSION))

    def assignable(self) -> list[tuple[int, str]]:
        """(user id, label) of everyone a 业务员 cell may be mapped to in 值对应."""
        return [(uid, label) for uid, label in self.labels.items() if self.may_assign(uid)]

    def resolve(self, written: str) -> tuple[int | None, str | None]:
        """(user id, None) for a salesperson the actor may give customers to, else (None, why)."""
        word = normalize.text(written).lower()
        found = self.by_username.get(word)
        if found is None:
            named = self.by_name.get(word, [])
            if len(named) > 1:
                return None, str(_l("有多位员工名为“%(n)s”，请改填其用户名", n=written))
            found = named[0] if named else None
        if found is None:
            return None, str(_l("业务员“%(n)s”不是您权限范围内的在职员工", n=written))
        if found.id != self.actor.user_id and not self.actor.can(ASSIGN_PERMISSION):
            return None, str(_l("业务员“%(n)s”：您没有指派客户的权限，只能导入为自己的客户", n=written))
        return found.id, None

    def department_of(self, user_id: int) -> int | None:
        return self.departments.get(user_id)


def row_times(values: dict[str, Any], *, owner_id: int | None, now: datetime, tz: str) -> dict[str, Any]:
    """The timestamps an imported customer is written with."""
    created_on, last_on = values.get("created_on"), values.get("last_contact_on")
    created_at = min(local_day_start_of(created_on, tz), now) if created_on else now
    last_at = min(local_day_start_of(last_on, tz), now) if last_on else None
    return {"created_at": created_at, "updated_at": now, "last_follow_up_at": last_at,
            "next_contact_at": values.get("next_contact_at"),
            "claimed_at": (last_at or now) if owner_id is not None else None}


def local_day_start_of(day: date, tz: str) -> datetime:
    """The first instant of a local calendar day, in UTC (the reports bucket by local day)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)
