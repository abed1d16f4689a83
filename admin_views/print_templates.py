"""打印模板 (print.design): the templates of every document type, the designer (paper, margins,
header, footer, logo, the body with a field picker, the 明细表's columns) with a live preview of
the unsaved form on a real record in a sandboxed frame, and the company profile printed on every
document. Rules: rules/print_templates.py, rules/print_fields.py, rules/print_data.py."""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import or_, select
from werkzeug.routing import BuildError

from admin_views import params
from admin_views.base import PermissionView
from admin_views.context import current_actor, now
from admin_views.forms import CsrfForm
from admin_views.menu import SETTINGS, fa
from admin_views.transaction import transaction
from models import db
from models.contract import Contract
from models.customer import Customer
from models.invoice import Invoice
from models.printing import Paper, PrintDocType, PrintTemplate
from models.quote import Quote
from models.sales import Order, Payment
from rules import file_store, print_data, print_fields, print_render, print_templates, scope
from rules.errors import OutOfScope, TemplateRefused
from rules.print_templates import TemplateInput

PAPER_LABELS = {Paper.A4.value: "A4 (210×297)", Paper.A5.value: "A5 (148×210)", Paper.B5.value: "B5 (176×250)",
                Paper.LETTER.value: "Letter (216×279)", Paper.DL.value: _l("DL 信封 (220×110)"),
                Paper.C5.value: _l("C5 信封 (229×162)"), Paper.NO5.value: _l("5号信封 (220×110)"),
                Paper.NO7.value: _l("7号信封 (229×162)"), Paper.CUSTOM.value: _l("自定义尺寸")}
LOGO_MAX_BYTES = 2 * 1024 * 1024

# A record to preview on: (model, the columns a number or name is looked up in).
PREVIEW_RECORDS: dict[PrintDocType, tuple[type, tuple[Any, ...]]] = {
    PrintDocType.CUSTOMER: (Customer, (Customer.name, Customer.code)),
    PrintDocType.ENVELOPE: (Customer, (Customer.name, Customer.code)),
    PrintDocType.ORDER: (Order, (Order.number,)),
    PrintDocType.DELIVERY: (Order, (Order.number,)),
    PrintDocType.QUOTE: (Quote, (Quote.number,)),
    PrintDocType.CONTRACT: (Contract, (Contract.number, Contract.title)),
    PrintDocType.RECEIPT: (Payment, ()),
    PrintDocType.INVOICE: (Invoice, (Invoice.number, Invoice.title_name)),
}


def find_record(doc_type: PrintDocType, typed: str) -> int | None:
    """The record the preview prints: the one whose number or name holds what was typed (or
    the newest) among those the designer sees; None when there is none."""
    found = PREVIEW_RECORDS.get(doc_type)
    if found is None:
        return None
    model, columns = found
    stmt = select(model.id).where(scope.clause_for(model, current_actor())).order_by(model.id.desc()).limit(1)
    typed = (typed or "").strip()[:100]
    if typed:
        digits = typed.upper().removeprefix("SK").lstrip("0")
        exact = [model.id == int(digits)] if digits.isdigit() and int(digits) < 2 ** 31 else []
        like = [column.contains(typed, autoescape=True) for column in columns]
        if not exact and not like:
            return None
        stmt = stmt.where(or_(*like, *exact))
    return db.session.scalar(stmt)


