"""Where a figure or a reminder leads, as a value: "the order list with these named filters" or
"customer 123", never a URL.

A report bar and a notification used to carry URLs and dict keys ("owner_id:department",
"_view": "follow_up", "/admin/customer/details/?id=3") that rules, filters and views had to agree
on by convention. Now rules say *what* to open with the three vocabularies below, each list view
declares which of its filters answers to which `DrillFilter` (admin_views/links.py), and one
function there turns a link into a URL, so a misspelt name is an AttributeError and a filter a list
lacks fails a test instead of silently opening the wrong rows.

A new list is one line in `ListKind` (its value is the view's endpoint); a new filter is one line
in `DrillFilter` and its declaration on the list view. Notifications store links in the stable
text form of `dump` ("customer/123", "list:due_customer"), resolved to a URL when opened.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple


class ListKind(StrEnum):
    """A page of the back office a link may open: a list (optionally filtered) or one record
    shown by it. The value is the view's endpoint and is stored in notification links, so
    renaming an endpoint needs a data migration."""

    CUSTOMER = "customer"
    DUE_CUSTOMER = "due_customer"          # 待回访客户
    SOON_RECYCLED = "recycle_soon"         # 将被回收
    POOL = "pool"                          # 公共客户
    LEAD_POOL = "lead_pool"                # 线索池
    FOLLOW_UP = "follow_up"                # 联系记录
    OWNERSHIP_EVENT = "ownership_event"    # 流转记录
    ORDER = "order"
    QUOTE = "quote"                        # 报价单 (a record: the share link's first opening)
    OPPORTUNITY = "opportunity"            # 销售机会 (takes QUERY_PARAMETERS)
    LEAD = "lead"                          # 线索 (takes QUERY_PARAMETERS)
    ANNOUNCEMENT = "announcement"
    CONTRACT = "contract"                  # 合同 (takes QUERY_PARAMETERS: rules/finance_drill.py)
    PAYMENT_PLAN = "payment_plan"          # 回款计划 instalments (takes QUERY_PARAMETERS)
    PAYMENT = "payment"                    # 回款 receipts and refunds (takes QUERY_PARAMETERS)
    INVOICE = "invoice"                    # 开票 (takes QUERY_PARAMETERS)
    WORKBENCH = "admin"                    # the front page: one's day at a glance
    APPROVAL = "approval"                  # 我的审批 (a record: one approval request)
    CONTRACT_EXPIRING = "contract_expiring"  # 即将到期的合同
    PAYMENT_PLAN_OVERDUE = "payment_plan_overdue"  # 逾期回款
    PAYMENT_PLAN_WEEK = "payment_plan_week"        # 本周应回款
    EVENT = "event"                        # 日程 (a record: one event on the calendar)
    TASK = "task"                          # 待办 (a record: one task)
    WORK_LOG = "work_log"                  # 工作日志 (a record: one log)
    OFFICE_REQUEST = "office_request"      # 工作请示 (a record: one request)
    TICKET = "ticket"                      # 工单 (a record: one ticket)


class DrillFilter(StrEnum):
    """A list filter named by what it means. Each list declares the names it answers to; the
    value type each name takes is given beside it. "Owner" is the person a list is about: a
    customer's 业务员, an order's 业务员, a follow-up's writer."""

    OWNER = "owner"                                  # int: user id
    OWNER_DEPARTMENT_TREE = "owner_department_tree"  # int: department id, its sub-departments included
    OWNER_DEPARTMENT_ONLY = "owner_department_only"  # int: department id, exactly
    DEPARTMENT = "department"                        # int: the record's own department column
    CREATED_ON = "created_on"                        # Days
    HAPPENED_ON = "happened_on"                      # Days: a follow-up's contact, an ownership move
    ORDER_DATE = "order_date"                        # Days
    LAST_FOLLOW_UP_BEFORE = "last_follow_up_before"  # datetime (aware): before it, or never
    PROVINCE = "province"                            # str, exactly
    CITY = "city"                                    # str, exactly
    MOBILE_PROVINCE = "mobile_province"              # str: a customer's 手机归属地 province, exactly
    CATEGORY = "category"                            # int: dictionary item id
    SOURCE = "source"                                # int: dictionary item id
    INDUSTRY = "industry"                            # int: dictionary item id
    VALUE_LEVEL = "value_level"                      # int: dictionary item id
    STAGE = "stage"                                  # int: dictionary item id
    STAGE_REACHED = "stage_reached"                  # tuple[int, ...]: a stage and every later one
    STATE_IN = "state_in"                            # tuple[str, ...]: order states
    REASON_IN = "reason_in"                          # tuple[str, ...]: ownership move reasons
    FROM_USER = "from_user"                          # int: user id a move took the customer from
    TO_USER = "to_user"                              # int: user id a move gave the customer to
    PRODUCT = "product"                              # int: product id on one of the lines
    PRODUCT_CATEGORY = "product_category"            # int: product category id on one of the lines
    DEPARTMENT_IN = "department_in"                  # tuple[int, ...]: the record's own department, any of them
    OUTCOME = "outcome"                              # str: an opportunity's Outcome (open/won/lost/invalid)
    STAGE_GROUP = "stage_group"                      # int: an opportunity's 阶段组
    PIPELINE_STAGE = "pipeline_stage"                # int: an opportunity's current stage (Stage id)
    PIPELINE_STAGE_REACHED = "pipeline_stage_reached"  # int: Stage id reached (rules/pipeline_drill.reached_clause)
    CLOSE_MONTH = "close_month"                      # str: 2026-12, an opportunity's expected close month
    CLOSED_ON = "closed_on"                          # Days: an opportunity's closed_at (won/lost/invalid)
    LOSS_REASON = "loss_reason"                      # int: 输单原因 dictionary item id
    LEAD_STATUS = "lead_status"                      # str: a lead's LeadStatus
    DUE_ON = "due_on"                                # Days (either end may be None): an instalment's due date
    PLAN_STATUS_IN = "plan_status_in"                # tuple[str, ...]: instalment PlanStatus values
    # The finance lists (rules/finance_drill.py); OWNER there is the record's owner_id.
    CUSTOMER = "customer"                            # int: customer id
    STATUS_IN = "status_in"                          # tuple[str, ...]: the document's own states
    OUTSTANDING = "outstanding"                      # str "1": money still owed on it
    WITHOUT_PLAN = "without_plan"                    # str "1": a contract with no live instalment
    SIGNED_ON = "signed_on"                          # Days: a contract's signing date
    END_ON = "end_on"                                # Days: a contract's end date
    PAID_ON = "paid_on"                              # Days: a receipt's date
    ISSUED_ON = "issued_on"                          # Days: an invoice's date of issue
    METHOD = "method"                                # str: a receipt's method key
    PAYMENT_KIND = "payment_kind"                    # str: receipt / refund
    # 工单 (admin_views/tickets.py declares them on its list's filters)
    SLA_STATE = "sla_state"                          # str: rules/sla.SlaState value, now
    DUE_TODAY = "due_today"                          # str "1": falls due before the end of today, not yet late
    TICKET_STATUS = "ticket_status"                  # int: TicketStatus id
    TICKET_CATEGORY = "ticket_category"              # tuple[str, ...]: StatusCategory values, any of them
    TICKET_TYPE = "ticket_type"                      # int: 工单类型 dictionary item id
    TICKET_PRIORITY = "ticket_priority"              # str: TicketPriority value
    TICKET_CHANNEL = "ticket_channel"                # str: TicketChannel value
    TEAM = "team"                                    # int: ServiceTeam id
    ASSIGNEE = "assignee"                            # int: user id the record is assigned to


