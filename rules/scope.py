"""Data scope: the single place that decides which records an actor may see.

Every path (list, count, detail, edit, delete, batch action, export, report, chart, ajax
look-up, API) builds its query through `scoped()` or loads through `get_in_scope()`.

Every model is in exactly one of two tables here: `_CLAUSES` (who sees which rows, and in
`_WRITE_CLAUSES` who may change them where that is narrower) or `UNSCOPED` (why every user who
may open its page sees all of it). A new domain adds its models to one of them; a test fails
until it does (tests/test_admin_access.py).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import Query, Session

from models.attachment import Attachment, AttachmentEntity
from models.document import Document, DocumentFolder, DocumentSearch, DocumentVersion, FolderGrant, FolderKind, GrantLevel
from models.printing import PrintTemplate
from models.approval import ApprovalDocType, ApprovalEvent, ApprovalFlow, ApprovalRequest, ApprovalStep, ApprovalTask
from models.base import MAX_ID
from models.contract import Contract, ContractEvent, ContractLine
from models.announcement import Announcement, announcement_departments
from models.customer import (
    Contact, Customer, CustomerKey, CustomerSearch, CustomerShare, FollowUp, FollowUpComment, FollowUpTemplate,
    OwnershipEvent, PersonalContact, ShareMode,
)
from models.dictionary import DictItem
from models.invoice import Invoice, InvoiceEvent, InvoiceTitle
from models.job import JobRecord, JobRowIssue
from models.lead import Lead, LeadEvent, LeadFollowUp, LeadKey
from models.lead_form import LeadForm, LeadFormPost
from models.messaging import (
    HolidayGreeting, MailAccount, MessageBatch, MessageTemplate, OptOut, Outbox, SfaEnrollment, SfaPlan, SmsReply,
)
from models.office import Notification
from models.calendar import Event, EventDay, EventParticipant
from models.work_log import WorkLog, WorkLogComment, WorkLogRecipient
from models.office_request import OfficeRequest
from models.notification_setting import NotificationSetting
from models.opportunity import (
    Opportunity, OpportunityCollaborator, OpportunityEvent, OpportunityLine, OpportunityParty, Stage, StageGroup,
)
from models.payment_plan import PaymentPlan, PaymentPlanEvent
from models.pool import ClaimQuota, ClaimRequest, Pool, PoolMember
from models.product import PriceLevel, Product, ProductCategory, ProductPrice, Stock, StockMovement, Warehouse
from models.quote import Quote, QuoteEvent, QuoteLine, QuoteShare
from models.report import CustomerSales, FollowUpDay, ProductDay, SalesDay
from models.sales import Order, OrderEvent, OrderLine, OrderReturn, Payment, PointsEntry
from models.org import DataScope, Department, Role, User
from models.system import AuditLog, CustomField, LoginCaptcha, LoginLog, PeriodicRun, Sequence, Setting
from models.task import OPEN_STATES, Task, TaskEntity, TaskEvent
from models.knowledge import KbArticle, KbArticleSearch, KbArticleTag, KbCategory, KbHelpfulVote
from models.repair import TicketPart, TicketRepair
from models.care import CareRecord, SatisfactionSurvey
from models.checkin import CheckIn
from models.sla import Holiday, SlaPolicy, WorkingHours
from models.service import ServiceTeam, ServiceTeamMember, Ticket, TicketEntry, TicketSearch, TicketStatus
from rules.actor import Actor
from rules.errors import OutOfScope

M = TypeVar("M")


def owner_clause(owner_column: Any, actor: Actor) -> ColumnElement[bool]:
    """Rows whose owner is inside the actor's data scope."""
    scope = actor.data_scope
    if scope is DataScope.ALL:
        return true()
    if scope is DataScope.SELF:
        return owner_column == actor.user_id
    if scope is DataScope.SELF_AND_SUBORDINATES:
        team = select(User.id).where(User.report_path.startswith(actor.report_path))
        return owner_column.in_(team)
    if actor.department_id is None:  # a department scope without a department: own only
        return owner_column == actor.user_id
    if scope is DataScope.DEPARTMENT:
        members = select(User.id).where(User.department_id == actor.department_id)
        return owner_column.in_(members)
    if scope is DataScope.DEPARTMENT_TREE:
        members = (
            select(User.id)
            .join(Department, User.department_id == Department.id)
            .where(Department.path.startswith(actor.department_path or "/-/"))
        )
        return owner_column.in_(members)
    return false()


def owner_clause_listed(session: Session, owner_column: Any, actor: Actor) -> ColumnElement[bool]:
    """`owner_clause` with the staff in scope looked up first and written out as a list. SQLite
    sizes `owner_id IN (3, 4, 5)` from its statistics and walks the owner index; for
    `owner_id IN (SELECT ...)` it cannot, and reads every row of a large table instead."""
    if actor.data_scope is DataScope.ALL:
        return true()
    staff = list(session.scalars(select(User.id).where(owner_clause(User.id, actor))))
    return owner_column.in_(staff) if staff else false()


def shared_with(actor: Actor, *, collaborate_only: bool = False) -> Select:
    """Ids of customers shared with the actor by a share that is still running today."""
    stmt = select(CustomerShare.customer_id).where(
        CustomerShare.user_id == actor.user_id,
        CustomerShare.revoked_at.is_(None),
        or_(CustomerShare.until.is_(None), CustomerShare.until >= actor.today),
    )
    if collaborate_only:
        stmt = stmt.where(CustomerShare.mode == ShareMode.COLLABORATE)
    return stmt


