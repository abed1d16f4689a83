"""Demo files and printing (issue 20): attachments on a few customers, contracts and orders; a
文档中心 with company, department and personal folders holding documents with several versions;
one custom order template beside the defaults every document type gets; a shared quote link.

The files are made at seed time (a PDF by rules/pdf, a PNG by Pillow, a Word file by python-docx,
a workbook by openpyxl), so nothing binary sits in the repository, and each holds words a person
would search for (报销, 保密条款, 龙井…). Everything goes through the rules a person's clicks go
through, as the uploader, at a moment in the past. On a machine without pango (no PDF) the PDF
files are left out and the rest is seeded."""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Contract, Customer, Document, DocumentFolder, FolderKind, GrantLevel, Order, Quote, QuoteStatus, User
from models.attachment import AttachmentEntity
from rules import (
    attachments, document_folders, document_search, document_text, documents, file_store, pdf, print_data,
    print_templates, quote_shares,
)
from rules.actor import Actor
from rules.audit import AuditContext
from rules.print_fields import LINE_TABLE

CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


# --- files made at seed time ---------------------------------------------------------------------

def pdf_file(title: str, paragraphs: list[str]) -> bytes:
    """A one-page Chinese PDF through the same renderer printing uses (needs pango)."""
    from rules import pdf

    body = "".join(f"<p>{line}</p>" for line in paragraphs)
    return pdf.html_to_pdf(
        "<!doctype html><html><head><meta charset='utf-8'><style>"
        "body{font-family:'Noto Sans CJK SC',sans-serif;font-size:12pt;line-height:1.7}"
        "h1{font-size:18pt;border-bottom:1px solid #333}</style></head>"
        f"<body><h1>{title}</h1>{body}</body></html>")


def png_file(title: str, lines: list[str], *, size: tuple[int, int] = (640, 420)) -> bytes:
    """A scan-like picture (a business licence, a site photo) with its words drawn on it."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, (250, 247, 238))
    draw = ImageDraw.Draw(image)
    draw.rectangle([12, 12, size[0] - 12, size[1] - 12], outline=(176, 32, 32), width=4)
    font_path = next((p for p in CJK_FONTS if Path(p).exists()), None)
    big = ImageFont.truetype(font_path, 30) if font_path else ImageFont.load_default()
    small = ImageFont.truetype(font_path, 18) if font_path else ImageFont.load_default()
    draw.text((40, 36), title, fill=(176, 32, 32), font=big)
    for n, line in enumerate(lines):
        draw.text((40, 100 + n * 34), line, fill=(40, 40, 40), font=small)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def docx_file(title: str, paragraphs: list[str]) -> bytes:
    from docx import Document as WordDocument

    word = WordDocument()
    word.add_heading(title, level=1)
    for line in paragraphs:
        word.add_paragraph(line)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def xlsx_file(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# What the demo files say; the search of the 文档中心 finds these words inside them.
POLICY = ["一、出差前在系统中填写出差申请，经部门负责人同意后方可出行。",
          "二、差旅报销须在回到公司后十个工作日内提交，附发票原件。",
          "三、客户招待费用单笔超过两千元的，须事先报总经理批准。"]
POLICY_V2 = POLICY + ["四、自二〇二六年十二月起，高铁二等座以上须说明原因。"]
AGREEMENT = ["甲方与乙方本着平等互利的原则，就茶叶及茶具的长期供货达成如下协议。",
             "第一条 供货范围：明前龙井、碧螺春、青瓷茶具。",
             "第五条 保密条款：双方对合作中知悉的商业信息负有保密义务，期限三年。"]
PRICES = [["LJ250", "明前龙井 250g", "罐", 268], ["BLC250", "洞庭碧螺春 250g", "罐", 198],
          ["BZ06", "青瓷茶杯 6只装", "盒", 88], ["HP01", "紫砂壶", "把", 560]]


@dataclass(frozen=True)
class DemoFile:
    name: str
    make: Callable[[], bytes]


def _files() -> dict[str, DemoFile]:
    """The demo's files by purpose; without PDF support the PDF ones are left out."""
    every = {
        "licence": DemoFile("营业执照扫描件.png", lambda: png_file("营业执照", [
            "统一社会信用代码 91330100MA2B3C4D5E", "名称 杭州西湖茶业有限公司", "类型 有限责任公司",
            "住所 浙江省杭州市西湖区龙井路 18 号"])),
        "visit": DemoFile("门店拜访照片.png", lambda: png_file("门店陈列", ["货架第二层：明前龙井", "拍摄：陈晓明"])),
        "contract_scan": DemoFile("合同盖章页.pdf", lambda: pdf_file("合同盖章页", [
            "本合同一式两份，甲乙双方各执一份，自双方盖章之日起生效。", "甲方（盖章）：　　　乙方（盖章）："])),
        "agreement": DemoFile("长期供货协议.docx", lambda: docx_file("长期供货协议", AGREEMENT)),
        "prices": DemoFile("2026年产品价格表.xlsx", lambda: xlsx_file("产品价格表", ["编码", "产品名称", "单位", "单价"],
                                                                  PRICES)),
        "delivery": DemoFile("签收单.pdf", lambda: pdf_file("签收单", [
            "收货人已核对货品数量与包装，外观完好。", "签收人：王经理"])),
        "policy": DemoFile("差旅与报销制度.pdf", lambda: pdf_file("差旅与报销制度", POLICY)),
        "policy_v2": DemoFile("差旅与报销制度.pdf", lambda: pdf_file("差旅与报销制度（2026年修订）", POLICY_V2)),
        "handbook": DemoFile("新员工手册.docx", lambda: docx_file("新员工手册", [
            "欢迎加入公司。上班时间为九点至十八点，午休一小时。", "客户资料统一录入客池CRM，不得私自带走。"])),
        "pitch": DemoFile("产品介绍.pdf", lambda: pdf_file("产品介绍", [
            "明前龙井：清明前采摘，一芽一叶，豆香明显。", "碧螺春：条索纤细，卷曲成螺，花果香浓。"])),
        "targets": DemoFile("销售一部季度目标.xlsx", lambda: xlsx_file("季度目标", ["业务员", "目标（元）", "已完成（元）"], [
            ["陈晓明", 300000, 182000], ["刘芳", 260000, 214500]])),
        "notes": DemoFile("客户拜访笔记.txt", lambda: "十一月拜访计划：西湖区三家茶庄，重点推荐碧螺春礼盒。\n".encode()),
    }
    return every if pdf.available() else {k: f for k, f in every.items() if not f.name.endswith(".pdf")}


