"""The records behind a finance report's figure (账龄, 回款统计, 计划与实际, 逾期, 开票与回款, 合同金额),
as WHERE clauses that the 合同, 回款计划, 回款 and 开票 lists add to their own scoped queries.

A report's link names them with rules/links.QUERY_PARAMETERS (?owner_id=3&outstanding=1&
due_from=2026-09-24&due_to=2026-10-23); admin_views/finance_drill.py reads those parameters into
`FinanceDrill` and these functions turn it into SQL. rules/finance_reports.py counts with the
very same clauses and the same scope (rules/scope.contract_clause, payment_plan_clause,
payment_clause, invoice_clause), so the list a figure opens holds exactly the rows it counted.

"Owner" is the record's own owner_id (a receipt's 业绩归属); "department" is that owner's
department now (a report by department groups by it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from models.contract import Contract, ContractLine, ContractStatus
from models.invoice import Invoice
from models.org import Department, User
from models.payment_plan import PaymentPlan, PlanStatus
from models.sales import Payment
from rules import scope
from rules.actor import Actor
from rules.links import Days, DrillFilter, ListKind, ListLink

F = DrillFilter

# 合同应收: contracts 执行中 or 已完成 (rules/receivables.py keeps the words).
RECEIVABLE_CONTRACT_STATES: tuple[str, ...] = (ContractStatus.ACTIVE.value, ContractStatus.COMPLETED.value)
# An instalment still to be paid: neither 已回款 nor 已作废 (逾期 is one of these: the daily job
# marks it, but ageing goes by due_on so a figure never waits for the job).
OPEN_PLAN_STATES: tuple[str, ...] = (PlanStatus.PENDING.value, PlanStatus.PARTIAL.value, PlanStatus.OVERDUE.value)


@dataclass(frozen=True)
class FinanceDrill:
    owner_id: int | None = None
    owner_department_id: int | None = None       # exactly this department
    owner_department_tree: int | None = None     # this department and those below it
    customer_id: int | None = None
    status_in: tuple[str, ...] = ()
    outstanding: bool = False
    without_plan: bool = False
    due: Days | None = None
    signed: Days | None = None
    end: Days | None = None
    paid: Days | None = None
    issued: Days | None = None
    method: str | None = None
    kind: str | None = None
    product_id: int | None = None


def drill_of(filters: dict[DrillFilter, Any]) -> FinanceDrill:
    """The drill filters of a finance link as the conditions below."""
    return FinanceDrill(
        owner_id=filters.get(F.OWNER), owner_department_id=filters.get(F.OWNER_DEPARTMENT_ONLY),
        owner_department_tree=filters.get(F.OWNER_DEPARTMENT_TREE), customer_id=filters.get(F.CUSTOMER),
        status_in=tuple(filters.get(F.STATUS_IN, ())), outstanding=filters.get(F.OUTSTANDING) == "1",
        without_plan=filters.get(F.WITHOUT_PLAN) == "1", due=filters.get(F.DUE_ON), signed=filters.get(F.SIGNED_ON),
        end=filters.get(F.END_ON), paid=filters.get(F.PAID_ON), issued=filters.get(F.ISSUED_ON),
        method=filters.get(F.METHOD), kind=filters.get(F.PAYMENT_KIND), product_id=filters.get(F.PRODUCT))


def _between(column: Any, days: Days | None) -> list[ColumnElement[bool]]:
    if days is None:
        return []
    found = []
    if days.first is not None:
        found.append(column >= days.first)
    if days.last is not None:
        found.append(column <= days.last)
    return found


def staff_of(department_id: int, *, tree: bool) -> Any:
    """The users of a department (and of those below it when `tree`)."""
    if not tree:
        return select(User.id).where(User.department_id == department_id)
    path = select(Department.path).where(Department.id == department_id).scalar_subquery()
    return select(User.id).join(Department, User.department_id == Department.id).where(Department.path.startswith(path))


def _owner(column: Any, drill: FinanceDrill) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if drill.owner_id is not None:
        found.append(column == drill.owner_id)
    if drill.owner_department_id is not None:
        found.append(column.in_(staff_of(drill.owner_department_id, tree=False)))
    if drill.owner_department_tree is not None:
        found.append(column.in_(staff_of(drill.owner_department_tree, tree=True)))
    return found


def plan_outstanding() -> Any:
    """未回 of one instalment: its amount less what was received or written off against it."""
    return PaymentPlan.amount - PaymentPlan.received


def contract_outstanding() -> Any:
    """未收 of one contract: 应收 less 实收 and 抹零."""
    return Contract.total - Contract.received - Contract.written_off


def live_plan_exists() -> ColumnElement[bool]:
    return (select(PaymentPlan.id).where(PaymentPlan.contract_id == Contract.id, PaymentPlan.status != PlanStatus.VOID)
            .correlate(Contract).exists())


def contract_where(drill: FinanceDrill) -> list[ColumnElement[bool]]:
    c = Contract
    clauses = [*_owner(c.owner_id, drill)]
    if drill.customer_id is not None:
        clauses.append(c.customer_id == drill.customer_id)
    if drill.status_in:
        clauses.append(c.status.in_(drill.status_in))
    if drill.outstanding:
        clauses += [c.status.in_(RECEIVABLE_CONTRACT_STATES), contract_outstanding() > 0]
    if drill.without_plan:
        clauses.append(~live_plan_exists())
    if drill.product_id is not None:
        clauses.append(select(ContractLine.id).where(ContractLine.contract_id == c.id,
                                                     ContractLine.product_id == drill.product_id)
                       .correlate(c).exists())
    clauses += _between(c.signed_on, drill.signed) + _between(c.end_on, drill.end)
    return clauses


def payment_plan_where(drill: FinanceDrill) -> list[ColumnElement[bool]]:
    p = PaymentPlan
    clauses = [*_owner(p.owner_id, drill)]
    if drill.customer_id is not None:
        clauses.append(p.customer_id == drill.customer_id)
    if drill.status_in:
        clauses.append(p.status.in_(drill.status_in))
    if drill.outstanding:
        clauses += [p.status.in_(OPEN_PLAN_STATES), plan_outstanding() > 0]
    clauses += _between(p.due_on, drill.due)
    return clauses


def payment_where(drill: FinanceDrill) -> list[ColumnElement[bool]]:
    p = Payment
    clauses = [*_owner(p.owner_id, drill)]
    if drill.customer_id is not None:
        clauses.append(p.customer_id == drill.customer_id)
    if drill.status_in:
        clauses.append(p.status.in_(drill.status_in))
    if drill.method is not None:
        clauses.append(p.method == drill.method)
    if drill.kind is not None:
        clauses.append(p.kind == drill.kind)
    clauses += _between(p.paid_on, drill.paid)
    return clauses


def invoice_where(drill: FinanceDrill) -> list[ColumnElement[bool]]:
    i = Invoice
    clauses = [*_owner(i.owner_id, drill)]
    if drill.customer_id is not None:
        clauses.append(i.customer_id == drill.customer_id)
    if drill.status_in:
        clauses.append(i.status.in_(drill.status_in))
    clauses += _between(i.issued_on, drill.issued)
    return clauses


WHERE = {ListKind.CONTRACT: contract_where, ListKind.PAYMENT_PLAN: payment_plan_where,
         ListKind.PAYMENT: payment_where, ListKind.INVOICE: invoice_where}
MODELS = {ListKind.CONTRACT: Contract, ListKind.PAYMENT_PLAN: PaymentPlan, ListKind.PAYMENT: Payment,
          ListKind.INVOICE: Invoice}


def scope_clause(kind: ListKind, actor: Actor) -> ColumnElement[bool]:
    return scope.clause_for(MODELS[kind], actor)


def link_where(actor: Actor, link: ListLink) -> list[ColumnElement[bool]]:
    """What the list a finance link opens shows to `actor`: its scope and the link's conditions."""
    return [scope_clause(link.kind, actor), *WHERE[link.kind](drill_of(dict(link.filters)))]


def count(session: Session, actor: Actor, link: ListLink) -> int:
    """How many rows the list behind `link` shows to `actor`."""
    model = MODELS[link.kind]
    return session.scalar(select(func.count(model.id)).where(*link_where(actor, link))) or 0
