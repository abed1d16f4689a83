"""打印模板: print layouts the administrator designs for each kind of document, and envelopes."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import UTCDateTime, db, format_repr, utcnow, version_column


class PrintDocType(enum.StrEnum):
    """What a template prints (rules/print_data.py builds each one's fields)."""

    CUSTOMER = "customer"    # 客户资料
    ORDER = "order"          # 订单
    DELIVERY = "delivery"    # 发货单 (an order, usually without prices)
    QUOTE = "quote"          # 报价单
    CONTRACT = "contract"    # 合同
    RECEIPT = "receipt"      # 收款单
    INVOICE = "invoice"      # 开票申请
    REPAIR = "repair"        # 维修工单 (service tickets)
    ENVELOPE = "envelope"    # 信封 (a customer's address)


class Paper(enum.StrEnum):
    """Paper sizes; envelopes in the Chinese standard sizes (GB/T 1416)."""

    A4 = "A4"        # 210×297
    A5 = "A5"        # 148×210
    B5 = "B5"        # 176×250
    LETTER = "letter"
    DL = "DL"        # 220×110 envelope
    C5 = "C5"        # 229×162 envelope
    NO5 = "no5"      # 5号 220×110
    NO7 = "no7"      # 7号 229×162
    CUSTOM = "custom"


class PrintTemplate(db.Model):
    """One layout: HTML with fields from the document's field list, rendered in Jinja's sandbox
    (rules/print_templates.py). Several per document type; one of them is the default."""

    __tablename__ = "print_templates"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[PrintDocType] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    header: Mapped[str | None] = mapped_column(Text)
    footer: Mapped[str | None] = mapped_column(Text)
    logo_key: Mapped[str | None] = mapped_column(String(80))  # a stored image under FILES_DIR
    paper: Mapped[Paper] = mapped_column(String(16), nullable=False, default=Paper.A4)
    landscape: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    width_mm: Mapped[int | None] = mapped_column(Integer)   # custom paper only
    height_mm: Mapped[int | None] = mapped_column(Integer)
    margin_top: Mapped[int] = mapped_column(Integer, nullable=False, default=15)  # millimetres
    margin_right: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    margin_bottom: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    margin_left: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    columns: Mapped[list] = mapped_column(JSON, nullable=False, default=list)  # the line-item columns shown
    options: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)  # e.g. an envelope's sender block
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = version_column()
    __mapper_args__ = {"version_id_col": version}

    __table_args__ = (Index("ix_print_templates_doc_type", "doc_type", "is_default"),)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "doc_type", "name", "is_default")