def _stream(demo: DemoFile) -> tuple[io.BytesIO, str]:
    return io.BytesIO(demo.make()), demo.name


# --- the parts -----------------------------------------------------------------------------------

def seed_documents(session: Session, users: dict[str, User], *, now: datetime, files_root: str | Path) -> None:
    files = _files()
    for part in (_seed_attachments, _seed_document_centre, _seed_print_templates, _seed_quote_share):
        part(session, users, files, now=now, files_root=files_root)


def _seed_attachments(session: Session, users: dict[str, User], files: dict[str, DemoFile], *, now: datetime,
                      files_root: str | Path) -> None:
    def attach(entity: AttachmentEntity, record_id: int, owner: User, keys: list[str], days_ago: int,
               note: str | None = None) -> None:
        chosen = [files[k] for k in keys if k in files]
        if chosen:
            attachments.upload(session, entity=entity, record_id=record_id, files=[_stream(f) for f in chosen],
                               actor=Actor.from_user(owner), now=now - timedelta(days=days_ago), note=note,
                               root=files_root)

    rep = users["chenxm"]
    customers = session.scalars(select(Customer).where(Customer.owner_id == rep.id, Customer.deleted_at.is_(None))
                                .order_by(Customer.id).limit(3)).all()
    for n, customer in enumerate(customers):
        attach(AttachmentEntity.CUSTOMER, customer.id, rep, [["licence", "prices"], ["visit"], ["agreement"]][n],
               20 - n * 5, note="建档资料" if n == 0 else None)
    for contract in session.scalars(select(Contract).where(Contract.deleted_at.is_(None)).order_by(Contract.id)
                                    .limit(2)):
        attach(AttachmentEntity.CONTRACT, contract.id, session.get(User, contract.owner_id),
               ["contract_scan", "agreement"], 10, note="双方盖章版")
    for order in session.scalars(select(Order).where(Order.state.in_(("shipped", "completed"))).order_by(Order.id)
                                 .limit(2)):
        attach(AttachmentEntity.ORDER, order.id, session.get(User, order.salesperson_id), ["delivery"], 3)


