"""维修: the parts a repair ticket used, its labour and charge, free under warranty or billed.

- A part leaves the chosen warehouse when added (rules/stock.change, reason 维修领用; refused
  when short unless negative stock is allowed) and comes back when removed or when the repair is
  cancelled (维修退回). Each is a line on the ticket's timeline (TicketEntry kind REPAIR).
- The charge is labour + parts; under warranty (rules/warranty.py, from the ticket's order or
  contract line) it is 0.
- 收费 (bill) turns the charge into an order of the customer in 已发货: the existing finance
  counts it as 应收 from then on (rules/receivables.py: approved orders owe their amount), its
  receipts are booked on it like any order's, and the customer's page, 应收账龄 and 欠款 lists
  show it. It is born 已发货 because the goods already left stock through the repair and the
  work is done: it can never be shipped (and taken out of stock) a second time; it goes to
  已完成 when the customer signs, as any order does.
- The repair's state moves (维修中 → 已收费 | 已取消) are guarded UPDATEs checked by row count.
Nothing here commits."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.org import User
from models.product import Product, Stock, Warehouse
from models.repair import RepairState, TicketPart, TicketRepair
from models.sales import Order, OrderEvent, OrderLine, OrderStatus
from models.service import EntryKind, Ticket, TicketEntry
from rules import numbering, orders, scope, stock, warranty
from rules.actor import Actor
from rules.clock import local_date
from rules.errors import InvalidValue, PermissionDenied, RuleViolation

ZERO = Decimal("0")
PERMISSION = "service.repair"
LABOUR_CODE = "WX-LABOUR"  # the catalogue item a billed repair's labour is sold as

STATE_LABELS = {RepairState.OPEN: _l("维修中"), RepairState.BILLED: _l("已收费"), RepairState.CANCELLED: _l("已取消")}


class RepairRefused(RuleViolation):
    """The repair is not in a state this change starts from (or lost a race to a colleague)."""


# --- loading ---------------------------------------------------------------------------------

def ticket_for(session: Session, ticket_id: Any, actor: Actor) -> Ticket:
    """The ticket, when the actor sees it (else OutOfScope → 404)."""
    return scope.get_in_scope(session, Ticket, ticket_id, actor)


def repair_of(session: Session, ticket_id: int) -> TicketRepair | None:
    return session.scalar(select(TicketRepair).where(TicketRepair.ticket_id == ticket_id))


def parts_of(session: Session, ticket_id: int) -> list[TicketPart]:
    return list(session.scalars(select(TicketPart).where(TicketPart.ticket_id == ticket_id).order_by(TicketPart.id)))


def _may_change(actor: Actor) -> None:
    if not actor.can(PERMISSION):
        raise PermissionDenied(_l("您没有维修配件出库与收费的权限"))


def _open(session: Session, ticket: Ticket, *, actor: Actor, now: datetime, tz: str,
          version: Any = None) -> TicketRepair:
    """The ticket's repair, begun on first use; refused once billed or cancelled, or when the
    form's `version` is not the stored one. The row is claimed by a guarded UPDATE, so a part
    added while a colleague bills the repair waits for the bill and is then refused, instead of
    leaving stock outside the charge."""
    repair = repair_of(session, ticket.id)
    if version not in (None, "") and str(repair.version if repair else 0) != str(version).strip():
        raise RepairRefused(_l("维修记录已被他人修改，请刷新后再填写"))
    if repair is None:
        repair = TicketRepair(ticket_id=ticket.id, state=RepairState.OPEN, engineer_id=ticket.assignee_id or actor.user_id)
        session.add(repair)
        session.flush()
    if repair.state == RepairState.CANCELLED:
        # Begun again (the customer changed their mind): its parts went back when it was cancelled.
        session.execute(update(TicketRepair).where(TicketRepair.id == repair.id,
                                                   TicketRepair.state == RepairState.CANCELLED)
                        .values(state=RepairState.OPEN).execution_options(synchronize_session=False))
        session.refresh(repair)
        _entry(session, ticket, str(_l("重新开始维修")), actor=actor, now=now)
    if repair.state != RepairState.OPEN:
        raise RepairRefused(_l("该维修%(s)s，不能再修改", s=STATE_LABELS[RepairState(repair.state)]))
    claimed = session.execute(update(TicketRepair).where(TicketRepair.id == repair.id,
                                                         TicketRepair.state == RepairState.OPEN)
                              .values(version=TicketRepair.version + 1)
                              .execution_options(synchronize_session=False)).rowcount
    session.refresh(repair)
    if claimed != 1:
        raise RepairRefused(_l("该维修%(s)s，不能再修改", s=STATE_LABELS[RepairState(repair.state)]))
    # Judged again at every change while in repair: the ticket's order or product may have been corrected.
    repair.warranty_until = warranty.until_for(session, ticket, tz)
    repair.warranty = warranty.covers(repair.warranty_until, local_date(ticket.created_at or now, tz))
    return repair


def _entry(session: Session, ticket: Ticket, body: str, *, actor: Actor, now: datetime) -> None:
    session.add(TicketEntry(ticket_id=ticket.id, kind=EntryKind.REPAIR, author_id=actor.user_id, body=body, at=now))


def _money(raw: Any, name: Any) -> Decimal:
    try:
        value = Decimal(str(raw if raw not in (None, "") else 0).replace(",", "").replace("¥", "").strip())
    except (InvalidOperation, ValueError):
        raise InvalidValue(_l("%(n)s格式不正确，请填写数字", n=name)) from None
    if value < 0 or not value.is_finite() or value >= Decimal("1e11"):
        raise InvalidValue(_l("%(n)s不能为负数", n=name))
    return orders.money(value)


def _quantity(raw: Any) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InvalidValue(_l("数量必须是大于 0 的整数")) from None
    if not 0 < value <= 100_000:
        raise InvalidValue(_l("数量必须是大于 0 的整数"))
    return value


def recompute(session: Session, repair: TicketRepair) -> None:
    """配件费 from the parts still used; the total is 0 under warranty."""
    parts = [p for p in parts_of(session, repair.ticket_id) if not p.returned]
    repair.parts_charge = sum((p.amount for p in parts), ZERO)
    repair.total = ZERO if repair.warranty else orders.money((repair.labour_charge or ZERO) + repair.parts_charge)


# --- parts -----------------------------------------------------------------------------------

def add_part(session: Session, ticket_id: Any, *, product_id: Any, warehouse_id: Any, quantity: Any,
             unit_price: Any = None, version: Any = None, actor: Actor, now: datetime, tz: str) -> TicketPart:
    """更换配件: the part leaves the warehouse now. `version`: the repair's as the form showed it
    (0: none yet), so a second click of the same form takes nothing out of stock again."""
    _may_change(actor)
    ticket = ticket_for(session, ticket_id, actor)
    product = session.get(Product, _positive_id(product_id, _l("请选择配件（产品）")))
    if product is None or not product.active:
        raise InvalidValue(_l("请选择配件（产品）"))
    warehouse = session.get(Warehouse, _positive_id(warehouse_id, _l("请选择出库仓库")))
    if warehouse is None or not warehouse.active:
        raise InvalidValue(_l("请选择出库仓库"))
    count = _quantity(quantity)
    price = (_money(unit_price, _l("单价")) if unit_price not in (None, "")
             else orders.default_price(session, product.id, None) or ZERO)
    repair = _open(session, ticket, actor=actor, now=now, tz=tz, version=version)
    try:
        stock.change(session, product_id=product.id, warehouse_id=warehouse.id, quantity=-count, reason="repair",
                     now=now, actor=actor, note=ticket.number)
    except stock.StockShort:
        have = session.scalar(select(Stock.quantity).where(Stock.product_id == product.id,
                                                           Stock.warehouse_id == warehouse.id)) or 0
        raise stock.StockShort(_l("库存不足：“%(p)s”在“%(w)s”仅剩 %(n)d 件", p=product.name, w=warehouse.name,
                                  n=have)) from None
    part = TicketPart(ticket_id=ticket.id, product_id=product.id, warehouse_id=warehouse.id, quantity=count,
                      unit_price=price, amount=orders.line_amount(count, price, Decimal(1)), at=now,
                      by_id=actor.user_id)
    session.add(part)
    session.flush()
    recompute(session, repair)
    _entry(session, ticket, str(_l("更换配件：%(p)s × %(n)d（%(w)s出库）", p=product.name, n=count, w=warehouse.name)),
           actor=actor, now=now)
    return part


def _positive_id(raw: Any, message: Any) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InvalidValue(message) from None
    if value <= 0:
        raise InvalidValue(message)
    return value


def _give_back(session: Session, ticket: Ticket, part: TicketPart, *, reason: str, actor: Actor,
               now: datetime) -> bool:
    """The part back to its warehouse, once (a guarded UPDATE on `returned`)."""
    moved = session.execute(update(TicketPart).where(TicketPart.id == part.id, TicketPart.returned.is_(False))
                            .values(returned=True, returned_at=now)
                            .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        return False
    stock.change(session, product_id=part.product_id, warehouse_id=part.warehouse_id, quantity=part.quantity,
                 reason="repair_back", now=now, actor=actor, note=f"{ticket.number} {reason}"[:255],
                 allow_negative=True)
    session.refresh(part)
    return True


def remove_part(session: Session, ticket_id: Any, part_id: Any, *, actor: Actor, now: datetime, tz: str) -> TicketPart:
    """撤销配件: the part goes back to the warehouse it came from."""
    _may_change(actor)
    ticket = ticket_for(session, ticket_id, actor)
    part = session.scalar(select(TicketPart).where(TicketPart.id == _positive_id(part_id, _l("记录不存在")),
                                                   TicketPart.ticket_id == ticket.id))
    if part is None:
        raise InvalidValue(_l("该配件记录不存在，请刷新后再试"))
    repair = _open(session, ticket, actor=actor, now=now, tz=tz)
    if not _give_back(session, ticket, part, reason=str(_l("撤销配件")), actor=actor, now=now):
        raise RepairRefused(_l("该配件已退回仓库"))
    recompute(session, repair)
    _entry(session, ticket, str(_l("撤销配件：%(p)s × %(n)d 退回%(w)s", p=part.product.name, n=part.quantity,
                                   w=part.warehouse.name)), actor=actor, now=now)
    return part


# --- labour, charge, billing, cancelling --------------------------------------------------------

def save_labour(session: Session, ticket_id: Any, *, labour_hours: Any, labour_charge: Any, solution: Any,
                engineer_id: Any = None, version: Any = None, actor: Actor, now: datetime, tz: str) -> TicketRepair:
    """工时、工时费、处理结果 and the 维修人员."""
    _may_change(actor)
    ticket = ticket_for(session, ticket_id, actor)
    hours = _money(labour_hours, _l("工时"))
    charge = _money(labour_charge, _l("工时费"))
    repair = _open(session, ticket, actor=actor, now=now, tz=tz, version=version)
    if engineer_id not in (None, ""):
        engineer = session.get(User, _positive_id(engineer_id, _l("请选择维修人员")))
        if engineer is None or not engineer.active:
            raise InvalidValue(_l("请选择在职的维修人员"))
        repair.engineer_id = engineer.id
    repair.labour_hours, repair.labour_charge = hours, charge
    repair.solution = (str(solution).strip() or None) if solution is not None else repair.solution
    recompute(session, repair)
    session.flush()
    _entry(session, ticket, str(_l("维修工时 %(h)s 小时，工时费 ¥%(c)s，合计 ¥%(t)s",
                                   h=f"{hours:.2f}".rstrip("0").rstrip("."), c=f"{charge:,.2f}",
                                   t=f"{repair.total:,.2f}")), actor=actor, now=now)
    return repair


def _move(session: Session, repair: TicketRepair, target: RepairState, **values: Any) -> None:
    moved = session.execute(update(TicketRepair).where(TicketRepair.id == repair.id,
                                                       TicketRepair.state == RepairState.OPEN)
                            .values(state=target, version=TicketRepair.version + 1, **values)
                            .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        now_state = session.scalar(select(TicketRepair.state).where(TicketRepair.id == repair.id))
        raise RepairRefused(_l("该维修刚刚已被他人处理（现在是“%(s)s”），请刷新后再试",
                               s=STATE_LABELS[RepairState(now_state)]))
    session.refresh(repair)


def _labour_product(session: Session) -> Product:
    found = session.scalar(select(Product).where(Product.code == LABOUR_CODE))
    if found is None:
        # Not active: a service, not goods; salespeople do not pick it on their orders.
        found = Product(code=LABOUR_CODE, name=str(_l("维修工时费")), unit=str(_l("项")), cost=ZERO, active=False,
                        notes=str(_l("维修收费时自动建立：工单的工时费以此项目计入订单")))
        session.add(found)
        session.flush()
    return found


def bill(session: Session, ticket_id: Any, *, actor: Actor, now: datetime, tz: str) -> Order:
    """收费: the charge becomes an order of the customer (应收 from now on; see the module's note)."""
    _may_change(actor)
    ticket = ticket_for(session, ticket_id, actor)
    repair = _open(session, ticket, actor=actor, now=now, tz=tz)
    recompute(session, repair)
    if repair.warranty:
        raise RepairRefused(_l("保修期内免费维修，无需收费"))
    if repair.total <= 0:
        raise RepairRefused(_l("维修费用为 0，无需收费；请先填写工时费或更换的配件"))
    customer = ticket.customer
    today = local_date(now, tz)
    order = Order(customer_id=customer.id, salesperson_id=customer.owner_id or actor.user_id,
                  created_by_id=actor.user_id, state=OrderStatus.SHIPPED, order_date=today,
                  tax_rate=orders.tax_rate(session), submitted_at=now, approved_at=now, shipped_at=now,
                  carrier=str(_l("维修服务")), tracking_no=ticket.number,
                  notes=str(_l("维修收费（工单 %(n)s）：配件已随维修工单出库，无需再发货", n=ticket.number)))
    orders.fill_consignee(session, order, customer)
    used = [p for p in parts_of(session, ticket.id) if not p.returned]
    if len({p.warehouse_id for p in used}) == 1:
        order.warehouse_id = used[0].warehouse_id  # a 退货 of the order puts the parts back where they left
    for part in parts_of(session, ticket.id):
        if not part.returned:
            order.lines.append(OrderLine(product=part.product, quantity=part.quantity, unit_price=part.unit_price,
                                         discount_rate=Decimal(1), unit_cost=part.product.cost or ZERO))
    if repair.labour_charge:
        order.lines.append(OrderLine(product=_labour_product(session), quantity=1, unit_price=repair.labour_charge,
                                     discount_rate=Decimal(1), unit_cost=ZERO))
    orders.compute(order)
    order.number = numbering.next_number(session, orders.NUMBER_SEQUENCE,
                                         orders.setting(session, "order_number_pattern"), today=today)
    session.add(order)
    session.flush()
    note = str(_l("维修收费：工单 %(n)s", n=ticket.number))
    for action, before, after in (("submit", None, OrderStatus.PENDING_REVIEW),
                                  ("approve", OrderStatus.PENDING_REVIEW, OrderStatus.PICKING),
                                  ("ship", OrderStatus.PICKING, OrderStatus.SHIPPED)):
        session.add(OrderEvent(order_id=order.id, action=action, from_state=before, to_state=after,
                               actor_id=actor.user_id, note=note, at=now))
    _move(session, repair, RepairState.BILLED, order_id=order.id, billed_at=now)
    _entry(session, ticket, str(_l("维修收费 ¥%(t)s，已生成订单 %(o)s", t=f"{order.total:,.2f}", o=order.number)),
           actor=actor, now=now)
    return order


def cancel(session: Session, ticket_id: Any, *, reason: Any, actor: Actor, now: datetime, tz: str) -> TicketRepair:
    """取消维修: every part still out goes back to its warehouse."""
    _may_change(actor)
    ticket = ticket_for(session, ticket_id, actor)
    why = str(reason or "").strip()[:200]
    if not why:
        raise InvalidValue(_l("请填写取消维修的原因"))
    repair = _open(session, ticket, actor=actor, now=now, tz=tz)
    back = [p for p in parts_of(session, ticket.id)
            if _give_back(session, ticket, p, reason=str(_l("取消维修：%(r)s", r=why)), actor=actor, now=now)]
    _move(session, repair, RepairState.CANCELLED, cancelled_at=now)
    recompute(session, repair)
    listed = "、".join(f"{p.product.name} × {p.quantity}" for p in back)
    _entry(session, ticket, str(_l("取消维修：%(r)s", r=why)) + (str(_l("；配件退回仓库：%(l)s", l=listed)) if back else ""),
           actor=actor, now=now)
    return repair


# --- 维修工单打印 -------------------------------------------------------------------------------

def _build_sheet(session: Session, record_id: Any, actor: Actor) -> tuple[dict[str, Any], int]:
    """The print data of a ticket's repair sheet (print_fields.REPAIR), loaded through scope."""
    from rules import print_data
    ticket = ticket_for(session, record_id, actor)
    repair = repair_of(session, ticket.id)
    product = session.get(Product, ticket.product_id) if ticket.product_id else None
    used = [p for p in parts_of(session, ticket.id) if not p.returned]
    notes = []
    if repair is not None and repair.warranty:
        notes.append(str(_l("保修期内免费维修（保修至 %(d)s）", d=repair.warranty_until.isoformat())))
    # The parts replaced belong to 处理结果: the standard sheet prints it in full.
    solution = [(repair.solution if repair is not None else None) or ""]
    if used:
        solution.append(str(_l("更换配件：%(l)s", l="、".join(f"{p.product.name} × {p.quantity}" for p in used))))
    if repair is not None and repair.labour_hours:
        notes.append(str(_l("工时 %(h)s 小时", h=f"{repair.labour_hours:.2f}".rstrip("0").rstrip("."))))
    engineer = (repair.engineer if repair is not None and repair.engineer else None) or ticket.assignee
    fee = repair.total if repair is not None else ZERO
    return {
        "customer": print_data._customer(ticket.customer),
        "ticket": {"number": ticket.number, "date": print_data._local_date(ticket.created_at),
                   "product": " ".join(x for x in (product.name, product.spec or "") if x) if product else "",
                   "serial_no": ticket.serial_no or "", "fault": ticket.description or ticket.subject,
                   "solution": "；".join(x for x in solution if x),
                   "engineer": print_data._name(engineer) if engineer else "", "status": ticket.status.name,
                   "fee": fee, "fee_words": print_data.amount_in_words(fee), "notes": "；".join(notes)},
    }, ticket.id


def register_print() -> None:
    from models.printing import PrintDocType
    from rules import print_data
    print_data.register(PrintDocType.REPAIR, _build_sheet)


register_print()


def find_products(session: Session, term: Any, *, limit: int = 20) -> list[Product]:
    """配件 look-up for the add-part form: active products by code, name or 助记码."""
    from rules import products
    clause = products.search_clause(str(term or ""))
    if clause is None:
        return []
    return list(session.scalars(select(Product).where(clause, Product.active.is_(True), Product.code != LABOUR_CODE)
                                .order_by(Product.code).limit(limit)))


def warehouses(session: Session) -> list[Warehouse]:
    return list(session.scalars(select(Warehouse).where(Warehouse.active.is_(True)).order_by(Warehouse.id)))


def stock_in(session: Session, product_ids: list[int]) -> dict[tuple[int, int], int]:
    """(product, warehouse) → quantity, to show what each warehouse holds beside a choice."""
    if not product_ids:
        return {}
    rows = session.execute(select(Stock.product_id, Stock.warehouse_id, Stock.quantity)
                           .where(Stock.product_id.in_(product_ids)))
    return {(p, w): q for p, w, q in rows}
