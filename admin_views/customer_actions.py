"""The customer list's batch actions and the pages they lead to: share with colleagues,
release to the pool, assign, recall, protect, the messaging hand-offs, and merging. A mixin of
CustomerView (admin_views/customers.py), so its URLs stay under /admin/customer/; every page
re-checks the ids against the actor's scope."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from admin_views import params
from admin_views.context import audit_context, current_actor, now
from admin_views.forms import CsrfForm
from admin_views.pool_moves import assign_page, release_page
from admin_views.transaction import commit_or_explain, transaction
from models import Customer, CustomerShare, FollowUp, User, db
from rules import audit, customers, protection, scope, sharing
from rules import pool as pool_rules
from rules.errors import OutOfScope
from rules.pool_subject import CUSTOMERS


class CustomerActionsMixin:
    """Needs the view's scoped_batch, write_clause and _share_form (CustomerPageMixin)."""

    # --- sharing --------------------------------------------------------------------------------
    @action("share", _l("共享给同事"))
    def action_share(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)  # refuse the batch if any id is not the actor's to share
        return redirect(url_for(".share_view", ids=",".join(ids)))

    def _selection(self, permission: str) -> tuple[list[str], list[Customer]]:
        """The customers named in ?ids=1,2,3 for a batch page: all the actor's to change, or 404."""
        if not current_actor().can(permission):
            abort(403)
        ids = [i for i in (request.values.get("ids") or "").split(",") if i]
        records = self.scoped_batch(ids, self.write_clause()) if ids else []
        return ids, records

    @expose("/share/", methods=["GET", "POST"])
    def share_view(self) -> Any:
        actor = current_actor()
        ids, records = self._selection("customer.share")
        if not records:
            abort(404)
        form = self._share_form(request.form if request.method == "POST" else None)
        if request.method == "POST" and form.validate():
            users = list(db.session.scalars(select(User).where(User.id.in_(params.ids_list(form.user_ids.data or [])))))
            with transaction(gettext("已将 %(c)d 位客户共享给 %(u)d 位同事", c=len(records), u=len(users))) as outcome:
                for customer in records:
                    for user in users:
                        sharing.share(db.session, customer, to_user=user, mode=form.mode.data,
                                      until=form.until.data, actor=actor, now=now())
            if outcome.ok:
                target = url_for(".details_view", id=records[0].id) if len(records) == 1 else url_for(".index_view")
                return redirect(target)
        return self.render("admin/customers/share.html", form=form, records=records, ids=",".join(ids))

    @expose("/unshare/", methods=["POST"])
    def unshare(self) -> Any:
        if not CsrfForm(request.form).validate():
            abort(400)
        record = db.session.get(CustomerShare, params.int_id(request.form.get("share_id")))
        if record is None:
            abort(404)
        customer = self.get_one_editable(record.customer_id)
        with transaction(gettext("已取消共享")):
            sharing.revoke(db.session, record, now=now())
        return redirect(url_for(".details_view", id=customer.id, _anchor="tab-shares"))

    def get_one_editable(self, ident: Any) -> Customer:
        try:
            return scope.get_in_scope(db.session, Customer, ident, current_actor(), self.write_clause())
        except OutOfScope:
            abort(404)

    # --- pool moves ---------------------------------------------------------------------------
    @action("release", _l("放弃到客户池"))
    def action_release(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)
        return redirect(url_for(".release_view", ids=",".join(ids)))

    @expose("/release/", methods=["GET", "POST"])
    def release_view(self) -> Any:
        ids, records = self._selection("pool.claim")
        if not records:
            abort(404)
        return release_page(self, CUSTOMERS, records, ",".join(ids),
                            done=lambda n: gettext("已将 %(n)d 位客户放弃到客户池", n=n))

    @action("assign", _l("指派给同事"))
    def action_assign(self, ids: list[str]) -> Any:
        # assign_view checks the ids against what the actor may assign (their scope and pools)
        return redirect(url_for(".assign_view", ids=",".join(ids)))

    @expose("/assign/", methods=["GET", "POST"])
    def assign_view(self) -> Any:
        """指派: customers in the manager's scope (or from their pool) to a colleague in scope."""
        return assign_page(self, CUSTOMERS, done=lambda n, who: gettext("已将 %(n)d 位客户指派给 %(u)s", n=n, u=who))

    @action("recall", _l("收回到客户池"), _l("所选客户将从业务员名下收回到客户池，确定吗？"))
    def action_recall(self, ids: list[str]) -> None:
        actor = current_actor()
        wanted = params.ids_list(ids)
        commit_or_explain(lambda: pool_rules.recall(db.session, wanted, actor=actor, now=now()),
                          lambda count: gettext("已收回 %(n)d 位客户到客户池", n=count))

    @action("protect", _l("保护客户"))
    def action_protect(self, ids: list[str]) -> None:
        actor = current_actor()
        commit_or_explain(
            lambda: [protection.protect(db.session, i, actor=actor, now=now()) for i in params.ids_list(ids)],
            lambda ends: gettext("已保护 %(n)d 位客户，保护期内不会被回收，他人录入同名客户会收到撞单提示", n=len(ends)))

    @action("unprotect", _l("取消保护"))
    def action_unprotect(self, ids: list[str]) -> None:
        self._unprotect(ids, release=False)

    @action("unprotect_release", _l("取消保护并放回客户池"),
            _l("所选客户将取消保护并放回客户池，由他人领用，确定吗？"))
    def action_unprotect_release(self, ids: list[str]) -> None:
        self._unprotect(ids, release=True)

    def _unprotect(self, ids: list[str], *, release: bool) -> None:
        actor = current_actor()
        done = (lambda n: gettext("已取消保护 %(n)d 位客户，并放回客户池", n=len(n))) if release else (
            lambda n: gettext("已取消保护 %(n)d 位客户，仍由您跟进", n=len(n)))
        commit_or_explain(
            lambda: [protection.unprotect(db.session, i, actor=actor, now=now(), release=release)
                     for i in params.ids_list(ids)], done)

    def get_actions_list(self) -> tuple[list, dict]:
        """The policy's default way to 取消保护 comes first and says it is the default."""
        actions, confirmations = super().get_actions_list()
        names = [name for name, _text in actions]
        if "unprotect" not in names or "unprotect_release" not in names:
            return actions, confirmations
        default = "unprotect_release" if protection.on_unprotect(db.session) == "release" else "unprotect"
        other = "unprotect" if default == "unprotect_release" else "unprotect_release"
        texts = dict(actions)
        pair = [(default, gettext("%(action)s（默认）", action=texts[default])), (other, texts[other])]
        first = min(names.index("unprotect"), names.index("unprotect_release"))
        rest = [a for a in actions if a[0] not in ("unprotect", "unprotect_release")]
        return rest[:first] + pair + rest[first:], confirmations

    # --- messaging ------------------------------------------------------------------------------
    # 短信中心 (admin_views/messaging/) re-checks the ids against the scope on its own pages.
    @action("send_message", _l("发短信/发邮件"))
    def action_send_message(self, ids: list[str]) -> Any:
        return redirect(url_for("message_send.index", ids=",".join(ids)))

    @action("opt_out", _l("拒收设置"))
    def action_opt_out(self, ids: list[str]) -> Any:
        return redirect(url_for("message_send.optout_view", ids=",".join(ids)))

    @action("sfa", _l("启动自动化方案"))
    def action_sfa(self, ids: list[str]) -> Any:
        return redirect(url_for("sfa_enrollment.start_view", ids=",".join(ids)))

    # --- merging --------------------------------------------------------------------------------
    @action("merge", _l("合并客户"))
    def action_merge(self, ids: list[str]) -> Any:
        self.scoped_batch(ids)
        return redirect(url_for(".merge_view", ids=",".join(ids)))

    @expose("/merge/", methods=["GET", "POST"])
    def merge_view(self) -> Any:
        actor = current_actor()
        ids, records = self._selection("customer.merge")
        if len(records) < 2:
            flash(gettext("请至少选择两个客户进行合并"), "error")
            return redirect(url_for(".index_view"))
        if request.method == "POST":
            if not CsrfForm(request.form).validate():
                abort(400)
            keep = next((r for r in records if str(r.id) == request.form.get("keep")), None)
            if keep is None:
                flash(gettext("请选择保留哪一个客户"), "error")
            else:
                with transaction() as outcome:
                    merged = customers.merge(db.session, keep, records, actor=actor, now=now())
                    audit.record(db.session, ctx=audit_context(), action="merge", entity="Customer",
                                 entity_id=str(keep.id),
                                 details={"merged": [r.id for r in records if r.id != keep.id],
                                          "names": [r.name for r in records if r.id != keep.id]})
                    outcome.done(gettext("已将 %(n)d 个客户合并到「%(k)s」", n=merged, k=keep.name))
                if outcome.ok:
                    return redirect(url_for(".details_view", id=keep.id))
        counts = dict(db.session.execute(select(FollowUp.customer_id, func.count(FollowUp.id))
                                         .where(FollowUp.customer_id.in_([r.id for r in records]))
                                         .group_by(FollowUp.customer_id)).all())
        chosen = next((r.id for r in records if str(r.id) == request.form.get("keep")), records[0].id)
        return self.render("admin/customers/merge.html", records=records, ids=",".join(ids), counts=counts,
                           chosen=chosen)
