"""Generate a benchmark database: N customers (default 1,000,000) with contacts, follow-ups,
duplicate-check keys and quick-search rows, owned by 20 salespeople in 4 departments.

    .venv/bin/python bench/generate.py --url sqlite:////tmp/bench/kechi-1m.db --customers 1000000
    .venv/bin/python bench/generate.py --url postgresql+psycopg://kechi@127.0.0.1:5433/kechi_bench

The schema, the roles, the dictionaries and the staff are made by the application's own code
(create_app, db.create_all, rules.setup, rules.org). The customers are bulk-loaded with the fastest
honest path of each database (PostgreSQL: COPY; SQLite: executemany in large transactions,
synchronous=OFF), with the secondary indexes, the foreign keys (PostgreSQL) and the FTS triggers
(SQLite) dropped during the load and recreated afterwards from the definitions the app created.
The search rows and duplicate keys come from the app's own rules.search.row_for and
rules.entry.keys_for, so they are what the app itself would have written.

Everything is derived from --seed: the same arguments give the same database.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bulk  # noqa: E402
from common import BENCH_PASSWORD, GM_USERNAME, libpq_url, make_app, normalise_url, sqlite_path  # noqa: E402

# A fixed "now" keeps the data the same from run to run (10:00 on 2026-11-23 in Shanghai).
NOW = datetime(2026, 11, 23, 2, 0)          # naive UTC, as UTCDateTime stores it
TODAY = date(2026, 11, 23)                  # the local (Asia/Shanghai) date of NOW
FIRST_CREATED = datetime(2021, 12, 1, 1, 0)
LOCAL_OFFSET = timedelta(hours=8)
CHUNK = 10_000
BULK_TABLES = ("customers", "contacts", "follow_ups", "customer_keys", "customer_search")
DEPARTMENTS = ["销售一部", "销售二部", "销售三部", "销售四部"]
REPS_PER_DEPARTMENT = 5

# --- word pools --------------------------------------------------------------------------------
BRAND_CHARS = ("华信达通恒泰鑫源宏盛瑞祥博创新智联天安明德利丰隆兴海金嘉和益凯旭东方中正永昌远航汇鼎晟"
               "佳美康优云腾飞星辰宇诚卓越润泽锦俊亿宝富万合光荣众久顺")
INDUSTRIES = [  # (word, weight): about one company in seven has 科技 in its name
    ("科技", 12), ("网络科技", 5), ("信息技术", 5), ("电子科技", 4), ("生物科技", 2), ("环保科技", 2),
    ("电子", 4), ("贸易", 8), ("商贸", 5), ("机械", 5), ("机械设备", 3), ("建材", 4), ("建筑工程", 3),
    ("装饰工程", 3), ("物流", 4), ("供应链管理", 2), ("食品", 4), ("餐饮管理", 3), ("服饰", 3), ("纺织", 3),
    ("医疗器械", 2), ("医药", 2), ("化工", 3), ("新材料", 2), ("农业开发", 3), ("文化传媒", 4), ("广告", 2),
    ("教育咨询", 2), ("企业管理咨询", 2), ("家具", 2), ("汽车配件", 2), ("汽车服务", 2), ("电气", 3),
    ("五金", 3), ("塑料制品", 2), ("包装", 2), ("印刷", 2), ("实业", 4), ("投资", 2), ("房地产开发", 1),
    ("物业管理", 2), ("人力资源", 1), ("酒店管理", 1), ("旅游", 1), ("能源", 2), ("光电", 2), ("自动化", 2),
    ("软件", 3),
]
SUFFIXES = [("有限公司", 55), ("有限责任公司", 12), ("股份有限公司", 8), ("商行", 4), ("经营部", 4),
            ("厂", 4), ("工作室", 3), ("中心", 2)]
MOBILE_PREFIXES = ("130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
                   "170 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199").split()
AREA_CODES = ("010 020 021 022 023 024 025 027 028 029 0311 0351 0371 0411 0431 0451 0512 0531 0532 "
              "0551 0571 0574 0577 0579 0591 0592 0731 0755 0757 0760 0769 0771 0791 0851 0871 0898 0931").split()
ROADS = ("人民路 解放路 中山路 建设路 和平路 新华路 文化路 胜利路 长江路 黄河路 滨江大道 科技园路 工业大道 "
         "开发区大道 学院路 青年路 东风路 朝阳路 光明路 幸福路 迎宾大道 创业路 振兴路 金融街 商业街").split()
POSITIONS = ("总经理", "副总经理", "采购经理", "采购专员", "财务", "技术主管", "行政", "老板", "厂长", "销售总监")
EMAIL_DOMAINS = ("163.com", "126.com", "qq.com", "sina.com", "aliyun.com", "139.com", "foxmail.com")
FOLLOW_UP_LINES = (
    "电话沟通了采购计划，客户下月有新需求，约好月底再联系。",
    "上门拜访，见到了采购经理，介绍了新产品，客户要求发一份报价。",
    "微信发送了产品资料，客户表示会转给技术部门评估。",
    "客户反馈上批货质量不错，准备追加订单，需要确认交期。",
    "电话未接通，稍后再打。",
    "参加了客户的供应商会议，竞争对手也在，价格压力较大。",
    "邮件发送了合同草稿，等待法务审核。",
    "客户询问售后服务条款，已解答并发送服务手册。",
    "节日问候，顺便了解近期采购需求。",
    "客户暂时没有需求，三个月后再跟进。",
)
FOLLOW_UP_KINDS = ("phone", "phone", "phone", "visit", "wechat", "wechat", "email", "sms", "other")
FOLLOW_UP_COUNTS = (0, 1, 1, 2, 2, 2, 3, 3, 4, 4)  # 2.2 on average; a tenth never followed up

# Filled in the parent before the workers fork (see build_context).
CTX: dict = {}


# --- the parent: schema, staff, pools ------------------------------------------------------------
def create_schema_and_staff(app, seed: int) -> dict:
    """Tables, default roles and dictionaries, departments and staff, through the app's code."""
    from faker import Faker
    from sqlalchemy import inspect, select

    from models import DictItem, db
    from rules import org, setup

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    with app.app_context():
        if inspect(db.engine).has_table("users"):
            raise SystemExit("the database is not empty (use --replace to start over)")
        db.create_all()
        roles = setup.ensure_defaults(db.session)
        hq = org.ensure_department_path(db.session, ["总经办"])
        gm = org.create_user(db.session, username=GM_USERNAME, password=BENCH_PASSWORD, display_name=fake.name(),
                             role=roles["总经理"], department=hq)
        manager = org.create_user(db.session, username="manager", password=BENCH_PASSWORD,
                                  display_name=fake.name(), role=roles["经理"],
                                  department=org.ensure_department_path(db.session, ["销售部"]), superior=gm)
        reps = []
        for d, dept_name in enumerate(DEPARTMENTS, start=1):
            dept = org.ensure_department_path(db.session, ["销售部", dept_name])
            lead = org.create_user(db.session, username=f"lead{d}", password=BENCH_PASSWORD,
                                   display_name=fake.name(), role=roles["主管"], department=dept, superior=manager)
            for _ in range(REPS_PER_DEPARTMENT):
                n = len(reps) + 1
                reps.append(org.create_user(db.session, username=f"sales{n:02d}", password=BENCH_PASSWORD,
                                            display_name=fake.name(), role=roles["业务员"], department=dept,
                                            superior=lead, mobile=f"1391000{n:04d}"))
        pool_id = None
        try:  # the shared pool (客户池) that unowned customers belong to, where the app has one
            from rules import pool as pool_rules
        except ImportError:
            pool_rules = None
        if pool_rules is not None and hasattr(pool_rules, "default_pool"):
            pool_id = pool_rules.default_pool(db.session).id
        db.session.commit()
        dict_ids: dict[str, list[int]] = {}
        for item in db.session.scalars(select(DictItem).order_by(DictItem.id)):
            dict_ids.setdefault(item.kind, []).append(item.id)
        staff = {"reps": [(u.id, u.department_id) for u in reps], "dict_ids": dict_ids, "pool_id": pool_id}
        db.session.remove()
        db.engine.dispose()
    return staff


