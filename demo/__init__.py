"""A believable demo company for first start and for trying the product. Idempotent."""
from __future__ import annotations

import random
from datetime import timedelta

from faker import Faker
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Contact, CustomField, Customer, CustomerKind, CustomerShare, FollowUp, FollowUpKind, FollowUpTemplate, OwnershipEvent,
    OwnershipReason, PersonalContact, ShareMode, User,
)
from rules import clock
from rules import customers as customer_rules
from rules import pool as pool_rules
from models.dictionary import CUSTOMER_DICT_KINDS
from rules import dictionaries, messaging, normalize, notifications, numbering, org, phone_region, regions, settings, setup
from rules.clock import local_date
from rules.links import ListKind, ListLink
from demo import calendar as demo_calendar
from demo import documents as demo_documents
from demo import finance as demo_finance
from demo import office as demo_office
from demo import office_requests as demo_office_requests
from demo import pipeline as demo_pipeline
from demo import reminders as demo_reminders
from demo import repair as demo_repair  # 维修 (issue 22): after demo/service.py
from demo import reports as demo_reports
from demo import sales as demo_sales
from demo import sla as demo_sla  # 客户服务 SLA (issue 22)
from demo import tasks as demo_tasks  # 待办 (issue 21)
from demo import service as demo_service  # 工单 (issue 22, tickets)
from demo import work_logs as demo_work_logs
from demo import care as demo_care  # 关怀与回访 (issue 22)
from demo import knowledge as demo_knowledge  # 知识库 (issue 22)

DEMO_PASSWORD = "kechi123"
# (username, name, role, department path, superior username)
DEMO_STAFF = [
    ("admin", "系统管理员", "系统管理员", ["总经办"], None),
    ("zhangzong", "张建国", "总经理", ["总经办"], None),
    ("wangjl", "王丽华", "经理", ["销售部"], "zhangzong"),
    ("lizg", "李强", "主管", ["销售部", "销售一部"], "wangjl"),
    ("zhaozg", "赵敏", "主管", ["销售部", "销售二部"], "wangjl"),
    ("chenxm", "陈晓明", "业务员", ["销售部", "销售一部"], "lizg"),
    ("liufang", "刘芳", "业务员", ["销售部", "销售一部"], "lizg"),
    ("sunwei", "孙伟", "业务员", ["销售部", "销售二部"], "zhaozg"),
    ("zhouqin", "周琴", "内勤", ["商务部"], "zhangzong"),
    ("qianhui", "钱慧", "财务", ["财务部"], "zhangzong"),
]
DEMO_CUSTOMERS = 300


def _files_root() -> str:
    """Where uploaded bytes live (config FILES_DIR); seeding always runs inside the app."""
    from flask import current_app

    return current_app.config["FILES_DIR"]


def demo_logins() -> list[tuple[str, str, str]]:
    return [(username, DEMO_PASSWORD, role) for username, _n, role, _d, _s in DEMO_STAFF] + [
        (username, DEMO_PASSWORD, role) for username, _n, role in demo_sla.SERVICE_STAFF]  # 客服部 (demo/sla.py)


