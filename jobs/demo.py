"""A believable demo company for first start and for trying the product. Idempotent."""
from __future__ import annotations

import random
from datetime import timedelta

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Customer, CustomerKind, User
from models.base import utcnow
from rules import notifications, org, setup

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
]
DEMO_CUSTOMERS = 300


def demo_logins() -> list[tuple[str, str, str]]:
    return [(username, DEMO_PASSWORD, role) for username, _n, role, _d, _s in DEMO_STAFF]


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
    now = utcnow()
    for user in users.values():
        notifications.notify(session, user_id=user.id, now=now, title="欢迎使用客池CRM",
                             body="这是演示数据：可以随意新建、修改和删除。", link="/admin/")
    return True


def _seed_customers(session: Session, users: list[User], count: int) -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(20261123)
    rng = random.Random(20261123)
    sales = [u for u in users if u.role.name in ("业务员", "主管", "经理")]
    now = utcnow()
    rows = []
    for i in range(count):
        company = rng.random() < 0.75
        owner = rng.choice(sales) if rng.random() < 0.85 else None  # the rest wait in the pool
        rows.append(Customer(
            name=fake.company() if company else fake.name(),
            kind=CustomerKind.COMPANY if company else CustomerKind.PERSON,
            phone=fake.phone_number(),
            province=fake.province(),
            city=fake.city_name(),
            owner_id=owner.id if owner else None,
            department_id=owner.department_id if owner else None,
            created_at=now - timedelta(days=rng.randint(0, 720), minutes=i),
        ))
    session.add_all(rows)
    session.flush()