# The pipeline lists (销售机会, 线索) take their drill-down as plain query parameters
# (?owner_id=3&outcome=open&close_month=2026-12) that the list reads through
# admin_views/pipeline_drill.py, not as Flask-Admin filter arguments. A Days value becomes
# <name>_from and <name>_to (local ISO days, both included); a tuple repeats the parameter.
QUERY_PARAMETERS: dict[DrillFilter, str] = {
    DrillFilter.OWNER: "owner_id",
    DrillFilter.DEPARTMENT_IN: "department_id",
    DrillFilter.SOURCE: "source_id",
    DrillFilter.STAGE_GROUP: "group_id",
    DrillFilter.PIPELINE_STAGE: "stage_id",
    DrillFilter.PIPELINE_STAGE_REACHED: "reached_stage_id",
    DrillFilter.OUTCOME: "outcome",
    DrillFilter.CLOSE_MONTH: "close_month",
    DrillFilter.CLOSED_ON: "closed",
    DrillFilter.CREATED_ON: "created",
    DrillFilter.LOSS_REASON: "loss_reason_id",
    DrillFilter.LEAD_STATUS: "status",
    # 合同 / 回款计划 / 回款 / 开票 (admin_views/finance_drill.py reads them)
    DrillFilter.OWNER_DEPARTMENT_TREE: "owner_department_tree",
    DrillFilter.OWNER_DEPARTMENT_ONLY: "owner_department",
    DrillFilter.CUSTOMER: "customer_id",
    DrillFilter.STATUS_IN: "status",
    DrillFilter.OUTSTANDING: "outstanding",
    DrillFilter.WITHOUT_PLAN: "without_plan",
    DrillFilter.DUE_ON: "due",
    DrillFilter.SIGNED_ON: "signed",
    DrillFilter.END_ON: "end",
    DrillFilter.PAID_ON: "paid",
    DrillFilter.ISSUED_ON: "issued",
    DrillFilter.METHOD: "method",
    DrillFilter.PAYMENT_KIND: "kind",
    DrillFilter.PRODUCT: "product_id",
}


