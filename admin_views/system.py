"""Read-only logs: the audit log and the login log."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from admin_views.audit_changes import changes_in_words, field_labels, remember_names
from admin_views.base import SecureModelView
from admin_views.filters import LocalDateBetween
from admin_views.formatters import choice_label
from admin_views.menu import SETTINGS, fa
from models import AuditLog, LoginLog
from models.system import LoginReason

AUDIT_ACTIONS = {"create": _l("新建"), "update": _l("修改"), "delete": _l("删除"), "export": _l("导出"),
                 "merge": _l("合并")}
ENTITY_LABELS = {"Customer": _l("客户"), "User": _l("员工"), "Role": _l("角色"), "Department": _l("部门"),
                 "Contact": _l("联系人"), "FollowUp": _l("联系记录"), "FollowUpComment": _l("点评"),
                 "CustomerShare": _l("共享"), "DictItem": _l("数据字典"), "FollowUpTemplate": _l("跟进模板"),
                 "CustomField": _l("自定义字段"), "Setting": _l("系统设置"), "Order": _l("订单"),
                 "Payment": _l("回款"), "Product": _l("产品"), "ProductCategory": _l("产品类别"),
                 "ProductPrice": _l("产品价格"), "PriceLevel": _l("价格等级"), "Warehouse": _l("仓库"),
                 "Pool": _l("客户池"), "ClaimRequest": _l("领用申请"), "Announcement": _l("公告"),
                 "MessageTemplate": _l("短信邮件模板"), "MailAccount": _l("邮件账户"),
                 "HolidayGreeting": _l("节日问候"), "SfaPlan": _l("销售自动化方案"), "OptOut": _l("拒收"),
                 "PrintTemplate": _l("打印模板"),  # templates (issue 20)
                 "QuoteShare": _l("报价单分享链接"),  # issue 20
                 }
# 文档中心 (issue 20)
AUDIT_ACTIONS |= {"upload": _l("上传"), "download": _l("下载")}
ENTITY_LABELS |= {"Document": _l("文档"), "DocumentFolder": _l("文件夹"), "FolderGrant": _l("文件夹权限")}
AUDIT_ACTIONS.update(restore=_l("恢复"), purge=_l("彻底删除"))  # issue 20: 附件
ENTITY_LABELS["Attachment"] = _l("附件")  # issue 20
ENTITY_LABELS["OfficeRequest"] = _l("工作请示")  # issue 21: requests
LOGIN_REASONS = {LoginReason.BAD_PASSWORD: _l("密码错误"), LoginReason.UNKNOWN_USER: _l("用户不存在"),
                 LoginReason.DISABLED: _l("账号已停用"), LoginReason.LOCKED: _l("账号已锁定"),
                 LoginReason.THROTTLED: _l("尝试过频，需等待"), LoginReason.BAD_CAPTCHA: _l("验证码错误"),
                 LoginReason.IP_DENIED: _l("IP 不允许")}


class ReadOnlyLogView(SecureModelView):
    """Nobody edits or deletes a log: the views offer no form, and no permission opens one."""

    can_view_details = True
    column_default_sort = ("at", True)
    page_size = 50

    def create_model(self, form):  # belt and braces: no path writes through this view
        return False

    def update_model(self, form, model):
        return False

    def delete_model(self, model):
        return False


class AuditLogView(ReadOnlyLogView):
    permission_view = "audit.view"
    column_list = ["at", "actor_name", "action", "entity", "entity_id", "entity_label", "changes", "ip"]
    column_labels = {"at": _l("时间"), "actor_name": _l("操作人"), "action": _l("操作"), "entity": _l("对象"),
                     "entity_id": _l("编号"), "entity_label": _l("名称"), "changes": _l("变更内容"),
                     "ip": _l("IP 地址")}
    column_details_list = column_list
    column_filters = [LocalDateBetween(AuditLog.at, _l("时间")), "actor_name", "action", "entity", "entity_id"]
    column_searchable_list = ["entity_label", "actor_name"]
    column_formatters = {"action": choice_label(AUDIT_ACTIONS), "entity": choice_label(ENTITY_LABELS),
                         "changes": changes_in_words}
    column_formatters_detail = column_formatters

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, rows = super().get_list(*args, **kwargs)
        remember_names(list(rows))
        return count, rows

    def labels_for(self, model: type | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Field and code labels of a model as the panel's own lists show them (built once per model)."""
        cache = self.__dict__.setdefault("_labels", {})
        if model not in cache:
            cache[model] = field_labels(self.admin._views, model)
        return cache[model]


class LoginLogView(ReadOnlyLogView):
    permission_view = "login_log.view"
    column_list = ["at", "username", "success", "reason", "ip", "user_agent"]
    column_labels = {"at": _l("时间"), "username": _l("用户名"), "success": _l("成功"), "reason": _l("原因"),
                     "ip": _l("IP 地址"), "user_agent": _l("浏览器")}
    column_details_list = column_list
    column_filters = [LocalDateBetween(LoginLog.at, _l("时间")), "username", "success", "ip"]
    column_formatters = {"reason": choice_label(LOGIN_REASONS)}


def views() -> list[Any]:
    return [
        LoginLogView(LoginLog, name=_l("登录日志"), category=SETTINGS, endpoint="login_log", **fa("fa-sign-in")),
        AuditLogView(AuditLog, name=_l("操作日志"), category=SETTINGS, endpoint="audit_log", **fa("fa-history")),
    ]