def _seed_document_centre(session: Session, users: dict[str, User], files: dict[str, DemoFile], *, now: datetime,
                          files_root: str | Path) -> None:
    week_ago = now - timedelta(days=7)

    def put(folder_id: int, user: User, keys: list[str], when: datetime) -> list:
        chosen = [files[k] for k in keys if k in files]
        if not chosen:
            return []
        versions = documents.upload(session, folder_id=folder_id, files=[_stream(f) for f in chosen],
                                    actor=Actor.from_user(user), now=when, root=files_root, ctx=_ctx(user))
        for version in versions:
            _read_text(session, version, files_root)
        return versions

    def _ctx(user: User) -> AuditContext:
        return AuditContext(actor_id=user.id, actor_name=user.display_name)

    admin, boss = users["admin"], users["wangjl"]
    manager = Actor.from_user(admin)
    policies = document_folders.create(session, manager, name="公司制度", now=week_ago)
    products = document_folders.create(session, manager, name="产品资料", now=week_ago)
    samples = document_folders.create(session, manager, name="合同范本", parent_id=products.id, now=week_ago)
    # 产品资料: everyone reads it, the sales managers (role 经理) also upload into it
    document_folders.add_grant(session, manager, products.id, level=GrantLevel.VIEW.value)
    document_folders.add_grant(session, manager, products.id, level=GrantLevel.UPLOAD.value, role_id=boss.role_id)
    policy = put(policies.id, admin, ["policy", "handbook"], week_ago)
    put(products.id, boss, ["pitch", "prices"], week_ago + timedelta(days=1))
    put(samples.id, boss, ["agreement"], week_ago + timedelta(days=2))
    if policy and "policy_v2" in files:
        revised = files["policy_v2"]
        version = documents.new_version(session, document_id=policy[0].document_id, stream=io.BytesIO(revised.make()),
                                        name=revised.name, note="增加高铁座位规定", actor=manager,
                                        now=now - timedelta(days=1), root=files_root, ctx=_ctx(admin))
        _read_text(session, version, files_root)
    rep, lead = users["chenxm"], users["lizg"]
    document_folders.ensure_own(session, Actor.from_user(rep), now=week_ago)  # 我的文档 and 销售一部's folder
    team = session.scalar(select(DocumentFolder.id).where(DocumentFolder.kind == FolderKind.DEPARTMENT,
                                                          DocumentFolder.department_id == rep.department_id))
    mine = session.scalar(select(DocumentFolder.id).where(DocumentFolder.kind == FolderKind.PERSONAL,
                                                          DocumentFolder.owner_id == rep.id))
    put(team, lead, ["targets"], now - timedelta(days=3))
    put(mine, rep, ["notes"], now - timedelta(days=2))


def _read_text(session: Session, version, files_root: str | Path) -> None:
    """What jobs/document_text does after an upload's commit, done at once so the demo's
    documents are found by their words from the first start."""
    found = document_text.extract(file_store.path_of(files_root, version.storage_key), version.file_kind, version.mime)
    version.text_status = found.status
    document = session.get(Document, version.document_id)
    if document.current_version == version.number:
        document_search.refresh(session, document, text_=found.text)


# A 订单 layout the administrator made beside the default: no discount column, the 金额大写 in
# words, a line for the customer's signature.
CUSTOM_ORDER_NAME = "订单（客户签收联）"
CUSTOM_ORDER_BODY = """<h2 style="text-align:center">{{ company.name }} 销售订单（客户签收联）</h2>
<table style="width:100%">
  <tr><td>订单号：{{ order.number }}</td><td>订单日期：{{ order.date|date }}</td></tr>
  <tr><td>客户：{{ customer.name }}</td><td>联系人：{{ customer.contact }} {{ customer.mobile }}</td></tr>
  <tr><td colspan="2">收货地址：{{ order.address }}</td></tr>
</table>
<!-- 明细表 -->
<p>合计：{{ order.total|money }}　金额大写：{{ order.total_words }}</p>
<p>业务员：{{ order.salesperson }}　　　客户签收：________________　日期：____________</p>
<p style="color:#666">打印时间：{{ printed_at }}　打印人：{{ printed_by }}</p>"""
CUSTOM_ORDER_COLUMNS = ["index", "product_name", "product_code", "spec", "unit", "quantity", "unit_price", "amount"]
COMPANY = {"name": "杭州客池茶业有限公司", "address": "浙江省杭州市西湖区龙井路 18 号", "zip_code": "310013",
           "phone": "0571-8888 6666", "email": "service@kechi.example", "bank": "招商银行杭州西湖支行",
           "account": "5719 0866 6688 001", "tax_no": "91330106MA2KECHI8X"}


def _seed_print_templates(session: Session, users: dict[str, User], files: dict[str, DemoFile], *, now: datetime,
                          files_root: str | Path) -> None:
    """The defaults of every document type come with rules/setup.ensure_defaults; the demo fills
    in 本公司信息 (printed on every document and as an envelope's sender) and adds a second order
    layout, so 打印 ▾ offers a choice."""
    print_data.save_company_profile(session, COMPANY)
    body = CUSTOM_ORDER_BODY.replace("<!-- 明细表 -->", LINE_TABLE)
    print_templates.save(session, None, print_templates.TemplateInput(
        doc_type="order", name=CUSTOM_ORDER_NAME, body=body, columns=CUSTOM_ORDER_COLUMNS,
        footer="{{ company.name }}　{{ company.phone }}"), actor=Actor.from_user(users["admin"]),
        now=now - timedelta(days=5))


def _seed_quote_share(session: Session, users: dict[str, User], files: dict[str, DemoFile], *, now: datetime,
                      files_root: str | Path) -> None:
    quote = session.scalar(select(Quote).where(Quote.status == QuoteStatus.SENT, Quote.superseded_by_id.is_(None))
                           .order_by(Quote.id).limit(1))
    if quote is None:
        return
    quote_shares.create(session, quote.id, days=7, actor=Actor.from_user(session.get(User, quote.owner_id)),
                  now=now - timedelta(days=1))