def seed_demo(session: Session, *, customers: int = DEMO_CUSTOMERS) -> bool:
    """Create the demo company unless it exists. Returns True if anything was created."""
    if session.scalar(select(User.id).where(User.username == "chenxm")) is not None:
        return False
    roles = setup.ensure_defaults(session)
    users: dict[str, User] = {}
    for username, name, role, dept_path, superior in DEMO_STAFF:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = org.create_user(
                session, username=username, password=DEMO_PASSWORD, display_name=name, role=roles[role],
                department=org.ensure_department_path(session, dept_path),
                superior=users.get(superior) if superior else None,
                mobile=f"1380013{len(users):04d}", email=f"{username}@demo.kechi.local",
            )
        users[username] = user
    if not session.scalar(select(func.count(Customer.id))):
        _seed_customers(session, list(users.values()), customers)
        demo_sales.seed_sales(session, users, now=clock.now())
        demo_reports.seed_pool_history(session, list(users.values()), now=clock.now())
        demo_pipeline.seed_pipeline(session, users, now=clock.now())
        demo_finance.seed_finance(session, users, now=clock.now())
        demo_documents.seed_documents(session, users, now=clock.now(), files_root=_files_root())
        demo_calendar.seed_calendar(session, users, now=clock.now())  # 日程 (issue 21)
    now = clock.now()
    for user in users.values():
        notifications.notify(session, user_id=user.id, now=now, title=_l("欢迎使用客池CRM"),
                             body="这是演示数据：可以随意新建、修改和删除。", link=ListLink(ListKind.WORKBENCH))
    messaging.seed_demo(session, today=local_date(now, "Asia/Shanghai"))
    demo_office.seed_announcements(session, users, now=now)
    demo_tasks.seed_tasks(session, users, now=now)  # 待办 (issue 21)
    demo_work_logs.seed_work_logs(session, users, now=now)
    demo_office_requests.seed_office_requests(session, users, now=now)
    demo_reminders.seed_reminders(session, users, now=now)
    demo_sla.seed_sla(session, users, now=now)  # SLA, 客服 staff, 服务组: before demo/service.py (tickets)
    demo_service.seed_service(session, now=now)  # 工单 (issue 22): after the SLA demo (calendar, policies, groups)
    demo_repair.seed_repairs(session, users, now=now)  # 维修 (issue 22): after the demo tickets
    demo_care.seed_care(session, users, now=now)  # 关怀与回访 (issue 22): after the demo tickets
    demo_knowledge.seed_knowledge(session, users, now=now)  # 知识库 (issue 22)
    return True


FOLLOW_UP_LINES = [
    "电话沟通了采购计划，客户下月有新需求，约好月底再联系。",
    "上门拜访，见到了采购经理，介绍了新产品，客户要求发一份报价。",
    "微信发送了产品资料，客户表示会转给技术部门评估。",
    "客户反馈上批货质量不错，准备追加订单，需要确认交期。",
    "电话未接通，稍后再打。",
    "参加了客户的供应商会议，竞争对手也在，价格压力较大。",
    "邮件发送了合同草稿，等待法务审核。",
]
TEMPLATES = [
    ("首次电话沟通", "phone", "介绍公司和产品；了解客户主营业务、采购负责人和采购周期；约定下次联系时间。"),
    ("上门拜访", "visit", "拜访对象：\n沟通内容：\n客户需求：\n下一步计划："),
    ("节日问候", "wechat", "节日问候，顺便了解近期采购需求。"),
]