def created_at_of(i: int, n: int) -> datetime:
    """Customer i (1-based) was created at a time that grows with i (ids follow entry order)."""
    span = (NOW - timedelta(days=1) - FIRST_CREATED).total_seconds()
    step = span / n
    jitter = ((i * 0.6180339887498949) % 1.0) * step * 0.9
    return FIRST_CREATED + timedelta(seconds=(i - 1) * step + jitter)


def year_starts(n: int) -> dict[int, int]:
    """The first customer id of each local year, so codes count from 1 each year."""
    starts: dict[int, int] = {}
    first_year = (created_at_of(1, n) + LOCAL_OFFSET).year
    last_year = (created_at_of(n, n) + LOCAL_OFFSET).year
    for year in range(first_year, last_year + 1):
        lo, hi = 1, n + 1  # first i whose local year >= year
        while lo < hi:
            mid = (lo + hi) // 2
            if (created_at_of(mid, n) + LOCAL_OFFSET).year >= year:
                hi = mid
            else:
                lo = mid + 1
        if lo <= n:
            starts[year] = lo
    return starts


def build_context(dialect: str, n: int, seed: int, staff: dict) -> dict:
    """Pools of believable names with their mnemonics computed once (pypinyin and Faker are far
    too slow to call for every one of a million customers)."""
    from faker import Faker
    from faker.providers.company.zh_CN import Provider as CompanyProvider

    from rules import normalize, regions

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(f"{seed}:pools")
    mn = {}

    def mnemonic(part: str) -> str:
        if part not in mn:
            mn[part] = normalize.mnemonic(part)
        return mn[part]

    people = sorted({fake.name() for _ in range(30_000)})
    people = [(p, mnemonic(p)) for p in people]
    pairs = [a + b for a in BRAND_CHARS for b in BRAND_CHARS if a != b]
    brands = sorted(set(rng.sample(pairs, 2500)) | set(CompanyProvider.company_prefixes))
    brands = [(b, mnemonic(b)) for b in brands]
    places = []  # (province, city, districts, short city name for company names, its mnemonic)
    for province in regions.tree().values():
        for city in province.children.values():
            short = regions.short(city.name)
            places.append((province.name, city.name, tuple(city.children), short, mnemonic(short)))
    reps = staff["reps"]
    weights = [rng.uniform(0.6, 1.4) for _ in reps]  # some salespeople hold more customers than others
    return {
        "dialect": dialect, "n": n, "seed": seed,
        "people": people, "brands": brands, "places": places,
        "industries": [(w, mnemonic(w)) for w, _ in INDUSTRIES], "industry_weights": [c for _, c in INDUSTRIES],
        "suffixes": [(w, mnemonic(w)) for w, _ in SUFFIXES], "suffix_weights": [c for _, c in SUFFIXES],
        "reps": reps, "rep_cum_weights": list(_accumulate(weights)),
        "dict_ids": [staff["dict_ids"].get(k, []) for k in
                     ("category", "source", "industry", "value_level", "stage", "credit_rating")],
        "year_starts": year_starts(n),
        "pool_id": staff.get("pool_id"),
        "extras": staff.get("extras", {}),
    }


