"""Data scope truth table: who sees which customer, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Customer, DataScope, Role, User, db
from rules import org, scope
from rules.actor import Actor
from rules.errors import OutOfScope, TreeCycle

# username -> (role, department path, superior)
STAFF = {
    "gm": ("总经理", ("总经办",), None),
    "mgr": ("经理", ("销售部",), "gm"),
    "sup1": ("主管", ("销售部", "销售一部"), "mgr"),
    "rep1": ("业务员", ("销售部", "销售一部"), "sup1"),
    "rep2": ("业务员", ("销售部", "销售一部"), "sup1"),
    "lead": ("组长", ("销售部", "销售二部"), "mgr"),
    "rep3": ("业务员", ("销售部", "销售二部"), "lead"),
    "rep4": ("业务员", ("销售部", "销售二部"), "rep3"),
    "other": ("业务员", ("客服部",), None),
}

VISIBLE = {
    "rep1": {"rep1"},
    "sup1": {"sup1", "rep1", "rep2"},
    "mgr": {"mgr", "sup1", "rep1", "rep2", "lead", "rep3", "rep4"},
    "gm": {"gm", "mgr", "sup1", "rep1", "rep2", "lead", "rep3", "rep4", "other", "pool"},
    "lead": {"lead", "rep3", "rep4"},
    "rep3": {"rep3"},
}


@pytest.fixture
def company(app, make_user, make_customer):
    with app.app_context():
        db.session.add(Role(name="组长", data_scope=DataScope.SELF_AND_SUBORDINATES,
                            permissions=["customer.view"]))
        db.session.commit()
    ids = {}
    for username, (role, dept, boss) in STAFF.items():
        ids[username] = make_user(username, role=role, department=dept, superior=boss)
    customers = {name: make_customer(f"{name}的客户", uid) for name, uid in ids.items()}
    customers["pool"] = make_customer("公海客户", None)
    return ids, customers


def actor_for(username: str) -> Actor:
    return Actor.from_user(db.session.scalar(select(User).where(User.username == username)))


@pytest.mark.both_dbs
@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_each_role_sees_exactly_its_scope(app, company, username):
    _ids, customers = company
    with app.app_context():
        actor = actor_for(username)
        seen = set(db.session.scalars(scope.scoped(select(Customer.id), Customer, actor)))
        expected = {customers[name] for name in VISIBLE[username]}
        assert seen == expected
        outside = set(customers.values()) - expected
        for cid in outside:
            with pytest.raises(OutOfScope):
                scope.get_in_scope(db.session, Customer, cid, actor)
        assert scope.ids_in_scope(db.session, Customer, sorted(outside) + ["x"], actor) == []


@pytest.mark.both_dbs
@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_contacts_and_moves_follow_their_customers_scope(app, company, username):
    """Rows reached through their customer (asked per row, rules/scope.on_visible_customer):
    exactly the visible customers' contacts and moves, none of a binned customer's."""
    from models import Contact, OwnershipEvent
    from conftest import FIXED_NOW

    ids, customers = company
    with app.app_context():
        for name, cid in customers.items():
            db.session.add(Contact(customer_id=cid, name=f"{name}的联系人"))
            # a move done by someone outside every scope here, so only the customer decides
            db.session.add(OwnershipEvent(customer_id=cid, reason="assign", actor_id=ids["other"], at=FIXED_NOW))
        binned = db.session.get(Customer, customers[username])
        binned.deleted_at = FIXED_NOW
        db.session.commit()
        actor = actor_for(username)
        expected = {customers[name] for name in VISIBLE[username]} - {binned.id}
        contacts = set(db.session.scalars(scope.scoped(select(Contact.customer_id), Contact, actor)))
        moves = set(db.session.scalars(scope.scoped(select(OwnershipEvent.customer_id), OwnershipEvent, actor)))
        assert contacts == expected
        # the 总经理 sees every move (his scope holds every mover, and the bin is his to see)
        assert moves == (set(customers.values()) if username == "gm" else expected)


@pytest.mark.both_dbs
def test_reporting_line_moves_with_its_subtree(app, company):
    """Moving a team lead under another boss moves their reports' reports along."""
    ids, customers = company
    with app.app_context():
        lead = db.session.get(User, ids["lead"])
        sup1 = db.session.get(User, ids["sup1"])
        org.set_superior(db.session, lead, sup1)
        db.session.commit()
        rep4 = db.session.get(User, ids["rep4"])
        assert rep4.report_path.startswith(db.session.get(User, ids["sup1"]).report_path)
        sup1.role = db.session.scalar(select(Role).where(Role.name == "组长"))
        db.session.commit()
        seen = set(db.session.scalars(scope.scoped(select(Customer.id), Customer, actor_for("sup1"))))
        assert customers["rep4"] in seen and customers["rep3"] in seen and customers["rep2"] in seen


@pytest.mark.both_dbs
def test_reporting_cycles_and_department_cycles_are_refused(app, company):
    ids, _ = company
    with app.app_context():
        mgr = db.session.get(User, ids["mgr"])
        rep4 = db.session.get(User, ids["rep4"])
        with pytest.raises(TreeCycle, match="下属"):
            org.set_superior(db.session, mgr, rep4)
        db.session.rollback()
        top = org.ensure_department_path(db.session, ["销售部"])
        child = org.ensure_department_path(db.session, ["销售部", "销售一部"])
        with pytest.raises(TreeCycle, match="下级部门"):
            org.place_department(db.session, top, child)


