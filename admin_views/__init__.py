"""Builds the admin panel inside the app factory (a module-level Admin breaks a second app)."""
from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin_views.auth import init_auth
from admin_views.announcements import AnnouncementManageView, AnnouncementView
from admin_views.context import current_actor
from admin_views.contacts import ContactView
from admin_views.custom_fields import CustomFieldView
from admin_views.excel import ExcelView
from admin_views.customers import CustomerView, DueCustomerView, RecycleBinView, SoonRecycledView
from admin_views.followups import FollowUpView
from admin_views.personal import PersonalContactView
from admin_views.pool import ClaimRequestView, OwnershipEventView, PoolSettingsView, PoolView
from admin_views.settings import CustomerSettingsView, DictItemView, FollowUpTemplateView
from admin_views.sharing import SharedByMeView, SharedWithMeView
from admin_views.forms import CsrfForm
from admin_views.formatters import fmt_date, fmt_datetime, fmt_money
from admin_views.notifications import NotificationView
from admin_views.org import AddressBookView, DepartmentView, OnlineUsersView, RoleView, UserView
from admin_views import orders as order_views
from admin_views import reports as report_views
from admin_views.backup import BackupView
from admin_views.system import AuditLogView, LoginLogView
from admin_views.workbench import WorkbenchIndexView
from models import (
    AuditLog, Contact, CustomField, Customer, CustomerShare, Department, DictItem, FollowUp, FollowUpTemplate, LoginLog, Notification,
    OwnershipEvent, PersonalContact, Pool, Role, User, db,
)
from models import ClaimRequest
from models import Announcement
from rules import notifications

CUSTOMERS, POOL, SALES, PRODUCTS = _l("客户管理"), _l("客户池"), _l("销售管理"), _l("产品管理")
REPORTS, OFFICE, SETTINGS = _l("统计报表"), _l("综合办公"), _l("系统设置")


def _fa(icon: str) -> dict[str, str]:
    return {"menu_icon_type": "fa", "menu_icon_value": icon}


def init_admin(app: Flask) -> Admin:
    init_auth(app)
    admin = Admin(
        app,
        name=_l("客池CRM"),
        theme=Bootstrap4Theme(base_template="admin/kechi_master.html", swatch=app.config["ADMIN_SWATCH"],
                              fluid=True),
        index_view=WorkbenchIndexView(name=_l("工作台"), **_fa("fa-home")),
    )
    admin.add_views(
        CustomerView(Customer, name=_l("客户列表"), category=CUSTOMERS, endpoint="customer", **_fa("fa-users")),
        DueCustomerView(Customer, name=_l("待回访客户"), category=CUSTOMERS, endpoint="due_customer",
                        **_fa("fa-clock-o")),
        ContactView(Contact, name=_l("联系人"), category=CUSTOMERS, endpoint="contact", **_fa("fa-id-card-o")),
        FollowUpView(FollowUp, name=_l("联系记录"), category=CUSTOMERS, endpoint="follow_up", **_fa("fa-phone")),
        SharedByMeView(CustomerShare, name=_l("我共享给他人的"), category=CUSTOMERS, endpoint="shared_by_me",
                       **_fa("fa-share-alt")),
        SharedWithMeView(CustomerShare, name=_l("他人共享给我的"), category=CUSTOMERS, endpoint="shared_with_me",
                         **_fa("fa-handshake-o")),
        RecycleBinView(Customer, name=_l("回收站"), category=CUSTOMERS, endpoint="customer_bin", **_fa("fa-trash")),
        ExcelView(name=_l("导入/导出"), category=CUSTOMERS, endpoint="excel", url="/admin/excel",
                  **_fa("fa-file-excel-o")),
        PoolView(Customer, name=_l("公共客户"), category=POOL, endpoint="pool", **_fa("fa-inbox")),
        SoonRecycledView(Customer, name=_l("将被回收"), category=POOL, endpoint="recycle_soon",
                         **_fa("fa-hourglass-half")),
        ClaimRequestView(ClaimRequest, name=_l("领用申请"), category=POOL, endpoint="claim_request",
                         **_fa("fa-hand-paper-o")),
        OwnershipEventView(OwnershipEvent, name=_l("流转记录"), category=POOL, endpoint="ownership_event",
                           **_fa("fa-exchange")),
        *order_views.views(SALES, PRODUCTS),
        *report_views.views(REPORTS),
        AnnouncementView(name=_l("公告"), category=OFFICE, endpoint="announcement", url="/admin/announcement",
                         **_fa("fa-bullhorn")),
        AnnouncementManageView(Announcement, name=_l("公告管理"), category=OFFICE, endpoint="announcement_manage",
                               **_fa("fa-pencil-square-o")),
        NotificationView(Notification, name=_l("我的提醒"), category=OFFICE, endpoint="notification",
                         **_fa("fa-bell")),
        AddressBookView(User, name=_l("内部通讯录"), category=OFFICE, endpoint="address_book",
                        **_fa("fa-address-book")),
        PersonalContactView(PersonalContact, name=_l("个人通讯录"), category=OFFICE, endpoint="personal_contact",
                            **_fa("fa-book")),
        CustomerSettingsView(name=_l("客户设置"), category=SETTINGS, endpoint="customer_settings",
                             **_fa("fa-sliders")),
        PoolSettingsView(Pool, name=_l("客户池设置"), category=SETTINGS, endpoint="pool_settings",
                         **_fa("fa-cogs")),
        CustomFieldView(CustomField, name=_l("自定义字段"), category=SETTINGS, endpoint="custom_field",
                        **_fa("fa-plus-square-o")),
        DictItemView(DictItem, name=_l("数据字典"), category=SETTINGS, endpoint="dict_item", **_fa("fa-list")),
        FollowUpTemplateView(FollowUpTemplate, name=_l("跟进模板"), category=SETTINGS, endpoint="follow_up_template",
                             **_fa("fa-file-text-o")),
        DepartmentView(Department, name=_l("部门管理"), category=SETTINGS, endpoint="department",
                       **_fa("fa-sitemap")),
        RoleView(Role, name=_l("角色权限"), category=SETTINGS, endpoint="role", **_fa("fa-key")),
        UserView(User, name=_l("员工管理"), category=SETTINGS, endpoint="user", **_fa("fa-user")),
        OnlineUsersView(User, name=_l("在线用户"), category=SETTINGS, endpoint="online_users",
                        **_fa("fa-signal")),
        LoginLogView(LoginLog, name=_l("登录日志"), category=SETTINGS, endpoint="login_log",
                     **_fa("fa-sign-in")),
        AuditLogView(AuditLog, name=_l("操作日志"), category=SETTINGS, endpoint="audit_log",
                     **_fa("fa-history")),
        BackupView(name=_l("数据备份"), category=SETTINGS, endpoint="backup", url="/admin/backup",
                   **_fa("fa-database")),
    )

    from admin_views import messaging as messaging_views

    messaging_views.register(admin, app)

    order_views.init_templates(app)

    @app.context_processor
    def kechi_globals() -> dict:
        def bell() -> dict:
            if not current_user.is_authenticated:
                return {"count": 0, "items": []}
            actor = current_actor()
            return {"count": notifications.unread_count(db.session, actor),
                    "items": notifications.latest_unread(db.session, actor)}

        return {"kechi_bell": bell, "languages": app.config["LANGUAGES"],
                "kechi_csrf_token": lambda: CsrfForm().csrf_token.current_token}

    app.jinja_env.filters.update(date=fmt_date, datetime=fmt_datetime, money=fmt_money,
                                 notification_title=notifications.title_of)
    return admin
