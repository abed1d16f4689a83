"""知识库 search at scale: N articles and Q&As (default 100,000; about 90% published, the rest
drafts and archived), each with a search row made by the app's own rules.kb_search.row_for. A
reader (业务员: published only) and an editor (客服: everything) search the way the 知识库 list
does (the token clause, the readers' visible clause, newest first, one page of 20, and the list's
count, capped at 1000 for a search), and the ticket reply picker asks (published, at most 10). Each is timed for a rare
phrase, common words, a single character and ASCII letters; every answer is checked against a
plain LIKE scan, which is also timed as the floor without the token index.

    .venv/bin/python bench/bench_knowledge.py --url sqlite:////tmp/kechi-kb-bench.db --articles 100000
    .venv/bin/python bench/bench_knowledge.py --url postgresql://…/kechi_bench --articles 100000

The database is created from scratch (tables dropped first): never point it at a shared one.
Figures: median and p95 (nearest rank) over --repeat runs after 3 warm-ups.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_app, normalise_url  # noqa: E402

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
WORDS = ("净水器 滤芯 更换 漏水 安装 接头 进水阀 出水 水压 故障 显示 报警 复位 保养 清洗 消毒 RO膜 前置 后置 "
         "活性炭 PP棉 超滤 反渗透 水质 检测 TDS 打印机 复印机 卡纸 碳粉 硒鼓 墨盒 驱动 网络 扫描 传真 投影仪 "
         "灯泡 遥控器 电源 插座 保修 维修 配件 上门 预约 退货 换货 发票 快递 物流 签收 破损 补发 价格 优惠 "
         "积分 会员 合同 订单 付款 月结 对公 转账 紫砂壶 龙井 普洱 红茶 绿茶 冲泡 水温 储存 保质期 礼盒 "
         "定制 团购 咖啡 研磨 茶具 开壶 茶垢").split()
RARE = "温州瓯海区售后网点"  # in about 1 article of 10,000
PAGE = 20
COUNT_CAP = 1_000  # admin_views/base.SEARCH_COUNT_CAP: a searched list says "1000+"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def text_of(rng: random.Random, chars: int) -> str:
    parts, length = [], 0
    while length < chars:
        sentence = "".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))) + "。"
        parts.append(sentence)
        length += len(sentence)
    if rng.random() < 0.0001:
        parts.insert(rng.randint(0, len(parts)), RARE + "。")
    return "".join(parts)


def generate(articles: int, chars: int) -> tuple[int, int]:
    """Users, categories and articles with their search rows and tags; returns (reader, editor)."""
    from sqlalchemy import insert

    from models import Role, db
    from models.knowledge import KbArticle, KbArticleSearch, KbArticleTag, KbCategory
    from rules import kb_search, org, search, setup

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    rng = random.Random(20261206)
    roles = {r.name: r for r in db.session.scalars(db.select(Role))}
    reader = org.create_user(db.session, username="sales01", password="bench-123", display_name="业务员1",
                             role=roles["业务员"], department=org.ensure_department_path(db.session, ["销售部"]))
    editor = org.create_user(db.session, username="kefu01", password="bench-123", display_name="客服1",
                             role=roles["客服"], department=org.ensure_department_path(db.session, ["客服部"]))
    categories = [KbCategory(name=f"分类{i}", sort_order=i) for i in range(12)]
    db.session.add_all(categories)
    db.session.commit()
    batch, rows, tags = [], [], []
    for i in range(1, articles + 1):
        qa = rng.random() < 0.7
        title = "".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4))) + ("怎么办？" if qa else "说明")
        text_ = text_of(rng, chars)
        status = rng.choices(("published", "draft", "archived"), (90, 6, 4))[0]
        at = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 1000))
        mine = sorted({rng.choice(WORDS) for _ in range(rng.randint(1, 3))})
        batch.append({"id": i, "kind": "qa" if qa else "article", "title": title, "question": title if qa else None,
                      "answer": text_ if qa else None, "body": None if qa else text_,
                      "category_id": rng.choice(categories).id, "tags": mine, "status": status,
                      "author_id": editor.id, "published_at": at if status != "draft" else None,
                      "helpful_yes": rng.randint(0, 30), "helpful_no": rng.randint(0, 5), "views": rng.randint(0, 500),
                      "custom": {}, "created_at": at, "updated_at": at, "version": 1})
        values = [search.normalised(v) for v in (title, title if qa else None, text_, *mine) if v]
        rows.append(kb_search.row_for(i, values))
        tags += [{"article_id": i, "tag": t} for t in mine]
        if len(batch) >= 5_000:
            db.session.execute(insert(KbArticle), batch)
            db.session.execute(insert(KbArticleSearch), rows)
            db.session.execute(insert(KbArticleTag), tags)
            db.session.commit()
            batch, rows, tags = [], [], []
    if batch:
        db.session.execute(insert(KbArticle), batch)
        db.session.execute(insert(KbArticleSearch), rows)
        db.session.execute(insert(KbArticleTag), tags)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO kb_article_fts(kb_article_fts) VALUES ('optimize')")
            conn.exec_driver_sql("ANALYZE")
    return reader.id, editor.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--chars", type=int, default=200, help="characters of answer/body text per article")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="search an already generated database")
    args = parser.parse_args()
    app = make_app(normalise_url(args.url))
    with app.app_context():
        from sqlalchemy import func, literal_column, select

        from models import User, db
        from models.knowledge import KbArticle, KbArticleSearch
        from rules import kb_search, knowledge, search
        from rules.actor import Actor

        print(f"load average at start: {os.getloadavg()}")
        if args.reuse:
            reader_id = db.session.scalar(select(User.id).where(User.username == "sales01"))
            editor_id = db.session.scalar(select(User.id).where(User.username == "kefu01"))
        else:
            started = time.perf_counter()
            reader_id, editor_id = generate(args.articles, args.chars)
            print(f"generated {args.articles:,} articles ({args.chars} characters each) in "
                  f"{time.perf_counter() - started:.1f} s on {db.engine.dialect.name}")
        people = {"reader": Actor.from_user(db.session.get(User, reader_id), has_shares=False),
                  "editor": Actor.from_user(db.session.get(User, editor_id), has_shares=False)}

        def timed(fn) -> list[float]:
            for _ in range(3):
                fn()
            out = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t0) * 1000)
                db.session.rollback()
            return out

        def page(actor: Actor, term: str):
            """What the 知识库 list runs: one page, newest change first, and the capped count."""
            found = kb_search.clause(db.session, term)
            where = (found, knowledge.visible_clause(actor))
            rows = select(KbArticle.id).where(*where).order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(PAGE)
            capped = select(literal_column("1")).select_from(KbArticle).where(*where).limit(COUNT_CAP + 1).subquery()
            return (list(db.session.scalars(rows)), db.session.scalar(select(func.count()).select_from(capped)))

        def scan(actor: Actor, term: str) -> list[int]:
            needle = "%" + search.normalised(term) + "%"
            return list(db.session.scalars(
                select(KbArticle.id).join(KbArticleSearch, KbArticleSearch.article_id == KbArticle.id)
                .where(KbArticleSearch.body.like(needle), knowledge.visible_clause(actor))
                .order_by(KbArticle.updated_at.desc(), KbArticle.id.desc()).limit(PAGE)))

        print(f"{'search':<26} {'who':<7} {'hits':>6} {'list p50/p95 ms':>17} {'picker p50/p95':>16} {'LIKE scan p50/p95':>19}")
        worst = 0.0
        for label, term in (("rare phrase", RARE), ("common word 滤芯", "滤芯"), ("one character 水", "水"),
                            ("phrase 进水阀漏水", "进水阀漏水"), ("letters tds", "tds")):
            for who, actor in people.items():
                ids, hits = page(actor, term)
                assert ids == scan(actor, term), (term, who)  # exact: the same page as the plain scan
                listed = timed(lambda: page(actor, term))
                picked = timed(lambda: knowledge.picker(db.session, term))
                floor = timed(lambda: scan(actor, term))
                worst = max(worst, p95(listed), p95(picked))
                shown = f"{hits:,}" if hits <= COUNT_CAP else f"{COUNT_CAP:,}+"
                print(f"{label:<26} {who:<7} {shown:>6} {statistics.median(listed):>8.1f}/{p95(listed):<8.1f} "
                      f"{statistics.median(picked):>7.1f}/{p95(picked):<8.1f} "
                      f"{statistics.median(floor):>9.1f}/{p95(floor):<9.1f}")
        print(f"worst p95 of list and picker: {worst:.1f} ms (target ≤ 200 ms)")
        print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
