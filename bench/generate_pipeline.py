"""Add the sales pipeline to a database bench/generate.py made: N leads (default 1,000,000) with
their follow-ups, history and duplicate-check keys, and N opportunities (default 1,000,000) with
product lines for about half of them, their stage history, collaborators and project parties.

    .venv/bin/python bench/generate_pipeline.py --url sqlite:////tmp/bench/kechi-1m.db
    .venv/bin/python bench/generate_pipeline.py --url postgresql+psycopg://kechi@127.0.0.1:5433/kechi_bench \\
        --leads 1000000 --opportunities 1000000

The mix a sales team of the bench's size would have after two years:
- leads: 40% waiting in the lead pool (公共线索池: new, or released/recycled by a salesperson,
  some followed up before), 60% owned by the 业务员 (a tenth by the 主管) as 新线索 30%, 跟进中 40%,
  已转化 15% (each to its own customer) and 无效 15% (with a reason);
- opportunities on the customers' owners (5% on the 主管 of the department): 60% open across the
  stages of 标准销售流程 (more in the early stages), 25% won and 15% lost (with a loss reason),
  older ones more often closed; expected close dates over the next six months (some overdue) for
  open ones; a stage history event for every stage reached; 2% are projects with 2–3 parties.

The reference rows (lead pool, stage group, dictionaries, a product catalogue if the database
has none) are made by the app's own code; the rows are bulk-loaded as bench/generate.py does
(SQLite: executemany with the secondary indexes dropped and rebuilt; PostgreSQL: COPY with the
indexes and foreign keys dropped, then rebuilt and re-validated). Refuses a database that
already has leads or opportunities. Everything is derived from --seed.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bulk  # noqa: E402
import generate as base  # noqa: E402
from common import libpq_url, make_app, normalise_url, sqlite_path  # noqa: E402

NOW, TODAY, LOCAL_OFFSET = base.NOW, base.TODAY, base.LOCAL_OFFSET
FIRST_CREATED = NOW - timedelta(days=730)
CHUNK = 20_000

LEAD_COLS = ("id", "name", "company", "contact_name", "position", "phone", "mobile", "email", "wechat", "source_id",
             "industry_id", "province", "city", "district", "address", "notes", "custom", "status", "invalid_reason",
             "owner_id", "department_id", "pool_id", "pool_reason", "pool_entered_at", "claimed_at",
             "last_follow_up_at", "next_contact_at", "converted_at", "converted_by_id", "customer_id",
             "created_by_id", "deleted_at", "created_at", "updated_at")
LEAD_EVENT_COLS = ("lead_id", "from_user_id", "to_user_id", "actor_id", "reason", "recycle_rule", "from_status",
                   "to_status", "note", "at")
LEAD_FOLLOW_UP_COLS = ("lead_id", "user_id", "kind", "content", "happened_at", "next_contact_at", "created_at")
LEAD_KEY_COLS = ("lead_id", "field", "value")
OPP_COLS = ("id", "number", "title", "customer_id", "contact_id", "is_project", "group_id", "stage_id",
            "stage_entered_at", "outcome", "loss_reason_id", "outcome_note", "closed_at", "amount",
            "expected_close_on", "price_level_id", "owner_id", "department_id", "source_lead_id", "source_id",
            "last_follow_up_at", "order_id", "notes", "custom", "created_by_id", "deleted_at", "created_at",
            "updated_at")
LINE_COLS = ("opportunity_id", "product_id", "quantity", "unit_price", "discount_rate", "amount")
OPP_EVENT_COLS = ("opportunity_id", "action", "from_stage_id", "to_stage_id", "from_outcome", "to_outcome",
                  "from_user_id", "to_user_id", "actor_id", "note", "at")
COLLABORATOR_COLS = ("opportunity_id", "user_id", "added_by_id", "added_at")
PARTY_COLS = ("opportunity_id", "customer_id", "role_id", "contact_id", "notes")
COLUMNS = {
    "leads": LEAD_COLS, "lead_events": LEAD_EVENT_COLS, "lead_follow_ups": LEAD_FOLLOW_UP_COLS,
    "lead_keys": LEAD_KEY_COLS, "opportunities": OPP_COLS, "opportunity_lines": LINE_COLS,
    "opportunity_events": OPP_EVENT_COLS, "opportunity_collaborators": COLLABORATOR_COLS,
    "opportunity_parties": PARTY_COLS,
}
LEAD_TABLES = ("leads", "lead_events", "lead_follow_ups", "lead_keys")
OPP_TABLES = ("opportunities", "opportunity_lines", "opportunity_events", "opportunity_collaborators",
              "opportunity_parties")

# models.opportunity.OpportunityAction's values, the actions rules/ write.
ACTION_CREATED, ACTION_MOVE, ACTION_WON, ACTION_LOST = "create", "stage", "won", "lost"
OPEN_STAGE_WEIGHTS = (30, 25, 20, 15, 10)   # open opportunities thin out towards 签约
LOST_STAGE_WEIGHTS = (35, 25, 20, 15, 5)    # where lost ones stopped
INVALID_REASONS = ("空号或号码错误", "重复线索", "无采购需求", "同行咨询", "联系不上")
LEAD_FOLLOW_UP_LINES = (
    "电话联系上了负责人，对产品有兴趣，约了下周演示。",
    "加了微信，发送了产品介绍和报价单。",
    "客户表示今年预算已用完，明年一季度再联系。",
    "电话未接通，发了短信说明来意。",
    "客户在比较几家供应商，要求提供案例。",
    "展会上交换了名片，客户需要样品。",
)
TOPICS = ("年度框架采购", "设备升级改造", "办公自动化项目", "仓储系统扩容", "二期工程配套", "生产线改造",
          "门店装修项目", "员工福利采购", "信息化建设", "节日礼品采购", "实验室设备采购", "安防系统改造",
          "新厂区配套", "售后服务续约", "原材料年度供货")
PRODUCT_WORDS = ("工业传感器", "控制柜", "变频器", "伺服电机", "触摸屏", "工控机", "交换机", "服务器", "监控摄像机",
                 "门禁一体机", "办公桌椅", "文件柜", "空气净化器", "商用咖啡机", "礼品茶叶", "安全帽", "工作服",
                 "LED灯具", "配电箱", "电缆", "叉车", "货架", "打包机", "扫码枪")
PRODUCT_SPECS = ("标准型", "增强型", "专业版")

CTX: dict = {}


# --- the parent: reference rows through the app's code ------------------------------------------
def prepare(app, seed: int) -> dict:
    """The lead pool, the stage group, the dictionaries and a product catalogue (if none), and
    what the workers need to know about staff and customers."""
    from decimal import Decimal

    from sqlalchemy import func, select

    from models import Customer, DictItem, Lead, Opportunity, Pool, Product, Role, Stage, User, db
    from models.pool import PoolKind
    from rules import dictionaries, normalize
    from rules import stage_groups

    rng = random.Random(f"{seed}:pipeline-reference")
    with app.app_context():
        db.create_all()  # the pipeline tables, on a database made before them
        if db.session.scalar(select(func.count(Lead.id))) or db.session.scalar(select(func.count(Opportunity.id))):
            raise SystemExit("the database has leads or opportunities already: start from bench/generate.py's output")
        dictionaries.ensure_defaults(db.session)
        lead_pool = db.session.scalar(select(Pool).where(Pool.kind == PoolKind.LEAD, Pool.is_default.is_(True)))
        if lead_pool is None:
            lead_pool = Pool(name="公共线索池", kind=PoolKind.LEAD, is_default=True)
            db.session.add(lead_pool)
        stage_groups.ensure_default(db.session)
        group = stage_groups.group_for(db.session, None)
        stages = list(db.session.scalars(select(Stage).where(Stage.group_id == group.id).order_by(Stage.sort_order)))
        if not db.session.scalar(select(func.count(Product.id))):
            for k in range(60):
                name = f"{PRODUCT_WORDS[k % len(PRODUCT_WORDS)]}{PRODUCT_SPECS[k // len(PRODUCT_WORDS)]}"
                db.session.add(Product(code=f"CP{k + 1:04d}", name=name, mnemonic=normalize.mnemonic(name), unit="台",
                                       cost=Decimal(rng.choice((80, 300, 1200, 5000, 18000)))))
        db.session.commit()
        products = [(pid, float(cost) * rng.choice((1.3, 1.5, 1.8)))
                    for pid, cost in db.session.execute(select(Product.id, Product.cost).order_by(Product.id))]
        staff = db.session.execute(select(User.id, User.department_id, Role.name).join(Role, User.role_id == Role.id)
                                   .where(User.active.is_(True)).order_by(User.id)).all()
        reps = [(uid, dept) for uid, dept, role in staff if role == "业务员"]
        chiefs = {dept: uid for uid, dept, role in staff if role == "主管"}
        if not reps:
            raise SystemExit("no 业务员 in the database: make it with bench/generate.py first")
        dict_ids: dict[str, list[int]] = {}
        for kind, item_id in db.session.execute(select(DictItem.kind, DictItem.id).where(DictItem.active.is_(True))
                                                .order_by(DictItem.id)):
            dict_ids.setdefault(kind, []).append(item_id)
        roles = dict(db.session.execute(select(DictItem.name, DictItem.id).where(DictItem.kind == "project_role")).all())
        owned = db.session.execute(select(Customer.id, Customer.owner_id).where(
            Customer.owner_id.is_not(None), Customer.deleted_at.is_(None)).order_by(Customer.id)).all()
        result = {
            "lead_pool_id": lead_pool.id, "group_id": group.id, "stages": [(s.id, s.probability) for s in stages],
            "products": products, "reps": reps, "chiefs": chiefs, "rep_dept": dict(reps),
            "source_ids": dict_ids.get("source", []), "industry_ids": dict_ids.get("industry", []),
            "loss_reasons": dict_ids.get("loss_reason", []),
            "party_roles": [roles.get(n) for n in ("甲方", "设计方", "施工方") if roles.get(n)],
            "customer_ids": [c for c, _o in owned], "customer_owners": [o for _c, o in owned],
            "max_customer": db.session.scalar(select(func.max(Customer.id))),
            "lead_base": db.session.scalar(select(func.coalesce(func.max(Lead.id), 0))),
            "opp_base": db.session.scalar(select(func.coalesce(func.max(Opportunity.id), 0))),
        }
        db.session.remove()
        db.engine.dispose()
    if not result["customer_ids"]:
        raise SystemExit("no owned customers to hang opportunities on")
    return result


def check_columns() -> dict[str, list[tuple[str, object]]]:
    from models import db

    extras = {}
    for table_name, cols in COLUMNS.items():
        table = db.metadata.tables[table_name]
        unknown = set(cols) - set(table.c.keys())
        if unknown:
            raise SystemExit(f"{table_name}: loader out of date (columns {sorted(unknown)} are gone)")
        extras[table_name] = bulk.default_tails(table, cols)
    return extras


def names_context(dialect: str, seed: int, ref: dict) -> dict:
    """generate.py's pools of names and places (the same believable companies and people)."""
    ctx = base.build_context(dialect, 1, seed, {"reps": ref["reps"], "dict_ids": {}, "extras": {}})
    return {k: ctx[k] for k in ("people", "brands", "places", "industries", "industry_weights", "suffixes",
                                "suffix_weights")}


