"""Who may open what, checked over the whole panel rather than page by page, so that a new view,
model or permission cannot quietly forget its part:
- every model view over a scoped model is a ScopedModelView, and every model has a scope rule in
  rules/scope.py or a written reason why it has none;
- a page or list that declares no access is closed to everyone, the administrator included;
- every permission string used anywhere is in the catalogue (rules/permissions.py);
- the messaging lists answer 404 for a record outside the scope, on every path."""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from flask_admin import expose
from flask_admin.model import BaseModelView
from sqlalchemy import select

import models
from admin_views.base import SIGNED_IN, PermissionView, ScopedModelView, SecureModelView
from conftest import FIXED_NOW, PASSWORD, Browserish, build_app, list_table
from models import Customer, DataScope, DictItem, Role, db
from models.messaging import Outbox, SfaEnrollment, SfaPlan, SmsReply
from rules import org, orders, scope
from rules.permissions import ALL_PERMISSIONS, DEFAULT_ROLES

ROOT = Path(__file__).resolve().parent.parent

# Model views over a scoped model that are deliberately not ScopedModelViews, by endpoint, with why.
UNSCOPED_VIEWS: dict[str, str] = {}


def registered_views(app):
    return app.extensions["admin"][0]._views


def all_models() -> list[type]:
    """Every mapped class, each module of models/ imported first (not all are re-exported)."""
    for info in pkgutil.iter_modules(models.__path__):
        importlib.import_module(f"models.{info.name}")
    return sorted({m.class_ for m in db.Model.registry.mappers}, key=lambda c: c.__name__)


# --- data scope --------------------------------------------------------------------------------

def test_every_model_view_over_a_scoped_model_is_scoped(app):
    unscoped = [f"{view.endpoint} ({type(view).__name__} over {view.model.__name__})"
                for view in registered_views(app)
                if isinstance(view, BaseModelView) and scope.is_scoped(view.model)
                and not isinstance(view, ScopedModelView) and view.endpoint not in UNSCOPED_VIEWS]
    assert unscoped == [], "list, count, export, details and batch actions must go through rules/scope.py"


def test_every_model_has_a_scope_rule_or_a_reason_for_none():
    """A new domain's tables land in rules/scope._CLAUSES (who sees which rows) or in
    rules/scope.UNSCOPED (why everyone who may open the page sees every row)."""
    undecided = [m.__name__ for m in all_models() if scope.is_scoped(m) == (m in scope.UNSCOPED)]
    assert undecided == [], "each model needs exactly one of: a clause in _CLAUSES, a reason in UNSCOPED"


# --- deny by default ---------------------------------------------------------------------------

def test_every_page_declares_who_may_open_it(app):
    for view in registered_views(app):
        access = view.access()
        assert access is SIGNED_IN or access, f"{view.endpoint} declares no access: nobody can open it"


def test_a_user_without_permissions_opens_only_the_pages_for_everyone(app, client, make_user):
    with app.app_context():
        db.session.add(Role(name="访客", data_scope=DataScope.SELF, permissions=[]))
        db.session.commit()
    make_user("guest", role="访客")
    client.login("guest")
    for view in registered_views(app):
        url = view.url.rstrip("/") + "/"
        expected = 200 if view.access() is SIGNED_IN else 403
        assert client.get(url).status_code == expected, url
    assert client.get("/admin/").status_code == 200  # the workbench


def test_a_page_or_list_that_declares_nothing_is_closed_even_to_the_administrator(tmp_path):
    class Undeclared(PermissionView):
        @expose("/")
        def index(self) -> str:
            return "open"

    class UndeclaredList(SecureModelView):
        pass

    # An app of its own: views can only be added before an app has served a request.
    own = build_app("sqlite", tmp_path)
    admin = own.extensions["admin"][0]
    admin.add_view(Undeclared(name="undeclared", endpoint="undeclared"))
    admin.add_view(UndeclaredList(DictItem, name="undeclared list", endpoint="undeclared_list"))
    with own.app_context():
        administrator = db.session.scalar(select(Role).where(Role.name == "系统管理员"))
        org.create_user(db.session, username="admin", password=PASSWORD, display_name="管理员", role=administrator)
        db.session.commit()
    client = Browserish(own.test_client())
    assert client.get("/admin/undeclared/").status_code == 302  # anonymous: to the login page
    client.login("admin")
    assert client.get("/admin/undeclared/").status_code == 403
    assert client.get("/admin/undeclared_list/").status_code == 403


# --- the permission catalogue ------------------------------------------------------------------