def customer_clause(actor: Actor) -> ColumnElement[bool]:
    """Live customers the actor may see: owned within scope, or shared with them.
    Pool membership joins this clause in the pool issue."""
    owned = owner_clause(Customer.owner_id, actor)
    if actor.data_scope is DataScope.ALL or not actor.has_shares:
        return and_(Customer.deleted_at.is_(None), owned)
    return and_(Customer.deleted_at.is_(None), or_(owned, Customer.id.in_(shared_with(actor))))


def customer_branches(actor: Actor) -> list[ColumnElement[bool]]:
    """`customer_clause` cut into disjoint parts whose union is the same set: owned within
    scope, and shared with the actor but not owned within scope. Each part keeps an index order,
    so a list can take one page from each and merge them; `owned OR shared` makes both SQLite
    and PostgreSQL fetch and sort every owned row to show one page."""
    if actor.data_scope is DataScope.ALL or not actor.has_shares:
        return [customer_clause(actor)]
    live = Customer.deleted_at.is_(None)
    owned = owner_clause(Customer.owner_id, actor)
    not_owned = or_(Customer.owner_id.is_(None), ~owned)
    return [and_(live, owned), and_(live, not_owned, Customer.id.in_(shared_with(actor)))]


def has_active_shares(session: Session, user_id: int, today: date) -> bool:
    stmt = select(CustomerShare.id).where(
        CustomerShare.user_id == user_id, CustomerShare.revoked_at.is_(None),
        or_(CustomerShare.until.is_(None), CustomerShare.until >= today)).limit(1)
    return session.scalar(stmt) is not None


def customer_edit_clause(actor: Actor) -> ColumnElement[bool]:
    """Live customers the actor may change, delete or hand on: shares never grant this."""
    return and_(Customer.deleted_at.is_(None), owner_clause(Customer.owner_id, actor))


def customer_assign_clause(actor: Actor, pool_ids: list[int]) -> ColumnElement[bool]:
    """Live customers the actor may 指派 (assign): owned within scope, or waiting in one of the
    actor's pools (`pool_ids`, rules.pool.pools_of). The assign page lists and moves only these."""
    return and_(Customer.deleted_at.is_(None),
                or_(owner_clause(Customer.owner_id, actor),
                    and_(Customer.owner_id.is_(None), Customer.pool_id.in_(pool_ids))))


def customer_contribute_clause(actor: Actor) -> ColumnElement[bool]:
    """Customers the actor may add follow-ups and contacts to: editable ones and
    collaborative shares."""
    owned = owner_clause(Customer.owner_id, actor)
    if not actor.has_shares:
        return and_(Customer.deleted_at.is_(None), owned)
    return and_(Customer.deleted_at.is_(None),
                or_(owned, Customer.id.in_(shared_with(actor, collaborate_only=True))))


def may_contribute(session: Session, actor: Actor, customer_id: int) -> bool:
    """Whether the customer's page offers 写跟进, 签到 and the next contact date to the actor."""
    return session.scalar(select(Customer.id).where(customer_contribute_clause(actor),
                                                    Customer.id == customer_id)) is not None


def binned_clause(actor: Actor) -> ColumnElement[bool]:
    """Customers in the recycle bin whose owner is in the actor's scope."""
    return and_(Customer.deleted_at.is_not(None), owner_clause(Customer.owner_id, actor))


def on_visible_customer(column: Any, actor: Actor) -> ColumnElement[bool]:
    """Rows (contacts, follow-ups, messages, moves...) whose customer, `column`, the actor sees.

    Asked per row, never as `column IN (every visible customer)`: at a million customers that
    list costs seconds to build on each page view, where a page of twenty rows needs twenty
    look-ups by primary key. Everyone-scope only asks "not in the recycle bin" (small, indexed).
    The EXISTS correlates only `column`'s table (an export that also selects the customer keeps
    this customers table its own); OFFSET 0 keeps PostgreSQL from hashing every visible
    customer first."""
    if actor.data_scope is DataScope.ALL:
        return and_(column.is_not(None), column.not_in(select(Customer.id).where(Customer.deleted_at.is_not(None))))
    return (select(Customer.id).where(Customer.id == column, customer_clause(actor))
            .offset(0).correlate(column.table).exists())


