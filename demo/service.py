"""Demo 工单: two weeks of calls to the tea firm's service desk — complaints, repairs of teaware,
questions, suggestions, returns — in every status category, with replies and internal notes, made
through rules/tickets like an agent would (so numbers, timelines and the SLA hooks all run)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Contact, Customer, Order, OrderLine, Product, Role, User
from models.service import ServiceTeam, Ticket
from rules import dictionaries, org, tickets
from rules.actor import Actor
from rules.clock import local_date
from rules.dictionaries import DictKind

TZ = "Asia/Shanghai"
# Service staff, when the SLA demo (run before this one) added none.
AGENTS = [("wujing", "吴静", "客服"), ("zhenghai", "郑海", "客服主管")]

# (hours ago, type, channel, priority, subject, description, product code, where it ends, replies/notes)
# where it ends: the status name it is moved to (None: stays 新建); "reopened": closed, then reopened.
DEMO_TICKETS = [
    (330, "维修", "phone", "high", "紫砂壶壶盖有裂纹", "客户收到后第二次使用发现壶盖边缘有细裂纹。", "ZSH01", "已关闭",
     [("reply", "您好，已安排换新壶盖，顺丰寄出后发单号给您。"), ("note", "仓库确认有同批次壶盖库存。")]),
    (300, "投诉", "wechat", "urgent", "龙井礼盒外包装破损", "春节送礼用，外盒压坏，客户很不满意。", "LH01", "已关闭",
     [("reply", "非常抱歉，马上为您补发新礼盒，破损的不用寄回。"), ("reply", "补发礼盒已签收，再次致歉。")]),
    (240, "咨询", "phone", "low", "普洱茶饼怎么存放", "客户问普洱放冰箱可不可以。", "PE357", "已解决",
     [("reply", "普洱不要放冰箱，放在通风、避光、无异味的地方，湿度 60%-70% 为宜。")]),
    (200, "退换货", "phone", "normal", "碧螺春受潮结块要求换货", "收到时包装完好，开袋后茶叶有结块。", "BLC500", "已解决",
     [("note", "批次 2026-09 已抽查，其他客户未反映。"), ("reply", "已为您换一袋新茶，旧的不用退回。")]),
    (170, "建议", "web", "low", "希望礼盒能印公司标志", "团购客户希望定制礼盒外包装。", "LH02", "已关闭",
     [("reply", "感谢建议，已转给产品部门评估，50 套以上可以定制。")]),
    (150, "维修", "visit", "high", "玻璃煮茶壶底座不加热", "煮茶壶通电后指示灯亮但不加热。", "BLH01", "reopened",
     [("reply", "师傅上门检查，更换了温控器。")]),
    (120, "投诉", "phone", "high", "发货比约定晚了三天", "客户订的茶叶说好周一到，周四才到。", None, "等待客户",
     [("reply", "已向物流核实延误原因，正在等您确认是否需要补偿方案。")]),
    (96, "维修", "phone", "normal", "品茗杯釉面有黑点", "一盒六只里有两只杯口釉面有黑点。", "BZ06", "等待配件",
     [("note", "等厂家补发两只同批次品茗杯。"), ("reply", "已向厂家申请补发，到货后第一时间寄给您。")]),
    (72, "咨询", "wechat", "normal", "大红袍能不能开增值税专票", "客户公司采购要专票。", "DHP100", "处理中",
     [("reply", "可以开专票，请提供开票资料，我们转给财务。")]),
    (50, "投诉", "phone", "urgent", "收到的咖啡豆不是下单的烘焙度", "下单中度烘焙，收到深度烘焙。", "KF1KG", "处理中",
     [("note", "仓库核对发货记录中。")]),
    (30, "退换货", "email", "normal", "快递纸箱规格不对", "要 20 只一捆的大号，收到中号。", "ZX20", "处理中", []),
    (20, "维修", "phone", "high", "紫砂壶出水不畅", "壶嘴出水断断续续，怀疑内部堵塞。", "ZSH01", None, []),
    (8, "咨询", "phone", "normal", "祁门红茶和大红袍哪个适合送长辈", "客户准备年货。", "QM200", None, []),
    (5, "投诉", "wechat", "high", "客服电话打了三次没人接", "客户周末来电没人接，情绪较大。", None, None,
     [("note", "周末值班表需要调整，已告知主管。")]),
    (2, "建议", "web", "low", "希望小程序可以查物流", "客户希望在线查快递进度。", None, None, []),
    (1, "维修", "visit", "urgent", "煮茶壶插头冒烟", "客户说插头处冒烟，已拔掉电源。", "BLH01", None, []),
]


def _agents(session: Session) -> list[User]:
    """The service staff: those the SLA demo made, else two of our own."""
    found = list(session.scalars(select(User).join(Role, User.role_id == Role.id)
                                 .where(Role.name.in_(["客服", "客服主管"]), User.active.is_(True)).order_by(User.id)))
    if found:
        return found
    department = org.ensure_department_path(session, ["客服部"])
    for username, name, role in AGENTS:
        role_row = session.scalar(select(Role).where(Role.name == role))
        found.append(org.create_user(session, username=username, password="kechi123", display_name=name,
                                     role=role_row, department=department, mobile=f"1390013{len(found):04d}",
                                     email=f"{username}@demo.kechi.local"))
    session.flush()
    return found


def _customer_with_order(session: Session, code: str | None, i: int) -> tuple[Customer, Order | None]:
    """A customer who bought the product (with that order), else one of the first customers."""
    if code is not None:
        row = session.execute(
            select(Order).join(OrderLine, OrderLine.order_id == Order.id).join(Product, Product.id == OrderLine.product_id)
            .where(Product.code == code).order_by(Order.id).offset(i % 3).limit(1)).scalar()
        if row is not None:
            return session.get(Customer, row.customer_id), row
    live = select(Customer).where(Customer.deleted_at.is_(None))
    count = session.scalar(select(func.count()).select_from(live.subquery())) or 1
    # every seventh customer, wrapping round a small demo (20 customers) instead of running out
    customer = session.scalars(live.order_by(Customer.id).offset(i * 7 % count).limit(1)).first()
    return customer, None


def seed_service(session: Session, *, now: datetime) -> None:
    """Idempotent: does nothing once any ticket exists."""
    if session.scalar(select(func.count(Ticket.id))) or not session.scalar(select(func.count(Customer.id))):
        return
    agents = _agents(session)
    actors = [Actor.from_user(u, today=local_date(now, TZ), has_shares=False) for u in agents]
    lead = next((a for a in actors if a.can(tickets.ASSIGN)), actors[0])
    types = {item.name: item.id for item in dictionaries.items(session, DictKind.TICKET_TYPE)}
    statuses = {s.name: s.id for s in tickets.statuses(session)}
    teams = list(session.scalars(select(ServiceTeam).where(ServiceTeam.active.is_(True)).order_by(ServiceTeam.id)))
    for i, (hours, kind, channel, priority, subject, text, code, ends, notes) in enumerate(DEMO_TICKETS):
        at = now - timedelta(hours=hours)
        customer, order = _customer_with_order(session, code, i)
        if customer is None:
            return
        contact = session.scalars(select(Contact).where(Contact.customer_id == customer.id)
                                  .order_by(Contact.is_primary.desc(), Contact.id).limit(1)).first()
        agent = actors[i % len(actors)]
        ticket = Ticket(customer_id=customer.id, contact_id=contact.id if contact else None, channel=channel,
                        type_id=types.get(kind), priority=priority, subject=subject, description=text,
                        order_id=order.id if order else None,
                        product_id=session.scalar(select(Product.id).where(Product.code == code)) if code else None,
                        team_id=teams[i % len(teams)].id if teams else None,
                        assignee_id=agent.user_id if i % 5 != 4 else None)
        tickets.create(session, ticket, actor=lead, now=at, tz=TZ)
        # Most are answered within two hours a step and solved in time; every third one drags on
        # (the SLA pages need some late ones to show).
        step = timedelta(hours=min(max(hours, 2) / (len(notes) + 3), 40 if i % 3 == 0 else 2))
        when = at
        for kind_of, body in notes:
            when += step
            tickets.reply(session, ticket.id, body, actor=agent, now=when, internal=kind_of == "note")
        if ends is None:
            continue
        when += step
        if ends == "reopened":
            tickets.move(session, ticket.id, statuses["已解决"], actor=agent, now=when)
            tickets.move(session, ticket.id, statuses["处理中"], actor=agent, now=when + timedelta(days=2),
                         note="客户两天后来电说又不加热了，重新打开")
            continue
        if ends in ("已解决", "已关闭", "等待客户", "等待配件"):
            tickets.move(session, ticket.id, statuses["处理中"], actor=agent, now=when - step / 2)
        if ends != "处理中":
            tickets.move(session, ticket.id, statuses[ends], actor=agent, now=when)
        else:
            tickets.move(session, ticket.id, statuses["处理中"], actor=agent, now=when)
    session.flush()
