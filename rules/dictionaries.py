"""数据字典 defaults and look-ups."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.dictionary import DictItem, DictKind

LABELS = {
    DictKind.CATEGORY: _l("客户分类"),
    DictKind.SOURCE: _l("客户来源"),
    DictKind.INDUSTRY: _l("所属行业"),
    DictKind.VALUE_LEVEL: _l("价值等级"),
    DictKind.STAGE: _l("跟进程度"),
    DictKind.CREDIT_RATING: _l("信誉度"),
    DictKind.LOSS_REASON: _l("输单原因"),
    DictKind.PROJECT_ROLE: _l("项目角色"),
    DictKind.EVENT_TYPE: _l("日程类型"),
    DictKind.LEAVE_TYPE: _l("请假类型"),
    DictKind.TICKET_TYPE: _l("工单类型"),
}

DEFAULTS: dict[DictKind, list[str]] = {
    DictKind.CATEGORY: ["潜在客户", "意向客户", "成交客户", "重点客户", "流失客户"],
    DictKind.SOURCE: ["电话营销", "网络推广", "客户介绍", "展会", "老客户", "其他"],
    DictKind.INDUSTRY: ["制造业", "批发零售", "信息技术", "建筑工程", "教育培训", "医疗健康", "金融服务", "其他"],
    DictKind.VALUE_LEVEL: ["A", "B", "C"],
    DictKind.STAGE: ["初步接触", "需求确认", "方案报价", "商务谈判", "成交", "搁置"],
    DictKind.CREDIT_RATING: ["优", "良", "中", "差"],
    DictKind.LOSS_REASON: ["价格偏高", "选择了竞争对手", "需求取消", "预算不足", "联系不上", "其他"],
    DictKind.PROJECT_ROLE: ["甲方", "设计方", "施工方", "供货方", "总包", "监理"],
    DictKind.EVENT_TYPE: ["拜访", "会议", "电话", "其他"],
    DictKind.LEAVE_TYPE: ["年假", "事假", "病假", "调休", "婚假", "产假", "陪产假", "丧假"],
    DictKind.TICKET_TYPE: ["投诉", "维修", "咨询", "建议", "退换货"],
}


# 跟进程度 that are states beside the sales funnel, not steps of it (the migration that added
# DictItem.funnel_step turned these off).
NOT_FUNNEL_STEPS = ("搁置", "流失")


def ensure_defaults(session: Session) -> None:
    """Fill an empty dictionary with sensible items; never touches one the admin edited."""
    existing = set(session.scalars(select(DictItem.kind).distinct()))
    for kind, names in DEFAULTS.items():
        if kind.value in existing:
            continue
        session.add_all(DictItem(kind=kind.value, name=n, sort_order=i,
                                 funnel_step=not (kind == DictKind.STAGE and n in NOT_FUNNEL_STEPS))
                        for i, n in enumerate(names))
    session.flush()


def items(session: Session, kind: DictKind | str, *, include_inactive: bool = False) -> list[DictItem]:
    stmt = select(DictItem).where(DictItem.kind == str(kind))
    if not include_inactive:
        stmt = stmt.where(DictItem.active.is_(True))
    return list(session.scalars(stmt.order_by(DictItem.sort_order, DictItem.id)))


def all_items(session: Session) -> list[DictItem]:
    stmt = select(DictItem).where(DictItem.active.is_(True))
    return list(session.scalars(stmt.order_by(DictItem.kind, DictItem.sort_order, DictItem.id)))


def by_name(session: Session, kind: DictKind | str, name: str | None) -> DictItem | None:
    if not name:
        return None
    return session.scalar(select(DictItem).where(DictItem.kind == str(kind), DictItem.name == name.strip()))
