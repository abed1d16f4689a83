"""Demo announcements (公告) so the workbench's 最新公告 and the 公告 page show something."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Announcement, Department, User
from rules import announcements
from rules.clock import local_date

# (author, title, body, days ago (None = draft), pinned, departments (empty = whole company), days valid)
DEMO_ANNOUNCEMENTS = [
    ("zhangzong", "关于全面启用客池CRM的通知",
     "各部门同事：\n\n即日起，客户资料、跟进记录和订单统一在客池CRM中登记，纸质台账和个人表格停止使用。\n"
     "1. 新客户录入前先查重，系统会提示重名客户；\n2. 每次联系客户后当天填写联系记录，并设置下次联系日期；\n"
     "3. 长期不跟进的客户将按规则回到公共客户池。\n\n使用中遇到问题请联系总经办。", 6, True, (), None),
    ("wangjl", "十二月销售冲刺动员",
     "<p>十二月是全年最后一个月，请<b>销售部</b>全体同事抓紧跟进意向客户：</p>"
     "<ul><li>每周一上午九点部门例会，各组汇报重点客户进展；</li>"
     "<li>本月新签订单额前三名另有奖励；</li><li>月底前清理“逾期未联系”的客户。</li></ul>"
     "<p>预祝大家圆满完成全年目标！</p>", 2, False, ("销售部",), 31),
    ("admin", "元旦放假安排",
     "根据国家规定，元旦放假一天，1月1日（星期五）休息，1月2日起正常上班。\n"
     "放假前请各部门做好客户回访安排，并检查订单发货情况。", 1, False, (), 40),
    ("zhangzong", "年终总结会安排", "时间、地点待定，请各部门先准备全年工作总结。", None, False, (), None),
]


def seed_announcements(session: Session, users: dict[str, User], *, now: datetime) -> None:
    """Idempotent: does nothing once any announcement exists."""
    if session.scalar(select(func.count(Announcement.id))):
        return
    today = local_date(now, "Asia/Shanghai")
    for author, title, body, days_ago, pinned, departments, valid_days in DEMO_ANNOUNCEMENTS:
        chosen = list(session.scalars(select(Department).where(Department.name.in_(departments)))) if departments else []
        published = now - timedelta(days=days_ago, hours=2) if days_ago is not None else None
        session.add(Announcement(
            title=title, body=announcements.clean_body(body), author_id=users[author].id, pinned=pinned,
            published_at=published, created_at=published or now, updated_at=published or now,
            whole_company=not departments, departments=chosen,
            expires_on=today + timedelta(days=valid_days) if valid_days else None))
    session.flush()