def _accumulate(values):
    total = 0.0
    for v in values:
        total += v
        yield total


# --- the workers: one chunk of customers at a time ----------------------------------------------
def _worker_init(ctx: dict) -> None:
    CTX.update(ctx)


CUSTOMER_COLS = ("id", "kind", "name", "code", "mnemonic", "gender", "birthday", "legal_representative",
                 "registered_capital", "category_id", "source_id", "industry_id", "value_level_id", "stage_id",
                 "credit_rating_id", "province", "city", "district", "address", "zip_code", "phone", "mobile",
                 "fax", "email", "qq", "wechat", "website", "notes", "custom", "owner_id", "department_id",
                 "parent_id", "last_follow_up_at", "next_contact_at", "deleted_at", "deleted_by_id",
                 "merged_into_id", "created_at", "updated_at")
CONTACT_COLS = ("id", "customer_id", "name", "is_primary", "gender", "position", "phone", "mobile", "email",
                "qq", "wechat", "birthday", "notes", "custom", "created_at", "updated_at")
FOLLOW_UP_COLS = ("customer_id", "contact_id", "user_id", "kind", "content", "happened_at", "next_contact_at",
                  "template_id", "created_at", "updated_at")
KEY_COLS = ("customer_id", "field", "value")
SEARCH_COLS = ("customer_id", "body", "tokens")
COLUMNS = {"customers": CUSTOMER_COLS, "contacts": CONTACT_COLS, "follow_ups": FOLLOW_UP_COLS,
           "customer_keys": KEY_COLS, "customer_search": SEARCH_COLS}


