"""Links as values (rules/links.py): the text a notification stores reads back as the same link,
and nothing else reads as a link (an old URL, a foreign host, a kind that no longer exists)."""
from __future__ import annotations

from datetime import date

import pytest

from rules import links
from rules.links import Days, DrillFilter, ListKind, ListLink, RecordLink


@pytest.mark.parametrize("link, text", [
    (RecordLink(ListKind.CUSTOMER, 123), "customer/123"),
    (RecordLink(ListKind.ANNOUNCEMENT, 7), "announcement/7"),
    (ListLink(ListKind.DUE_CUSTOMER), "list:due_customer"),
    (ListLink(ListKind.SOON_RECYCLED), "list:recycle_soon"),
    (ListLink(ListKind.WORKBENCH), "list:admin"),
])
def test_a_stored_link_reads_back_as_itself(link, text):
    assert links.dump(link) == text
    assert links.load(text) == link


@pytest.mark.parametrize("kind", list(ListKind))
def test_every_kind_survives_storage(kind):
    assert links.load(links.dump(ListLink(kind))) == ListLink(kind)
    assert links.load(links.dump(RecordLink(kind, 5))) == RecordLink(kind, 5)


@pytest.mark.parametrize("text", [
    None, "", "/admin/customer/", "/admin/customer/details/?id=3", "//evil.example", "https://evil.example/",
    "javascript:alert(1)", "list:", "list:nowhere", "nowhere/3", "customer/", "customer/3x", "customer/-3",
    "customer/3/edit", "customer/３",
])
def test_anything_else_is_not_a_link(text):
    assert links.load(text) is None


def test_a_report_filter_is_not_stored():
    """A report's filters hold the report's moment (its days, its cut-off); a reminder opens a
    list of its own instead."""
    narrowed = ListLink.of(ListKind.CUSTOMER, {DrillFilter.CREATED_ON: Days(date(2026, 3, 1), date(2026, 3, 31))})
    with pytest.raises(ValueError):
        links.dump(narrowed)


def test_filters_keep_their_order_and_names():
    link = ListLink.of(ListKind.ORDER, {DrillFilter.ORDER_DATE: Days(date(2026, 4, 1), date(2026, 4, 30)),
                                        DrillFilter.STATE_IN: ("picking", "shipped"), DrillFilter.OWNER: 3})
    assert [name for name, _value in link.filters] == [DrillFilter.ORDER_DATE, DrillFilter.STATE_IN,
                                                       DrillFilter.OWNER]
    assert link.names() == {DrillFilter.ORDER_DATE, DrillFilter.STATE_IN, DrillFilter.OWNER}
    assert link == ListLink.of(ListKind.ORDER, dict(link.filters))
