"""Print templates: what a template may read (the catalogue), the data each document builds (plain
values, loaded within the reader's scope), the check on save (unknown fields named, sandbox
escapes and runaway loops refused), one default per type, and the default templates printing
real records of every type."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import db
from models.org import User
from models.printing import PrintDocType, PrintTemplate
from rules import clock, pdf, print_data, print_defaults, print_fields, print_templates
from rules.actor import Actor
from rules.errors import OutOfScope, TemplateRefused
from tests.print_records import documents

PLAIN = (str, int, Decimal, date, bool, type(None))


def _actor(user_id: int) -> Actor:
    return Actor.from_user(db.session.get(User, user_id))


def _plain(value, path="data"):
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), path
            _plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            _plain(item, f"{path}[]")
    else:
        assert isinstance(value, PLAIN) and not isinstance(value, datetime), f"{path} is {type(value).__name__}"


def _paths(value, prefix=""):
    """The catalogue-style paths of built data: customer.name, lines[].amount."""
    out = set()
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, dict):
            out |= _paths(item, path + ".")
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            out |= _paths(item[0], path + "[].")
        elif isinstance(item, list) and not item:
            continue  # a list the record has none of: nothing to name
        else:
            out.add(path)
    return out


@pytest.fixture
def records(app, make_user, make_customer):
    owner = make_user("zhang", display_name="张伟")
    customer = make_customer("杭州青禾贸易有限公司", owner)
    return owner, documents(app, customer, owner)


def _template(doc_type, body, **kw):
    return print_templates.TemplateInput(doc_type=doc_type, name="测试模板", body=body, **kw)


# --- the check on save ----------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ("{{ customer.nmae }}", "字段 customer.nmae 不存在"),
    ("{% for line in lines %}{{ line.amout }}{% endfor %}", "字段 line.amout 不存在"),
    ("{{ ''.__class__.__mro__ }}", "模板试图访问不允许的内容：__class__"),
    ("{{ customer.__class__ }}", "模板试图访问不允许的内容：__class__"),
    ("{{ range.__globals__ }}", "模板试图访问不允许的内容：__globals__"),
    ("{{ customer|attr('__class__') }}", "模板试图访问不允许的内容"),
    ("{% for i in range(10**9) %}{% endfor %}", "模板循环次数过多"),
    ("{{ 'x' * 100000000 }}", "模板中的重复次数过大"),
    ("{% for i in range(100000) %}{{ 'x' * 9999 }}{% endfor %}", "打印内容过大"),
    ("{% for i in range(5000) %}{% for j in range(5000) %}{{ j }}{% endfor %}{% endfor %}", "模板循环次数过多"),
    ("{% include 'admin/master.html' %}", "打印模板不能引用其他模板文件"),
    ("<script>alert(1)</script>", "不能包含脚本"),
    ("<img src=x onerror=alert(1)>", "不能包含脚本"),
    ("{{ customer.name.format_map({}) }}", "模板中不能调用"),
    ("{% for x in lines %}", "模板有误"),
])
def test_save_refuses_unknown_fields_and_escapes(app, body, message):
    with app.app_context():
        with pytest.raises(TemplateRefused) as refused:
            print_templates.save(db.session, None, _template("order", body), actor=None, now=clock.now())
        assert message in str(refused.value)
        db.session.rollback()
        assert db.session.scalar(select(PrintTemplate).where(PrintTemplate.name == "测试模板")) is None


def test_render_refuses_escapes_in_a_stored_template(app, records):
    """A template stored before the check (or written into the database) still cannot escape at print time."""
    _, ids = records
    with app.app_context():
        data = print_data.build(db.session, "order", ids["order"], actor=_actor(records[0]), now=clock.now())
        for body, message in (("{{ ''.__class__.__mro__ }}", "不允许"), ("{% for i in range(10**9) %}{% endfor %}",
                                                                          "循环次数过多"),
                              ("{{ customer.nmae }}", "模板引用了不存在的字段：nmae$"), ("{{ 'ab' * 9999 * 9999 }}", "过大")):
            stored = PrintTemplate(doc_type="order", name="旧模板", body=body, paper="A4", columns=[])
            with pytest.raises(TemplateRefused, match=message):
                print_templates.render_page(db.session, stored, data, files_root=None)


def test_accepts_catalogue_fields_loops_and_locals(app):
    body = ("{% set total = order.total %}{{ total|money }} {{ customer.name|upper }} "
            "{% for line in lines %}{{ loop.index }} {{ line.product_name }} {{ line.amount|money }}{% endfor %}"
            "{% for c in columns %}{{ c.label }}{% endfor %}{{ order.total|amount_words }} {{ record_url|qrcode }}"
            "{{ lines[0].product_name }}{% for k, v in company.items() %}{{ k }}{% endfor %}")
    with app.app_context():
        saved = print_templates.save(db.session, None, _template("order", body, columns=["index", "amount"]),
                                     actor=None, now=clock.now())
        assert saved.id and saved.columns == ["index", "amount"]


def test_delivery_offers_no_price_columns(app):
    with app.app_context():
        with pytest.raises(TemplateRefused, match="没有明细列 unit_price"):
            print_templates.save(db.session, None, _template("delivery", "x", columns=["product_name", "unit_price"]),
                                 actor=None, now=clock.now())


def test_margins_and_custom_paper_are_checked(app):
    with app.app_context():
        with pytest.raises(TemplateRefused, match="上边距应在 0 到 60 毫米之间"):
            print_templates.validate(_template("order", "x", margins=(99, 1, 1, 1)))
        with pytest.raises(TemplateRefused, match="纸张宽度请填写整数"):
            print_templates.validate(_template("order", "x", paper="custom", width_mm="宽", height_mm="100"))


# --- defaults -------------------------------------------------------------------------------------

@pytest.mark.both_dbs
def test_one_default_per_type(app):
    with app.app_context():
        seeded = print_templates.default_for(db.session, "order")
        assert seeded is not None and seeded.is_default
        mine = print_templates.save(db.session, None, _template("order", "{{ order.number }}", is_default=True),
                                    actor=None, now=clock.now())
        db.session.commit()
        defaults = db.session.scalars(select(PrintTemplate).where(PrintTemplate.doc_type == "order",
                                                                  PrintTemplate.is_default.is_(True))).all()
        assert [t.id for t in defaults] == [mine.id]
        assert print_templates.default_for(db.session, PrintDocType.ORDER).id == mine.id
        twin = print_templates.copy(db.session, mine, actor=None, now=clock.now())
        assert twin.name == "测试模板（副本）" and not twin.is_default
        print_templates.delete(db.session, mine, actor=None, now=clock.now())
        db.session.commit()
        assert print_templates.default_for(db.session, "order").id == seeded.id
        assert mine.id not in [t.id for t in print_templates.for_doc_type(db.session, "order")]


def test_every_type_has_a_seeded_default(app):
    with app.app_context():
        for doc_type in PrintDocType:
            template = print_templates.default_for(db.session, doc_type)
            assert template is not None and template.is_default, doc_type
        again = print_defaults.ensure_defaults(db.session, now=clock.now())
        assert again == []


# --- the data -------------------------------------------------------------------------------------

PRINTABLE = [t for t in PrintDocType if t is not PrintDocType.REPAIR]


@pytest.mark.parametrize("doc_type", PRINTABLE)
def test_builders_give_plain_data_shaped_like_the_catalogue(app, records, doc_type):
    owner, ids = records
    with app.app_context():
        data = print_data.build(db.session, doc_type, ids[doc_type], actor=_actor(owner), now=clock.now())
        _plain(data)
        sample = print_data.sample(doc_type)
        assert _paths(data) - {"columns"} <= _paths(sample) | {p.removesuffix(".cells") for p in _paths(sample)}
        missing = {p for p in _paths(sample) if not p.startswith(("columns", "lines[].cells"))} - _paths(data)
        # lists the record happens not to have (no follow-ups yet) print empty; everything else is there
        assert {p.split("[]")[0] for p in missing} <= {"follow_ups", "custom"}, missing


@pytest.mark.both_dbs
@pytest.mark.parametrize("doc_type", PRINTABLE)
def test_builders_load_within_scope(app, records, make_user, doc_type):
    _, ids = records
    other = make_user("li", department=("销售部", "销售二部"))
    with app.app_context():
        with pytest.raises(OutOfScope):
            print_data.build(db.session, doc_type, ids[doc_type], actor=_actor(other), now=clock.now())
        with pytest.raises(OutOfScope):
            print_data.build(db.session, doc_type, 10 ** 30, actor=_actor(other), now=clock.now())


def test_repair_has_its_builder(app, records):
    """rules/repairs.py registers the 维修工单 (tests/test_repairs.py prints one); a ticket the
    reader does not see is as absent as any other record."""
    from rules.errors import OutOfScope
    owner, ids = records
    with app.app_context():
        assert print_data.registered("repair")
        with pytest.raises(OutOfScope):
            print_data.build(db.session, "repair", 1, actor=_actor(owner), now=clock.now())
        sample = print_data.sample("repair")
        assert sample["ticket"]["number"] and sample["customer"]["name"]


@pytest.mark.parametrize("doc_type", PRINTABLE)
def test_default_templates_print_real_records(app, records, doc_type):
    owner, ids = records
    with app.app_context():
        data = print_data.build(db.session, doc_type, ids[doc_type], actor=_actor(owner), now=clock.now())
        html = print_templates.render_page(db.session, print_templates.default_for(db.session, doc_type), data,
                                           files_root=None)
    assert "打印时间：2026-11-23 10:00" in html or doc_type is PrintDocType.ENVELOPE  # FIXED_NOW in Shanghai
    if doc_type in (PrintDocType.ORDER, PrintDocType.QUOTE, PrintDocType.RECEIPT, PrintDocType.INVOICE):
        assert "壹仟贰佰叁拾肆元伍角整" in html and "¥1,234.50" in html
    if doc_type is PrintDocType.ORDER:
        assert "青花瓷茶具套装" in html and "¥1,111.05" in html and "9折" in html
    if doc_type is PrintDocType.DELIVERY:
        assert "青花瓷茶具套装" in html and "¥" not in html.split("kechi-lines")[-1].split("</table>")[0]
    if doc_type is PrintDocType.ENVELOPE:
        assert '<span class="zip-box">3</span>' in html and "李明A 采购经理 收" in html


@pytest.mark.skipif(not pdf.available(), reason="WeasyPrint needs pango")
def test_the_default_order_prints_to_pdf_with_its_chinese_text(app, records):
    owner, ids = records
    with app.app_context():
        data = print_data.build(db.session, "order", ids["order"], actor=_actor(owner), now=clock.now())
        html = print_templates.render_page(db.session, print_templates.default_for(db.session, "order"), data,
                                           files_root=None)
    text = pdf.text_of(pdf.html_to_pdf(html))
    for words in ("销", "杭州青禾贸易有限公司", "青花瓷茶具套装", "壹仟贰佰叁拾肆元伍角整", "打印时间"):
        assert words in text.replace(" ", "")


def test_the_catalogue_labels_every_field(app):
    with app.test_request_context():
        for doc_type in PrintDocType:
            for item in print_fields.fields(doc_type):
                assert str(item.label) and str(item.group), item.path
            assert print_templates.check_source(doc_type, print_defaults.DEFAULTS[doc_type].body) is None


def test_an_order_of_many_lines_builds_in_a_few_queries(app, records):
    """A 60-line order: the lines' products come in one query, not one per line."""
    from sqlalchemy import event

    from models.product import Product
    from models.sales import Order, OrderLine

    owner, ids = records
    with app.app_context():
        order = db.session.get(Order, ids["order"])
        for n in range(60):
            product = Product(code=f"BULK-{n}", name=f"配件{n}", unit="个")
            db.session.add(product)
            db.session.flush()
            order.lines.append(OrderLine(product_id=product.id, quantity=1, unit_price=Decimal("1"),
                                         amount=Decimal("1")))
        db.session.commit()
        db.session.expunge_all()
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            data = print_data.build(db.session, "order", ids["order"], actor=_actor(owner), now=clock.now())
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert len(data["lines"]) == 62
    assert len(statements) <= 15, statements


def test_tickets_register_their_builder_and_print_with_the_default_repair_sheet(app, records):
    owner, ids = records
    sample = print_data.sample("repair")

    def build_ticket(session, record_id, actor):
        customer = print_data.build(session, "envelope", ids["customer"], actor=actor, now=clock.now())
        return {"customer": {**sample["customer"], "name": customer["recipient"]["company"]},
                "ticket": {**sample["ticket"], "number": f"WX{int(record_id):06d}"}}, int(record_id)

    real = print_data._BUILDERS.get(PrintDocType.REPAIR)  # rules/repairs.py's, put back after
    print_data.register(PrintDocType.REPAIR, build_ticket)
    try:
        with app.app_context():
            data = print_data.build(db.session, "repair", 7, actor=_actor(owner), now=clock.now())
            html = print_templates.render_page(db.session, print_templates.default_for(db.session, "repair"), data,
                                               files_root=None)
    finally:
        print_data._BUILDERS.pop(PrintDocType.REPAIR)
        if real is not None:
            print_data.register(PrintDocType.REPAIR, real)
    assert "WX000007" in html and "杭州青禾贸易有限公司" in html and "维 修 工 单" in html