class PrintTemplateView(PermissionView):
    permission = "print.design"

    @expose("/")
    def index(self) -> Any:
        rows = db.session.scalars(select(PrintTemplate).where(PrintTemplate.deleted_at.is_(None))
                                  .order_by(PrintTemplate.is_default.desc(), PrintTemplate.name, PrintTemplate.id))
        by_type: dict[str, list[PrintTemplate]] = {t.value: [] for t in PrintDocType}
        for row in rows:
            by_type.setdefault(row.doc_type, []).append(row)
        return self.render("admin/print_templates/list.html", by_type=by_type, labels=print_fields.DOC_LABELS,
                           paper_labels=PAPER_LABELS, doc_types=list(PrintDocType))

    # --- the designer -----------------------------------------------------------------------------

    @expose("/edit/", methods=("GET", "POST"))
    def edit(self) -> Any:
        ident = params.id_or_none(request.args.get("id"))
        template = print_templates.live_template(db.session, ident) if ident else None
        if ident and template is None:
            abort(404)
        if template is None:
            doc_type = self._doc_type(request.values.get("doc_type"))
            typed = TemplateInput(doc_type=doc_type.value, columns=print_fields.default_columns(doc_type))
            typed.body = print_templates_default_body(doc_type)
        else:
            typed = TemplateInput.of(template)
        if request.method == "POST":
            typed = self._typed(template)
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            else:
                saved = self._save(template, typed)
                if saved is not None:
                    return redirect(url_for(".edit", id=saved))
        return self._editor(template, typed)

    def _save(self, template: PrintTemplate | None, typed: TemplateInput) -> int | None:
        stored_logo = None
        upload = request.files.get("logo")
        message = gettext("打印模板已保存")
        with transaction(message) as outcome:
            if upload is not None and upload.filename:
                stored_logo = file_store.save(upload.stream, upload.filename, root=current_app.config["FILES_DIR"],
                                              now=now(), max_bytes=LOGO_MAX_BYTES, allowed=("image",))
                typed.logo_key = stored_logo.storage_key
            elif request.form.get("remove_logo"):
                typed.logo_key = None
            saved = print_templates.save(db.session, template, typed, actor=current_actor(), now=now())
            saved_id = saved.id
        if outcome.ok:
            return saved_id
        if stored_logo is not None:  # the template was refused: its new logo goes too
            file_store.delete(current_app.config["FILES_DIR"], stored_logo.storage_key, stored_logo.thumb_key)
            typed.logo_key = template.logo_key if template is not None else None
        return None

    def _editor(self, template: PrintTemplate | None, typed: TemplateInput) -> Any:
        doc_type = PrintDocType(typed.doc_type)
        return self.render("admin/print_templates/edit.html", record_template=template, typed=typed,
                           doc_type=doc_type, doc_label=print_fields.DOC_LABELS[doc_type],
                           groups=print_fields.groups(doc_type), columns=print_fields.columns_for(doc_type),
                           paper_labels=PAPER_LABELS, doc_types=list(PrintDocType), labels=print_fields.DOC_LABELS,
                           record=request.values.get("record", ""),
                           logo=print_render.logo_data_uri(current_app.config["FILES_DIR"], typed.logo_key))

    def _doc_type(self, raw: Any) -> PrintDocType:
        try:
            return PrintDocType(raw or PrintDocType.ORDER.value)
        except ValueError:
            abort(400, gettext("没有这种单据类型"))

    def _typed(self, template: PrintTemplate | None) -> TemplateInput:
        form = request.form
        doc_type = template.doc_type if template is not None else self._doc_type(form.get("doc_type")).value
        return TemplateInput(
            doc_type=doc_type, name=form.get("name", ""), body=form.get("body", ""), header=form.get("header", ""),
            footer=form.get("footer", ""), paper=form.get("paper", Paper.A4.value),
            landscape=bool(form.get("landscape")), width_mm=form.get("width_mm", ""),
            height_mm=form.get("height_mm", ""),
            margins=tuple(form.get(f"margin_{side}", "") for side in ("top", "right", "bottom", "left")),
            columns=form.getlist("columns"), is_default=bool(form.get("is_default")), active=bool(form.get("active")),
            logo_key=template.logo_key if template is not None else None, version=form.get("version"))

    @expose("/preview/", methods=("POST",))
    def preview(self) -> Any:
        """The unsaved form printed on a real record (or the sample data when none), as the HTML
        page the iframe shows; a refusal is shown in the frame in words."""
        if not CsrfForm(request.form).validate():
            return self._preview_message(gettext("页面已过期，请刷新后再预览")), 400
        template = print_templates.live_template(db.session, params.id_or_none(request.form.get("id")))
        typed = self._typed(template)
        typed.name = typed.name.strip() or "-"  # a template not named yet still previews
        doc_type = PrintDocType(typed.doc_type)
        record_id = find_record(doc_type, request.form.get("record", ""))
        try:
            print_templates.validate(typed)
            if record_id is not None:
                data = print_data.build(db.session, doc_type, record_id, actor=current_actor(), now=now())
            else:
                data = print_data.sample(doc_type, db.session, actor=current_actor(), now=now())
            html = print_templates.render_page(db.session, typed, data, files_root=current_app.config["FILES_DIR"],
                                               screen=True)
        except (TemplateRefused, OutOfScope) as exc:
            return self._preview_message(str(exc))
        note = "" if record_id is not None or not request.form.get("record") else gettext(
            "没有找到“%(r)s”，以下为示例数据", r=request.form.get("record"))
        if note:
            html = html.replace("<main", f'<p class="kechi-preview-note" style="background:#fff3cd;padding:4px;'
                                f'margin:0">{escape(note)}</p><main', 1)
        return html, 200, {"Content-Type": "text/html; charset=utf-8", "X-Content-Type-Options": "nosniff"}

    def _preview_message(self, message: str) -> Any:
        page = print_render.Page(title=gettext("无法预览"))
        body = (f'<div style="color:#a00;border:1px solid #e99;background:#fff5f5;padding:8px">'
                f'<b>{escape(gettext("无法预览"))}</b>：<span data-testid="preview-error">{escape(message)}</span></div>')
        return print_render.document(page, body), 200, {"Content-Type": "text/html; charset=utf-8"}

    # --- list actions -----------------------------------------------------------------------------

    def _posted(self) -> PrintTemplate:
        if not CsrfForm(request.form).validate():
            abort(400)
        template = print_templates.live_template(db.session, params.int_id(request.args.get("id")))
        if template is None:
            abort(404)
        return template

    @expose("/copy/", methods=("POST",))
    def copy(self) -> Any:
        template = self._posted()
        with transaction(gettext("已复制模板")) as outcome:
            twin = print_templates.copy(db.session, template, actor=current_actor(), now=now())
            twin_id = twin.id
        return redirect(url_for(".edit", id=twin_id) if outcome.ok else url_for(".index"))

    @expose("/default/", methods=("POST",))
    def make_default(self) -> Any:
        template = self._posted()
        with transaction(gettext("已设为默认模板")):
            print_templates.make_default(db.session, template)
        return redirect(url_for(".index"))

    @expose("/delete/", methods=("POST",))
    def delete(self) -> Any:
        template = self._posted()
        with transaction(gettext("模板已删除")):
            print_templates.delete(db.session, template, actor=current_actor(), now=now())
        return redirect(url_for(".index"))

    # --- 本公司信息 ---------------------------------------------------------------------------------

    @expose("/company/", methods=("GET", "POST"))
    def company(self) -> Any:
        profile = print_data.company_profile(db.session)
        if request.method == "POST":
            profile = {key: request.form.get(key, "") for key in print_data.COMPANY_FIELDS}
            if not CsrfForm(request.form).validate():
                flash(gettext("页面已过期，请重新提交"), "error")
            else:
                with transaction(gettext("公司信息已保存")) as outcome:
                    print_data.save_company_profile(db.session, profile)
                if outcome.ok:
                    return redirect(url_for(".company"))
        return self.render("admin/print_templates/company.html", profile=profile, labels=COMPANY_LABELS)


