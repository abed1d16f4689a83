"""Customers. The foundation keeps the minimal record that proves data scope."""
from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TimestampMixin, db, format_repr
from models.org import Department, User


class CustomerKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


class Customer(TimestampMixin, db.Model):
    __tablename__ = "customers"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    kind: Mapped[CustomerKind] = mapped_column(String(16), nullable=False, default=CustomerKind.COMPANY)
    phone: Mapped[str | None] = mapped_column(String(32))
    province: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(32))
    # NULL owner = in the pool. The owner's department is copied at each change of owner
    # so reports can group by the department that owned the customer.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()
    parent: Mapped[Customer | None] = relationship(remote_side=[id])

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return format_repr(self, "id", "name", "owner_id")
