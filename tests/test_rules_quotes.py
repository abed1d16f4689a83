"""报价单: money priced as orders price it (hand-computed), 转订单 copies lines and money exactly
and only once (also under concurrency, both databases), bad lines refused with nothing written,
revisions keep the old version and only the newest moves, the daily expiry job through the real
job path, and who sees which quote (owner scope, the opportunity's collaborators)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import FIXED_NOW, run_at_once
from models import (
    Customer, Opportunity, OpportunityCollaborator, OpportunityLine, Order, Quote, QuoteEvent, QuoteLine, Role,
    Sequence, Stage, StageGroup, db,
)
from rules import activity, quotes, scope, settings
from rules.errors import InvalidValue, OutOfScope
from test_rules_orders import TZ, actor_of, shop  # noqa: F401 - fixture

D = Decimal


def new_quote(app, shop, *, who="rep", customer="customer", lines=None, level="wholesale", **extra) -> int:
    """The worked example at 批发价: 3 罐龙井 at ¥16.00 9折, 7 盒茶杯 (no 批发价: its first level's
    ¥3.33) 8.5折; tax 13%."""
    lines = lines if lines is not None else [(shop["tea"], 3, None, "0.9"), (shop["cup"], 7, None, "0.85")]
    with app.app_context():
        quote = Quote(customer_id=shop[customer] if customer else None, price_level_id=shop[level],
                      tax_rate=D("0.13"),
                      lines=[QuoteLine(product_id=p, quantity=q, unit_price=price, discount_rate=D(rate))
                             for p, q, price, rate in lines], **extra)
        quotes.create(db.session, quote, actor=actor_of(db.session, who), now=FIXED_NOW, tz=TZ)
        db.session.commit()
        return quote.id


def act(app, quote_id, action, who="rep", **kwargs):
    with app.app_context():
        actor = actor_of(db.session, who)
        func_ = getattr(quotes, action)
        if action in ("revise", "convert"):
            kwargs.setdefault("tz", TZ)
        result = func_(db.session, quote_id, actor=actor, now=kwargs.pop("now", FIXED_NOW), **kwargs)
        db.session.commit()
        return getattr(result, "id", result)


def test_lines_are_priced_from_the_price_tier_with_discount_and_tax_split(app, shop):
    quote_id = new_quote(app, shop)
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        assert [(line.unit_price, line.amount) for line in quote.lines] == [(D("16.00"), D("43.20")),
                                                                          (D("3.33"), D("19.81"))]
        # 48.00 + 23.31 = 71.31 原价; 43.20 + 19.81 = 63.01 价税合计; 63.01 / 1.13 = 55.76; tax 7.25
        assert (quote.gross, quote.discount, quote.total) == (D("71.31"), D("8.30"), D("63.01"))
        assert (quote.amount_ex_tax, quote.tax) == (D("55.76"), D("7.25"))
        assert quote.amount_ex_tax + quote.tax == quote.total
        assert quote.number == "BJ202611230001" and quote.revision == 1 and quote.status == "draft"
        assert quote.valid_until == date(2026, 11, 23) + timedelta(days=30)
        assert [e.action for e in db.session.scalars(select(QuoteEvent))] == ["create"]


def test_discount_shown_as_zhe_and_percent():
    assert [quotes.zhe(D(r)) for r in ("0.9", "0.85", "0.95", "1")] == ["9折", "8.5折", "9.5折", ""]
    assert [quotes.percent_off(D(r)) for r in ("0.9", "0.85", "1")] == ["-10%", "-15%", ""]


def test_quote_to_order_copies_lines_and_money_once(app, shop):
    quote_id = new_quote(app, shop)
    act(app, quote_id, "send")
    act(app, quote_id, "accept")
    order_id = act(app, quote_id, "convert")
    with app.app_context():
        quote, order = db.session.get(Quote, quote_id), db.session.get(Order, order_id)
        assert quote.order_id == order.id and order.state == "pending_review"
        assert [(l.product_id, l.quantity, l.unit_price, l.discount_rate, l.amount) for l in order.lines] == \
            [(l.product_id, l.quantity, l.unit_price, l.discount_rate, l.amount) for l in quote.lines]
        assert (order.gross, order.discount, order.total, order.amount_ex_tax, order.tax, order.tax_rate) == \
            (D("71.31"), D("8.30"), D("63.01"), D("55.76"), D("7.25"), D("0.1300"))
        assert (order.customer_id, order.price_level_id) == (quote.customer_id, quote.price_level_id)
        number = order.number
    with pytest.raises(quotes.QuoteRefused, match=f"该报价单已转为订单 {number}"):
        act(app, quote_id, "convert")
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1


def test_only_an_accepted_quote_converts(app, shop):
    quote_id = new_quote(app, shop)
    act(app, quote_id, "send")
    with pytest.raises(quotes.QuoteRefused, match="只有客户已接受的报价单可以转订单"):
        act(app, quote_id, "convert")


@pytest.mark.both_dbs
def test_two_people_converting_at_once_make_one_order(app, shop):
    quote_id = new_quote(app, shop)
    act(app, quote_id, "send")
    act(app, quote_id, "accept")

    def converter(who):
        def job(session):
            quotes.convert(session, quote_id, actor=actor_of(session, who), now=FIXED_NOW, tz=TZ)
        return job

    results = run_at_once(app, [converter("rep"), converter("rep")] * 2)
    assert results.count("ok") == 1, results
    assert all("已转为订单" in r for r in results if r != "ok"), results
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.get(Quote, quote_id).order_id == db.session.scalar(select(Order.id))
        assert db.session.scalar(select(func.count(QuoteEvent.id)).where(QuoteEvent.action == "convert")) == 1


def _nothing_written(app):
    with app.app_context():
        assert db.session.scalar(select(func.count(Quote.id))) == 0
        assert db.session.scalar(select(func.count(QuoteLine.id))) == 0
        assert db.session.scalar(select(func.count(QuoteEvent.id))) == 0
        assert db.session.scalar(select(func.count()).select_from(Sequence).where(Sequence.name == "quote")) == 0


def test_a_negative_price_is_refused_and_nothing_written(app, shop):
    with pytest.raises(InvalidValue, match="“龙井茶”的单价不能为负数"):
        new_quote(app, shop, lines=[(shop["tea"], 1, D("-5"), "1")])
    _nothing_written(app)
    with pytest.raises(InvalidValue, match="数量必须大于 0"):
        new_quote(app, shop, lines=[(shop["tea"], 0, None, "1")])
    _nothing_written(app)


def test_a_discount_beyond_the_roles_limit_is_refused_and_nothing_written(app, shop):
    with app.app_context():
        role_id = db.session.scalar(select(Role.id).where(Role.name == "业务员"))
        settings.put(db.session, "quote_min_discount_rate", {str(role_id): "0.9"})
        db.session.commit()
    with pytest.raises(quotes.DiscountBeyondLimit, match="折扣超出您的权限（最低 9折）"):
        new_quote(app, shop, lines=[(shop["tea"], 1, None, "0.9"), (shop["cup"], 1, None, "0.85")])
    _nothing_written(app)
    assert new_quote(app, shop, lines=[(shop["tea"], 1, None, "0.9")])  # at the limit is fine


def test_a_revision_keeps_the_old_one_and_only_the_newest_moves(app, shop):
    first = new_quote(app, shop)
    act(app, first, "send")
    second = act(app, first, "revise")
    with app.app_context():
        old, new = db.session.get(Quote, first), db.session.get(Quote, second)
        assert (old.status, old.superseded_by_id, old.revision) == ("sent", new.id, 1)
        assert (new.status, new.number, new.revision, str(new)) == ("draft", old.number, 2, f"{old.number}-V2")
        assert [(l.product_id, l.amount) for l in new.lines] == [(l.product_id, l.amount) for l in old.lines]
        assert len(old.lines) == 2  # the old version keeps its lines
    with pytest.raises(quotes.QuoteRefused, match="已有更新的版本"):
        act(app, first, "accept")
    with pytest.raises(quotes.QuoteRefused, match="已有更新的版本"):
        act(app, first, "revise")
    act(app, second, "send")
    act(app, second, "accept")
    assert act(app, second, "convert")
    with pytest.raises(quotes.QuoteRefused, match="已转为订单"):
        act(app, second, "revise")


def test_a_draft_is_changed_in_place_not_revised(app, shop):
    quote_id = new_quote(app, shop)
    with pytest.raises(quotes.QuoteRefused, match="草稿请直接修改"):
        act(app, quote_id, "revise")


def test_sending_and_accepting_keep_the_customer_busy(app, shop):
    quote_id = new_quote(app, shop)
    with app.app_context():
        assert not activity.busy_ids(db.session, [shop["customer"]])
    act(app, quote_id, "send", now=FIXED_NOW + timedelta(hours=1))
    with app.app_context():
        assert activity.busy_ids(db.session, [shop["customer"]]) == {shop["customer"]}
        assert db.session.get(Customer, shop["customer"]).last_activity_at == FIXED_NOW + timedelta(hours=1)
    act(app, quote_id, "reject")
    with app.app_context():
        assert not activity.busy_ids(db.session, [shop["customer"]])


def _expiry_cases(app, shop):
    """Sent and past validity (expires), sent and valid today (stays), draft past validity (stays)."""
    past, today_valid, draft = (new_quote(app, shop, valid_until=date(2026, 11, 25)),
                                new_quote(app, shop, valid_until=date(2026, 11, 26)),
                                new_quote(app, shop, valid_until=date(2026, 11, 25)))
    act(app, past, "send")
    act(app, today_valid, "send")
    return past, today_valid, draft


def test_the_expiry_job_expires_only_sent_quotes_past_validity(app, shop, clock):
    from jobs.queue import enqueue
    from jobs.quotes import expire_quotes

    past, today_valid, draft = _expiry_cases(app, shop)
    clock.set(FIXED_NOW + timedelta(days=3))  # 2026-11-26 10:00 in Shanghai
    with app.app_context():
        enqueue(expire_quotes)  # the embedded runner, as the scheduler does
        states = {q.id: q.status for q in db.session.scalars(select(Quote))}
        assert states == {past: "expired", today_valid: "sent", draft: "draft"}
        events = db.session.scalars(select(QuoteEvent).where(QuoteEvent.action == "expire")).all()
        assert [(e.quote_id, e.from_state, e.to_state) for e in events] == [(past, "sent", "expired")]
        enqueue(expire_quotes)  # a second run moves nothing
        assert db.session.scalar(select(func.count(QuoteEvent.id)).where(QuoteEvent.action == "expire")) == 1


def test_the_expiry_job_runs_in_a_real_rq_worker(tmp_path, make_user, clock):
    """The same job, enqueued on Redis and run by an `rq worker` process at the pinned clock."""
    import subprocess
    import sys

    from redis import Redis

    from conftest import REDIS_URL, build_app, need_service, worker_env
    from test_admin_pool import ROOT
    from jobs.queue import enqueue
    from jobs.quotes import expire_quotes

    url = need_service(REDIS_URL, "Redis")
    Redis.from_url(url).flushdb()
    app = build_app("sqlite", tmp_path, REDIS_URL=url, EMBEDDED_JOBS_SYNC=False)
    with app.app_context():
        from models import Product, User
        from rules import org

        role = db.session.scalar(select(Role).where(Role.name == "业务员"))
        rep = org.create_user(db.session, username="rep", password="secret-123", display_name="rep", role=role)
        customer = Customer(name="华星贸易", kind="company", owner_id=rep.id)
        tea = Product(code="P001", name="龙井茶")
        db.session.add_all([customer, tea])
        db.session.flush()
        actor = actor_of(db.session, "rep")
        quote = Quote(customer_id=customer.id, valid_until=date(2026, 11, 24),
                      lines=[QuoteLine(product_id=tea.id, quantity=1, unit_price=D("10"))])
        quotes.create(db.session, quote, actor=actor, now=FIXED_NOW, tz=TZ)
        quotes.send(db.session, quote.id, actor=actor, now=FIXED_NOW)
        db.session.commit()
        quote_id = quote.id
        assert db.session.get(User, rep.id)
    clock.set(FIXED_NOW + timedelta(days=2))
    with app.app_context():
        enqueue(expire_quotes)
    result = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", url, "kechi"],
                            cwd=ROOT, env=worker_env(app, tmp_path, url), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    with app.app_context():
        assert db.session.get(Quote, quote_id).status == "expired"


@pytest.fixture
def deal(app, shop, make_user):
    """rep's opportunity with 华星贸易 and rep3 (another department) as its collaborator."""
    ids = dict(shop)
    ids["rep3"] = make_user("rep3", department=("销售部", "销售三部"))
    ids["lead1"] = make_user("lead1", role="主管", department=("销售部", "销售一部"))
    ids["lead2"] = make_user("lead2", role="主管", department=("销售部", "销售二部"))
    ids["boss"] = make_user("boss", role="总经理", department=("总经办",))
    with app.app_context():
        group = StageGroup(name="默认阶段组")
        db.session.add(group)
        db.session.flush()
        stage = Stage(group_id=group.id, name="初步接洽", sort_order=1, probability=10)
        db.session.add(stage)
        db.session.flush()
        opportunity = Opportunity(number="JH0001", title="茶叶年度采购", customer_id=shop["customer"],
                                  group_id=group.id, stage_id=stage.id, owner_id=shop["rep"],
                                  price_level_id=shop["retail"],
                                  lines=[OpportunityLine(product_id=shop["tea"], quantity=5, unit_price=D("19.90"),
                                                         discount_rate=D("0.95"), amount=D("94.53"))])
        db.session.add(opportunity)
        db.session.flush()
        db.session.add(OpportunityCollaborator(opportunity_id=opportunity.id, user_id=ids["rep3"]))
        db.session.commit()
        ids["opportunity"] = opportunity.id
    return ids