# --- the workers: one chunk of leads or opportunities at a time ---------------------------------
def _worker_init(ctx: dict) -> None:
    CTX.update(ctx)


def _formatters():
    if CTX["dialect"] == "sqlite":
        return (lambda v: v.isoformat(" ", "microseconds") if v is not None else None,  # as SQLAlchemy writes it
                lambda v: v.isoformat() if v is not None else None, int)
    return (lambda v: v), (lambda v: v), bool


def created_at_of(i: int, n: int) -> datetime:
    """Row i (1-based) of n was entered at a time that grows with i (ids follow entry order)."""
    span = (NOW - timedelta(hours=1) - FIRST_CREATED).total_seconds()
    step = span / n
    return FIRST_CREATED + timedelta(seconds=(i - 1) * step + ((i * 0.6180339887498949) % 1.0) * step * 0.9)


def lead_chunk(task: tuple[int, int, int]) -> dict:
    from rules import lead_search, normalize

    chunk_no, first, count = task
    c = CTX
    n, base_id = c["leads"], c["lead_base"]
    rng = random.Random(f"{c['seed']}:leads:{chunk_no}")
    rand, randrange, choice, choices = rng.random, rng.randrange, rng.choice, rng.choices
    dt, dd, _b = _formatters()
    people, brands, places = c["people"], c["brands"], c["places"]
    iw, sw = list(base._accumulate(c["industry_weights"])), list(base._accumulate(c["suffix_weights"]))
    reps, chiefs, rep_dept = c["reps"], c["chief_list"], c["rep_dept"]
    sources, industries, pool_id = c["source_ids"], c["industry_ids"], c["lead_pool_id"]
    max_customer, step, verbatim = c["max_customer"], c["customer_step"], c["phone_keys_verbatim"]
    tails = {t: tuple(v for _n, v in c["extras"].get(t, [])) for t in LEAD_TABLES}
    leads, events, follow_ups, keys = [], [], [], []
    for i in range(first, first + count):
        lid = base_id + i
        created = created_at_of(i, n)
        age = (NOW - created).total_seconds()
        province, city, districts, city_short, _mn = choice(places)
        district = choice(districts) if districts and rand() < 0.8 else None
        person = choice(people)[0]
        if rand() < 0.75:
            brand = choice(brands)[0]
            ind = choices(c["industries_words"], cum_weights=iw)[0]
            suf = choices(c["suffix_words"], cum_weights=sw)[0]
            company = city_short + brand + ind + suf
            name = company
        else:
            company, name = None, person
        mobile = base.MOBILE_PREFIXES[randrange(len(base.MOBILE_PREFIXES))] + f"{randrange(10 ** 8):08d}" \
            if rand() < 0.9 else None
        phone = f"{choice(base.AREA_CODES)}-{randrange(2 * 10 ** 7, 9 * 10 ** 7)}" if rand() < 0.3 else None
        email = f"{randrange(10 ** 5, 10 ** 10)}@{choice(base.EMAIL_DOMAINS)}" if rand() < 0.2 else None
        wechat = f"wx{randrange(10 ** 6, 10 ** 9)}" if rand() < 0.1 else None
        source = choice(sources) if sources and rand() < 0.9 else None
        industry = choice(industries) if industries and rand() < 0.6 else None

        status, owner, dept = "new", None, None
        pool, pool_reason, pool_entered, claimed = None, None, None, None
        invalid_reason = converted_at = converted_by = customer_id = None
        writer = None
        if rand() < 0.40:  # waiting in the lead pool: new, or given back by a salesperson
            pool = pool_id
            roll = rand()
            pool_reason = "new" if roll < 0.5 else "released" if roll < 0.7 else "recycled"
            events.append((lid, None, None, None, "created", None, None, "new", None, dt(created)) + tails["lead_events"])
            pool_entered = created
            if pool_reason != "new":
                writer = choice(reps)[0]
                held = created + timedelta(seconds=age * 0.3 * rand())
                pool_entered = min(held + timedelta(days=randrange(3, 40)), NOW)
                released = pool_reason == "released"
                events.append((lid, None, writer, writer, "claim", None, None, None, None, dt(held)) + tails["lead_events"])
                events.append((lid, writer, None, writer if released else None, "release" if released else "recycle",
                               None if released else "no_contact", None, None, None, dt(pool_entered))
                              + tails["lead_events"])
                if rand() < 0.5:
                    status = "following"
        else:
            owner, dept = choice(reps) if rand() < 0.9 else choice(chiefs)
            writer = owner
            claimed = created
            roll = rand()
            status = "new" if roll < 0.30 else "following" if roll < 0.70 else "converted" if roll < 0.85 else "invalid"
            if status == "converted" and lid > max_customer:
                status = "following"  # more leads than customers: no customer of its own left
            events.append((lid, None, owner, owner, "created", None, None, "new", None, dt(created)) + tails["lead_events"])
        # follow-ups: a lead being worked has some; the first moved it to 跟进中
        n_follow = 0
        if status == "following":
            n_follow = 1 + (rand() < 0.5) + (rand() < 0.3)
        elif status == "converted":
            n_follow = 1 + (rand() < 0.6) + (rand() < 0.3)
        elif status == "invalid":
            n_follow = 1 if rand() < 0.5 else 0
        last = None
        end = pool_entered if pool is not None and pool_entered else NOW
        for k in range(n_follow):
            u = rand()
            when = created + timedelta(seconds=max(60.0, (end - created).total_seconds() * u))
            follow_ups.append((lid, writer, choice(base.FOLLOW_UP_KINDS), choice(LEAD_FOLLOW_UP_LINES), dt(when), None,
                               dt(when)) + tails["lead_follow_ups"])
            last = when if last is None or when > last else last
        if n_follow and status != "new":
            first_follow = min(created + timedelta(minutes=30), last)
            if status in ("following", "converted", "invalid"):
                events.append((lid, None, None, writer, "status", None, "new", "following", None,
                               dt(first_follow)) + tails["lead_events"])
        final_at = last or created
        if status == "converted":
            converted_at = min(final_at + timedelta(days=randrange(1, 30)), NOW)
            converted_by = owner
            # each converted lead to a customer of its own (the column is unique)
            customer_id = (lid * step) % max_customer + 1
            events.append((lid, None, None, owner, "status", None, "following", "converted", None,
                           dt(converted_at)) + tails["lead_events"])
        elif status == "invalid":
            invalid_reason = choice(INVALID_REASONS)
            at = min(final_at + timedelta(days=randrange(0, 10)), NOW)
            events.append((lid, None, None, owner, "status", None, "following" if n_follow else "new", "invalid",
                           invalid_reason, dt(at)) + tails["lead_events"])
        next_contact = None
        if status == "following" and owner is not None and rand() < 0.4:
            next_contact = TODAY + timedelta(days=randrange(-5, 30))
        deleted_at = min(created + timedelta(days=30), NOW) if rand() < 0.005 else None
        leads.append((lid, name, company, person, choice(base.POSITIONS) if company else None, phone, mobile, email,
                      wechat, source, industry, province, city, district,
                      f"{district or city}{choice(base.ROADS)}{randrange(1, 999)}号" if rand() < 0.5 else None,
                      None, "{}", status, invalid_reason, owner, dept if owner else None, pool, pool_reason,
                      dt(pool_entered), dt(claimed), dt(last), dd(next_contact), dt(converted_at), converted_by,
                      customer_id, owner, dt(deleted_at), dt(created), dt(created)) + tails["leads"])
        for field, value in (("name", name), ("contact_name", person), ("email", email)):
            if value:
                keys.append((lid, field, normalize.key(field, value)[:128]) + tails["lead_keys"])
        for field, value in (("mobile", mobile), ("phone", phone)):
            if value:
                keys.append((lid, field, value if verbatim else normalize.key(field, value)[:128]) + tails["lead_keys"])
        # the quick search's rows (rules/lead_search.py: name grams, phone digits), as rules/leads writes them
        for field, value in lead_search.keys_for(SimpleNamespace(name=name, company=company, contact_name=person,
                                                                 mobile=mobile, phone=phone)):
            keys.append((lid, field, value) + tails["lead_keys"])
    return {"leads": leads, "lead_events": events, "lead_follow_ups": follow_ups, "lead_keys": keys}


