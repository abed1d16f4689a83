"""The templates a new installation prints with, one per document type (rules/setup.ensure_defaults
seeds them once; the administrator copies and changes them in 打印模板). Each reads only fields of
rules/print_fields.py and passes the check on save. They are written the way Chinese firms lay
out their paper: the company's name on top, the title spaced out, a bordered 明细表, 金额大写
beside the figure, signature lines, and the print time at the foot."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.printing import Paper, PrintDocType as T, PrintTemplate
from rules import print_fields

# Shared look of the documents (the template's own <style>: an administrator edits it with the body).
STYLE = """<style>
.doc { font-size: 10.5pt; line-height: 1.45; }
.doc-head { position: relative; text-align: center; margin-bottom: 3mm; min-height: 21mm; }
.doc-company { font-size: 15pt; font-weight: bold; letter-spacing: 1pt; }
.doc-contact { font-size: 8.5pt; color: #333; margin-top: 1mm; }
.doc-title { font-size: 19pt; font-weight: bold; letter-spacing: 6pt; margin: 3mm 0 1mm; }
.doc-qr { position: absolute; right: 0; top: 0; }
.doc-no { text-align: right; font-size: 9.5pt; margin-bottom: 1mm; }
.doc-meta { width: 100%; margin: 2mm 0 3mm; }
.doc-meta th { text-align: left; font-weight: normal; white-space: nowrap; width: 5.5em; padding: 1.2mm 1mm 1.2mm 0; }
.doc-meta td { border-bottom: 0.5pt solid #666; padding: 1.2mm 2mm 1.2mm 1mm; }
.doc-grid { width: 100%; margin: 2mm 0 3mm; }
.doc-grid th, .doc-grid td { border: 0.6pt solid #333; padding: 1.5mm 2mm; vertical-align: top; }
.doc-grid th { background: #f2f2f2; font-weight: normal; white-space: nowrap; width: 6em; text-align: left; }
.kechi-lines { margin: 2mm 0 0; font-size: 9.5pt; }
.kechi-lines th { background: #f2f2f2; font-weight: normal; white-space: nowrap; padding: 1.5mm 2mm; }
.kechi-lines td { padding: 1.3mm 2mm; }
.kechi-lines td.num { text-align: right; white-space: nowrap; }
.doc-sum { width: 100%; border: 0.6pt solid #333; border-top: 0; font-size: 10pt; }
.doc-sum td { padding: 1.5mm 2mm; }
.doc-sum .money { text-align: right; white-space: nowrap; font-weight: bold; }
.doc-words { font-weight: bold; letter-spacing: 0.5pt; }
.doc-section { font-size: 11pt; font-weight: bold; margin: 4mm 0 1mm; }
.doc-terms { white-space: pre-wrap; margin: 1mm 0 2mm; }
.doc-sign { width: 100%; margin-top: 10mm; }
.doc-sign td { width: 33%; padding: 2mm 0; vertical-align: top; }
.doc-line { display: inline-block; min-width: 30mm; border-bottom: 0.5pt solid #333; }
.doc-foot { margin-top: 6mm; font-size: 8.5pt; color: #555; display: flex; justify-content: space-between; }
</style>
"""

HEAD = """<div class="doc-head">
  {% if record_url %}<div class="doc-qr">{{ record_url|qrcode(18) }}</div>{% endif %}
  <div class="doc-company">{{ company.name }}</div>
  <div class="doc-contact">{% if company.address %}地址：{{ company.address }}{% endif %}{% if company.phone %}　电话：{{ company.phone }}{% endif %}{% if company.fax %}　传真：{{ company.fax }}{% endif %}</div>
  <div class="doc-title">%(title)s</div>
</div>
"""

FOOT = """<div class="doc-foot"><span>打印时间：{{ printed_at }}</span><span>打印人：{{ printed_by }}</span></div>"""

SUM_ROW = """<table class="doc-sum"><tr>
  <td>合计人民币（大写）：<span class="doc-words">{{ %(doc)s.total_words }}</span></td>
  <td class="money">小写：{{ %(doc)s.total|money }}</td></tr>
  {%% if %(doc)s.discount and %(doc)s.discount != 0 %%}<tr><td>原价合计 {{ %(doc)s.gross|money }}，优惠 {{ %(doc)s.discount|money }}</td><td></td></tr>{%% endif %%}
  {%% if %(doc)s.tax_rate and %(doc)s.tax_rate != "0%%" %%}<tr><td>含税（税率 {{ %(doc)s.tax_rate }}）：不含税金额 {{ %(doc)s.amount_ex_tax|money }}，税额 {{ %(doc)s.tax|money }}</td><td></td></tr>{%% endif %%}
</table>
"""


def _head(title: str) -> str:
    return HEAD.replace("%(title)s", title)


def _sum(doc: str) -> str:
    return SUM_ROW % {"doc": doc}


CUSTOMER = STYLE + _head("客 户 资 料") + """<div class="doc">
<table class="doc-grid">
  <tr><th>客户名称</th><td colspan="3"><b>{{ customer.name }}</b></td></tr>
  <tr><th>客户编号</th><td>{{ customer.code }}</td><th>客户类型</th><td>{{ customer.kind }}</td></tr>
  <tr><th>行业</th><td>{{ customer.industry }}</td><th>客户类别</th><td>{{ customer.category }}</td></tr>
  <tr><th>客户来源</th><td>{{ customer.source }}</td><th>价值等级</th><td>{{ customer.level }}</td></tr>
  <tr><th>客户阶段</th><td>{{ customer.stage }}</td><th>业务员</th><td>{{ customer.owner }}</td></tr>
  <tr><th>联系人</th><td>{{ customer.contact }}</td><th>手机</th><td>{{ customer.mobile }}</td></tr>
  <tr><th>电话</th><td>{{ customer.phone }}</td><th>传真</th><td>{{ customer.fax }}</td></tr>
  <tr><th>邮箱</th><td>{{ customer.email }}</td><th>网址</th><td>{{ customer.website }}</td></tr>
  <tr><th>地址</th><td colspan="3">{{ customer.address }}{% if customer.zip_code %}（邮编 {{ customer.zip_code }}）{% endif %}</td></tr>
  <tr><th>法人代表</th><td>{{ customer.legal_representative }}</td><th>注册资本</th><td>{{ customer.registered_capital|money }}</td></tr>
  <tr><th>微信</th><td>{{ customer.wechat }}</td><th>建档日期</th><td>{{ customer.created_on|date }}</td></tr>
  {% for f in custom %}<tr><th>{{ f.label }}</th><td colspan="3">{{ f.value }}</td></tr>{% endfor %}
  <tr><th>备注</th><td colspan="3" class="doc-terms">{{ customer.notes }}</td></tr>
</table>
<div class="doc-section">联系人</div>
<table class="kechi-lines">
  <thead><tr><th>姓名</th><th>职务</th><th>手机</th><th>电话</th><th>邮箱</th></tr></thead>
  <tbody>{% for c in contacts %}<tr><td>{{ c.name }}{% if c.primary %}（首要）{% endif %}</td><td>{{ c.position }}</td><td>{{ c.mobile }}</td><td>{{ c.phone }}</td><td>{{ c.email }}</td></tr>
  {% else %}<tr><td colspan="5">（暂无联系人）</td></tr>{% endfor %}</tbody>
</table>
<div class="doc-section">最近联系记录</div>
<table class="kechi-lines">
  <thead><tr><th style="width:9em">时间</th><th style="width:4em">方式</th><th style="width:5em">人员</th><th>内容</th></tr></thead>
  <tbody>{% for f in follow_ups %}<tr><td>{{ f.time }}</td><td>{{ f.kind }}</td><td>{{ f.user }}</td><td class="doc-terms">{{ f.content }}</td></tr>
  {% else %}<tr><td colspan="4">（暂无联系记录）</td></tr>{% endfor %}</tbody>
</table>
""" + FOOT + "</div>\n"

ORDER = STYLE + _head("销 售 订 单") + """<div class="doc">
<div class="doc-no">订单号：<b>{{ order.number }}</b></div>
<table class="doc-meta">
  <tr><th>客户名称</th><td>{{ customer.name }}</td><th>订单日期</th><td>{{ order.date|date }}</td></tr>
  <tr><th>联系人</th><td>{{ customer.contact }}</td><th>业务员</th><td>{{ order.salesperson }}</td></tr>
  <tr><th>联系电话</th><td>{{ customer.mobile or customer.phone }}</td><th>订单状态</th><td>{{ order.state }}</td></tr>
  <tr><th>收货信息</th><td colspan="3">{{ order.consignee }} {{ order.phone }} {{ order.address }}</td></tr>
</table>
""" + print_fields.LINE_TABLE + "\n" + _sum("order") + """
{% if order.notes %}<div class="doc-section">备注</div><div class="doc-terms">{{ order.notes }}</div>{% endif %}
<table class="doc-sign"><tr>
  <td>制单：<span class="doc-line">{{ printed_by }}</span></td>
  <td>审核：<span class="doc-line"></span></td>
  <td>客户确认（签字/盖章）：<span class="doc-line"></span></td></tr></table>
""" + FOOT + "</div>\n"

DELIVERY = STYLE + _head("发 货 单") + """<div class="doc">
<div class="doc-no">单号：<b>{{ order.number }}</b></div>
<table class="doc-meta">
  <tr><th>收货单位</th><td>{{ customer.name }}</td><th>发货日期</th><td>{{ (order.shipped_on or order.date)|date }}</td></tr>
  <tr><th>收货人</th><td>{{ order.consignee or customer.contact }}</td><th>联系电话</th><td>{{ order.phone or customer.mobile }}</td></tr>
  <tr><th>收货地址</th><td colspan="3">{{ order.address or customer.address }}</td></tr>
  <tr><th>承运商</th><td>{{ order.carrier }}</td><th>运单号</th><td>{{ order.tracking_no }}</td></tr>
</table>
""" + print_fields.LINE_TABLE + """
<table class="doc-sum"><tr><td>合计数量：<b>{{ order.quantity }}</b></td><td class="money">发货仓库：{{ order.warehouse }}</td></tr></table>
{% if order.notes %}<div class="doc-section">备注</div><div class="doc-terms">{{ order.notes }}</div>{% endif %}
<table class="doc-sign"><tr>
  <td>发货人：<span class="doc-line"></span></td>
  <td>承运人：<span class="doc-line"></span></td>
  <td>收货人签收：<span class="doc-line"></span></td></tr>
  <tr><td></td><td></td><td>签收日期：<span class="doc-line"></span></td></tr></table>
<p style="font-size:9pt">请收货人当面点清货物，如有破损或数量不符请在签收时注明。</p>
""" + FOOT + "</div>\n"

QUOTE = STYLE + _head("报 价 单") + """<div class="doc">
<div class="doc-no">报价单号：<b>{{ quote.number }}</b></div>
<table class="doc-meta">
  <tr><th>客户</th><td>{{ customer.name }}</td><th>报价日期</th><td>{{ quote.date|date }}</td></tr>
  <tr><th>联系人</th><td>{{ quote.contact or customer.contact }}</td><th>有效期至</th><td>{{ quote.valid_until|date }}</td></tr>
  <tr><th>电话</th><td>{{ customer.phone or customer.mobile }}</td><th>报价人</th><td>{{ quote.owner }} {{ quote.owner_mobile }}</td></tr>
  <tr><th>地址</th><td colspan="3">{{ customer.address }}</td></tr>
</table>
""" + print_fields.LINE_TABLE + "\n" + _sum("quote") + """
{% if quote.terms %}<div class="doc-section">报价条款</div><div class="doc-terms">{{ quote.terms }}</div>{% endif %}
<p>本报价有效期至 {{ quote.valid_until|date }}{% if quote.tax_rate and quote.tax_rate != "0%" %}，价格含税（税率 {{ quote.tax_rate }}）{% endif %}。</p>
<table class="doc-sign"><tr>
  <td colspan="2">报价方（盖章）：{{ company.name }}</td>
  <td>客户确认（签字/盖章）：<span class="doc-line"></span></td></tr></table>
""" + FOOT + "</div>\n"

CONTRACT = STYLE + """<div class="doc-head">
  {% if record_url %}<div class="doc-qr">{{ record_url|qrcode(18) }}</div>{% endif %}
  <div class="doc-title">{{ contract.title }}</div>
</div>
<div class="doc">
<div class="doc-no" style="text-align:left">合同编号：<b>{{ contract.number }}</b>　签订日期：{{ contract.signed_on|date }}</div>
<table class="doc-meta">
  <tr><th>甲方（买方）</th><td>{{ customer.name }}</td></tr>
  <tr><th>乙方（卖方）</th><td>{{ company.name }}</td></tr>
</table>
<p>甲乙双方本着平等互利的原则，经友好协商，就下列产品的购销事宜签订本合同，共同遵守。</p>
<div class="doc-section">一、产品明细</div>
""" + print_fields.LINE_TABLE + "\n" + _sum("contract") + """
<div class="doc-section">二、合同期限</div>
<p>自 {{ contract.start_on|date or contract.signed_on|date }} 起{% if contract.end_on %}至 {{ contract.end_on|date }} 止{% endif %}。</p>
<div class="doc-section">三、合同条款</div>
<div class="doc-terms">{{ contract.terms or "（双方另行约定）" }}</div>
<p>本合同一式两份，甲乙双方各执一份，自双方签字盖章之日起生效。</p>
<table class="doc-grid" style="margin-top:8mm">
  <tr><th style="width:50%">甲方（盖章）：{{ customer.name }}</th><th>乙方（盖章）：{{ company.name }}</th></tr>
  <tr><td>代表人：{{ contract.their_signatory }}<br>电话：{{ customer.phone or customer.mobile }}<br>地址：{{ customer.address }}<br><br>日期：　　年　　月　　日</td>
      <td>代表人：{{ contract.our_signatory or contract.owner }}<br>电话：{{ company.phone }}<br>开户银行：{{ company.bank }}<br>账号：{{ company.account }}<br>税号：{{ company.tax_no }}<br><br>日期：　　年　　月　　日</td></tr>
</table>
""" + FOOT + "</div>\n"

RECEIPT = STYLE + _head("收 款 收 据") + """<div class="doc">
<div class="doc-no">No. <b>{{ receipt.number }}</b>　　收款日期：{{ receipt.paid_on|date }}</div>
<table class="doc-grid">
  <tr><th>交款单位</th><td colspan="3">{{ customer.name }}</td></tr>
  <tr><th>人民币（大写）</th><td colspan="2" class="doc-words">{{ receipt.amount_words }}</td><td style="text-align:right;white-space:nowrap"><b>{{ receipt.amount|money }}</b></td></tr>
  <tr><th>收款事由</th><td colspan="3">{{ receipt.note }}{% if receipt.contract_number %} 合同 {{ receipt.contract_number }}{% endif %}{% if receipt.order_number %} 订单 {{ receipt.order_number }}{% endif %}</td></tr>
  <tr><th>收款方式</th><td>{{ receipt.method }}</td><th>类型</th><td>{{ receipt.kind }}（{{ receipt.status }}）</td></tr>
</table>
<table class="doc-sign" style="margin-top:6mm"><tr>
  <td style="width:46%">收款单位（盖章）：{{ company.name }}</td>
  <td>经手人：<span class="doc-line">{{ receipt.owner }}</span></td>
  <td>收款人：<span class="doc-line">{{ receipt.recorded_by }}</span></td></tr></table>
""" + FOOT + "</div>\n"

INVOICE = STYLE + _head("开 票 申 请 单") + """<div class="doc">
<div class="doc-no">申请编号：<b>{{ invoice.number }}</b>　申请日期：{{ invoice.requested_on|date }}</div>
<table class="doc-grid">
  <tr><th>发票类型</th><td>{{ invoice.invoice_type }}</td><th>状态</th><td>{{ invoice.status }}</td></tr>
  <tr><th>发票抬头</th><td colspan="3"><b>{{ invoice.title_name }}</b></td></tr>
  <tr><th>纳税人识别号</th><td colspan="3">{{ invoice.tax_no }}</td></tr>
  <tr><th>地址、电话</th><td colspan="3">{{ invoice.address }} {{ invoice.phone }}</td></tr>
  <tr><th>开户行及账号</th><td colspan="3">{{ invoice.bank }} {{ invoice.account }}</td></tr>
  <tr><th>开票金额（大写）</th><td colspan="2" class="doc-words">{{ invoice.amount_words }}</td><td style="text-align:right"><b>{{ invoice.amount|money }}</b></td></tr>
  <tr><th>不含税金额</th><td>{{ invoice.amount_ex_tax|money }}</td><th>税额（{{ invoice.tax_rate }}）</th><td>{{ invoice.tax|money }}</td></tr>
  <tr><th>关联合同</th><td>{{ invoice.contract_number }}</td><th>关联订单</th><td>{{ invoice.order_number }}</td></tr>
  <tr><th>发票号码</th><td>{{ invoice.invoice_no }}</td><th>开票日期</th><td>{{ invoice.issued_on|date }}</td></tr>
  <tr><th>备注</th><td colspan="3" class="doc-terms">{{ invoice.notes }}</td></tr>
</table>
<table class="doc-sign"><tr>
  <td>申请人：<span class="doc-line">{{ invoice.owner }}</span></td>
  <td>部门负责人：<span class="doc-line"></span></td>
  <td>财务审核：<span class="doc-line"></span></td></tr></table>
""" + FOOT + "</div>\n"

REPAIR = STYLE + _head("维 修 工 单") + """<div class="doc">
<div class="doc-no">工单号：<b>{{ ticket.number }}</b>　报修日期：{{ ticket.date|date }}</div>
<table class="doc-grid">
  <tr><th>客户名称</th><td colspan="3">{{ customer.name }}</td></tr>
  <tr><th>联系人</th><td>{{ customer.contact }}</td><th>电话</th><td>{{ customer.mobile or customer.phone }}</td></tr>
  <tr><th>地址</th><td colspan="3">{{ customer.address }}</td></tr>
  <tr><th>维修产品</th><td>{{ ticket.product }}</td><th>序列号</th><td>{{ ticket.serial_no }}</td></tr>
  <tr><th>故障描述</th><td colspan="3" class="doc-terms" style="height:18mm">{{ ticket.fault }}</td></tr>
  <tr><th>处理结果</th><td colspan="3" class="doc-terms" style="height:18mm">{{ ticket.solution }}</td></tr>
  <tr><th>维修费用</th><td colspan="2" class="doc-words">{{ ticket.fee_words }}</td><td style="text-align:right"><b>{{ ticket.fee|money }}</b></td></tr>
  <tr><th>维修人员</th><td>{{ ticket.engineer }}</td><th>工单状态</th><td>{{ ticket.status }}</td></tr>
</table>
<table class="doc-sign"><tr>
  <td>维修人员：<span class="doc-line">{{ ticket.engineer }}</span></td>
  <td>客户确认（签字）：<span class="doc-line"></span></td>
  <td>日期：<span class="doc-line"></span></td></tr></table>
""" + FOOT + "</div>\n"

# 信封 (rules/envelopes.py: the GB/T 1416 sizes and zip boxes), the template whole in itself so an
# administrator's copy can change every part of it: six 邮编 boxes top left, the stamp box top right, the
# recipient's address and name in the middle, the sender and the sender's 邮编 bottom right.
ENVELOPE = """<style>
.envelope { position: absolute; top: 0; right: 0; bottom: 0; left: 0; font-size: 12pt; }
.zip { position: absolute; left: 10mm; top: 8mm; }
.zip-box { display: inline-block; width: 8mm; height: 10mm; border: 0.8pt solid #c00; margin-right: 1.5mm;
  text-align: center; line-height: 10mm; font-size: 14pt; font-family: "DejaVu Sans Mono", monospace; }
.stamp { position: absolute; right: 10mm; top: 8mm; width: 20mm; height: 24mm; border: 0.8pt dashed #c00;
  color: #c00; font-size: 8pt; text-align: center; line-height: 24mm; }
.to { position: absolute; left: 22mm; right: 40mm; top: 32%; }
.to-address { font-size: 13pt; margin-bottom: 5mm; }
.to-company { font-size: 14pt; margin-bottom: 2mm; }
.to-name { font-size: 17pt; font-weight: bold; letter-spacing: 2pt; padding-left: 20mm; }
.from { position: absolute; right: 10mm; bottom: 6mm; text-align: right; font-size: 10pt; line-height: 1.5; }
.from .zip-box { width: 5mm; height: 6mm; line-height: 6mm; font-size: 10pt; margin: 0 0 0 1mm; border-color: #c00; }
</style>
<div class="envelope">
  <div class="zip">{% for d in recipient.zip_boxes %}<span class="zip-box">{{ d }}</span>{% endfor %}</div>
  <div class="stamp">贴邮票处</div>
  <div class="to">
    <div class="to-address">{{ recipient.address }}</div>
    {% if recipient.company %}<div class="to-company">{{ recipient.company }}</div>{% endif %}
    <div class="to-name">{{ recipient.name }} {{ recipient.title or "" }} 收</div>
  </div>
  <div class="from">
    <div>{{ sender.address }}</div>
    <div>{{ sender.name }}{% if sender.phone %}　{{ sender.phone }}{% endif %}</div>
    <div>邮政编码：{% for d in sender.zip_boxes %}<span class="zip-box">{{ d }}</span>{% endfor %}</div>
  </div>
</div>
"""


@dataclass(frozen=True)
class Default:
    name: str
    body: str
    paper: Paper = Paper.A4
    landscape: bool = False
    margins: tuple[int, int, int, int] = (12, 12, 12, 12)
    columns: list[str] = field(default_factory=list)


DEFAULTS: dict[T, Default] = {
    T.CUSTOMER: Default("标准客户资料", CUSTOMER),
    T.ORDER: Default("标准销售订单", ORDER, columns=print_fields.default_columns(T.ORDER)),
    T.DELIVERY: Default("标准发货单", DELIVERY, columns=print_fields.default_columns(T.DELIVERY)),
    T.QUOTE: Default("标准报价单", QUOTE, columns=print_fields.default_columns(T.QUOTE)),
    T.CONTRACT: Default("标准购销合同", CONTRACT, margins=(18, 18, 18, 18),
                        columns=print_fields.default_columns(T.CONTRACT)),
    T.RECEIPT: Default("标准收款收据", RECEIPT, paper=Paper.A5, landscape=True, margins=(10, 12, 10, 12)),
    T.INVOICE: Default("标准开票申请单", INVOICE),
    T.REPAIR: Default("标准维修工单", REPAIR),
    T.ENVELOPE: Default("标准信封（DL）", ENVELOPE, paper=Paper.DL, margins=(0, 0, 0, 0)),
}


def template_of(doc_type: T, *, now: datetime) -> PrintTemplate:
    spec = DEFAULTS[doc_type]
    top, right, bottom, left = spec.margins
    return PrintTemplate(doc_type=doc_type.value, name=spec.name, body=spec.body, paper=spec.paper.value,
                         landscape=spec.landscape, margin_top=top, margin_right=right, margin_bottom=bottom,
                         margin_left=left, columns=list(spec.columns), options={"seeded": True},
                         is_default=True, active=True, created_at=now, updated_at=now)


def ensure_defaults(session: Session, *, now: datetime) -> list[PrintTemplate]:
    """A default template for every document type that has never had one (a type whose
    templates the administrator deleted stays as they left it)."""
    present = set(session.scalars(select(PrintTemplate.doc_type).group_by(PrintTemplate.doc_type)))
    added = [template_of(t, now=now) for t in T if t.value not in present]
    session.add_all(added)
    session.flush()
    return added