class CustomFieldFilter(NamedTuple):
    """The list filter of one custom field (自定义字段), named by the field's key: such filters
    come and go with the administrator's definitions, so they cannot be DrillFilter members."""

    key: str


class Days(NamedTuple):
    """Local calendar days, both included. The finance lists take an open end (None): an
    instalment due on or before a day, whatever its age."""

    first: date | None
    last: date | None


FilterValue = int | str | datetime | Days | tuple[str, ...] | tuple[int, ...]


@dataclass(frozen=True)
class ListLink:
    """Open list `kind` narrowed by the named filters (in this order), within the reader's own
    data scope."""

    kind: ListKind
    filters: tuple[tuple[DrillFilter | CustomFieldFilter, FilterValue], ...] = ()

    @classmethod
    def of(cls, kind: ListKind, filters: Mapping[DrillFilter | CustomFieldFilter, FilterValue] | None = None,
           ) -> ListLink:
        return cls(kind, tuple((name if isinstance(name, CustomFieldFilter) else DrillFilter(name), value)
                               for name, value in (filters or {}).items()))

    def names(self) -> set[DrillFilter | CustomFieldFilter]:
        return {name for name, _value in self.filters}


def query_parameters(link: ListLink) -> list[tuple[str, str]]:
    """A pipeline list link as its query parameters, in the link's order."""
    found: list[tuple[str, str]] = []
    for name, value in link.filters:
        if not isinstance(name, DrillFilter) or name not in QUERY_PARAMETERS:
            raise ValueError(f"{link.kind} takes no filter {name}")
        param = QUERY_PARAMETERS[name]
        if isinstance(value, Days):
            found += [(f"{param}_{end}", day.isoformat()) for end, day in (("from", value.first), ("to", value.last))
                      if day is not None]
        elif isinstance(value, tuple):
            found += [(param, str(v)) for v in value]
        else:
            found.append((param, str(value)))
    return found


PARAMETER_LISTS = frozenset({ListKind.OPPORTUNITY, ListKind.LEAD, ListKind.CONTRACT, ListKind.PAYMENT_PLAN,
                             ListKind.PAYMENT, ListKind.INVOICE})


@dataclass(frozen=True)
class RecordLink:
    """Open record `id` as list `kind` shows it (its details page)."""

    kind: ListKind
    id: int


Link = ListLink | RecordLink

_LIST_PREFIX = "list:"


def dump(link: Link) -> str:
    """The stable text a notification stores: "customer/123" or "list:due_customer". Stored
    links name a list, not a filtered one: the filters a report builds hold the report's
    moment and belong to its page."""
    if isinstance(link, RecordLink):
        return f"{link.kind.value}/{int(link.id)}"
    if link.filters:
        raise ValueError("a stored link opens a whole list; narrow it with a list of its own")
    return _LIST_PREFIX + link.kind.value


def load(text: str | None) -> Link | None:
    """The link `dump` wrote, or None for anything else (empty, or a URL from before links
    were values)."""
    if not text:
        return None
    if text.startswith(_LIST_PREFIX):
        kind = _kind(text[len(_LIST_PREFIX):])
        return ListLink(kind) if kind else None
    name, slash, ident = text.partition("/")
    kind = _kind(name)
    if slash and kind and ident.isascii() and ident.isdigit():
        return RecordLink(kind, int(ident))
    return None


def _kind(name: str) -> ListKind | None:
    try:
        return ListKind(name)
    except ValueError:
        return None