COMPANY_LABELS = {"name": _l("公司名称"), "address": _l("公司地址"), "zip_code": _l("邮编"), "phone": _l("电话"),
                  "fax": _l("传真"), "email": _l("邮箱"), "website": _l("网址"), "bank": _l("开户银行"),
                  "account": _l("银行账号"), "tax_no": _l("纳税人识别号")}


def print_templates_default_body(doc_type: PrintDocType) -> str:
    """A new template starts from the seeded layout of its type."""
    from rules import print_defaults
    return print_defaults.DEFAULTS[doc_type].body


# The page each record opens on: the QR code on its paper leads there.
RECORD_PAGES = {PrintDocType.CUSTOMER: "customer.details_view", PrintDocType.ORDER: "order.details_view",
                PrintDocType.DELIVERY: "order.details_view", PrintDocType.QUOTE: "quote.details_view",
                PrintDocType.CONTRACT: "contract.details_view", PrintDocType.RECEIPT: "payment.details_view",
                PrintDocType.INVOICE: "invoice.details_view", PrintDocType.ENVELOPE: "customer.details_view"}


def record_link(doc_type: PrintDocType, record_id: int) -> str:
    endpoint = RECORD_PAGES.get(doc_type)
    if endpoint is None or not has_request_context():
        return ""  # a batch job knows no host name: the page prints without the code
    try:
        return url_for(endpoint, id=record_id, _external=True)
    except BuildError:
        return ""


def init_app(app: Any) -> None:
    print_data.configure(timezone=app.config["TIMEZONE"], record_link=record_link)


def views() -> list[Any]:
    return [PrintTemplateView(name=_l("打印模板"), category=SETTINGS, endpoint="print_template", **fa("fa-print"))]
