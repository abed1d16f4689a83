"""统计口径: what each report page counts, in words, kept beside nothing else so a changed
definition (应收/欠款, say) is changed once and every page that shows it says the same.

`lines(report, ...)` gives the page's block: the report's own sentences, then whose data and how
fresh the figures are, which depend on the reader and on the report summaries."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from rules import receivables

SOLD_ORDERS = _l("订单：订单日期在所选期间内、已审核且未取消的订单（等待审核的订单不计）。")

COLLABORATED = _l("销售机会的范围与销售机会列表相同：负责人在您的数据范围内的，以及您作为协作人的。")

DEFINITIONS: dict[str, tuple[Any, ...]] = {
    "customer_counts": (
        _l("客户：现在存在的全部客户（含客户池中的，不含回收站中的），按所选维度的当前值计数。"),
        _l("日期：默认不限创建日期；勾选“只统计期间内创建的客户”后，只计创建时间在所选期间内的客户。"),
        _l("部门/业务员：按客户现在的业务员；客户池中的客户不属于任何业务员。"),
    ),
    "new_customers": (
        _l("客户：创建时间在所选期间内的客户，按创建日期（北京时间）的日/周/月/年计数；不含回收站中的客户。"),
        _l("部门/业务员：按客户现在的业务员。"),
    ),
    "funnel": (
        _l("客户：创建时间在所选期间内、现在设有跟进程度的客户（不含回收站中的）。"),
        _l("漏斗阶段按数据字典中跟进程度的排序；“到达该阶段”= 处于该阶段或其后的漏斗阶段；转化率 = 本阶段到达数 ÷ 上一阶段到达数。"),
        _l("搁置、流失等不是漏斗阶段的跟进程度（数据字典中未勾选“漏斗阶段”）单独列出，不计入到达数和转化率。"),
    ),
    "company_sales": (
        _l("订单：订单日期在所选期间内、已审核的订单（等待审核的订单不计），按订单日期的月份汇总。"),
        receivables.DEFINITION,
    ),
    "product_sales": (
        SOLD_ORDERS,
        _l("销售数量和金额为这些订单的产品明细；退货数量和金额为其中已退回的部分；净销售额 = 销售金额 − 退货金额。"),
    ),
    "salespeople": (
        SOLD_ORDERS,
        _l("成交订单、销售额、实收：按订单的业务员；销售额扣除退货，实收扣除退款。"),
        _l("新增客户：所选期间内由该业务员新建或导入的客户，按创建人和创建时间计；之后被回收、转给他人仍计入创建人，回收站中的客户不计。"),
        _l("跟进次数：联系时间在所选期间内、由该业务员填写的联系记录。"),
    ),
    "customer_sales": (
        SOLD_ORDERS,
        _l("每个客户的购买金额（扣除退货）、购买次数和最近购买日期；RFM 分群以今天为准。"),
    ),
    "follow_ups": (
        _l("联系记录：联系时间在所选期间内的记录，按填写人、其部门或联系日期（北京时间）计数。"),
        _l("超过 N 天未跟进：现在有业务员、最后联系早于 N 天前或从未联系的客户，不限创建日期。"),
    ),
    "pool": (
        _l("领用、放弃、被回收、被收回：发生在所选期间内的流转记录，按业务员计数。"),
        _l("客户池大小：每月末池内的客户数，由现在的池内客户数按流转记录逐月倒推。"),
    ),
    "pipeline_forecast": (
        _l("销售机会：现在“进行中”、预计成交日期在所选月份内的销售机会（不含已删除的），按预计成交日期的月份汇总。"),
        _l("金额为销售机会的金额；预测金额 = 金额 × 所处阶段的赢率 ÷ 100，每个数字四舍五入到分。"),
        _l("已赢单：赢单日期（北京时间）在所选月份内的销售机会，单独列出，不计入金额和预测金额。"),
        _l("负责人/部门：按销售机会现在的负责人和所属部门；所选部门包含其下级部门。"),
        COLLABORATED,
    ),
    "pipeline_funnel": (
        _l("销售机会：创建时间在所选期间内、属于所选阶段组的销售机会（不含已删除的）。"),
        _l("处于该阶段：现在“进行中”且当前阶段为该阶段的机会数和金额。"),
        _l("到达数：赢单的机会计入每个阶段；进行中和输单的机会计入其到过的最远阶段及之前的每个阶段（按阶段流转记录，退回到前面阶段的仍按最远阶段计）；无效的机会不计。"),
        _l("转化率 = 本阶段到达数 ÷ 上一阶段到达数；“赢单”一行 = 赢单数 ÷ 最后一个阶段的到达数。"),
        COLLABORATED,
    ),
    "pipeline_win_rate": (
        _l("销售机会：赢单或输单日期（北京时间）在所选期间内的销售机会；无效的不计。"),
        _l("赢单率 = 赢单数 ÷（赢单数 + 输单数）；平均赢单周期 = 赢单机会从新建到赢单的平均天数；平均关闭周期含输单的机会。"),
        _l("按负责人：销售机会现在的负责人；按来源：销售机会的来源。"),
        COLLABORATED,
    ),
    "pipeline_loss_reasons": (
        _l("销售机会：输单日期（北京时间）在所选期间内、现在仍为输单的销售机会，按输单原因统计数量和金额。"),
        COLLABORATED,
    ),
    "lead_conversion": (
        _l("线索：创建时间在所选期间内、现在有负责人的线索（线索池中尚未领用的不计，回收站中的不计），按线索来源统计。"),
        _l("已转化、无效：这些线索现在的状态；转化率 = 已转化数 ÷ 新增线索数。"),
    ),
    # --- finance (issue 19): rules/finance_reports.py ---
    "finance_ageing": (
        _l("应收余额：执行中或已完成的合同（合同应收）与已审核未取消、无合同的订单上尚未收回的金额；有回款计划的，按各期次未回金额计。"),
        _l("账龄截至今天，按逾期天数分段：回款计划的期次从到期日起算（未到期的单列），没有回款计划的合同从签订日起算，没有合同的订单从审核日起算。"),
        _l("未回 = 应收 − 已审核的回款（扣除退款）− 抹零；待审批的回款不计入。由合同生成的订单计入合同，不重复计算。"),
        _l("客户/负责人：合同、期次、订单现在的客户和负责人（订单为业务员）；部门：负责人现在所在的部门。"),
    ),
    "finance_receipts": (
        _l("回款：回款日期在所选期间内、已审批通过（已确认）的回款和退款；待审批、已驳回、已撤回的不计。"),
        _l("净回款 = 回款金额 − 退款金额；抹零为结清尾差而免收的金额，不是现金，不计入回款金额。"),
        _l("负责人：回款登记时的业绩归属人；部门：其现在所在的部门。"),
    ),
    "finance_plan_actual": (
        _l("计划回款：到期日在各月的回款计划期次（不含已作废的）；其中已回 = 这些期次已审批的回款与抹零。"),
        _l("当月实收：回款日期在该月、已确认的回款减退款，无论记在哪个期次、合同或订单上。"),
    ),
    "finance_overdue": (
        _l("逾期：到期日早于今天、尚未全部回款的回款计划期次（不论每日任务是否已标为逾期），按期次的负责人统计。"),
        _l("逾期未回金额 = 期次金额 − 已回（含抹零）；最长逾期天数按最早到期日计。"),
    ),
    "finance_invoices": (
        _l("开票：开票日期在所选期间内、已开票的发票；红冲发票为负数，抵减原发票。"),
        _l("实收：回款日期在所选期间内、已确认的回款减退款。开票 − 实收 大于 0 表示开票多于收款。"),
    ),
    "finance_contracts": (
        _l("合同：签订日期在所选期间内、执行中或已完成的合同（草稿、审批中、已作废的不计）。"),
        _l("已收 = 已确认的回款减退款；抹零不计入已收；未收 = 合同金额 − 已收 − 抹零；已开票含红冲（负数）。"),
        _l("按产品：这些合同的产品明细金额和数量；一份合同有多个产品时在每个产品下各计一次。"),
    ),
}

SCOPE = _l("范围：只统计您的数据范围（%(scope)s）内的数据。")
LIVE = _l("时效：打开页面时按当前数据实时计算。")
SUMMARY = _l("时效：数据来自 %(at)s 的定时汇总，之后的变动要到下次汇总才计入。")


def lines(report: str, *, scope_label: Any, summary_at: datetime | None, tz: str) -> list[str]:
    """The 统计口径 block of one report page, sentence by sentence."""
    found = [str(text) for text in DEFINITIONS.get(report, ())]
    found.append(str(SCOPE) % {"scope": scope_label})
    if summary_at is not None:
        found.append(str(SUMMARY) % {"at": summary_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")})
    else:
        found.append(str(LIVE))
    return found