def test_a_quote_from_an_opportunity_takes_its_customer_and_lines(app, deal):
    quote_id = new_quote(app, deal, customer=None, lines=[], level="retail", opportunity_id=deal["opportunity"])
    with app.app_context():
        quote = db.session.get(Quote, quote_id)
        assert (quote.customer_id, quote.opportunity_id) == (deal["customer"], deal["opportunity"])
        assert [(l.product_id, l.quantity, l.unit_price, l.discount_rate, l.amount) for l in quote.lines] == \
            [(deal["tea"], 5, D("19.90"), D("0.9500"), D("94.53"))]


@pytest.mark.both_dbs
def test_quote_scope_truth_table(app, deal):
    """Who sees which quote: the owner's scope, and the opportunity's collaborators see its quotes."""
    plain = new_quote(app, deal)                                              # rep's, no opportunity
    on_deal = new_quote(app, deal, customer=None, opportunity_id=deal["opportunity"])  # rep's, on the deal
    other = new_quote(app, deal, who="rep2", customer="other_customer")       # rep2's
    expected = {
        "rep": {plain, on_deal},
        "rep2": {other},
        "rep3": {on_deal},                  # collaborator of the opportunity, not the owner of the quote
        "lead1": {plain, on_deal},          # 主管 of 销售一部
        "lead2": {other},                   # 主管 of 销售二部
        "boss": {plain, on_deal, other},    # 总经理: everyone
        "clerk": {plain, on_deal, other},   # 内勤 (all, quote.view)
    }
    with app.app_context():
        for who, wanted in expected.items():
            actor = actor_of(db.session, who)
            seen = set(db.session.scalars(scope.scoped(select(Quote.id), Quote, actor)))
            assert seen == wanted, who
            for quote_id in {plain, on_deal, other} - wanted:
                with pytest.raises(OutOfScope):
                    scope.get_in_scope(db.session, Quote, quote_id, actor)


def test_a_quote_for_a_customer_outside_scope_is_refused(app, shop):
    with pytest.raises(OutOfScope):
        new_quote(app, shop, customer="other_customer")
    _nothing_written(app)


@pytest.mark.both_dbs
def test_two_people_revising_at_once_make_one_new_version(app, shop):
    quote_id = new_quote(app, shop)
    act(app, quote_id, "send")

    def reviser(session):
        quotes.revise(session, quote_id, actor=actor_of(session, "rep"), now=FIXED_NOW, tz=TZ)

    results = run_at_once(app, [reviser] * 3)
    assert results.count("ok") == 1, results
    assert all("已有更新的版本" in r for r in results if r != "ok"), results
    with app.app_context():
        assert sorted(db.session.scalars(select(Quote.revision))) == [1, 2]
