"""Departments, reporting lines and staff accounts."""
from __future__ import annotations

import functools
import secrets
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models.customer import Customer
from models.org import DataScope, Department, Role, User
from rules.actor import Actor
from rules.errors import DuplicateEntry, InvalidValue, RuleViolation, TreeCycle

MIN_PASSWORD_LENGTH = 8
_password_method = "scrypt"


def use_password_method(method: str) -> None:
    """Set by the app factory from PASSWORD_HASH_METHOD (tests trade cost for speed)."""
    global _password_method
    _password_method = method


def _rebase_paths(session: Session, column, old: str, new: str) -> None:
    """Rewrite every path under `old` to sit under `new` (one UPDATE for a whole subtree)."""
    if old == new:
        return
    table = column.class_
    session.execute(
        update(table)
        .where(column.startswith(old))
        .values({column.key: new + func.substr(column, len(old) + 1)})
        .execution_options(synchronize_session=False)
    )


def move_in_tree(session: Session, node: Any, parent: Any | None, *, path: Any, parent_id: str,
                 refusal: Any) -> None:
    """Hang `node` under `parent` in a materialized-path tree ("/1/4/9/"): refuse cycles,
    then rewrite the node's path and its whole subtree's in one UPDATE."""
    if node.id is None:
        session.add(node)
        session.flush()
    current = getattr(node, path.key)
    old_path = current if current and current != "/" else None
    if parent is not None and (parent.id == node.id or (old_path and getattr(parent, path.key).startswith(old_path))):
        raise TreeCycle(refusal)
    new_path = (getattr(parent, path.key) if parent else "/") + f"{node.id}/"
    setattr(node, parent_id, parent.id if parent else None)
    setattr(node, path.key, new_path)
    session.flush()
    if old_path:
        _rebase_paths(session, path, old_path, new_path)
        session.expire_all()


def place_department(session: Session, dept: Department, parent: Department | None) -> None:
    """Put `dept` under `parent` (or at the top), keeping every descendant's path right."""
    move_in_tree(session, dept, parent, path=Department.path, parent_id="parent_id",
                 refusal=_l("不能把部门移到它自己或它的下级部门之下"))


def ensure_department_path(session: Session, names: list[str]) -> Department:
    """Find or create the chain of departments named from the top down; return the last."""
    parent: Department | None = None
    for name in names:
        dept = session.scalar(
            select(Department).where(
                Department.name == name,
                Department.parent_id.is_(None) if parent is None else Department.parent_id == parent.id,
            )
        )
        if dept is None:
            dept = Department(name=name)
            place_department(session, dept, parent)
        parent = dept
    assert parent is not None
    return parent


def set_superior(session: Session, user: User, superior: User | None) -> None:
    """Change whom `user` reports to; everyone below `user` moves along."""
    move_in_tree(session, user, superior, path=User.report_path, parent_id="superior_id",
                 refusal=_l("不能把本人或本人的下属设为上级"))


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidValue(_l("密码至少需要 %(n)d 位", n=MIN_PASSWORD_LENGTH))
    return generate_password_hash(password, method=_password_method)


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password or "")


@functools.cache
def _hash_of_nobody(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def password_matches_nobody(password: str) -> bool:
    """Check a password against a hash nobody has, so an unknown username costs the same time
    as a known one and its answer cannot be told apart by timing. Always False."""
    check_password_hash(_hash_of_nobody(_password_method), password or "")
    return False


def set_password(user: User, password: str) -> None:
    """Set a new password; every open session of the user ends."""
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1


def ensure_role(session: Session, name: str, *, data_scope: DataScope = DataScope.SELF,
                permissions: list[str] | None = None) -> Role:
    role = session.scalar(select(Role).where(Role.name == name))
    if role is None:
        role = Role(name=name, data_scope=data_scope, permissions=list(permissions or []))
        session.add(role)
        session.flush()
    return role


def create_user(session: Session, *, username: str, password: str, display_name: str | None,
                role: Role, department: Department | None = None, superior: User | None = None,
                mobile: str | None = None, email: str | None = None) -> User:
    username = (username or "").strip()
    if not username:
        raise InvalidValue(_l("请填写用户名"))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DuplicateEntry(_l("用户名 %(u)s 已存在", u=username))
    user = User(username=username, display_name=(display_name or username).strip(),
                password_hash=hash_password(password), role=role, department=department,
                mobile=mobile, email=email)
    session.add(user)
    session.flush()
    set_superior(session, user, superior)
    return user


def disable_user(user: User, *, actor: Actor) -> None:
    """离职停用: login is refused from now on and open sessions end. Customers stay."""
    if user.id == actor.user_id:
        raise RuleViolation(_l("不能停用自己的账号"))
    user.active = False
    user.session_version = (user.session_version or 1) + 1
    user.last_seen_at = None


def enable_user(user: User) -> None:
    user.active = True


def unlock_user(user: User, *, now: datetime) -> None:
    user.locked_at = None
    user.unlocked_at = now


def force_logout(user: User, *, actor: Actor) -> None:
    """End every open session of `user`; their next request lands on /login."""
    if user.id == actor.user_id:
        raise RuleViolation(_l("不能强制自己下线，请使用退出登录"))
    user.session_version = (user.session_version or 1) + 1
    user.last_seen_at = None


def move_user_department(session: Session, user: User, department: Department | None) -> None:
    """A user's customers follow them to their new department."""
    user.department = department
    session.execute(
        update(Customer)
        .where(Customer.owner_id == user.id)
        .values(department_id=department.id if department else None)
        .execution_options(synchronize_session=False)
    )
