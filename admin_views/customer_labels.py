"""The customer's words: field labels and the labels of its vocabularies, shared by every page
that shows customers, contacts, follow-ups, shares or ownership moves."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models import BirthdayCalendar, CustomerKind, FollowUpKind, Gender, OwnershipReason, ShareMode

KIND_LABELS = {CustomerKind.COMPANY.value: _l("企业"), CustomerKind.PERSON.value: _l("个人")}
GENDER_LABELS = {Gender.MALE.value: _l("男"), Gender.FEMALE.value: _l("女")}
FOLLOW_UP_KIND_LABELS = {
    FollowUpKind.PHONE.value: _l("电话"), FollowUpKind.VISIT.value: _l("拜访"), FollowUpKind.WECHAT.value: _l("微信"),
    FollowUpKind.EMAIL.value: _l("邮件"), FollowUpKind.SMS.value: _l("短信"), FollowUpKind.OTHER.value: _l("其他"),
}
# The timeline also shows messages, which nobody may choose as the kind of a follow-up.
TIMELINE_KIND_LABELS = {**FOLLOW_UP_KIND_LABELS, FollowUpKind.MESSAGE.value: _l("消息（不计入跟进）")}
SHARE_MODE_LABELS = {ShareMode.READ_ONLY.value: _l("只读"), ShareMode.COLLABORATE.value: _l("协作")}
OWNERSHIP_REASONS = {
    OwnershipReason.CREATED: _l("新建"), OwnershipReason.CLAIM: _l("领用"), OwnershipReason.RELEASE: _l("放弃"),
    OwnershipReason.ASSIGN: _l("指派"), OwnershipReason.RECALL: _l("收回"), OwnershipReason.RECYCLE: _l("回收"),
    OwnershipReason.IMPORT: _l("导入"), OwnershipReason.APPROVED: _l("申请获批")}

LABELS = {
    "code": _l("客户编号"), "name": _l("客户名称"), "kind": _l("类型"), "mnemonic": _l("助记码"),
    "gender": _l("性别"), "birthday": _l("生日"), "legal_representative": _l("法人代表"),
    "registered_capital": _l("注册资金（万元）"), "category": _l("客户分类"), "source": _l("客户来源"),
    "industry": _l("所属行业"), "value_level": _l("价值等级"), "stage": _l("跟进程度"), "credit_rating": _l("信誉度"),
    "province": _l("省份"), "city": _l("城市"), "district": _l("区县"), "address": _l("地址"), "zip_code": _l("邮编"),
    "phone": _l("电话"), "mobile": _l("手机"), "fax": _l("传真"), "email": _l("邮箱"), "qq": _l("QQ"),
    "wechat": _l("微信"), "website": _l("网址"), "notes": _l("备注"), "owner": _l("业务员"), "department": _l("部门"),
    "parent": _l("上级客户"), "created_at": _l("创建时间"), "updated_at": _l("更新时间"),
    "last_follow_up_at": _l("最后联系"), "next_contact_at": _l("下次联系"), "contacts": _l("联系人"),
    "region": _l("地区"), "deleted_at": _l("删除时间"), "recycle_in": _l("回收倒计时"),
}
CONTACT_LABELS = {"name": _l("姓名"), "is_primary": _l("首要联系人"), "position": _l("职务"), "mobile": _l("手机"),
                  "phone": _l("电话"), "email": _l("邮箱"), "qq": _l("QQ"), "wechat": _l("微信"),
                  "birthday": _l("生日"), "gender": _l("性别"), "id_number": _l("身份证号"),
                  "lunar_birth_month": _l("农历生日（月）"), "lunar_birth_day": _l("农历生日（日）"),
                  "lunar_birth_leap": _l("闰月"), "birthday_calendar": _l("生日祝福按"),
                  "notes": _l("备注")}
BIRTHDAY_CALENDAR_LABELS = {BirthdayCalendar.SOLAR.value: _l("公历生日"), BirthdayCalendar.LUNAR.value: _l("农历生日")}
DICT_FIELDS = ("category", "source", "industry", "value_level", "stage", "credit_rating")