def opportunity_chunk(task: tuple[int, int, int]) -> dict:
    chunk_no, first, count = task
    c = CTX
    n, base_id = c["opportunities"], c["opp_base"]
    rng = random.Random(f"{c['seed']}:opportunities:{chunk_no}")
    rand, randrange, choice, choices = rng.random, rng.randrange, rng.choice, rng.choices
    dt, dd, boolean = _formatters()
    stages = c["stages"]
    stage_ids = [s for s, _p in stages]
    positions = list(range(len(stages)))
    products, sources, loss_reasons = c["products"], c["source_ids"], c["loss_reasons"]
    customer_ids, customer_owners = c["customer_ids"], c["customer_owners"]
    chiefs, rep_dept, reps_of = c["chiefs"], c["rep_dept"], c["reps_of_dept"]
    party_roles, group_id = c["party_roles"], c["group_id"]
    people = c["people"]
    tails = {t: tuple(v for _n, v in c["extras"].get(t, [])) for t in OPP_TABLES}
    opps, lines, events, collaborators, parties = [], [], [], [], []
    for j in range(first, first + count):
        oid = base_id + j
        created = created_at_of(j, n)
        age_share = (n - j) / n  # 0 for the newest, towards 1 for the oldest
        k = randrange(len(customer_ids))
        customer, owner = customer_ids[k], customer_owners[k]
        dept = rep_dept.get(owner)
        if dept in chiefs and rand() < 0.05:
            owner = chiefs[dept]
        roll = rand()
        if roll < 0.95 - 0.7 * age_share:  # averages 60% over the whole range
            outcome = "open"
            pos = choices(positions, weights=OPEN_STAGE_WEIGHTS[:len(positions)])[0]
        elif rand() < 0.625:  # of the closed: 25 won to 15 lost
            outcome, pos = "won", len(positions) - 1
        else:
            outcome = "lost"
            pos = choices(positions, weights=LOST_STAGE_WEIGHTS[:len(positions)])[0]
        closed_at = None
        if outcome != "open":
            closed_at = min(created + timedelta(days=randrange(7, 180), hours=randrange(0, 9)), NOW)
            expected = (closed_at + LOCAL_OFFSET).date() + timedelta(days=randrange(-10, 20))
        else:
            # the next six months, nearer months fuller; a tenth are overdue
            expected = TODAY + timedelta(days=randrange(-30, 0) if rand() < 0.1 else int(183 * rand() ** 1.4))
        end = closed_at or NOW
        span = max((end - created).total_seconds(), 3600.0)
        moved = sorted(rand() for _ in range(pos))
        at = created
        events.append((oid, ACTION_CREATED, None, stage_ids[0], None, "open", None, owner, owner, None, dt(created))
                      + tails["opportunity_events"])
        for step, share in enumerate(moved, start=1):
            at = created + timedelta(seconds=span * share * 0.95)
            events.append((oid, ACTION_MOVE, stage_ids[step - 1], stage_ids[step], None, None, None, None, owner, None,
                           dt(at)) + tails["opportunity_events"])
        stage_entered = at
        loss_reason = note = None
        if outcome == "won":
            events.append((oid, ACTION_WON, stage_ids[pos], stage_ids[pos], "open", "won", None, None, owner, None,
                           dt(closed_at)) + tails["opportunity_events"])
        elif outcome == "lost":
            loss_reason = choice(loss_reasons) if loss_reasons else None
            note = "客户选择了报价更低的供应商" if rand() < 0.2 else None
            events.append((oid, ACTION_LOST, stage_ids[pos], stage_ids[pos], "open", "lost", None, None, owner, note,
                           dt(closed_at)) + tails["opportunity_events"])
        if rand() < 0.5:  # product lines: the amount is their sum
            total = 0.0
            for pid, price in rng.sample(products, 1 + (rand() < 0.5) + (rand() < 0.3)):
                qty = choice((1, 1, 2, 3, 5, 10, 20, 50))
                rate = choice((1.0, 1.0, 0.95, 0.9, 0.85))
                amount = round(qty * price * rate, 2)
                total += amount
                lines.append((oid, pid, qty, f"{price:.2f}", f"{rate:.4f}", f"{amount:.2f}")
                             + tails["opportunity_lines"])
        else:
            total = round(10 ** (3.7 + 2.3 * rand()), -2)  # ¥5,000 … ¥1,000,000
        last_follow = None
        if rand() < 0.8:
            last_follow = end - timedelta(seconds=span * (rand() ** 3) * 0.5)
        is_project = rand() < 0.02 and len(party_roles) >= 2
        if is_project:
            parties.append((oid, customer, party_roles[0], None, None) + tails["opportunity_parties"])
            others = {customer_ids[randrange(len(customer_ids))] for _ in range(len(party_roles) - 1)} - {customer}
            for role, other in zip(party_roles[1:], sorted(others)):
                parties.append((oid, other, role, None, None) + tails["opportunity_parties"])
        if rand() < 0.05:
            mates = [r for r in reps_of.get(dept, ()) if r != owner]
            if mates:
                collaborators.append((oid, choice(mates), owner, dt(created)) + tails["opportunity_collaborators"])
        title = f"{(created + LOCAL_OFFSET).year}年{choice(TOPICS)}" if not is_project else \
            f"{choice(people)[0][0]}氏大厦{choice(('装修工程', '机电安装', '智能化工程'))}"
        opps.append((oid, f"SJ{(created + LOCAL_OFFSET):%Y%m}{oid:08d}", title, customer, None, boolean(is_project),
                     group_id, stage_ids[pos], dt(stage_entered), outcome, loss_reason, note, dt(closed_at),
                     f"{total:.2f}", dd(expected), None, owner, rep_dept.get(owner, dept), None,
                     choice(sources) if sources and rand() < 0.7 else None, dt(last_follow), None, None, "{}", owner,
                     None, dt(created), dt(stage_entered)) + tails["opportunities"])
    return {"opportunities": opps, "opportunity_lines": lines, "opportunity_events": events,
            "opportunity_collaborators": collaborators, "opportunity_parties": parties}


