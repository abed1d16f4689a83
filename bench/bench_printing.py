"""打印 and PDF timings (issue 20): the PDF of one order through the real page (login, scope,
print data, template, WeasyPrint) against WeasyPrint alone on the same HTML, and a batch of 1,000
envelopes as the job the list action queues (run in this process, as the embedded runner does).

    .venv/bin/python bench/bench_printing.py --url sqlite:////tmp/bench/print.db --repeat 30
    URL=$(bash bench/pg_server.sh start); .venv/bin/python bench/bench_printing.py --url "$URL"

Builds its own small database (schema, roles, one salesperson, 1,000 customers with addresses,
an order of 20 lines): give it a throwaway one."""
from __future__ import annotations

import argparse
import io
import statistics
import time
from decimal import Decimal

from common import BENCH_PASSWORD, make_app, normalise_url


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def build(app, envelopes: int, lines: int) -> tuple[int, int, list[int]]:
    from sqlalchemy import select

    from models import Customer, Order, OrderLine, PriceLevel, Product, ProductPrice, Role, Warehouse, db
    from rules import clock, orders, org, setup, stock
    from rules.actor import Actor

    with app.app_context():
        db.drop_all()
        db.create_all()
        setup.ensure_defaults(db.session)
        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        department = org.ensure_department_path(db.session, ["销售部", "销售一部"])
        user = org.create_user(db.session, username="sales01", password=BENCH_PASSWORD, display_name="陈晓明",
                               role=role, department=department)
        db.session.flush()
        customers = [Customer(name=f"上海星河贸易有限公司{n:04d}", owner_id=user.id, department_id=department.id,
                              province="上海市", city="上海市", district="浦东新区", address=f"世纪大道{n}号",
                              zip_code="200120") for n in range(envelopes)]
        db.session.add_all(customers)
        level, warehouse = PriceLevel(name="零售价", sort_order=1), Warehouse(name="上海仓")
        products = [Product(code=f"P{n:03d}", name=f"龙井茶{n}号", spec="250g/罐", unit="罐", cost=Decimal("12.35"))
                    for n in range(lines)]
        db.session.add_all([level, warehouse, *products])
        db.session.flush()
        for product in products:
            db.session.add(ProductPrice(product_id=product.id, level_id=level.id, price=Decimal("19.90")))
            stock.change(db.session, product_id=product.id, warehouse_id=warehouse.id, quantity=1000, reason="in",
                         now=clock.now())
        order = Order(customer_id=customers[0].id, price_level_id=level.id, warehouse_id=warehouse.id,
                      lines=[OrderLine(product_id=p.id, quantity=3, discount_rate=Decimal("0.95")) for p in products])
        actor = Actor.from_user(user, has_shares=False)
        orders.submit(db.session, order, actor=actor, now=clock.now(), tz=app.config["TIMEZONE"])
        db.session.commit()
        return user.id, order.id, [c.id for c in customers]


def login(client) -> None:
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "sales01", "password": BENCH_PASSWORD, "csrf_token": token})


def one_order(app, order_id: int, repeat: int) -> dict[str, float]:
    from weasyprint import HTML

    client = app.test_client()
    login(client)
    url = f"/admin/printing/pdf/order/{order_id}/"
    assert client.get(url).status_code == 200, "the order's PDF page failed"
    page_ms = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200
        page_ms.append((time.perf_counter() - started) * 1000)
    html = client.get(f"/admin/printing/preview/order/{order_id}/").get_data(as_text=True)
    raw_ms = []
    for _ in range(repeat):
        started = time.perf_counter()
        HTML(string=html).write_pdf(io.BytesIO())
        raw_ms.append((time.perf_counter() - started) * 1000)
    return {"page_median": statistics.median(page_ms), "page_p95": p95(page_ms),
            "raw_median": statistics.median(raw_ms), "raw_p95": p95(raw_ms)}


def envelope_batch(app, user_id: int, customer_ids: list[int]) -> dict[str, float]:
    from pypdf import PdfReader

    from jobs import printing as print_jobs
    from jobs.excel import stored_path
    from models import User, db
    from models.job import JobRecord
    from models.printing import PrintDocType
    from rules import printing
    from rules.actor import Actor

    with app.app_context():
        actor = Actor.from_user(db.session.get(User, user_id), has_shares=False)
        job = printing.new_batch(db.session, doc_type=PrintDocType.ENVELOPE, ids=customer_ids, actor=actor,
                                 user_id=user_id)
        db.session.commit()
        started = time.perf_counter()
        print_jobs.run_batch(job.id)
        seconds = time.perf_counter() - started
        job = db.session.get(JobRecord, job.id)
        path = stored_path(job.result_path)
        pages = len(PdfReader(str(path)).pages)
        return {"seconds": seconds, "pages": pages, "mb": path.stat().st_size / 1e6, "status": job.status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--envelopes", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=20)
    args = parser.parse_args()
    app = make_app(normalise_url(args.url), EMBEDDED_JOBS_SYNC=True)
    user_id, order_id, customer_ids = build(app, args.envelopes, args.lines)
    order = one_order(app, order_id, args.repeat)
    print(f"订单 PDF ({args.lines} 行), {args.repeat} 次: 页面 中位数 {order['page_median']:.0f} ms, "
          f"p95 {order['page_p95']:.0f} ms; WeasyPrint 同一 HTML 中位数 {order['raw_median']:.0f} ms, "
          f"p95 {order['raw_p95']:.0f} ms; 比值 {order['page_median'] / order['raw_median']:.2f}×")
    batch = envelope_batch(app, user_id, customer_ids)
    print(f"批量打印信封 {args.envelopes} 份 (任务): {batch['seconds']:.1f} s, {batch['pages']} 页, "
          f"{batch['mb']:.1f} MB, 状态 {batch['status']}")


if __name__ == "__main__":
    main()