def generate_chunk(task: tuple[int, int, int]) -> dict:
    """Rows for customers first_id .. first_id+count-1. Contact ids are local to the chunk (from 0)
    and follow-ups name their contact by that local id; the writer adds the running offset."""
    from rules import entry, search

    chunk_no, first_id, count = task
    c = CTX
    n = c["n"]
    rng = random.Random(f"{c['seed']}:chunk:{chunk_no}")
    rand, randrange, choice, choices = rng.random, rng.randrange, rng.choice, rng.choices
    sqlite = c["dialect"] == "sqlite"
    dt = (lambda v: v.strftime("%Y-%m-%d %H:%M:%S.%f") if v is not None else None) if sqlite else (lambda v: v)
    dd = (lambda v: v.isoformat() if v is not None else None) if sqlite else (lambda v: v)
    people, brands, places = c["people"], c["brands"], c["places"]
    industries, iw = c["industries"], list(_accumulate(c["industry_weights"]))
    suffixes, sw = c["suffixes"], list(_accumulate(c["suffix_weights"]))
    reps, rw = c["reps"], c["rep_cum_weights"]
    dict_ids, year_first = c["dict_ids"], c["year_starts"]
    pool_id = c["pool_id"]
    extras = c["extras"]
    tails = {t: tuple(v for _n, v in extras.get(t, [])) for t in COLUMNS}
    customer_extras = extras.get("customers", [])

    def mobile() -> str:
        return choice(MOBILE_PREFIXES) + f"{randrange(10 ** 8):08d}"

    def landline() -> str:
        return f"{choice(AREA_CODES)}-{randrange(2 * 10 ** 7, 9 * 10 ** 7)}"

    customers, contacts, follow_ups, keys, searches = [], [], [], [], []
    for cid in range(first_id, first_id + count):
        created = created_at_of(cid, n)
        local_created = created + LOCAL_OFFSET
        year = local_created.year
        code = f"KH{year}{cid - year_first[year] + 1:07d}"
        province, city, districts, city_short, city_mn = choice(places)
        district = choice(districts) if districts and rand() < 0.9 else None
        company = rand() < 0.85
        if company:
            brand, brand_mn = choice(brands)
            ind, ind_mn = choices(industries, cum_weights=iw)[0]
            suf, suf_mn = choices(suffixes, cum_weights=sw)[0]
            style = rand()
            if style < 0.70:
                name, mnem = city_short + brand + ind + suf, city_mn + brand_mn + ind_mn + suf_mn
            elif style < 0.80:
                name, mnem = f"{city_short}市{brand}{ind}{suf}", city_mn + "s" + brand_mn + ind_mn + suf_mn
            elif style < 0.85:
                name, mnem = f"{brand}{ind}（{city_short}）{suf}", brand_mn + ind_mn + city_mn + suf_mn
            else:
                name, mnem = brand + ind + suf, brand_mn + ind_mn + suf_mn
            gender = birthday = None
            legal = choice(people)[0] if rand() < 0.7 else None
            capital = choice((10, 50, 100, 200, 300, 500, 1000, 2000, 5000)) if rand() < 0.6 else None
        else:
            name, mnem = choice(people)
            gender = "male" if rand() < 0.5 else "female"
            birthday = dd(date(1955, 1, 1) + timedelta(days=randrange(17000))) if rand() < 0.4 else None
            legal = capital = None
        mnem = mnem[:64]
        if rand() < 0.95:
            r = rand() * rw[-1]
            owner_id, dept_id = next(rep for rep, w in zip(reps, rw) if r <= w)
        else:
            owner_id = dept_id = None  # waiting in the pool
        phone = landline() if rand() < (0.6 if company else 0.2) else None
        mob = mobile() if rand() < 0.85 else None
        fax = landline() if company and rand() < 0.1 else None
        email = f"{mnem[:12] or 'kh'}{randrange(1, 1000)}@{choice(EMAIL_DOMAINS)}" if rand() < 0.3 else None
        qq = str(randrange(10 ** 5, 10 ** 10)) if rand() < 0.15 else None
        wechat = f"wx_{mnem[:10]}{randrange(100, 10 ** 4)}" if rand() < 0.1 else None
        website = f"www.{mnem[:16]}.com" if company and rand() < 0.1 else None
        zip_code = f"{randrange(10 ** 5, 9 * 10 ** 5):06d}" if rand() < 0.5 else None
        address = f"{district or city}{choice(ROADS)}{randrange(1, 999)}号" if rand() < 0.9 else None
        ids = [choice(ids) if ids and rand() < 0.9 else None for ids in dict_ids]

        # contacts: a company has one or two, a person is their own contact
        cust_contacts = []
        for k in range((1 if rand() < 0.55 else 2) if company else 1):
            if company or k:
                cname = choice(people)[0]
                cgender = "male" if rand() < 0.5 else "female"
            else:
                cname, cgender = name, gender
            cmob = mobile() if rand() < 0.9 else None
            cphone = landline() if rand() < 0.2 else None
            cemail = f"{randrange(10 ** 5, 10 ** 10)}@qq.com" if rand() < 0.2 else None
            cqq = str(randrange(10 ** 5, 10 ** 10)) if rand() < 0.1 else None
            local_id = len(contacts)
            contacts.append((local_id, cid, cname, k == 0, cgender, choice(POSITIONS) if company else None, cphone,
                             cmob, cemail, cqq, None, None, None, "{}", dt(created), dt(created)) + tails["contacts"])
            cust_contacts.append(SimpleNamespace(name=cname, phone=cphone, mobile=cmob, email=cemail, qq=cqq))

        # follow-ups by the owner (for a pool customer, by whoever held it before)
        writer = owner_id if owner_id is not None else choice(reps)[0]
        last = None
        age = (NOW - created).total_seconds()
        for _ in range(choice(FOLLOW_UP_COUNTS)):
            u = rand()
            happened = NOW - timedelta(seconds=age * u * u + 60)
            if happened < created:
                happened = created
            contact_local = len(contacts) - len(cust_contacts) if rand() < 0.6 else None
            follow_ups.append((cid, contact_local, writer, choice(FOLLOW_UP_KINDS), choice(FOLLOW_UP_LINES),
                               dt(happened), None, None, dt(happened), dt(happened)) + tails["follow_ups"])
            last = happened if last is None or happened > last else last
        next_contact = None
        if last is not None:
            roll = rand()
            if roll < 0.08:
                next_contact = TODAY - timedelta(days=randrange(0, 10))  # due or overdue
            elif roll < 0.35:
                next_contact = TODAY + timedelta(days=randrange(1, 31))
        deleted_at = deleted_by = None
        if rand() < 0.01:  # in the recycle bin
            deleted_at = max(created, NOW - timedelta(days=90 * rand()))
            deleted_by = writer
        updated = created + timedelta(seconds=age * rand()) if rand() < 0.3 else created
        tail = ()
        if customer_extras:
            if owner_id is None:  # in the shared pool since it was released, recycled or recalled
                computed = {"pool_id": pool_id, "pool_reason": choice(("recycled", "recycled", "released", "recalled")),
                            "pool_entered_at": dt(created + timedelta(seconds=age * rand())), "has_deal": False}
            else:
                computed = {"claimed_at": dt(created), "has_deal": rand() < 0.12}
            tail = tuple(computed.get(name, default) for name, default in customer_extras)
        customers.append((
            cid, "company" if company else "person", name, code, mnem, gender, birthday, legal, capital,
            *ids, province, city, district, address, zip_code, phone, mob, fax, email, qq, wechat, website,
            None, "{}", owner_id, dept_id, None, dt(last), dd(next_contact), dt(deleted_at), deleted_by, None,
            dt(created), dt(updated)) + tail)

        # what the app writes for duplicate checks and quick search (same functions)
        ns = SimpleNamespace(id=cid, name=name, code=code, mnemonic=mnem, phone=phone, mobile=mob, fax=fax,
                             qq=qq, email=email, zip_code=zip_code, website=website, custom={})
        keys.extend((cid, f, v) + tails["customer_keys"] for f, v in sorted(entry.keys_for(ns, cust_contacts)))
        row = search.row_for(ns, cust_contacts)
        searches.append((cid, row["body"], row["tokens"]) + tails["customer_search"])
    return {"chunk_no": chunk_no, "customers": customers, "contacts": contacts, "follow_ups": follow_ups,
            "customer_keys": keys, "customer_search": searches}


