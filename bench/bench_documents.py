"""文档中心 search at scale: N documents (default 200,000) whose search rows hold their name and
generated Chinese "extracted text", spread over company folders (some with grants), department
folders and personal folders. A 业务员 searches (scope: 我的文档, the department's folder, the
company folders open to him) for a rare phrase, a common two-character word, a single character
and a document name; each search (rules/document_search.find, newest 50) is timed against the same
statement run raw on the DB-API connection, and against a plain scan (`body LIKE '%…%'`, newest
first, no index) as the floor without the token index. 最近更新 is timed too.

    .venv/bin/python bench/bench_documents.py --url sqlite:////tmp/kechi-docs-bench.db --documents 200000
    .venv/bin/python bench/bench_documents.py --url postgresql://…/kechi_bench --documents 200000

The database is created from scratch (tables dropped first): never point it at a shared one.
Figures: median and p95 (nearest rank) over --repeat runs after 3 warm-ups.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_app, normalise_url  # noqa: E402

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
WORDS = ("合同 报价 采购 供应商 客户 订单 发货 验收 付款 发票 增值税 质保 维修 安装 调试 培训 交货期 违约金 保证金 "
         "预付款 尾款 银行 承兑 汇票 技术 参数 规格 型号 数量 单价 总价 折扣 运费 包装 仓库 库存 物流 签收 退货 "
         "售后 服务 工程 项目 进度 计划 预算 审批 会议 纪要 决议 制度 流程 考勤 报销 差旅 标准 市场 推广 活动 "
         "渠道 代理 返利 政策 价格 调整 通知 说明 方案 设计 图纸 样品 检测 报告 证书 资质 投标 招标 评标 中标 "
         "华东 华南 华北 西南 东北 杭州 上海 北京 深圳 成都 武汉 南京 苏州 宁波 阀门 管件 水泵 电机 钢材 板材 "
         "铜管 电缆 开关 仪表 传感器 控制柜 变频器 轴承 齿轮 密封件 法兰 紧固件").split()
RARE = "温州瓯海精密铸件"  # in about 1 document of 10,000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def text_of(rng: random.Random, chars: int) -> str:
    parts, length = [], 0
    while length < chars:
        sentence = "".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))) + "。"
        parts.append(sentence)
        length += len(sentence)
    if rng.random() < 0.0001:
        parts.insert(rng.randint(0, len(parts)), RARE + "。")
    return "".join(parts)


def generate(documents: int, chars: int) -> int:
    """Staff, folders and documents with their search rows; returns the reader's user id."""
    from sqlalchemy import insert

    from models import Role, db
    from models.document import Document, DocumentFolder, DocumentSearch, FolderGrant, FolderKind, GrantLevel
    from rules import document_search, org, setup

    db.drop_all()
    db.create_all()
    setup.ensure_defaults(db.session)
    rng = random.Random(20261206)
    rep = db.session.scalar(db.select(Role).where(Role.name == "业务员"))
    boss = db.session.scalar(db.select(Role).where(Role.name == "系统管理员"))
    admin = org.create_user(db.session, username="admin", password="bench-123", display_name="管理员", role=boss,
                            department=org.ensure_department_path(db.session, ["总经办"]))
    users = []
    for d in range(4):
        department = org.ensure_department_path(db.session, ["销售部", f"销售{d + 1}部"])
        for i in range(5):
            users.append(org.create_user(db.session, username=f"sales{d * 5 + i + 1:02d}", password="bench-123",
                                         display_name=f"业务员{d * 5 + i + 1}", role=rep, department=department))
    db.session.commit()

    def top(name: str, kind: FolderKind, **extra) -> DocumentFolder:
        folder = DocumentFolder(name=name, kind=kind, created_by_id=admin.id, created_at=NOW, **extra)
        db.session.add(folder)
        db.session.flush()
        folder.root_id = folder.id
        return folder

    folders = [top(f"公司资料{i}", FolderKind.COMPANY) for i in range(6)]
    db.session.add(FolderGrant(folder_id=folders[0].id, level=GrantLevel.VIEW, role_id=boss.id))  # closed to reps
    db.session.add(FolderGrant(folder_id=folders[1].id, level=GrantLevel.VIEW, department_id=users[0].department_id))
    folders += [top(f"销售{d + 1}部", FolderKind.DEPARTMENT, department_id=users[d * 5].department_id) for d in range(4)]
    folders += [top("我的文档", FolderKind.PERSONAL, owner_id=u.id) for u in users]
    subs = []
    for parent in folders[:10]:
        for i in range(5):
            sub = DocumentFolder(name=f"子目录{i}", kind=parent.kind, parent_id=parent.id, root_id=parent.id,
                                 department_id=parent.department_id, created_by_id=admin.id, created_at=NOW)
            db.session.add(sub)
            subs.append(sub)
    db.session.commit()
    places = [(f.id, f.root_id) for f in folders + subs]
    batch, rows = [], []
    for i in range(1, documents + 1):
        folder_id, root_id = rng.choice(places)
        name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(('合同', '报价单', '方案', '报告', '纪要'))}-{i:06d}.pdf"
        at = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 700))
        batch.append({"id": i, "folder_id": folder_id, "root_id": root_id, "name": name, "current_version": 1,
                      "file_kind": "pdf", "size": rng.randint(10_000, 5_000_000), "created_by_id": admin.id,
                      "created_at": at, "updated_by_id": admin.id, "updated_at": at})
        rows.append(document_search.row_for(i, name, text_of(rng, chars)))
        if len(batch) >= 5_000:
            db.session.execute(insert(Document), batch)
            db.session.execute(insert(DocumentSearch), rows)
            db.session.commit()
            batch, rows = [], []
    if batch:
        db.session.execute(insert(Document), batch)
        db.session.execute(insert(DocumentSearch), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO document_fts(document_fts) VALUES ('optimize')")
            conn.exec_driver_sql("ANALYZE")
    return users[0].id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--documents", type=int, default=200_000)
    parser.add_argument("--chars", type=int, default=300, help="characters of extracted text per document")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="search an already generated database")
    parser.add_argument("--explain", action="store_true", help="print each search's query plan")
    args = parser.parse_args()
    url = normalise_url(args.url)
    app = make_app(url)
    with app.app_context():
        import os

        from sqlalchemy import event, select

        from models import User, db
        from models.document import Document, DocumentSearch
        from rules import document_search, documents, scope, search
        from rules.actor import Actor

        print(f"load average at start: {os.getloadavg()}")
        if args.reuse:
            reader_id = db.session.scalar(select(User.id).where(User.username == "sales01"))
        else:
            started = time.perf_counter()
            reader_id = generate(args.documents, args.chars)
            print(f"generated {args.documents:,} documents ({args.chars} characters of text each) in "
                  f"{time.perf_counter() - started:.1f} s on {db.engine.dialect.name}")
        actor = Actor.from_user(db.session.get(User, reader_id), has_shares=False)
        in_scope = db.session.scalar(select(db.func.count(Document.id)).where(scope.document_clause(actor)))
        print(f"documents in sales01's scope: {in_scope:,} of {db.session.scalar(select(db.func.count(Document.id))):,}")

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

        def captured(fn) -> list[tuple]:
            statements: list[tuple] = []
            listener = lambda conn, cursor, sql, params, *rest: statements.append((sql, params))  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                fn()
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            db.session.rollback()
            return statements

        def scan(term: str):
            needle = "%" + search.normalised(term) + "%"
            stmt = (select(Document.id, Document.name).join(DocumentSearch, DocumentSearch.document_id == Document.id)
                    .where(DocumentSearch.body.like(needle), scope.document_clause(actor), Document.deleted_at.is_(None))
                    .order_by(Document.updated_at.desc(), Document.id.desc()).limit(50))
            return lambda: db.session.execute(stmt).all()

        explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
        print(f"{'search':<28} {'hits':>5} {'find p50/p95 ms':>18} {'raw SQL p50/p95':>18} {'LIKE scan p50/p95':>20}")
        for label, term in (("rare phrase " + RARE, RARE), ("common word 合同", "合同"), ("one character 阀", "阀"),
                            ("two words 交货期违约金", "交货期违约金"), ("a name 000123", "000123")):
            found = document_search.find(db.session, actor, term)
            expected = scan(term)()
            assert [d.id for d in found] == [row.id for row in expected], term  # exact: same as the plain scan
            statements = captured(lambda: document_search.find(db.session, actor, term))
            sql, params = statements[-1]
            ours = timed(lambda: document_search.find(db.session, actor, term))
            raw = timed(lambda: db.session.connection().exec_driver_sql(sql, params).fetchall())
            floor = timed(scan(term))
            print(f"{label:<28} {len(found):>5} {statistics.median(ours):>8.1f}/{p95(ours):<8.1f} "
                  f"{statistics.median(raw):>8.1f}/{p95(raw):<8.1f} {statistics.median(floor):>9.1f}/{p95(floor):<9.1f}")
            if args.explain:
                for line in db.session.connection().exec_driver_sql(explain + sql, params):
                    print("     ", line[-1] if db.engine.dialect.name == "sqlite" else line[0])
                db.session.rollback()
        recent = timed(lambda: documents.recent(db.session, actor))
        print(f"最近更新 (10 newest in scope): median {statistics.median(recent):.1f} ms  p95 {p95(recent):.1f} ms")
        print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
