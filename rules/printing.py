"""打印 and PDF of one document or a batch: which record each document type prints, which template,
the page (rules/print_data.py builds the plain data, rules/print_templates.py renders it), the
PDF (rules/pdf.py), the batch bound, and the audit rows for financial documents. Views and the
batch job call these; none of them commits."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from models import Contract, Customer, Order, Payment, Quote
from models.invoice import Invoice
from models.job import JobRecord, JobStatus
from models.printing import PrintDocType, PrintTemplate
from models.service import Ticket
from rules import audit, pdf, scope
from rules.actor import Actor
from rules.audit import AuditContext
from rules.errors import InvalidValue, OutOfScope, TemplateRefused

from rules import print_data, print_templates

MAX_BATCH = 1000  # documents per batch job: enough for a mailing, small enough to finish in minutes

# The record each document type prints; its scope rule is the record's (scope.clause_for).
SOURCES: dict[PrintDocType, type] = {
    PrintDocType.CUSTOMER: Customer, PrintDocType.ENVELOPE: Customer,
    PrintDocType.ORDER: Order, PrintDocType.DELIVERY: Order,
    PrintDocType.QUOTE: Quote, PrintDocType.CONTRACT: Contract,
    PrintDocType.RECEIPT: Payment, PrintDocType.INVOICE: Invoice,
    PrintDocType.REPAIR: Ticket,  # 维修工单 (rules/repairs.py registers its builder)
}
FINANCIAL = frozenset({PrintDocType.ORDER, PrintDocType.DELIVERY, PrintDocType.QUOTE, PrintDocType.CONTRACT,
                       PrintDocType.RECEIPT, PrintDocType.INVOICE})
LABELS = {
    PrintDocType.CUSTOMER: _l("客户资料"), PrintDocType.ORDER: _l("订单"), PrintDocType.DELIVERY: _l("发货单"),
    PrintDocType.QUOTE: _l("报价单"), PrintDocType.CONTRACT: _l("合同"), PrintDocType.RECEIPT: _l("收款单"),
    PrintDocType.INVOICE: _l("开票申请"), PrintDocType.REPAIR: _l("维修工单"), PrintDocType.ENVELOPE: _l("信封"),
}


def doc_type_of(raw: str) -> PrintDocType:
    """A printable document type from a URL or form, or OutOfScope (404): a type nobody can
    print from here is as absent as a record outside one's scope."""
    try:
        doc_type = PrintDocType(raw)
    except ValueError:
        raise OutOfScope(_l("记录不存在")) from None
    if doc_type not in SOURCES:
        raise OutOfScope(_l("记录不存在"))
    return doc_type


def templates_for(session: Session, doc_type: PrintDocType) -> list[PrintTemplate]:
    """The active templates of a type, for the 打印 ▾ menu and the preview's chooser."""
    return print_templates.for_doc_type(session, doc_type)


def template_for(session: Session, doc_type: PrintDocType, template_id: int | None) -> PrintTemplate:
    """The chosen template (it must be an active one of this type), else the type's default."""
    if template_id is not None:
        for template in templates_for(session, doc_type):
            if template.id == template_id:
                return template
        raise TemplateRefused(_l("所选打印模板不存在或已停用，请重新选择"))
    template = print_templates.default_for(session, doc_type)
    if template is None:
        raise TemplateRefused(_l("还没有%(doc)s的打印模板，请先在“打印模板”中新建", doc=LABELS[doc_type]))
    return template


def page_html(session: Session, doc_type: PrintDocType, record_id: int, *, actor: Actor, now: datetime,
              template: PrintTemplate, files_root: str, screen: bool = False) -> str:
    """The whole printable page of one record (OutOfScope when the actor does not see it);
    `screen` draws it as a sheet of its paper when looked at (the print preview)."""
    data = print_data.build(session, doc_type, record_id, actor=actor, now=now)
    return print_templates.render_page(session, template, data, files_root=files_root, screen=screen)


def pdf_bytes(html: str) -> bytes:
    return pdf.html_to_pdf(html)


def check_batch(count: int) -> None:
    """Refuse a batch too large to print at once, saying what to do instead."""
    if count == 0:
        raise InvalidValue(_l("请先勾选要打印的记录"))
    if count > MAX_BATCH:
        raise InvalidValue(_l("一次最多批量打印 %(max)d 份，您选择了 %(n)d 份。请少选一些，或先用筛选条件缩小范围后分批打印。",
                              max=MAX_BATCH, n=count))


def batch_ids(session: Session, doc_type: PrintDocType, ids: Iterable[Any], actor: Actor) -> list[int]:
    """The selected ids the actor may print (those outside the actor's scope are dropped), in order."""
    return scope.ids_in_scope(session, SOURCES[doc_type], list(ids), actor)


BATCH_KIND = "print_batch"


def new_batch(session: Session, *, doc_type: PrintDocType, ids: list[Any], actor: Actor, user_id: int,
              template_id: int | None = None, ip: str | None = None) -> JobRecord:
    """A queued batch of the selected records the actor may print (the JobRecord is the starter's
    own: nobody else sees it). Too many is refused before anything is loaded; none in scope is 404."""
    check_batch(len(ids))
    allowed = batch_ids(session, doc_type, ids, actor)
    if not allowed:
        raise OutOfScope(_l("记录不存在"))
    job = JobRecord(kind=BATCH_KIND, status=JobStatus.QUEUED, user_id=user_id, total=len(allowed),
                    params={"doc_type": str(doc_type), "ids": allowed, "template_id": template_id, "ip": ip})
    session.add(job)
    session.flush()
    return job


def record_print(session: Session, *, ctx: AuditContext, doc_type: PrintDocType, record_ids: Iterable[int],
                 template: PrintTemplate, output: str) -> None:
    """An audit row per printed financial document: who printed it, how (preview/pdf/batch), with
    which template. Customer profiles and envelopes are not audited."""
    if doc_type not in FINANCIAL:
        return
    entity = SOURCES[doc_type].__name__
    for record_id in record_ids:
        audit.record(session, ctx=ctx, action="print", entity=entity, entity_id=str(record_id),
                     details={"doc_type": str(doc_type), "output": output, "template": template.name,
                              "template_id": template.id})


BATCH_CHUNK = 50  # documents laid out per WeasyPrint call: one call per page costs ten times as much


def joined(pages: list[str]) -> str:
    """Several printable pages of one template as one HTML document, each starting a new sheet
    (the same page CSS; each keeps its own header and footer)."""
    head, _, first = pages[0].partition("<body")
    bodies = []
    for index, page in enumerate(pages):
        inner = page.partition("<body")[2].partition(">")[2].rpartition("</body>")[0]
        style = ' style="break-before: page"' if index else ""
        bodies.append(f'<div class="kechi-batch-doc"{style}>{inner}</div>')
    return f"{head}<body{first.partition('>')[0]}>{''.join(bodies)}</body></html>"


def merged_pdf(parts: list[bytes]) -> bytes:
    """The PDFs of a batch's chunks as one file."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
