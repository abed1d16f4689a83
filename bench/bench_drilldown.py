"""The lists a report's chart opens (drill-down), timed at scale as the 总经理 and a 主管.

Each case is a drill the reports build (rules/reports.py), turned into list filter arguments by
admin_views/reports.customer_list_url exactly as a click does, then rendered by the list view
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
from typing import Any

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

    from admin_views.reports import customer_list_url
    from models import Product, User, db
    from models.dictionary import DictItem, DictKind
    from rules import reports

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
        stages = [str(i) for i in db.session.scalars(select(DictItem.id).where(DictItem.kind == DictKind.STAGE)
                                                     .order_by(DictItem.sort_order, DictItem.id))]
        last = db.session.scalar(select(func.max(db.text("order_date"))).select_from(db.text("orders")))
    end = date.fromisoformat(str(last)[:10]) if last else date.today()
    year, month = (date(end.year, 1, 1), end), (end.replace(day=1), end)
    rev, sold = ",".join(reports.REVIEWED_STATES), ",".join(reports.SOLD_STATES)
    cutoff = datetime.combine(end, datetime.min.time(), tzinfo=timezone.utc) - timedelta(days=30)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("baseline: 客户数量 province", {"created_at": year, "province": "浙江省"}),
        ("客户数量 by department", {"created_at": year, "department_id": dept}),
        ("新增客户 month", {"created_at": month}),
        ("新增客户 month + 部门 choice", {"created_at": month, "owner_id:department": dept}),
        ("销售漏斗 reached stage 3", {"created_at": year, "stage_id:in": ",".join(stages[2:])}),
        ("超过 30 天未跟进 of a 业务员", {"owner_id": rep, "last_follow_up_at:before": cutoff}),
        ("公司销售 month", {"_view": "order", "order_date": month, "state:in": rev}),
        ("公司销售 month + 部门 choice", {"_view": "order", "order_date": month, "state:in": rev,
                                    "salesperson_id:department": dept}),
        ("产品销售 product, year", {"_view": "order", "product_id": product, "order_date": year, "state:in": sold}),
        ("产品销售 category, year", {"_view": "order", "product_category_id": category, "order_date": year,
                                 "state:in": sold}),
        ("业务员业绩 a 业务员, year", {"_view": "order", "salesperson_id": rep, "order_date": year, "state:in": sold}),
        ("客户跟进 a 业务员, year (existing)", {"_view": "follow_up", "user_id": rep, "happened_at": year}),
        ("客户跟进 month (existing)", {"_view": "follow_up", "happened_at": month}),
        ("客户跟进 department, year", {"_view": "follow_up", "user_id:department_only": dept, "happened_at": year}),
    ]
    print(f"{'who':6} {'drill':34} {'median':>9} {'p95':>9} {'ratio':>6}")
    only = [c for c in cases if args.only in c[0]] if args.only else cases
    for username in (GM_USERNAME, args.lead):
        baseline = None
        for name, drill in only:
            with app.test_request_context("/"):  # the link is offered to a user who may open the list
                login_user(db.session.scalar(select(User).where(User.username == username)))
                url = customer_list_url(admin, drill)
                db.session.remove()
            if url is None:
                print(f"{username:6} {name:34} no list filter")
                continue
            endpoint = drill.get("_view", "customer")
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
