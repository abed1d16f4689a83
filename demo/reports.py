"""Demo history for the reports: a year of pool moves (claims, releases, recycles) in the
ownership log, so 客户池报表 has something to show. Only history rows are added: every
customer ends where the customer seed left it (pool customers in the pool, owned ones owned)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Customer, OwnershipEvent, OwnershipReason, RecycleRule, User


def seed_pool_history(session: Session, users: list[User], *, now: datetime) -> None:
    rng = random.Random(20261124)
    which_rule = random.Random(7)  # its own stream: the moves themselves stay as they were
    sales = [u for u in users if u.role.name == "业务员" or u.role.name == "主管"]
    if not sales:
        return
    rows = session.execute(select(Customer.id, Customer.owner_id, Customer.created_at).order_by(Customer.id)).all()
    for customer_id, owner_id, created in rows:
        if rng.random() > 0.35:
            continue
        start = now - timedelta(days=rng.randint(20, 320), hours=rng.randint(0, 9))
        if created is not None and start <= created:
            continue  # history only after the customer was entered
        who = rng.choice(sales)
        if owner_id is None:
            # claimed from the pool, later released or recycled back into it
            session.add(OwnershipEvent(customer_id=customer_id, from_user_id=None, to_user_id=who.id,
                                       actor_id=who.id, reason=OwnershipReason.CLAIM, at=start))
            back = rng.choice([OwnershipReason.RELEASE, OwnershipReason.RECYCLE, OwnershipReason.RECYCLE])
            released = back == OwnershipReason.RELEASE
            session.add(OwnershipEvent(customer_id=customer_id, from_user_id=who.id, to_user_id=None,
                                       actor_id=who.id if released else None, reason=back,
                                       note="客户暂无需求" if released else None,
                                       recycle_rule=None if released else which_rule.choice(list(RecycleRule)),
                                       at=start + timedelta(days=rng.randint(3, 18))))
        else:
            # an earlier owner let it go, and the present owner claimed it from the pool
            session.add(OwnershipEvent(customer_id=customer_id, from_user_id=who.id, to_user_id=None,
                                       actor_id=None, reason=OwnershipReason.RECYCLE,
                                       recycle_rule=which_rule.choice(list(RecycleRule)), at=start))
            session.add(OwnershipEvent(customer_id=customer_id, from_user_id=None, to_user_id=owner_id,
                                       actor_id=owner_id, reason=OwnershipReason.CLAIM,
                                       at=start + timedelta(days=rng.randint(1, 10))))
    session.flush()
