"""What waits in a pool: customers (客户池) or leads (线索池). rules/pool.py and rules/recycle.py
are written once against a PoolSubject, so claiming, releasing, assigning, recalling, the
limits, the cooldown and the nightly recycle are the same rules for both; a subject only says
which table and event log it moves, which rows are still live, what counts towards the owned
limit, which permissions guard the moves, and how its refusals are worded."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, or_, true

from models.customer import Customer, OwnershipEvent
from models.lead import OPEN_LEAD_STATES, Lead, LeadEvent
from models.pool import PoolKind
from rules.actor import Actor
from rules.links import ListKind
from rules.scope import customer_assign_clause, lead_assign_clause

Clause = ColumnElement[bool]


@dataclass(frozen=True)
class PoolSubject:
    kind: PoolKind
    model: Any                    # Customer | Lead
    event: Any                    # OwnershipEvent | LeadEvent
    fk: str                       # the event's column naming the record
    default_pool_name: str        # stored data, not shown through the catalogue
    claim_permission: str
    assign_permission: str
    recall_permission: str
    # Rows that may move at all (not in the recycle bin; a lead still open).
    live: Callable[[], Clause]
    # What a claim also needs at `now` (a customer out of its protection).
    claimable: Callable[[datetime], Clause]
    # What a manager may 指派 (rules/scope.py): owned in scope, or waiting in one of `pool_ids`.
    assignable: Callable[[Actor, list[int]], Clause]
    # Owned rows that count towards 拥有上限 (deals_count_as_owned: does a customer with a deal count).
    counted: Callable[[bool], Clause]
    # Columns reset when a record goes back to the pool, besides owner, pool and claim time.
    cleared: Mapping[str, Any] = field(default_factory=dict)
    # Columns the recycle rules read (None: the subject has no such clock).
    activity_column: Any = None
    level_column: Any = None
    deal_column: Any = None
    # Where a notice sends the new owner of assigned records, and the former owner of recycled ones.
    owned_list: ListKind = ListKind.CUSTOMER
    recycled_list: ListKind = ListKind.OWNERSHIP_EVENT
    # Refusals and notices in the subject's own words: key -> message builder.
    say: Mapping[str, Callable[..., Any]] = field(default_factory=dict)

    @property
    def event_fk(self) -> Any:
        return getattr(self.event, self.fk)


CUSTOMERS = PoolSubject(
    kind=PoolKind.CUSTOMER, model=Customer, event=OwnershipEvent, fk="customer_id",
    default_pool_name="公共客户池",
    claim_permission="pool.claim", assign_permission="pool.assign", recall_permission="pool.recall",
    live=lambda: Customer.deleted_at.is_(None),
    claimable=lambda now: or_(Customer.protected_until.is_(None), Customer.protected_until < now),
    assignable=customer_assign_clause,
    counted=lambda deals: true() if deals else Customer.has_deal.is_(False),
    cleared={"protected_until": None},
    activity_column=Customer.last_activity_at, level_column=Customer.value_level_id, deal_column=Customer.has_deal,
    say={
        "no_claim": lambda: _l("您没有领用客户的权限"),
        "taken": lambda name: _l("客户“%(n)s”已被他人领用", n=name),
        "owned_limit": lambda n, m: _l("已达到客户拥有上限：您已有 %(n)d 个客户，上限 %(m)d 个", n=n, m=m),
        "daily_limit": lambda n, m: _l("已达到每日领用上限：今天已领用 %(n)d 个，上限 %(m)d 个", n=n, m=m),
        "cooldown": lambda d: _l("放弃或被回收的客户需 %(d)d 天后才能再次领用", d=d),
        "no_assign": lambda: _l("您没有指派客户的权限"),
        "inactive": lambda name: _l("%(n)s 已停用，不能接收客户", n=name),
        "changed": lambda: _l("客户已被他人改动，请刷新后重试"),
        "assigned": lambda who, n: _l("%(who)s 给您指派了 %(n)d 位客户", who=who, n=n),
        "no_recall": lambda: _l("您没有收回客户的权限"),
        "recycled": lambda n: _l("%(n)d 位客户因长期未跟进已被收回客户池", n=n),
    },
)

LEADS = PoolSubject(
    kind=PoolKind.LEAD, model=Lead, event=LeadEvent, fk="lead_id",
    default_pool_name="公共线索池",
    claim_permission="lead.claim", assign_permission="lead.assign", recall_permission="lead.recall",
    # A converted or invalid lead stays where it is: never claimed, moved or recycled again.
    live=lambda: and_(Lead.deleted_at.is_(None), Lead.status.in_(OPEN_LEAD_STATES)),
    claimable=lambda now: true(),
    assignable=lead_assign_clause,
    counted=lambda deals: true(),
    owned_list=ListKind.LEAD, recycled_list=ListKind.LEAD_POOL,
    say={
        "no_claim": lambda: _l("您没有领用线索的权限"),
        "taken": lambda name: _l("线索“%(n)s”已被他人领用", n=name),
        "owned_limit": lambda n, m: _l("已达到线索拥有上限：您已有 %(n)d 条跟进中的线索，上限 %(m)d 条", n=n, m=m),
        "daily_limit": lambda n, m: _l("已达到每日线索领用上限：今天已领用 %(n)d 条，上限 %(m)d 条", n=n, m=m),
        "cooldown": lambda d: _l("放弃或被回收的线索需 %(d)d 天后才能再次领用", d=d),
        "no_assign": lambda: _l("您没有指派线索的权限"),
        "inactive": lambda name: _l("%(n)s 已停用，不能接收线索", n=name),
        "changed": lambda: _l("线索已被他人改动，请刷新后重试"),
        "assigned": lambda who, n: _l("%(who)s 给您指派了 %(n)d 条线索", who=who, n=n),
        "no_recall": lambda: _l("您没有收回线索的权限"),
        "recycled": lambda n: _l("%(n)d 条线索因长期未跟进已被收回线索池", n=n),
    },
)

SUBJECTS: dict[PoolKind, PoolSubject] = {PoolKind.CUSTOMER: CUSTOMERS, PoolKind.LEAD: LEADS}
