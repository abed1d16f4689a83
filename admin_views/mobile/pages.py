"""Where the salesperson's actions on the phone lead back to: the pages of other mobile modules
may not exist yet (admin_views/mobile/base.mobile_url), so each answer has a fallback."""
from __future__ import annotations

from flask import url_for

from admin_views.mobile.base import mobile_url


def customer_page(customer_id: int) -> str:
    """The customer's 360 page, or 今日 while it does not exist."""
    return mobile_url("m_customers.detail", customer_id=customer_id) or url_for("m_home.index")


def customer_list() -> str:
    """Where a released customer leaves to: the customer search, or the pool."""
    return mobile_url("m_customers.index") or url_for("m_pool.index")