def chunks_in_order(kind: str, n: int, workers: int):
    """Chunks from a pool of forked workers, in order, with a bounded number in flight."""
    make = lead_chunk if kind == "leads" else opportunity_chunk
    tasks = [(k, 1 + k * CHUNK, min(CHUNK, n - k * CHUNK)) for k in range(math.ceil(n / CHUNK))]
    yield from bulk.chunks_in_order(make, tasks, workers, _worker_init, CTX)


def all_columns() -> dict[str, tuple[str, ...]]:
    return {t: cols + tuple(name for name, _v in CTX["extras"].get(t, [])) for t, cols in COLUMNS.items()}


def _batches(workers: int):
    """(kind, tables, chunk) for the leads, then the opportunities."""
    for kind, n, tables in (("leads", CTX["leads"], LEAD_TABLES), ("opportunities", CTX["opportunities"], OPP_TABLES)):
        if n:
            for chunk in chunks_in_order(kind, n, workers):
                yield kind, tables, chunk


def load_sqlite(url: str, workers: int, timer: base.Timer) -> None:
    con = bulk.sqlite_bulk_connection(sqlite_path(url))
    indexes = bulk.sqlite_drop_indexes(con, tuple(COLUMNS))
    inserts = {t: f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
               for t, cols in all_columns().items()}
    timer.lap(f"dropped {len(indexes)} indexes")
    loaded = {"leads": 0, "opportunities": 0}
    try:
        con.execute("BEGIN")
        for kind, tables, chunk in _batches(workers):
            for table in tables:
                con.executemany(inserts[table], chunk[table])
            loaded[kind] += len(chunk[kind])
            if loaded[kind] % 200_000 == 0 or loaded[kind] == CTX[kind]:
                con.execute("COMMIT")
                timer.lap(f"{loaded[kind]:,} {kind}")
                con.execute("BEGIN")
        con.execute("COMMIT")
    finally:  # a failed load still leaves the tables with their indexes
        if con.in_transaction:
            con.execute("ROLLBACK")
        for _name, sql in indexes:
            con.execute(sql)
    timer.lap(f"recreated {len(indexes)} indexes")
    for table in COLUMNS:  # the new tables only: the customers' statistics stand
        con.execute(f"ANALYZE {table}")
    timer.lap("ANALYZE")
    con.close()