def chunks_in_order(n: int, workers: int):
    """Chunks from a pool of forked workers, in order, with a bounded number in flight."""
    tasks = [(k, 1 + k * CHUNK, min(CHUNK, n - k * CHUNK)) for k in range(math.ceil(n / CHUNK))]
    yield from bulk.chunks_in_order(generate_chunk, tasks, workers, _worker_init, CTX)


def fix_ids(chunk: dict, contact_offset: int) -> None:
    chunk["contacts"] = [(contact_offset + 1 + r[0],) + r[1:] for r in chunk["contacts"]]
    chunk["follow_ups"] = [r if r[1] is None else (r[0], contact_offset + 1 + r[1]) + r[2:]
                           for r in chunk["follow_ups"]]


# Customer columns that newer models have and that this loader fills with believable values
# when they exist (the pool issue's columns); anything else NOT NULL gets the model's default.
COMPUTED_CUSTOMER_EXTRAS = ("pool_id", "pool_reason", "pool_entered_at", "claimed_at", "protected_until", "has_deal")


def check_columns(app) -> dict[str, list[tuple[str, object]]]:
    """The columns each table has beyond the ones this loader writes: known customer columns
    are computed per row, NOT NULL columns with a plain default get that default, nullable ones
    stay NULL. Fails clearly if a NOT NULL column has no usable default."""
    from models import db

    extras: dict[str, list[tuple[str, object]]] = {}
    for table_name, cols in COLUMNS.items():
        table = db.metadata.tables[table_name]
        unknown = set(cols) - set(table.c.keys())
        if unknown:
            raise SystemExit(f"{table_name}: loader out of date (columns {sorted(unknown)} are gone)")
        computed = COMPUTED_CUSTOMER_EXTRAS if table_name == "customers" else ()
        extras[table_name] = bulk.default_tails(table, cols, computed=computed)
    return extras


