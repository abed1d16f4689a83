"""All models, importable from one place."""
from models.announcement import Announcement, announcement_departments
from models.approval import (
    ApprovalAction, ApprovalDocType, ApprovalEvent, ApprovalFlow, ApprovalRequest, ApprovalStatus, ApprovalStep,
    ApprovalTask, StepKind, StepMode, TaskStatus,
)
from models.base import db
from models.contract import Contract, ContractAction, ContractEvent, ContractLine, ContractStatus
from models.customer import (
    BirthdayCalendar, Contact, Customer, CustomerKey, CustomerKind, CustomerSearch, CustomerShare, FollowUp, FollowUpComment, FollowUpKind,
    FollowUpTemplate, Gender, OwnershipEvent, OwnershipReason, PersonalContact, PoolReason, RecycleRule, ShareMode,
)
from models.dictionary import DictItem, DictKind
from models.invoice import (
    Invoice, InvoiceAction, InvoiceEvent, InvoiceStatus, InvoiceTitle, InvoiceType, TitleKind,
)
from models.lead import Lead, LeadEvent, LeadFollowUp, LeadKey, LeadStatus
from models.lead_form import LeadForm, LeadFormPost
from models.messaging import (
    Channel, HolidayGreeting, MailAccount, MessageBatch, MessageTemplate, OptOut, Outbox, OutboxStatus, SfaEnrollment,
    SfaPlan, SmsReply,
)
from models.office import Notification, NotificationKind
from models.calendar import Event, EventDay, EventParticipant
from models.office_request import DayHalf, OfficeRequest, RequestKind, RequestState
from models.notification_setting import NotificationSetting
from models.opportunity import (
    Opportunity, OpportunityCollaborator, OpportunityEvent, OpportunityLine, OpportunityParty, Outcome, Stage, StageGroup,
)
from models.org import DataScope, Department, Role, User
from models.payment_plan import PaymentPlan, PaymentPlanEvent, PlanAction, PlanStatus
from models.pool import ClaimQuota, ClaimRequest, Pool, PoolMember, RequestStatus
from models.product import PriceLevel, Product, ProductCategory, ProductPrice, Stock, StockMovement, Warehouse
from models.sales import Order, OrderEvent, OrderLine, OrderReturn, OrderStatus, Payment, PaymentKind, PaymentStatus, PointsEntry
from models.quote import Quote, QuoteEvent, QuoteLine, QuoteShare, QuoteStatus
from models.attachment import Attachment, AttachmentEntity
from models.document import Document, DocumentFolder, DocumentSearch, DocumentVersion, FolderGrant, FolderKind, GrantLevel, TextStatus
from models.files import FileKind
from models.printing import Paper, PrintDocType, PrintTemplate
from models.report import FollowUpDay, ProductDay, SalesDay
from models.work_log import WorkLog, WorkLogComment, WorkLogPeriod, WorkLogRecipient
from models.system import AuditLog, CustomField, LoginCaptcha, LoginLog, PeriodicRun, Sequence, Setting
from models.task import Task, TaskEntity, TaskEvent, TaskEventKind, TaskPriority, TaskState  # 待办 (issue 21)
from models.repair import RepairState, TicketPart, TicketRepair  # 维修 (issue 22, repair)
from models.knowledge import (  # 知识库 (issue 22)
    ArticleKind, ArticleStatus, KbArticle, KbArticleSearch, KbArticleTag, KbCategory, KbHelpfulVote,
)
from models.service import (  # 客户服务 (issue 22)
    ACTIVE_CATEGORIES, AssignMode, EntryKind, ServiceTeam, ServiceTeamMember, StatusCategory, Ticket, TicketChannel,
    TicketEntry, TicketPriority, TicketStatus,
)
from models.care import CareChannel, CareKind, CareRecord, SatisfactionSurvey, SurveyChannel  # 关怀, 回访 (issue 22)
from models.sla import Holiday, HolidayKind, HolidaySource, SlaPolicy, WorkingHours  # SLA (issue 22)
from models.checkin import CheckIn  # 外勤签到 (issue 23)

__all__ = [
    "db", "Holiday", "HolidayKind", "HolidaySource", "SlaPolicy", "WorkingHours", "Announcement", "announcement_departments", "AuditLog", "Contact", "CustomField", "Customer", "CustomerKey", "CustomerSearch", "CustomerKind", "CustomerShare", "DataScope", "Department",
    "DictItem", "DictKind", "FollowUp", "FollowUpComment", "FollowUpKind", "FollowUpTemplate", "Gender",
    "BirthdayCalendar",
    "LoginCaptcha", "LoginLog", "Notification", "NotificationKind", "OwnershipEvent", "OwnershipReason", "PeriodicRun", "PersonalContact", "PoolReason",
    "RecycleRule", "Role", "Sequence",
    "Setting", "ShareMode", "User", "ClaimQuota", "ClaimRequest", "Pool", "PoolMember", "RequestStatus",
    "Channel", "HolidayGreeting", "MailAccount", "MessageBatch", "MessageTemplate", "OptOut", "Outbox",
    "OutboxStatus", "SfaEnrollment", "SfaPlan", "SmsReply",
    "Lead", "LeadEvent", "LeadFollowUp", "LeadKey", "LeadStatus", "Opportunity", "OpportunityCollaborator",
    "OpportunityEvent", "OpportunityLine", "OpportunityParty", "Outcome", "Stage", "StageGroup", "Quote", "QuoteEvent",
    "QuoteLine", "QuoteStatus",
    "LeadForm", "LeadFormPost",
    "ApprovalAction", "ApprovalDocType", "ApprovalEvent", "ApprovalFlow", "ApprovalRequest", "ApprovalStatus",
    "ApprovalStep", "ApprovalTask", "StepKind", "StepMode", "TaskStatus",
    "Contract", "ContractAction", "ContractEvent", "ContractLine", "ContractStatus",
    "Invoice", "InvoiceAction", "InvoiceEvent", "InvoiceStatus", "InvoiceTitle", "InvoiceType", "TitleKind",
    "PaymentPlan", "PlanStatus",
    "PaymentPlanEvent", "PlanAction",
    "QuoteShare", "Attachment", "AttachmentEntity", "Document", "DocumentFolder", "DocumentSearch", "DocumentVersion",
    "FolderGrant", "FolderKind", "GrantLevel", "TextStatus", "FileKind", "Paper", "PrintDocType", "PrintTemplate",
    "Event", "EventDay", "EventParticipant",
    "Task", "TaskEntity", "TaskEvent", "TaskEventKind", "TaskPriority", "TaskState",
    "WorkLog", "WorkLogComment", "WorkLogPeriod", "WorkLogRecipient",
    "DayHalf", "OfficeRequest", "RequestKind", "RequestState",
    "NotificationSetting",
    "RepairState", "TicketPart", "TicketRepair",
    "ArticleKind", "ArticleStatus", "KbArticle", "KbArticleSearch", "KbArticleTag", "KbCategory", "KbHelpfulVote",
    "CheckIn",
]