def _seed_customers(session: Session, users: list[User], count: int) -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(20261123)
    rng = random.Random(20261123)
    sales = [u for u in users if u.role.name in ("业务员", "主管", "经理")]
    now = clock.now()
    today = local_date(now, "Asia/Shanghai")
    items = {kind: dictionaries.items(session, kind) for kind in CUSTOMER_DICT_KINDS}
    for name, kind, content in TEMPLATES:
        session.add(FollowUpTemplate(name=name, kind=kind, content=content))
    session.add_all([
        CustomField(entity="customer", key="annual_budget", label="年采购额（万元）", field_type="number",
                    show_in_list=False, sort_order=1),
        CustomField(entity="customer", key="grade", label="客户级别", field_type="choice",
                    options=["战略客户", "重要客户", "普通客户"], show_in_list=True, statistics=True, sort_order=2),
        CustomField(entity="contact", key="hobby", label="爱好", field_type="multi_choice",
                    options=["高尔夫", "钓鱼", "喝茶", "跑步"], sort_order=1),
    ])
    pool = pool_rules.default_pool(session)
    pool.hidden_fields = ["phone", "mobile"]
    pool.max_claims_per_day, pool.max_owned, pool.cooldown_days = 10, 200, 7
    pool.recycle_enabled, pool.no_contact_days, pool.idle_days, pool.no_deal_days = True, 15, 60, 365
    provinces = list(regions.tree().values())
    pattern = settings.get(session, "customer_code_pattern")
    for i in range(count):
        company = rng.random() < 0.75
        owner = rng.choice(sales) if rng.random() < 0.85 else None  # the rest wait in the pool
        created = now - timedelta(days=rng.randint(30, 720), minutes=i)
        province = rng.choice(provinces)
        city = rng.choice(list(province.children.values())) if province.children else None
        district = rng.choice(list(city.children)) if city and city.children else None
        name = fake.company() if company else fake.name()
        customer = Customer(
            name=name, mnemonic=normalize.mnemonic(name, person=not company),
            kind=CustomerKind.COMPANY if company else CustomerKind.PERSON,
            code=numbering.next_number(session, customer_rules.CODE_SEQUENCE, pattern,
                                       today=local_date(created, "Asia/Shanghai")),
            phone=fake.phone_number() if rng.random() < 0.5 else None, mobile=fake.phone_number(),
            email=fake.company_email() if company else fake.free_email(),
            province=province.name, city=city.name if city else None, district=district,
            address=fake.street_address(), zip_code=fake.postcode(),
            legal_representative=fake.name() if company else None,
            gender=None if company else rng.choice(["male", "female"]),
            **{f"{kind.value}_id": rng.choice(items[kind]).id for kind in items if rng.random() < 0.9},
            owner_id=owner.id if owner else None, department_id=owner.department_id if owner else None,
            created_by_id=owner.id if owner else None, created_at=created, claimed_at=created if owner else None,
            pool_id=None if owner else pool.id, pool_reason=None if owner else "new",
            pool_entered_at=None if owner else created,
            custom={"annual_budget": rng.choice([20, 50, 120, 300, 800]),
                    "grade": rng.choice(["战略客户", "重要客户", "普通客户", "普通客户"])} if company else {},
        )
        phone_region.fill(customer)  # 手机归属地, as a saved form stores it (the filter and report read it)
        session.add(customer)
        session.flush()
        session.add(OwnershipEvent(customer_id=customer.id, to_user_id=owner.id if owner else None,
                                   actor_id=owner.id if owner else None, reason=OwnershipReason.CREATED, at=created))
        for n in range(rng.randint(1, 3) if company else 1):
            session.add(Contact(customer_id=customer.id, name=fake.name(), is_primary=(n == 0),
                                position=rng.choice(["总经理", "采购经理", "财务", "技术主管", "行政"]) if company else None,
                                mobile=fake.phone_number(), email=fake.free_email()))
        if owner:
            _seed_follow_ups(session, customer, owner, rng, now, today)
    session.flush()
    for customer in session.scalars(select(Customer)):
        customer_rules.reindex(session, customer)
    _seed_shares_and_address_books(session, users, fake, rng, now)


def _seed_follow_ups(session: Session, customer: Customer, owner: User, rng: random.Random, now, today) -> None:
    last = None
    for _ in range(rng.randint(0, 4)):
        when = now - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 8))
        session.add(FollowUp(customer_id=customer.id, user_id=owner.id, content=rng.choice(FOLLOW_UP_LINES),
                             kind=rng.choice(list(FollowUpKind)).value, happened_at=when))
        last = max(last, when) if last else when
    customer.last_follow_up_at = last
    roll = rng.random()
    if roll < 0.08:
        customer.next_contact_at = today  # due today: shows in 待回访客户
    elif roll < 0.35:
        customer.next_contact_at = today + timedelta(days=rng.randint(1, 30))


def _seed_shares_and_address_books(session: Session, users: list[User], fake: Faker, rng: random.Random, now) -> None:
    reps = [u for u in users if u.role.name == "业务员"]
    for giver in reps:
        taker = rng.choice([u for u in reps if u.id != giver.id])
        owned = list(session.scalars(select(Customer).where(Customer.owner_id == giver.id).limit(2)))
        for customer, mode in zip(owned, (ShareMode.READ_ONLY, ShareMode.COLLABORATE)):
            session.add(CustomerShare(customer_id=customer.id, user_id=taker.id, shared_by_id=giver.id, mode=mode,
                                      created_at=now))
    for user in users:
        for _ in range(3):
            session.add(PersonalContact(owner_id=user.id, name=fake.name(), company=fake.company(),
                                        mobile=fake.phone_number(), email=fake.free_email()))
    session.flush()