# --- writers ------------------------------------------------------------------------------------
def all_columns() -> dict[str, tuple[str, ...]]:
    return {t: cols + tuple(name for name, _v in CTX["extras"].get(t, [])) for t, cols in COLUMNS.items()}


class Timer:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()

    def lap(self, what: str) -> None:
        now = time.perf_counter()
        print(f"  {what:<52} {now - self.last:8.1f} s   (total {now - self.start:7.1f} s)", flush=True)
        self.last = now


def load_sqlite(url: str, n: int, workers: int, timer: Timer) -> None:
    from models.customer import SQLITE_FTS_DDL

    con = bulk.sqlite_bulk_connection(sqlite_path(url))
    triggers = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='customer_search'")]
    indexes = bulk.sqlite_drop_indexes(con, BULK_TABLES)
    for name in triggers:
        con.execute(f'DROP TRIGGER "{name}"')
    inserts = {t: f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
               for t, cols in all_columns().items()}
    timer.lap(f"dropped {len(indexes)} indexes and {len(triggers)} FTS triggers")
    contact_offset = loaded = 0
    con.execute("BEGIN")
    for chunk in chunks_in_order(n, workers):
        fix_ids(chunk, contact_offset)
        contact_offset += len(chunk["contacts"])
        for table in COLUMNS:
            con.executemany(inserts[table], chunk[table])
        loaded += len(chunk["customers"])
        if loaded % 100_000 == 0 or loaded == n:
            con.execute("COMMIT")
            timer.lap(f"{loaded:,} customers ({contact_offset:,} contacts)")
            con.execute("BEGIN")
    con.execute("COMMIT")
    for name, sql in indexes:
        con.execute(sql)
    timer.lap(f"recreated {len(indexes)} indexes")
    con.execute("INSERT INTO customer_fts(customer_fts) VALUES('rebuild')")
    for statement in SQLITE_FTS_DDL:  # the FTS table exists already; this recreates the triggers
        con.execute(statement)
    timer.lap("rebuilt the FTS index, recreated its triggers")
    con.close()