def load_postgresql(url: str, workers: int, timer: base.Timer) -> None:
    import psycopg

    con = psycopg.connect(libpq_url(url), autocommit=False)
    cur = con.cursor()
    cur.execute("SET synchronous_commit = off")
    cur.execute("SET maintenance_work_mem = '1GB'")
    indexes, fkeys = bulk.pg_drop_indexes_and_keys(cur, tuple(COLUMNS))
    con.commit()
    timer.lap(f"dropped {len(indexes)} indexes and {len(fkeys)} foreign keys")
    copies = {t: f"COPY {t} ({', '.join(cols)}) FROM STDIN" for t, cols in all_columns().items()}
    loaded = {"leads": 0, "opportunities": 0}
    for kind, tables, chunk in _batches(workers):
        for table in tables:
            with cur.copy(copies[table]) as copy:
                for row in chunk[table]:
                    copy.write_row(row)
        loaded[kind] += len(chunk[kind])
        if loaded[kind] % 200_000 == 0 or loaded[kind] == CTX[kind]:
            con.commit()
            timer.lap(f"{loaded[kind]:,} {kind}")
    con.commit()
    bulk.pg_restore_indexes_and_keys(con, indexes, fkeys, timer.lap)
    for table in ("leads", "opportunities"):  # explicit ids were given: move the sequences on
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT greatest(max(id), 1) FROM {table}))")
    con.commit()
    con.autocommit = True
    cur.execute(f"VACUUM ANALYZE {', '.join(COLUMNS)}")  # index-only scans need the visibility map
    timer.lap("VACUUM ANALYZE")
    con.close()