CHECK_CALLS = {"can", "can_any", "allowed", "_allowed", "require"}
LABEL_CALLS = {"_l", "_", "gettext", "lazy_gettext", "ngettext"}
PY_FOLDERS_SKIPPED = {"tests", ".venv", "venv", "node_modules", "instance", "test-artifacts", "static", "__pycache__",
                      ".git"}
TEMPLATE_PATTERNS = [
    re.compile(r"""\.can(?:_any)?\(\s*['"]([^'"]*)['"]"""),
    re.compile(r"""['"]([^'"]+)['"]\s+(?:not\s+)?in\s+\(?\s*current_user\.role\.permissions"""),
]


def _strings(node: ast.AST) -> list[ast.Constant]:
    """The string constants a permission expression can evaluate to: through tuples, lists, sets,
    dict values, conditionals, `or`, and calls such as frozenset(...) — not into labels (_l)
    or the test of a conditional."""
    if isinstance(node, ast.Constant):
        return [node] if isinstance(node.value, str) else []
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for elt in node.elts for s in _strings(elt)]
    if isinstance(node, ast.Dict):
        return [s for value in node.values for s in _strings(value)]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [s for value in node.values for s in _strings(value)]
    if isinstance(node, ast.Starred):
        return _strings(node.value)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        return _strings(node.elt)
    if isinstance(node, ast.Call) and _name(node.func) not in LABEL_CALLS:
        return [s for arg in node.args for s in _strings(arg)]
    return []


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _mentions_permissions(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "permissions" for n in ast.walk(node))


def permission_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string used as a permission in Python source: the argument of
    `.can(...)`/`require(...)`, the value of any `permission*`/`*PERMISSION*` name or attribute
    (permission_view, action_permissions, IMPORT_PERMISSIONS...), a `permission(s)=` keyword, a
    Transition's permissions, and `"x" in ....permissions`."""
    found: list[ast.Constant] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            if _name(node.func) in CHECK_CALLS:
                found += [s for arg in node.args for s in _strings(arg)]
            if _name(node.func) == "Transition" and len(node.args) >= 4:
                found += _strings(node.args[3])
            found += [s for kw in node.keywords if kw.arg and "permission" in kw.arg.lower()
                      for s in _strings(kw.value)]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None and any("permission" in _name(t).lower() for t in targets):
                found += _strings(node.value)
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) \
                and isinstance(node.ops[0], (ast.In, ast.NotIn)) and _mentions_permissions(node.comparators[0]):
            found += _strings(node.left)
    return sorted((s.lineno, s.value) for s in found)


def _python_files() -> list[Path]:
    return [p for p in ROOT.rglob("*.py")
            if not PY_FOLDERS_SKIPPED.intersection(p.relative_to(ROOT).parts)]


def test_the_scanner_finds_a_typo_in_each_place_a_permission_is_written():
    typos = '''
class V(ScopedModelView):
    permission_view = "customer.veiw"
    permission_create = permission_edit = "customer.edti"
    action_permissions = {"claim": "pool.claimm", "both": ("order.create", "order.aprove")}
PERMISSION = "product.manag"
IMPORT_PERMISSIONS = {"customer": "customer.craete"}
SYSTEM_PERMISSIONS = frozenset({"org.mange"})
T = {"cancel": Transition(_l("取消"), (S.A,), S.B, ("order.cancle",))}
def f(actor, user, k):
    actor.can("report.vew")
    actor.can("customer.view" if k != "product" else "product.mnage")
    self.require("customer.exprot")
    Role(name="x", permissions=["office.anounce"])
    if "message.sned" not in user.role.permissions:
        pass
'''
    assert [text for _line, text in permission_strings(typos)] == [
        "customer.veiw", "customer.edti", "order.aprove", "order.create", "pool.claimm", "product.manag",
        "customer.craete", "org.mange", "order.cancle", "report.vew", "customer.view", "product.mnage",
        "customer.exprot", "office.anounce", "message.sned"]
    template = "{% if 'pool.clam' in (current_user.role.permissions or []) %}{{ actor.can('order.vew') }}"
    assert sorted(m for p in TEMPLATE_PATTERNS for m in p.findall(template)) == ["order.vew", "pool.clam"]