def load_postgresql(url: str, n: int, workers: int, timer: Timer) -> None:
    import psycopg

    con = psycopg.connect(libpq_url(url), autocommit=False)
    cur = con.cursor()
    cur.execute("SET synchronous_commit = off")
    cur.execute("SET maintenance_work_mem = '1GB'")
    indexes, fkeys = bulk.pg_drop_indexes_and_keys(cur, BULK_TABLES)
    con.commit()
    timer.lap(f"dropped {len(indexes)} indexes and {len(fkeys)} foreign keys")
    copies = {t: f"COPY {t} ({', '.join(cols)}) FROM STDIN" for t, cols in all_columns().items()}
    contact_offset = loaded = 0
    for chunk in chunks_in_order(n, workers):
        fix_ids(chunk, contact_offset)
        contact_offset += len(chunk["contacts"])
        for table in COLUMNS:
            with cur.copy(copies[table]) as copy:
                for row in chunk[table]:
                    copy.write_row(row)
        loaded += len(chunk["customers"])
        if loaded % 100_000 == 0 or loaded == n:
            con.commit()
            timer.lap(f"{loaded:,} customers ({contact_offset:,} contacts)")
    con.commit()
    bulk.pg_restore_indexes_and_keys(con, indexes, fkeys, timer.lap)
    for table in ("customers", "contacts"):  # explicit ids were given: move the sequences on
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    con.commit()
    con.close()


def finish(app, staff: dict, n: int, seed: int, timer: Timer) -> None:
    """Small things through the ORM/Core: code counters, a few shares, statistics."""
    from sqlalchemy import insert, select, text

    from models import Customer, CustomerShare, Sequence, db

    rng = random.Random(f"{seed}:shares")
    with app.app_context():
        for year, first in sorted(year_starts(n).items()):
            nxt = [s for y, s in year_starts(n).items() if y > year]
            last = (min(nxt) - 1) if nxt else n
            db.session.add(Sequence(name="customer", period=f"KH{year}", value=last - first + 1))
        reps = [r for r, _d in staff["reps"]]
        for giver in reps:  # each salesperson shares a few customers with a colleague
            owned = list(db.session.scalars(select(Customer.id).where(Customer.owner_id == giver)
                                            .order_by(Customer.id).limit(5)))
            taker = rng.choice([r for r in reps if r != giver])
            db.session.execute(insert(CustomerShare), [
                {"customer_id": c, "user_id": taker, "shared_by_id": giver, "mode": "read_only",
                 "created_at": NOW.replace(tzinfo=timezone.utc)} for c in owned])
        db.session.commit()
        db.session.remove()
        engine = db.engine
        timer.lap("code counters and shares")
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            timer.lap("VACUUM ANALYZE")
        else:
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
            timer.lap("ANALYZE")
        engine.dispose()


def replace_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(sqlite_path(url))
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            p.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as con:
        con.execute("DROP SCHEMA public CASCADE")
        con.execute("CREATE SCHEMA public")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an empty database")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes generating rows (default: min(2, cores))")
    parser.add_argument("--replace", action="store_true",
                        help="delete the SQLite file / drop the PostgreSQL public schema first")
    args = parser.parse_args()
    url = normalise_url(args.url)
    if url.startswith("sqlite:///"):
        Path(sqlite_path(url)).parent.mkdir(parents=True, exist_ok=True)
    if args.replace:
        replace_database(url)
    timer = Timer()
    print(f"Generating {args.customers:,} customers into {url} (seed {args.seed}, {args.workers} workers)")
    app = make_app(url)
    extras = check_columns(app)
    staff = create_schema_and_staff(app, args.seed)
    staff["extras"] = extras
    for table, extra in extras.items():
        if extra:
            print(f"  {table}: also filling {', '.join(name for name, _v in extra)}")
    timer.lap("schema, roles, dictionaries, 4 departments, 26 staff")
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    CTX.update(build_context(dialect, args.customers, args.seed, staff))
    timer.lap("name pools")
    if dialect == "sqlite":
        load_sqlite(url, args.customers, args.workers, timer)
    else:
        load_postgresql(url, args.customers, args.workers, timer)
    finish(app, staff, args.customers, args.seed, timer)
    print(f"Done in {time.perf_counter() - timer.start:.0f} s. Logins (password {BENCH_PASSWORD}): "
          f"{GM_USERNAME} (总经理), manager (经理), lead1..lead4 (主管), sales01..sales20 (业务员)")


if __name__ == "__main__":
    main()
