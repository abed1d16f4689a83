"""产品导入 at catalogue scale: a sheet of products (code, name, spec, unit, category path, three
price levels, cost, points; 5% codes already in the database, 1% repeated in the file, 1% with an
unknown category) imported by the job the wizard enqueues, against just reading the same sheet.

    .venv/bin/python bench/bench_import_products.py --rows 5000 --existing 2000 --dir /tmp/bench/products
    .venv/bin/python bench/bench_import_products.py --rows 5000 --existing 2000 --dir /tmp/bench/products \
        --on-duplicate update

It builds its own SQLite database under --dir (never the shared generated ones).
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_app, run_import_job  # noqa: E402

CATEGORIES = [["办公设备", "打印机"], ["办公设备", "耗材"], ["办公设备", "投影仪"], ["电脑", "笔记本"], ["电脑", "配件"],
              ["饮品", "茶叶", "绿茶"], ["饮品", "咖啡"], ["礼品"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--existing", type=int, default=2000)
    parser.add_argument("--dir", default="/tmp/bench/products")
    parser.add_argument("--on-duplicate", default="skip", choices=["skip", "update"])
    args = parser.parse_args()
    folder = Path(args.dir)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)

    from openpyxl import Workbook
    from sqlalchemy import func, select

    from models import Product, Role, db
    from adapters import spreadsheet
    from rules import org, products, setup

    app = make_app(f"sqlite:///{folder / 'bench.db'}", UPLOAD_DIR=str(folder / "uploads"), IMPORT_BATCH_SIZE=1000)
    rng = random.Random(7)
    with app.app_context():
        db.create_all()
        setup.ensure_defaults(db.session)
        role = db.session.scalar(select(Role).where(Role.name == "内勤"))
        user = org.create_user(db.session, username="clerk", password="bench-123", display_name="内勤", role=role)
        level_names = [level.name for level in products.ensure_default_levels(db.session)]
        for path in CATEGORIES:
            products.ensure_category_path(db.session, path)
        for i in range(args.existing):
            db.session.add(Product(code=f"P{i:06d}", name=f"已有产品{i}", cost=Decimal("1"), custom={},
                                   mnemonic="yycp"))
        db.session.commit()
        user_id = user.id

    sheet = folder / "products.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("产品")
    ws.append(["产品编号", "产品名称", "规格", "单位", "产品类别", *level_names, "成本价", "积分"])
    for i in range(args.rows):
        roll = rng.random()
        code = f"P{rng.randrange(args.existing):06d}" if roll < 0.05 else f"N{i:06d}"
        if 0.05 <= roll < 0.06 and i:
            code = f"N{rng.randrange(i):06d}"
        category = "不存在的类别" if 0.06 <= roll < 0.07 else "/".join(rng.choice(CATEGORIES))
        price = rng.randrange(10, 5000)
        ws.append([code, f"产品{i}号{rng.choice('甲乙丙丁戊己庚辛')}型", f"{rng.randrange(1, 50)}kg", "件", category,
                   price, round(price * 0.9, 2), round(price * 0.8, 2), round(price * 0.6, 2), rng.randrange(0, 20)])
    wb.save(str(sheet))

    started = time.perf_counter()
    spreadsheet.read(sheet, filename="products.xlsx")  # the reader the import uses, alone
    bare = time.perf_counter() - started

    with app.app_context():
        job, seconds = run_import_job(user_id, str(sheet), entity="product",
                                      options={"on_duplicate": args.on_duplicate})
        count = db.session.scalar(select(func.count(Product.id)))
        print(json.dumps({"rows": job.total, "seconds": round(seconds, 2), "rows_per_second": round(job.total / seconds),
                          "bare_read_seconds": round(bare, 2), "ratio_to_bare_read": round(seconds / bare, 1),
                          "imported": job.imported, "updated": job.updated, "skipped": job.skipped,
                          "rejected": job.rejected, "products_after": count, "status": job.status,
                          "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