@pytest.mark.both_dbs
def test_moving_a_department_moves_its_subtree_into_a_managers_scope(app, company, make_user, make_customer):
    ids, customers = company
    with app.app_context():
        support = org.ensure_department_path(db.session, ["客服部"])
        sales = org.ensure_department_path(db.session, ["销售部"])
        org.place_department(db.session, support, sales)
        db.session.commit()
        seen = set(db.session.scalars(scope.scoped(select(Customer.id), Customer, actor_for("mgr"))))
        assert customers["other"] in seen


# Messages, replies, running SFA plans and claim requests, per reader. A share of rep2's customer
# with rep1 shows its messages and replies, never its running plans (those act on the customer).
SHARED = {"rep1": {"rep2"}}
MESSAGE_MANAGERS = {"gm", "msgadmin"}  # message.manage: every message and reply
APPROVERS = {"gm", "mgr", "sup1"}  # pool.approve: requests of applicants in scope


def _staff_in_scope(username: str) -> set[str]:
    if username == "msgadmin":
        return {"msgadmin"}
    return (VISIBLE[username] - {"pool"}) | ({"msgadmin"} if username == "gm" else set())


def _customers_in_scope(username: str) -> set[str]:
    return _staff_in_scope(username) | ({"pool"} if username == "gm" else set())


@pytest.fixture
def messages(app, company, make_user, make_customer):
    """For each customer a message (sent by someone outside every scope, so only the customer
    decides), a reply and a running plan; for each colleague a message without a customer and a
    claim request; one reply from an unknown number."""
    from conftest import FIXED_NOW
    from models import ClaimRequest, CustomerShare, Outbox, SfaEnrollment, SfaPlan, SmsReply

    ids, customers = company
    with app.app_context():
        db.session.add(Role(name="短信管理员", data_scope=DataScope.SELF,
                            permissions=["message.send", "message.manage"]))
        db.session.commit()
    ids = {**ids, "msgadmin": make_user("msgadmin", role="短信管理员", department=("客服部",))}
    customers = {**customers, "msgadmin": make_customer("msgadmin的客户", ids["msgadmin"])}
    with app.app_context():
        plan = SfaPlan(name="每周提醒", action="remind", remind_text="打电话", interval_days=7)
        db.session.add(plan)
        db.session.flush()
        for name, cid in customers.items():
            db.session.add(Outbox(channel="sms", key=f"c-{name}", customer_id=cid, user_id=ids["other"],
                                  to_address="13900000000", body=f"c:{name}", created_at=FIXED_NOW))
            db.session.add(SmsReply(mobile="13900000000", content=f"c:{name}", customer_id=cid, received_at=FIXED_NOW))
            db.session.add(SfaEnrollment(plan_id=plan.id, customer_id=cid, next_run_on=FIXED_NOW.date(),
                                         created_at=FIXED_NOW))
        for name, uid in ids.items():
            db.session.add(Outbox(channel="sms", key=f"s-{name}", user_id=uid, to_address="13900000000",
                                  body=f"s:{name}", created_at=FIXED_NOW))
            db.session.add(ClaimRequest(customer_id=customers["pool"], applicant_id=uid, reason=name,
                                        created_at=FIXED_NOW))
        db.session.add(SmsReply(mobile="13700000000", content="unknown", received_at=FIXED_NOW))
        for reader, owners in SHARED.items():
            for owner in owners:
                db.session.add(CustomerShare(customer_id=customers[owner], user_id=ids[reader],
                                             shared_by_id=ids[owner], mode="collaborate", created_at=FIXED_NOW))
        db.session.commit()
    return ids, customers


@pytest.mark.both_dbs
@pytest.mark.parametrize("username", sorted(VISIBLE) + ["msgadmin"])
def test_messages_replies_plans_and_requests_follow_the_scope(app, messages, username):
    from models import ClaimRequest, Outbox, SfaEnrollment, SmsReply

    ids, customers = messages
    names = {cid: name for name, cid in customers.items()}
    with app.app_context():
        actor = actor_for(username)
        outbox = set(db.session.scalars(scope.scoped(select(Outbox.body), Outbox, actor)))
        replies = set(db.session.scalars(scope.scoped(select(SmsReply.content), SmsReply, actor)))
        plans = {names[c] for c in db.session.scalars(scope.scoped(select(SfaEnrollment.customer_id),
                                                                   SfaEnrollment, actor))}
        requests = set(db.session.scalars(scope.scoped(select(ClaimRequest.reason), ClaimRequest, actor)))
        readable = _customers_in_scope(username) | SHARED.get(username, set())
        if username in MESSAGE_MANAGERS:
            assert outbox == {f"c:{n}" for n in customers} | {f"s:{n}" for n in ids}
            assert replies == {f"c:{n}" for n in customers} | {"unknown"}
        else:
            assert outbox == {f"c:{n}" for n in readable} | {f"s:{n}" for n in _staff_in_scope(username)}
            assert replies == {f"c:{n}" for n in readable}
        assert plans == _customers_in_scope(username)  # a share never reaches the running plans
        assert requests == (_staff_in_scope(username) if username in APPROVERS else {username})
        # what the list shows is what one record or a batch may load
        hidden = set(db.session.scalars(select(SfaEnrollment.id))) - set(
            db.session.scalars(scope.scoped(select(SfaEnrollment.id), SfaEnrollment, actor)))
        for enrollment_id in hidden:
            with pytest.raises(OutOfScope):
                scope.get_in_scope(db.session, SfaEnrollment, enrollment_id, actor)
        assert scope.ids_in_scope(db.session, SfaEnrollment, sorted(hidden), actor) == []
