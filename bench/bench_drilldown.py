"""The lists a report's chart opens (drill-down), timed at scale as the 总经理 and a 主管.

Each case is a drill the reports build (rules/reports.py, typed links of rules/links.py), turned
into list filter arguments by admin_views/links.list_url exactly as a click does, then rendered by the list view
(list, count, page) inside a request: no HTTP, no login row, so a read-only database works:

    .venv/bin/python bench/bench_drilldown.py --url 'sqlite:///file:/tmp/bench/kechi-orders.db?mode=ro&uri=true'

The baseline is the drill that existed before (客户数量报表 by province: the customer list by
province and creation date); the ratio column compares every case with it.
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, datetime, timedelta, timezone

from common import GM_USERNAME, make_app, normalise_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--lead", default="lead1", help="a 主管 of the generated staff")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    args = parser.parse_args()

    from flask_login import login_user
    from sqlalchemy import func, select

    from admin_views.links import list_url
    from models import Product, User, db
    from models.dictionary import DictItem, DictKind
    from rules import reports
    from rules.links import Days, DrillFilter as F, ListKind, ListLink

    app = make_app(normalise_url(args.url))
    admin = app.extensions["admin"][0]
    views = {v.endpoint: v for v in admin._views if getattr(v, "endpoint", None)}
    with app.app_context():
        lead = db.session.scalar(select(User).where(User.username == args.lead))
        rep = db.session.scalar(select(User.id).where(User.department_id == lead.department_id, User.id != lead.id)
                                .order_by(User.id))
        dept = lead.department_id
        product = db.session.scalar(select(Product.id).order_by(Product.id))
        category = db.session.scalar(select(Product.category_id).where(Product.category_id.is_not(None)).limit(1))
        stages = tuple(db.session.scalars(select(DictItem.id).where(DictItem.kind == DictKind.STAGE)
                                          .order_by(DictItem.sort_order, DictItem.id)))
        last = db.session.scalar(select(func.max(db.text("order_date"))).select_from(db.text("orders")))
    end = date.fromisoformat(str(last)[:10]) if last else date.today()
    year, month = Days(date(end.year, 1, 1), end), Days(end.replace(day=1), end)
    rev, sold = reports.REVIEWED_STATES, reports.SOLD_STATES
    cutoff = datetime.combine(end, datetime.min.time(), tzinfo=timezone.utc) - timedelta(days=30)
    customers, orders, follow_ups = ListKind.CUSTOMER, ListKind.ORDER, ListKind.FOLLOW_UP
    cases: list[tuple[str, ListLink]] = [(name, ListLink.of(kind, filters)) for name, kind, filters in [
        ("baseline: 客户数量 province", customers, {F.CREATED_ON: year, F.PROVINCE: "浙江省"}),
        ("客户数量 by department", customers, {F.CREATED_ON: year, F.DEPARTMENT: dept}),
        ("新增客户 month", customers, {F.CREATED_ON: month}),
        ("新增客户 month + 部门 choice", customers, {F.CREATED_ON: month, F.OWNER_DEPARTMENT_TREE: dept}),
        ("销售漏斗 reached stage 3", customers, {F.CREATED_ON: year, F.STAGE_REACHED: stages[2:]}),
        ("超过 30 天未跟进 of a 业务员", customers, {F.OWNER: rep, F.LAST_FOLLOW_UP_BEFORE: cutoff}),
        ("公司销售 month", orders, {F.ORDER_DATE: month, F.STATE_IN: rev}),
        ("公司销售 month + 部门 choice", orders, {F.ORDER_DATE: month, F.STATE_IN: rev, F.OWNER_DEPARTMENT_TREE: dept}),
        ("产品销售 product, year", orders, {F.PRODUCT: product, F.ORDER_DATE: year, F.STATE_IN: sold}),
        ("产品销售 category, year", orders, {F.PRODUCT_CATEGORY: category, F.ORDER_DATE: year, F.STATE_IN: sold}),
        ("业务员业绩 a 业务员, year", orders, {F.OWNER: rep, F.ORDER_DATE: year, F.STATE_IN: sold}),
        ("客户跟进 a 业务员, year (existing)", follow_ups, {F.OWNER: rep, F.HAPPENED_ON: year}),
        ("客户跟进 month (existing)", follow_ups, {F.HAPPENED_ON: month}),
        ("客户跟进 department, year", follow_ups, {F.OWNER_DEPARTMENT_ONLY: dept, F.HAPPENED_ON: year}),
    ]]
    print(f"{'who':6} {'drill':34} {'median':>9} {'p95':>9} {'ratio':>6}")
    only = [c for c in cases if args.only in c[0]] if args.only else cases
    for username in (GM_USERNAME, args.lead):
        baseline = None
        for name, link in only:
            with app.test_request_context("/"):  # the link is offered to a user who may open the list
                login_user(db.session.scalar(select(User).where(User.username == username)))
                url = list_url(admin, link)
                db.session.remove()
            if url is None:
                print(f"{username:6} {name:34} no list filter")
                continue
            endpoint = link.kind.value
            times = []
            for _ in range(args.repeat):
                with app.test_request_context(url):
                    login_user(db.session.scalar(select(User).where(User.username == username)))
                    started = time.perf_counter()
                    views[endpoint].index_view()
                    times.append((time.perf_counter() - started) * 1000)
                    db.session.remove()
            times.sort()
            median, p95 = statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]
            baseline = baseline or median
            print(f"{username:6} {name:34} {median:7.1f}ms {p95:7.1f}ms {median / baseline:6.2f}", flush=True)


if __name__ == "__main__":
    main()