def phone_keys_verbatim(seed: int) -> bool:
    """Whether the generated numbers (mobiles "13912345678", landlines "021-55512345") are their
    own duplicate-check keys, checked on a sample: parsing each of a million numbers again
    would cost a minute for the same strings."""
    from rules import normalize

    rng = random.Random(f"{seed}:phones")
    mobiles = [rng.choice(base.MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}" for _ in range(500)]
    landlines = [f"{rng.choice(base.AREA_CODES)}-{rng.randrange(2 * 10 ** 7, 9 * 10 ** 7)}" for _ in range(500)]
    return (all(normalize.key("mobile", m) == m for m in mobiles)
            and all(normalize.key("phone", p) == p for p in landlines))


def customer_step(max_customer: int) -> int:
    """Converted leads each name a customer of their own (the column is unique): lead i takes
    customer (i × step) mod n + 1, one-to-one for i ≤ n when the prime `step` does not divide n."""
    return next(p for p in (7919, 7927, 7933) if max_customer % p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a database bench/generate.py made")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes generating rows (default: min(2, cores))")
    args = parser.parse_args()
    url = normalise_url(args.url)
    if url.startswith("sqlite:///") and not Path(sqlite_path(url)).exists():
        raise SystemExit(f"{url}: no such database; make it with bench/generate.py")
    timer = base.Timer()
    print(f"Adding {args.leads:,} leads and {args.opportunities:,} opportunities to {url} "
          f"(seed {args.seed}, {args.workers} workers)")
    app = make_app(url)
    ref = prepare(app, args.seed)
    with app.app_context():
        extras = check_columns()
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    names = names_context(dialect, args.seed, ref)
    reps_of: dict[int, list[int]] = {}
    for uid, dept in ref["reps"]:
        reps_of.setdefault(dept, []).append(uid)
    CTX.update(ref, **names, dialect=dialect, seed=args.seed, leads=args.leads, opportunities=args.opportunities,
               extras=extras, reps_of_dept=reps_of, chief_list=sorted((u, d) for d, u in ref["chiefs"].items())
               or ref["reps"], industries_words=[w for w, _m in names["industries"]],
               suffix_words=[w for w, _m in names["suffixes"]], customer_step=customer_step(ref["max_customer"]),
               phone_keys_verbatim=phone_keys_verbatim(args.seed))
    timer.lap(f"lead pool, stage group, {len(ref['products'])} products, {len(ref['customer_ids']):,} customers read")
    if dialect == "sqlite":
        load_sqlite(url, args.workers, timer)
    else:
        load_postgresql(url, args.workers, timer)
    print(f"Done in {time.perf_counter() - timer.start:.0f} s.")


if __name__ == "__main__":
    main()
