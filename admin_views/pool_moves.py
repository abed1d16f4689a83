"""The pages behind 放弃 and 指派, written once for customers (admin_views/customer_actions.py)
and leads (admin_views/lead_pool.py): each is handed the records already checked against the
actor's scope, calls rules.pool with the subject, and commits or explains."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from admin_views import params
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.navigation import back_url
from admin_views.transaction import commit_or_explain
from models import User, db
from rules import pool as pool_rules
from rules import scope
from rules.pool_subject import PoolSubject


def release_page(view: Any, subject: PoolSubject, records: list[Any], ids: str, *, done: Callable[[int], str],
                 back: str | None = None, **texts: str) -> Any:
    """放弃: `records` (the actor's own, checked by the caller) back to the actor's pool, with a reason."""
    actor = current_actor()
    reason = request.form.get("reason", "")
    if request.method == "POST":
        if not CsrfForm(request.form).validate():
            abort(400)
        if commit_or_explain(
                lambda: [pool_rules.release(db.session, record.id, actor=actor, now=now(), reason=reason,
                                            subject=subject) for record in records],
                lambda moved: done(len(moved))):
            return redirect(back or url_for(".index_view"))
    return view.render("admin/customers/release.html", records=records, ids=ids, reason=reason, back=back, **texts)


def assign_page(view: Any, subject: PoolSubject, *, done: Callable[[int, str], str], **texts: str) -> Any:
    """指派: the records named in ?ids= that the manager may assign (their scope's and their
    pools') to a colleague in scope."""
    actor = current_actor()
    if not actor.can(subject.assign_permission):
        abort(403)
    model = subject.model
    wanted = params.ids_list(request.values.get("ids"))
    # Through the scope before anything is shown: one id the manager may not assign (another
    # department's record, a forged or missing id) refuses the page, as batch actions do.
    movable = scope.ids_in_scope(db.session, model, wanted, actor,
                                 pool_rules.assignable_clause(db.session, actor, subject))
    if not wanted or len(movable) != len(wanted):
        abort(404)
    back = back_url(request.values.get("back"), url_for(".index_view"))
    colleagues = list(db.session.scalars(select(User).where(User.active.is_(True), scope.owner_clause(User.id, actor))
                                         .order_by(User.display_name)))
    if request.method == "POST":
        if not CsrfForm(request.form).validate():
            abort(400)
        to_user = next((u for u in colleagues if str(u.id) == request.form.get("to_user")), None)
        if to_user is None:
            flash(gettext("请选择要指派给谁"), "error")
        elif commit_or_explain(
                lambda: pool_rules.assign(db.session, wanted, to_user=to_user, actor=actor, now=now(),
                                          subject=subject),
                lambda count: done(count, to_user.display_name)):
            return redirect(back)
    names = list(db.session.scalars(select(model.name).where(model.id.in_(movable)).order_by(model.id)))
    return view.render("admin/customers/assign.html", colleagues=colleagues, names=names,
                       ids=",".join(str(i) for i in wanted), back=back, **texts)
