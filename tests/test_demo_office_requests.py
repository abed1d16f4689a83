"""The demo company's 工作请示: a week of requests of every kind around the demo's day, gone
through the real flows: some waiting (李强 has a leave to decide, 钱慧 an expense claim), some
approved, one rejected, one draft."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from conftest import seeded_demo
from models import OfficeRequest, User, db
from rules import approvals
from rules.actor import Actor


def test_demo_requests_of_every_kind_wait_on_my_approvals(app, tmp_path):
    seeded_demo(app, tmp_path)
    with app.app_context():
        rows = db.session.scalars(select(OfficeRequest)).all()
        assert {r.kind for r in rows} == {"general", "leave", "trip", "expense"}
        states = Counter(r.status for r in rows)
        assert states["pending"] >= 3 and states["approved"] >= 2 and states["rejected"] == 1 and states["draft"] == 1

        def waiting(username: str) -> list[str]:
            user = db.session.scalar(select(User).where(User.username == username))
            return [r.doc_type for r in db.session.scalars(approvals.waiting_for(db.session, Actor.from_user(user)))]

        assert "office_leave" in waiting("lizg") and "office_expense" in waiting("qianhui")
        assert "office_general" in waiting("wangjl")
