"""The permission catalogue: every permission string the application checks, grouped the way
the role editor shows them, with labels in the user's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

PERMISSION_GROUPS: list[tuple[object, list[tuple[str, object]]]] = [
    (_l("客户管理"), [
        ("customer.view", _l("查看客户")),
        ("customer.create", _l("新建客户")),
        ("customer.edit", _l("编辑客户")),
        ("customer.delete", _l("删除客户")),
        ("customer.export", _l("导出客户")),
        ("customer.share", _l("共享客户")),
        ("customer.merge", _l("合并客户")),
        ("customer.bin", _l("回收站（恢复/彻底删除）")),
        ("followup.comment", _l("点评联系记录")),
    ]),
    (_l("客户池"), [
        ("pool.view", _l("查看客户池")),
        ("pool.claim", _l("领用客户")),
        ("pool.assign", _l("指派客户")),
        ("pool.recall", _l("收回客户")),
        ("pool.approve", _l("批示领用申请")),
    ]),
    (_l("线索与商机"), [
        ("lead.view", _l("查看线索")),
        ("lead.create", _l("新建线索")),
        ("lead.edit", _l("编辑线索（含标记无效）")),
        ("lead.convert", _l("转化线索为客户")),
        ("lead.claim", _l("领用线索")),
        ("lead.assign", _l("指派线索")),
        ("lead.recall", _l("收回线索")),
        ("opportunity.view", _l("查看销售机会")),
        ("opportunity.create", _l("新建销售机会")),
        ("opportunity.edit", _l("编辑销售机会（推进阶段、赢单输单）")),
        ("opportunity.assign", _l("指派销售机会")),
        ("opportunity.reopen", _l("重新打开已关闭的销售机会")),
        ("quote.view", _l("查看报价单")),
        ("quote.create", _l("新建与修改报价单")),
    ]),
    (_l("合同与回款"), [
        ("contract.view", _l("查看合同")),
        ("contract.create", _l("新建与修改合同（提交审批、生成订单和回款计划）")),
        ("contract.void", _l("作废合同、完成合同")),
        ("payment.view", _l("查看回款计划与回款")),
        ("payment.record", _l("登记回款、制定回款计划")),
        ("payment.write_off", _l("回款抹零")),
        ("invoice.view", _l("查看发票")),
        ("invoice.create", _l("申请开票、维护发票抬头")),
        ("invoice.issue", _l("开具发票（填写发票号码、寄出、红冲）")),
    ]),
    (_l("销售管理"), [
        ("order.view", _l("查看订单")),
        ("order.create", _l("录入订单")),
        ("order.approve", _l("审核订单")),
        ("order.ship", _l("订单发货")),
        ("payment.approve", _l("审核回款")),
    ]),
    (_l("客户服务"), [
        ("service.view", _l("查看工单与客服控制台")),
        ("service.handle", _l("新建与处理工单（回复、改状态、回访）")),
        ("service.assign", _l("分派与改派工单")),
        ("service.repair", _l("维修配件出库与维修收费")),
        ("service.manage", _l("服务设置（工单状态、SLA、工作日历、服务组）")),
        ("knowledge.view", _l("查看知识库")),
        ("knowledge.edit", _l("编写、发布与归档知识库文章")),
        ("care.manage", _l("客户关怀与回访")),
    ]),
    (_l("产品管理"), [
        ("product.view", _l("查看产品")),
        ("product.manage", _l("管理产品与库存")),
    ]),
    (_l("统计报表"), [
        ("report.view", _l("查看报表")),
    ]),
    (_l("文档与打印"), [
        ("document.view", _l("使用文档中心")),
        ("document.manage", _l("管理文档中心（公司与部门文件夹、权限）")),
        ("attachment.upload", _l("上传附件（自己能看到的记录）")),
        ("attachment.bin", _l("附件回收站（恢复/彻底删除）")),
        ("print.design", _l("设计打印模板")),
    ]),
    (_l("综合办公"), [
        ("office.announce", _l("发布公告")),
    ]),
    (_l("短信邮件"), [
        ("message.send", _l("发送短信和邮件")),
        ("message.manage", _l("短信邮件设置（模板、邮件账户、节日、自动化方案）")),
    ]),
    (_l("系统设置"), [
        ("org.manage", _l("管理部门、角色和员工")),
        ("audit.view", _l("查看操作日志")),
        ("login_log.view", _l("查看登录日志")),
        ("session.manage", _l("在线用户与强制下线")),
        ("settings.manage", _l("系统参数与策略")),
    ]),
]

ALL_PERMISSIONS: frozenset[str] = frozenset(
    code for _group, perms in PERMISSION_GROUPS for code, _label in perms
)

SYSTEM_PERMISSIONS = frozenset(
    {"org.manage", "login_log.view", "session.manage", "settings.manage"}
)


def label(code: str) -> str:
    for _group, perms in PERMISSION_GROUPS:
        for perm, text in perms:
            if perm == code:
                return str(text)
    return code


def unknown(codes: list[str]) -> list[str]:
    return [c for c in codes if c not in ALL_PERMISSIONS]


def _all_but(*excluded: str) -> list[str]:
    return sorted(ALL_PERMISSIONS - set(excluded))


# The roles a new installation starts with: (name, data scope, permissions, description).
DEFAULT_ROLES: list[tuple[str, str, list[str], str]] = [
    ("系统管理员", "all", sorted(ALL_PERMISSIONS), "维护部门、员工、权限与系统设置"),
    ("总经理", "all", _all_but(*SYSTEM_PERMISSIONS), "查看全公司的客户、订单与报表"),
    ("经理", "department_tree",
     ["customer.view", "customer.create", "customer.edit", "customer.delete", "customer.export",
      "customer.share", "customer.merge", "customer.bin", "followup.comment",
      "pool.view", "pool.claim", "pool.assign", "pool.recall", "pool.approve",
      "order.view", "order.create", "order.approve", "report.view", "product.view", "office.announce",
      "message.send",
      "lead.view", "lead.create", "lead.edit", "lead.convert", "lead.claim",
      "opportunity.view", "opportunity.create", "opportunity.edit", "quote.view", "quote.create",
      "lead.assign", "lead.recall", "opportunity.assign", "opportunity.reopen",
      "contract.view", "contract.create", "payment.view", "payment.record", "invoice.view", "invoice.create", "contract.void", "payment.write_off",
      "document.view", "attachment.upload", "attachment.bin", "service.view", "service.handle", "service.assign", "knowledge.view", "care.manage"],
     "管理本部门及下属部门"),
    ("主管", "department",
     ["customer.view", "customer.create", "customer.edit", "customer.delete", "customer.export",
      "customer.share", "customer.merge", "followup.comment",
      "pool.view", "pool.claim", "pool.assign", "pool.recall", "pool.approve",
      "order.view", "order.create", "report.view", "product.view", "message.send",
      "lead.view", "lead.create", "lead.edit", "lead.convert", "lead.claim",
      "opportunity.view", "opportunity.create", "opportunity.edit", "quote.view", "quote.create",
      "lead.assign", "lead.recall", "opportunity.assign", "opportunity.reopen",
      "contract.view", "contract.create", "payment.view", "payment.record", "invoice.view", "invoice.create",
      "document.view", "attachment.upload", "service.view", "service.handle", "service.assign", "knowledge.view"],
     "管理本部门"),
    ("业务员", "self",
     ["customer.view", "customer.create", "customer.edit", "customer.delete", "customer.export",
      "customer.share",
      "pool.view", "pool.claim", "order.view", "order.create", "report.view", "product.view", "message.send",
      "lead.view", "lead.create", "lead.edit", "lead.convert", "lead.claim",
      "opportunity.view", "opportunity.create", "opportunity.edit", "quote.view", "quote.create",
      "contract.view", "contract.create", "payment.view", "payment.record", "invoice.view", "invoice.create",
      "document.view", "attachment.upload", "service.view", "service.handle", "knowledge.view"],
     "只看自己的客户"),
    ("内勤", "all",
     ["customer.view", "order.view", "order.approve", "order.ship", "payment.approve", "product.view",
      "product.manage", "quote.view", "contract.view", "payment.view", "payment.record", "invoice.view",
      "document.view", "attachment.upload", "service.view", "service.repair", "knowledge.view"],
     "审核订单、配货发货、确认回款、管理库存"),
    ("财务", "all",
     ["customer.view", "order.view", "contract.view", "payment.view", "payment.record", "payment.approve",
      "payment.write_off", "invoice.view", "invoice.create", "invoice.issue", "report.view",
      "document.view", "attachment.upload"],
     "审核回款、开具发票、查看应收与账龄"),
    ("客服", "all",
     ["customer.view", "order.view", "contract.view", "product.view", "message.send", "document.view",
      "attachment.upload", "service.view", "service.handle", "service.repair", "knowledge.view", "knowledge.edit",
      "care.manage"],
     "接听来电、处理工单与维修、编写知识库、回访客户"),
    ("客服主管", "all",
     ["customer.view", "order.view", "contract.view", "product.view", "message.send", "document.view",
      "attachment.upload", "report.view", "service.view", "service.handle", "service.assign", "service.repair",
      "service.manage", "knowledge.view", "knowledge.edit", "care.manage"],
     "分派工单、跟踪SLA、管理服务组与知识库"),
]