def _through_customer(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: on_visible_customer(column, actor)


def follow_up_clause(actor: Actor) -> ColumnElement[bool]:
    """Follow-ups on live customers, written by someone in scope or on a customer the actor
    sees."""
    return _by_staff_or_at_customer(FollowUp.user_id, FollowUp.customer_id, actor)


def _by_staff_or_at_customer(user_column: Any, customer_column: Any, actor: Actor) -> ColumnElement[bool]:
    """Rows on live customers written by someone in scope, or on a customer the actor sees."""
    on_customer = on_visible_customer(customer_column, actor)
    if actor.data_scope is DataScope.ALL:
        return on_customer
    live = customer_column.not_in(select(Customer.id).where(Customer.deleted_at.is_not(None)))
    return and_(live, or_(owner_clause(user_column, actor), on_customer))


def check_in_clause(actor: Actor) -> ColumnElement[bool]:
    """外勤签到, scoped as the follow-ups they write: by someone in scope, or at a customer the
    actor sees; never at a customer in the recycle bin."""
    return _by_staff_or_at_customer(CheckIn.user_id, CheckIn.customer_id, actor)


def ownership_event_clause(actor: Actor) -> ColumnElement[bool]:
    """流转记录: moves of customers the actor sees, and moves to or from someone in scope (a
    salesperson sees what left them for the pool)."""
    return or_(on_visible_customer(OwnershipEvent.customer_id, actor),
               owner_clause(OwnershipEvent.from_user_id, actor), owner_clause(OwnershipEvent.to_user_id, actor))


def outbox_clause(actor: Actor) -> ColumnElement[bool]:
    """Messages the actor sent, or sent to customers they see; the messaging administrator
    sees all."""
    if actor.can("message.manage"):
        return true()
    return or_(owner_clause(Outbox.user_id, actor), on_visible_customer(Outbox.customer_id, actor))


def sms_reply_clause(actor: Actor) -> ColumnElement[bool]:
    """Replies from customers the actor sees; the messaging administrator sees all."""
    if actor.can("message.manage"):
        return true()
    return on_visible_customer(SmsReply.customer_id, actor)


def contact_write_clause(actor: Actor) -> ColumnElement[bool]:
    """Contacts the actor may add, change or delete: those of customers they may contribute to."""
    return Contact.customer_id.in_(select(Customer.id).where(customer_contribute_clause(actor)))


def share_write_clause(actor: Actor) -> ColumnElement[bool]:
    """Shares the actor may revoke: those of customers they may change (a share never grants
    sharing on)."""
    return CustomerShare.customer_id.in_(select(Customer.id).where(customer_edit_clause(actor)))


def sfa_enrollment_clause(actor: Actor) -> ColumnElement[bool]:
    """执行中的方案 of customers the actor may change: a plan writes to the customer (SMS) or
    to its salesperson, which a read-only share does not allow."""
    return SfaEnrollment.customer_id.in_(select(Customer.id).where(customer_edit_clause(actor)))


def claim_request_clause(actor: Actor) -> ColumnElement[bool]:
    """领用申请: one's own, and for an approver also those of applicants in their scope."""
    mine = ClaimRequest.applicant_id == actor.user_id
    if actor.can("pool.approve"):
        return or_(mine, owner_clause(ClaimRequest.applicant_id, actor))
    return mine


def recipient_clause(actor: Actor) -> ColumnElement[bool]:
    """A personal inbox: one's own rows, whatever the role's data scope."""
    return Notification.user_id == actor.user_id


def personal_clause(actor: Actor) -> ColumnElement[bool]:
    return PersonalContact.owner_id == actor.user_id


def order_clause(actor: Actor) -> ColumnElement[bool]:
    """Orders of customers the actor sees, or sold by a salesperson in the actor's scope."""
    if actor.data_scope is DataScope.ALL:
        return true()
    # EXISTS, not IN: an order list pages through the (state, date) index and checks each row,
    # where IN (subquery) in an OR makes SQLite collect and sort every order of the scope.
    visible_customer = select(Customer.id).where(Customer.id == Order.customer_id, customer_clause(actor)).exists()
    return or_(owner_clause(Order.salesperson_id, actor), visible_customer)


def _through_order(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: column.in_(select(Order.id).where(order_clause(actor)))


def announcement_clause(actor: Actor) -> ColumnElement[bool]:
    """Announcements the actor may read: published, not past their last day, and addressed to
    the whole company or to the actor's department or one above it (a department's audience
    includes its sub-departments). Drafts are seen only in the administrators' list."""
    ancestors = [int(p) for p in (actor.department_path or "").strip("/").split("/") if p.isdigit()]
    audience = Announcement.whole_company.is_(True)
    if ancestors:
        # EXISTS, not IN: the feed walks its index newest first and checks each row by primary
        # key, stopping at the page size, instead of collecting every link of the departments
        # (the OFFSET keeps PostgreSQL from turning it back into a hashed IN over all of them).
        audience = or_(audience, select(announcement_departments.c.announcement_id).where(
            announcement_departments.c.announcement_id == Announcement.id,
            announcement_departments.c.department_id.in_(ancestors)).offset(0).exists())
    return and_(Announcement.published_at.is_not(None),
                or_(Announcement.expires_on.is_(None), Announcement.expires_on >= actor.today), audience)


def announcement_manage_clause(actor: Actor) -> ColumnElement[bool]:
    """Announcements the actor may manage (drafts included): written by someone in scope."""
    return owner_clause(Announcement.author_id, actor)


def lead_clause(actor: Actor) -> ColumnElement[bool]:
    """Live leads owned by someone in the actor's scope. Leads waiting in a pool are seen through
    the lead pool page (rules/pool.pool_clause), like pool customers."""
    return and_(Lead.deleted_at.is_(None), Lead.owner_id.is_not(None), owner_clause(Lead.owner_id, actor))


def lead_assign_clause(actor: Actor, pool_ids: list[int]) -> ColumnElement[bool]:
    """Live leads the actor may 指派 (assign): owned within scope, or waiting in one of the
    actor's lead pools (`pool_ids`, rules.pool.pools_of with the LEADS subject)."""
    return and_(Lead.deleted_at.is_(None),
                or_(and_(Lead.owner_id.is_not(None), owner_clause(Lead.owner_id, actor)),
                    and_(Lead.owner_id.is_(None), Lead.pool_id.in_(pool_ids))))


def _through_lead(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: select(Lead.id).where(Lead.id == column, lead_clause(actor)).correlate(
        column.table).exists()


def lead_event_clause(actor: Actor) -> ColumnElement[bool]:
    """线索流转: moves of leads the actor sees, and moves to or from someone in scope."""
    return or_(_through_lead(LeadEvent.lead_id)(actor), owner_clause(LeadEvent.from_user_id, actor),
               owner_clause(LeadEvent.to_user_id, actor))


def opportunity_clause(actor: Actor) -> ColumnElement[bool]:
    """Live opportunities whose owner is in the actor's scope, or on which the actor is a
    collaborator (协作人). Owning a customer linked to a project opportunity (甲方, 设计方...) does
    not show it: the customer page lists only the opportunities its reader may see, so a
    project's amounts and stage stay with the salespeople working it."""
    owned = owner_clause(Opportunity.owner_id, actor)
    collaborating = select(OpportunityCollaborator.opportunity_id).where(
        OpportunityCollaborator.opportunity_id == Opportunity.id,
        OpportunityCollaborator.user_id == actor.user_id).exists()
    if actor.data_scope is DataScope.ALL:
        return Opportunity.deleted_at.is_(None)
    return and_(Opportunity.deleted_at.is_(None), or_(owned, collaborating))


def opportunity_listed_clause(session: Session, actor: Actor) -> ColumnElement[bool]:
    """`opportunity_clause` with the staff in scope written out as a list (owner_clause_listed)
    and the collaborations as an IN: SQLite then answers a 主管's board from
    ix_opportunities_owner_outcome_stage plus the collaborator index (MULTI-INDEX OR) instead of
    checking every open opportunity of the company (at 1M: 2 s → 0.35 s for the column sums)."""
    if actor.data_scope is DataScope.ALL:
        return Opportunity.deleted_at.is_(None)
    collaborating = Opportunity.id.in_(select(OpportunityCollaborator.opportunity_id).where(
        OpportunityCollaborator.user_id == actor.user_id))
    return and_(Opportunity.deleted_at.is_(None),
                or_(owner_clause_listed(session, Opportunity.owner_id, actor), collaborating))


def _through_opportunity(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: select(Opportunity.id).where(Opportunity.id == column, opportunity_clause(actor)).correlate(
        column.table).exists()


def quote_clause(actor: Actor) -> ColumnElement[bool]:
    """Live quotes whose owner is in the actor's scope, or of an opportunity the actor sees (its
    collaborators see its quotes)."""
    if actor.data_scope is DataScope.ALL:
        return Quote.deleted_at.is_(None)
    return and_(Quote.deleted_at.is_(None),
                or_(owner_clause(Quote.owner_id, actor), _through_opportunity(Quote.opportunity_id)(actor)))


def _through_quote(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: select(Quote.id).where(Quote.id == column, quote_clause(actor)).correlate(
        column.table).exists()


def approver_of(doc_type: ApprovalDocType, actor: Actor) -> Select:
    """Ids of the documents of `doc_type` the actor has a part in approving (any step, any
    outcome): an approver reads what they decide on, and what they decided, whatever their own
    data scope."""
    return (select(ApprovalRequest.doc_id)
            .join(ApprovalTask, ApprovalTask.request_id == ApprovalRequest.id)
            .where(ApprovalTask.approver_id == actor.user_id, ApprovalRequest.doc_type == doc_type.value))


def _visible_customer_ids(actor: Actor) -> Select:
    return select(Customer.id).where(customer_clause(actor))


def approval_request_clause(actor: Actor) -> ColumnElement[bool]:
    """审批: requests the actor submitted or has a task in, and those of documents owned or
    submitted by someone in the actor's scope (a manager follows the team's approvals)."""
    mine = or_(ApprovalRequest.submitter_id == actor.user_id,
               select(ApprovalTask.id).where(ApprovalTask.request_id == ApprovalRequest.id,
                                             ApprovalTask.approver_id == actor.user_id).exists())
    if actor.data_scope is DataScope.ALL:
        return true()
    return or_(mine, owner_clause(ApprovalRequest.submitter_id, actor), owner_clause(ApprovalRequest.owner_id, actor))


def _through_approval(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: select(ApprovalRequest.id).where(
        ApprovalRequest.id == column, approval_request_clause(actor)).correlate(column.table).exists()


def contract_clause(actor: Actor) -> ColumnElement[bool]:
    """Live contracts owned by someone in the actor's scope, of a customer the actor sees (as
    orders), or waiting for or decided by the actor as an approver.

    Each branch is `column IN (subquery)` on an indexed column, not a correlated EXISTS: a list's
    capped count and every report walk all contracts in scope, and SQLite answers IN-branches
    from the indexes (MULTI-INDEX OR) where EXISTS is probed once per contract of the company
    (bench/bench_finance.py: a salesperson's list at 1M contracts went from 2.7 s to milliseconds)."""
    live = Contract.deleted_at.is_(None)
    if actor.data_scope is DataScope.ALL:
        return live
    return and_(live, or_(owner_clause(Contract.owner_id, actor),
                          Contract.customer_id.in_(_visible_customer_ids(actor)),
                          Contract.id.in_(approver_of(ApprovalDocType.CONTRACT, actor))))


def contract_write_clause(actor: Actor) -> ColumnElement[bool]:
    """Contracts the actor may change: owned within scope (seeing one as the customer's owner
    or as its approver does not hand it over)."""
    return and_(Contract.deleted_at.is_(None), owner_clause(Contract.owner_id, actor))


def _through_contract(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: select(Contract.id).where(Contract.id == column, contract_clause(actor)).correlate(
        column.table).exists()


def payment_plan_clause(actor: Actor) -> ColumnElement[bool]:
    """Instalments of a contract or order the actor sees. An instalment keeps the owner and the
    customer of its contract or order (rules/payment_plans.follow_owner), so "the contract or
    order is visible" reads as: its owner is in scope, its customer is visible, or the actor
    approves the contract — three indexed IN-branches instead of a probe per instalment."""
    if actor.data_scope is DataScope.ALL:
        return true()
    return or_(owner_clause(PaymentPlan.owner_id, actor),
               PaymentPlan.customer_id.in_(_visible_customer_ids(actor)),
               PaymentPlan.contract_id.in_(approver_of(ApprovalDocType.CONTRACT, actor)))


def _through_plan(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: select(PaymentPlan.id).where(PaymentPlan.id == column, payment_plan_clause(actor)).correlate(
        column.table).exists()


def payment_clause(actor: Actor) -> ColumnElement[bool]:
    """Receipts and refunds the actor sees: of a customer the actor sees, of an order sold or a
    contract owned by someone in scope, credited (业绩归属) to someone in scope, or that the actor
    approves (the receipt itself or its contract)."""
    if actor.data_scope is DataScope.ALL:
        return true()
    return or_(Payment.customer_id.in_(_visible_customer_ids(actor)),
               owner_clause(Payment.owner_id, actor),
               Payment.order_id.in_(select(Order.id).where(owner_clause(Order.salesperson_id, actor))),
               Payment.contract_id.in_(select(Contract.id).where(owner_clause(Contract.owner_id, actor))),
               Payment.id.in_(approver_of(ApprovalDocType.RECEIPT, actor)),
               Payment.contract_id.in_(approver_of(ApprovalDocType.CONTRACT, actor)))


def invoice_clause(actor: Actor) -> ColumnElement[bool]:
    """Invoices owned by someone in scope, of a customer the actor sees, or that the actor approves."""
    if actor.data_scope is DataScope.ALL:
        return true()
    return or_(owner_clause(Invoice.owner_id, actor), Invoice.customer_id.in_(_visible_customer_ids(actor)),
               Invoice.id.in_(approver_of(ApprovalDocType.INVOICE, actor)))


def _through_invoice(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: select(Invoice.id).where(Invoice.id == column, invoice_clause(actor)).correlate(
        column.table).exists()


# --- files: attachments follow their record; documents their top folder -------------------------

def attachable() -> dict[AttachmentEntity, type]:
    """The record kinds that take attachments, and their models: a new kind is declared here
    and in AttachmentEntity, and its attachments are then scoped exactly like its records."""
    return {
        AttachmentEntity.CUSTOMER: Customer, AttachmentEntity.CONTACT: Contact, AttachmentEntity.FOLLOW_UP: FollowUp,
        AttachmentEntity.LEAD: Lead, AttachmentEntity.OPPORTUNITY: Opportunity, AttachmentEntity.QUOTE: Quote,
        AttachmentEntity.CONTRACT: Contract, AttachmentEntity.ORDER: Order, AttachmentEntity.PAYMENT: Payment,
        AttachmentEntity.INVOICE: Invoice,
        AttachmentEntity.OFFICE_REQUEST: OfficeRequest,
        AttachmentEntity.TICKET: Ticket,
    }


def attachment_clause(actor: Actor) -> ColumnElement[bool]:
    """An attachment is seen by whoever sees its record: one branch per record kind, each probing
    the attachment's own record by its key. (An IN over every visible record would build that
    whole set first: for the 总经理 every customer, for anyone every contact and follow-up,
    seconds at 1M attachments; a list newest first probes only the rows it walks.)"""
    return or_(*(and_(Attachment.entity == kind.value, select(model.id).where(
        model.id == Attachment.record_id, clause_for(model, actor)).exists())
        for kind, model in attachable().items()))


_LEVELS = {GrantLevel.VIEW: (GrantLevel.VIEW, GrantLevel.UPLOAD, GrantLevel.MANAGE),
           GrantLevel.UPLOAD: (GrantLevel.UPLOAD, GrantLevel.MANAGE), GrantLevel.MANAGE: (GrantLevel.MANAGE,)}


def department_chain(actor: Actor) -> list[int]:
    """The actor's department and every department above it ("/1/4/9/" → [1, 4, 9])."""
    return [int(part) for part in (actor.department_path or "").strip("/").split("/") if part.isdigit()]


def _grant_matches(actor: Actor) -> ColumnElement[bool]:
    everyone = and_(FolderGrant.user_id.is_(None), FolderGrant.role_id.is_(None), FolderGrant.department_id.is_(None))
    branches = [everyone, FolderGrant.user_id == actor.user_id]
    if actor.role_id is not None:
        branches.append(FolderGrant.role_id == actor.role_id)
    if actor.department_id is not None:
        branches.append(FolderGrant.department_id == actor.department_id)
        branches.append(and_(FolderGrant.include_children.is_(True), FolderGrant.department_id.in_(department_chain(actor))))
    return or_(*branches)


def folder_roots(actor: Actor, level: GrantLevel = GrantLevel.VIEW) -> Select:
    """Ids of the top folders (空间) in which the actor holds at least `level`:
    - a personal folder: its owner, at every level;
    - a department folder: the members of that department and of the departments under it view
      and upload; managing it needs a grant (or document.manage);
    - a company folder: everyone views it while it has no grant; once it has grants, only
      their holders, at the granted level;
    - document.manage: every company and department folder, at every level (never another
      person's personal folder);
    - a grant on any top folder adds its level for its holders."""
    top = and_(DocumentFolder.parent_id.is_(None), DocumentFolder.deleted_at.is_(None))
    granted = select(FolderGrant.folder_id).where(FolderGrant.level.in_(_LEVELS[level]), _grant_matches(actor))
    branches = [and_(DocumentFolder.kind == FolderKind.PERSONAL, DocumentFolder.owner_id == actor.user_id),
                and_(DocumentFolder.kind != FolderKind.PERSONAL, DocumentFolder.id.in_(granted))]
    if actor.can("document.manage"):
        branches.append(DocumentFolder.kind != FolderKind.PERSONAL)
    if level is not GrantLevel.MANAGE and actor.department_id is not None:
        branches.append(and_(DocumentFolder.kind == FolderKind.DEPARTMENT,
                             DocumentFolder.department_id.in_(department_chain(actor))))
    if level is GrantLevel.VIEW:
        branches.append(and_(DocumentFolder.kind == FolderKind.COMPANY,
                             ~select(FolderGrant.id).where(FolderGrant.folder_id == DocumentFolder.id).exists()))
    return select(DocumentFolder.id).where(top, or_(*branches))


def folder_clause(actor: Actor) -> ColumnElement[bool]:
    return DocumentFolder.root_id.in_(folder_roots(actor))


def folder_write_clause(actor: Actor) -> ColumnElement[bool]:
    return DocumentFolder.root_id.in_(folder_roots(actor, GrantLevel.UPLOAD))


def document_clause(actor: Actor) -> ColumnElement[bool]:
    return Document.root_id.in_(folder_roots(actor))


def document_write_clause(actor: Actor) -> ColumnElement[bool]:
    return Document.root_id.in_(folder_roots(actor, GrantLevel.UPLOAD))


def _through_document(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: column.in_(select(Document.id).where(document_clause(actor)))


def event_clause(actor: Actor) -> ColumnElement[bool]:
    """日程: visible to whoever sees one of the people it is on (owner or participant): its
    participants, and their managers within their data scope."""
    people = select(EventParticipant.event_id).where(owner_clause(EventParticipant.user_id, actor))
    return and_(Event.deleted_at.is_(None), Event.id.in_(people))


def event_write_clause(actor: Actor) -> ColumnElement[bool]:
    """Only the owner, or a manager of the owner, changes an event; participants see it."""
    return and_(Event.deleted_at.is_(None), owner_clause(Event.owner_id, actor))


def _through_event(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: column.in_(select(Event.id).where(event_clause(actor)))


# --- 待办 (tasks, issue 21) ----------------------------------------------------------------------

def task_clause(actor: Actor) -> ColumnElement[bool]:
    """Tasks given to or by the actor, and those of assignees inside the actor's scope (a
    manager follows the team's tasks). IN-branches on indexed columns, like contract_clause."""
    if actor.data_scope is DataScope.ALL:
        return true()
    return or_(Task.assignee_id == actor.user_id, Task.assigner_id == actor.user_id,
               owner_clause(Task.assignee_id, actor))


def task_edit_clause(actor: Actor) -> ColumnElement[bool]:
    """Tasks the actor may edit: the open ones they assigned (assignees move them, not edit them)."""
    return and_(Task.assigner_id == actor.user_id, Task.status.in_(OPEN_STATES))


def task_linkable() -> dict[TaskEntity, type]:
    """The records a task may be about, and their models."""
    return {TaskEntity.CUSTOMER: Customer, TaskEntity.OPPORTUNITY: Opportunity, TaskEntity.CONTRACT: Contract,
            TaskEntity.TICKET: Ticket}


def work_log_clause(actor: Actor) -> ColumnElement[bool]:
    """工作日志: written by someone in the actor's scope, or sent to the actor."""
    sent_to_me = select(WorkLogRecipient.log_id).where(WorkLogRecipient.user_id == actor.user_id)
    return or_(owner_clause(WorkLog.author_id, actor), WorkLog.id.in_(sent_to_me))


def _through_work_log(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: column.in_(select(WorkLog.id).where(work_log_clause(actor)))


def office_request_clause(actor: Actor) -> ColumnElement[bool]:
    """工作请示 / 申请: one's own, those of colleagues in one's scope (a manager follows the team's
    leave), and those one has a part in approving, whatever one's data scope."""
    if actor.data_scope is DataScope.ALL:
        return true()
    # Equalities, not an expanding IN: the clause is also compiled inline (EXPLAIN checks in tests).
    office_types = or_(*(ApprovalRequest.doc_type == t.value for t in ApprovalDocType if t.value.startswith("office_")))
    approving = (select(ApprovalRequest.doc_id)
                 .join(ApprovalTask, ApprovalTask.request_id == ApprovalRequest.id)
                 .where(ApprovalTask.approver_id == actor.user_id, office_types))
    return or_(owner_clause(OfficeRequest.submitter_id, actor), OfficeRequest.id.in_(approving))


def ticket_clause(actor: Actor) -> ColumnElement[bool]:
    """工单: those assigned to or opened by the actor, those of assignees in the actor's scope (a
    manager follows the team's tickets), the queues of the service groups the actor is in or
    leads, and the tickets of customers the actor sees (a salesperson hears what their customers
    reported). IN-branches on indexed columns, like task_clause."""
    if actor.data_scope is DataScope.ALL:
        return true()
    my_teams = select(ServiceTeamMember.team_id).where(ServiceTeamMember.user_id == actor.user_id).union(
        select(ServiceTeam.id).where(ServiceTeam.leader_id == actor.user_id))
    return or_(Ticket.assignee_id == actor.user_id, Ticket.created_by_id == actor.user_id,
               owner_clause(Ticket.assignee_id, actor), Ticket.team_id.in_(my_teams),
               Ticket.customer_id.in_(select(Customer.id).where(customer_clause(actor))))


def _through_ticket(column: Any) -> Callable[[Actor], ColumnElement[bool]]:
    return lambda actor: column.in_(select(Ticket.id).where(ticket_clause(actor)))


_CLAUSES: dict[type, Callable[[Actor], ColumnElement[bool]]] = {
    Customer: customer_clause,
    Contact: _through_customer(Contact.customer_id),
    FollowUp: follow_up_clause,
    CheckIn: check_in_clause,  # 外勤签到 (issue 23)
    OwnershipEvent: ownership_event_clause,
    CustomerShare: _through_customer(CustomerShare.customer_id),
    Notification: recipient_clause,
    Outbox: outbox_clause,
    SmsReply: sms_reply_clause,
    PersonalContact: personal_clause,
    Order: order_clause,
    OrderLine: _through_order(OrderLine.order_id),
    Payment: payment_clause,
    PointsEntry: _through_customer(PointsEntry.customer_id),
    Announcement: announcement_clause,
    SfaEnrollment: sfa_enrollment_clause,
    ClaimRequest: claim_request_clause,
    Lead: lead_clause,
    LeadEvent: lead_event_clause,
    LeadFollowUp: _through_lead(LeadFollowUp.lead_id),
    Opportunity: opportunity_clause,
    OpportunityLine: _through_opportunity(OpportunityLine.opportunity_id),
    OpportunityCollaborator: _through_opportunity(OpportunityCollaborator.opportunity_id),
    OpportunityParty: _through_opportunity(OpportunityParty.opportunity_id),
    OpportunityEvent: _through_opportunity(OpportunityEvent.opportunity_id),
    Quote: quote_clause,
    QuoteLine: _through_quote(QuoteLine.quote_id),
    QuoteEvent: _through_quote(QuoteEvent.quote_id),
    ApprovalRequest: approval_request_clause,
    ApprovalTask: _through_approval(ApprovalTask.request_id),
    ApprovalEvent: _through_approval(ApprovalEvent.request_id),
    Contract: contract_clause,
    ContractLine: _through_contract(ContractLine.contract_id),
    ContractEvent: _through_contract(ContractEvent.contract_id),
    PaymentPlan: payment_plan_clause,
    PaymentPlanEvent: _through_plan(PaymentPlanEvent.plan_id),
    InvoiceTitle: _through_customer(InvoiceTitle.customer_id),
    Invoice: invoice_clause,
    InvoiceEvent: _through_invoice(InvoiceEvent.invoice_id),
    QuoteShare: _through_quote(QuoteShare.quote_id),
    Attachment: attachment_clause,
    DocumentFolder: folder_clause,
    Document: document_clause,
    DocumentVersion: _through_document(DocumentVersion.document_id),
    Event: event_clause,
    EventParticipant: _through_event(EventParticipant.event_id),
    Task: task_clause,
    TaskEvent: lambda actor: TaskEvent.task_id.in_(select(Task.id).where(task_clause(actor))),
    WorkLog: work_log_clause,
    WorkLogRecipient: _through_work_log(WorkLogRecipient.log_id),
    WorkLogComment: _through_work_log(WorkLogComment.log_id),
    OfficeRequest: office_request_clause,
    Ticket: ticket_clause,
    TicketEntry: _through_ticket(TicketEntry.ticket_id),
    TicketRepair: _through_ticket(TicketRepair.ticket_id),
    TicketPart: _through_ticket(TicketPart.ticket_id),
    CareRecord: _through_customer(CareRecord.customer_id),  # 关怀: whoever sees the customer
    SatisfactionSurvey: _through_ticket(SatisfactionSurvey.ticket_id),  # 回访: whoever sees the ticket
}

# Where changing (edit, delete, batch actions) is narrower than seeing: shares show a customer,
# they do not hand it over.
_WRITE_CLAUSES: dict[type, Callable[[Actor], ColumnElement[bool]]] = {
    Customer: customer_edit_clause,
    Contact: contact_write_clause,
    CustomerShare: share_write_clause,
    Contract: contract_write_clause,
    DocumentFolder: folder_write_clause,
    Document: document_write_clause,
    Event: event_write_clause,
}

# Models without a row-level scope, and why. Whoever may open their pages (the permission on the
# view) sees every row; data reached through a scoped parent is loaded only after the parent.
UNSCOPED: dict[type, str] = {
    CustomerKey: "search index rows of customers, never listed",
    CustomerSearch: "search index rows of customers, never listed",
    FollowUpComment: "shown only under a follow-up the actor already sees",
    FollowUpTemplate: "a dictionary (settings.manage)",
    DictItem: "a dictionary (settings.manage)",
    JobRecord: "an import/export job is its starter's alone (admin_views/excel.py checks user_id)",
    JobRowIssue: "shown only inside its job",
    HolidayGreeting: "messaging settings (message.manage)",
    MailAccount: "messaging settings (message.manage)",
    MessageBatch: "progress of one bulk send, opened by its id from the send page",
    MessageTemplate: "company-wide templates everyone who sends may use",
    OptOut: "a company-wide do-not-contact list (message.manage)",
    SfaPlan: "messaging settings (message.manage)",
    Department: "the organisation (org.manage); every user sees the tree in their address book",
    Role: "the organisation (org.manage)",
    User: "colleagues: the internal address book is for everyone",
    Pool: "pool settings (settings.manage); pool membership decides the pool list",
    PoolMember: "pool settings (settings.manage)",
    ClaimQuota: "a counter per user, never listed",
    PriceLevel: "the product catalogue is company-wide",
    Product: "the product catalogue is company-wide",
    ProductCategory: "the product catalogue is company-wide",
    ProductPrice: "the product catalogue is company-wide",
    Warehouse: "the product catalogue is company-wide",
    Stock: "stock is company-wide (product.view)",
    StockMovement: "stock is company-wide (product.view)",
    CustomerSales: "a report summary read only by rules/rfm.py, which narrows it to the actor's customers",
    FollowUpDay: "a report summary; rules/reports.py narrows it by owner_clause on the writer",
    ProductDay: "a report summary; rules/reports.py narrows it by owner_clause on the salesperson",
    SalesDay: "a report summary; rules/reports.py narrows it by owner_clause on the salesperson",
    OrderEvent: "shown only on the page of an order the actor sees",
    OrderReturn: "shown only on the page of an order the actor sees, beside its return event",
    AuditLog: "the administrators' log (audit.view)",
    LoginLog: "the administrators' log (login_log.view)",
    LoginCaptcha: "login-page bookkeeping; no page lists it",
    PeriodicRun: "the scheduler's own bookkeeping",
    Sequence: "number counters",
    Setting: "system settings (settings.manage)",
    CustomField: "field definitions (settings.manage)",
    NotificationSetting: "one's own 提醒设置, read and written only for the signed-in user (admin_views/notification_settings.py)",
    LeadKey: "duplicate-check rows of leads, never listed",
    StageGroup: "pipeline settings (settings.manage); every salesperson sees the stages",
    Stage: "pipeline settings (settings.manage); every salesperson sees the stages",
    LeadForm: "留资表单 settings (settings.manage)",
    LeadFormPost: "the web forms' rate-limit counter, never listed",
    ApprovalFlow: "approval settings (settings.manage); the submit page names each step",
    ApprovalStep: "approval settings (settings.manage)",
    FolderGrant: "a top folder's rights, shown to those who manage it (rules/document_folders.py)",
    DocumentSearch: "search index rows of documents, never listed",
    PrintTemplate: "print layouts are company-wide; print.design edits them",
    EventDay: "counts of events per person and day; rules/events.day_loads keeps to the people in owner_clause",
    TicketStatus: "service settings (service.manage); every agent sees the statuses",
    ServiceTeam: "service settings (service.manage); every agent sees the groups to hand a ticket to",
    ServiceTeamMember: "service settings (service.manage)",
    SlaPolicy: "service settings (service.manage): the firm's targets, the same for everyone",
    WorkingHours: "service settings (service.manage): the firm's working week",
    Holiday: "service settings (service.manage): the firm's holidays and 调休 workdays",
    KbArticle: "the knowledge base is company-wide (knowledge.view); drafts and archived articles are kept to "
               "editors by rules/knowledge.visible_clause on every path",
    KbCategory: "knowledge-base categories are company-wide (knowledge.edit manages them)",
    KbArticleTag: "tags of an article, read only through an article the reader sees",
    KbArticleSearch: "search index rows of articles, never listed",
    KbHelpfulVote: "one person's 有帮助/没帮助 vote, only counted, never listed",
    TicketSearch: "search index rows of tickets, never listed; the ticket list applies ticket_clause",
}
def clause_for(model: type, actor: Actor) -> ColumnElement[bool]:
    """The rows of `model` the actor may see."""
    if model not in _CLAUSES:
        raise TypeError(f"{model.__name__} has no data-scope rule")
    return _CLAUSES[model](actor)


def write_clause_for(model: type, actor: Actor) -> ColumnElement[bool] | None:
    """The rows of `model` the actor may change, or None when that is every row they see."""
    rule = _WRITE_CLAUSES.get(model)
    return rule(actor) if rule is not None else None


def is_scoped(model: type) -> bool:
    return model in _CLAUSES


def scoped(stmt: Select | Query, model: type, actor: Actor) -> Select | Query:
    """Restrict a select (or legacy Query) over `model` to the actor's scope."""
    clause = clause_for(model, actor)
    return stmt.filter(clause) if isinstance(stmt, Query) else stmt.where(clause)


def get_in_scope(session: Session, model: type[M], ident: Any, actor: Actor,
                 clause: ColumnElement[bool] | None = None) -> M:
    """Load one record the actor may see (or the narrower `clause`), or raise OutOfScope
    (the view answers 404)."""
    try:
        pk = int(ident)
    except (TypeError, ValueError):
        raise OutOfScope(_l("记录不存在")) from None
    if not 0 < pk <= MAX_ID:  # beyond any stored id; SQL would fail on it
        raise OutOfScope(_l("记录不存在"))
    stmt = select(model).where(clause if clause is not None else clause_for(model, actor))
    obj = session.scalar(stmt.where(model.id == pk))
    if obj is None:
        raise OutOfScope(_l("记录不存在"))
    return obj


def ids_in_scope(session: Session, model: type, ids: list[Any], actor: Actor,
                 clause: ColumnElement[bool] | None = None) -> list[int]:
    """Batch actions receive raw ids from the form: keep the ones in scope, in order."""
    wanted = []
    for raw in ids:
        try:
            number = int(raw)
        except (TypeError, ValueError):
            continue
        if 0 < number <= MAX_ID:
            wanted.append(number)
    if not wanted:
        return []
    where = clause if clause is not None else clause_for(model, actor)
    found = set(session.scalars(select(model.id).where(where, model.id.in_(wanted))))
    return [i for i in wanted if i in found]