def test_every_permission_used_anywhere_is_in_the_catalogue(app):
    from admin_views import workbench

    unknown = [f"{path.relative_to(ROOT)}:{line}: {text}" for path in _python_files()
               for line, text in permission_strings(path.read_text(encoding="utf-8"))
               if text not in ALL_PERMISSIONS]
    unknown += [f"{path.relative_to(ROOT)}: {text}" for path in (ROOT / "templates").rglob("*.html")
                for pattern in TEMPLATE_PATTERNS for text in pattern.findall(path.read_text(encoding="utf-8"))
                if text not in ALL_PERMISSIONS]
    # What the code builds rather than spells out: the roles seeded, the state machine, the
    # workbench widgets and each registered view's declarations.
    used = {("DEFAULT_ROLES", p) for _name, _scope, perms, _desc in DEFAULT_ROLES for p in perms}
    used |= {(f"TRANSITIONS[{name}]", p) for name, move in orders.TRANSITIONS.items() for p in move.permissions}
    used |= {("WIDGETS", p) for p, _build in workbench.WIDGETS if p is not None}
    for view in registered_views(app):
        declared = [view.access(), *(getattr(view, f"permission_{op}", None)
                                     for op in ("create", "edit", "delete", "export")),
                    *getattr(view, "action_permissions", {}).values()]
        for access in declared:
            if access is None or access is SIGNED_IN:
                continue
            used |= {(view.endpoint, p) for p in ((access,) if isinstance(access, str) else access)}
    unknown += [f"{where}: {p}" for where, p in sorted(used) if p not in ALL_PERMISSIONS]
    assert unknown == []


# --- the messaging lists on the scoped base ------------------------------------------------------

@pytest.fixture
def two_reps(app, make_user, make_customer):
    """Two salespeople of different departments, each with a customer that has a failed message,
    a reply and a running plan."""
    ids = {"chen": make_user("chen"), "liu": make_user("liu", department=("销售部", "销售二部"))}
    customers = {name: make_customer(f"{name}的客户", uid) for name, uid in ids.items()}
    rows = {}
    with app.app_context():
        plan = SfaPlan(name="每周提醒", action="remind", remind_text="打电话", interval_days=7)
        db.session.add(plan)
        db.session.flush()
        for name, uid in ids.items():
            customer = db.session.get(Customer, customers[name])
            message = Outbox(channel="sms", key=f"k-{name}", status="failed", error="网关拒绝", customer_id=customer.id,
                             user_id=uid, to_address="13900000000", body=f"{name}的短信", created_at=FIXED_NOW)
            reply = SmsReply(mobile="13900000000", content=f"{name}的回复", customer_id=customer.id,
                             received_at=FIXED_NOW)
            enrollment = SfaEnrollment(plan_id=plan.id, customer_id=customer.id, next_run_on=FIXED_NOW.date(),
                                       created_at=FIXED_NOW)
            db.session.add_all([message, reply, enrollment])
            db.session.flush()
            rows[name] = {"outbox": message.id, "reply": reply.id, "enrollment": enrollment.id}
        db.session.commit()
    return rows


def test_messaging_lists_show_and_act_on_the_scope_only(app, client, two_reps):
    mine, theirs = two_reps["chen"], two_reps["liu"]
    client.login("chen")
    for url, own, other in [("/admin/outbox/", "chen的短信", "liu的短信"), ("/admin/unsent_sms/", "chen的短信", "liu的短信"),
                            ("/admin/sms_reply/", "chen的回复", "liu的回复"),
                            ("/admin/sfa_enrollment/", "chen的客户", "liu的客户")]:
        table = list_table(client.get(url).get_data(as_text=True))
        assert own in table and other not in table, url
    assert client.get(f"/admin/outbox/details/?id={theirs['outbox']}").status_code == 404
    assert client.get(f"/admin/outbox/details/?id={mine['outbox']}").status_code == 200
    # a forged id refuses the whole batch: nothing retried, cancelled or paused
    assert client.action("/admin/unsent_sms/", "cancel", [mine["outbox"], theirs["outbox"]],
                         follow=False).status_code == 404
    assert client.action("/admin/sfa_enrollment/", "pause", [mine["enrollment"], theirs["enrollment"]],
                         follow=False).status_code == 404
    with app.app_context():
        assert {m.status for m in db.session.scalars(select(Outbox))} == {"failed"}
        assert not any(e.paused for e in db.session.scalars(select(SfaEnrollment)))
    assert "已暂停 1 项" in client.action("/admin/sfa_enrollment/", "pause", [mine["enrollment"]]).get_data(as_text=True)
    assert "已取消 1 条消息" in client.action("/admin/unsent_sms/", "cancel", [mine["outbox"]]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SfaEnrollment, mine["enrollment"]).paused
        assert db.session.get(Outbox, theirs["outbox"]).status == "failed"
