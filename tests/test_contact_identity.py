"""身份证号 of a contact: the check digit, birth date, sex and region it carries (a table), the
contact form filling the birthday and gender from it without overwriting what was typed, the
number masked for those who may not edit the contact, and the contact import refusing a bad row
with its reason."""
from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import delete, select

from conftest import latest_job, list_table, start_import, upload_sheet
from models import Contact, db
from models.job import JobRowIssue
from rules import id_numbers
from rules.errors import InvalidValue

TODAY = date(2026, 11, 23)

# (typed, stored number / refusal, birth, gender, region)
TABLE = [
    ("11010519491231002X", "11010519491231002X", "1949-12-31", "female", "北京市 朝阳区"),
    ("11010519491231002x", "11010519491231002X", "1949-12-31", "female", "北京市 朝阳区"),  # lower-case x
    ("４４０３０５ １９９００３０７００１４", "440305199003070014", "1990-03-07", "male", "广东省 深圳市 南山区"),
    ("110103197001010019", "110103197001010019", "1970-01-01", "male", "北京市"),  # 崇文区, merged in 2010
    ("330106880815432", "330106198808154325", "1988-08-15", "female", "浙江省 杭州市 西湖区"),  # 15 → 18
    ("110105194912310021", "身份证号校验位错误（应为 X）", None, None, None),
    ("440305199003070015", "身份证号校验位错误（应为 4）", None, None, None),
    ("110101199902300011", "身份证号中的出生日期不存在（19990230）", None, None, None),
    ("110101203001010011", "身份证号中的出生日期不可能（2030-01-01）", None, None, None),
    ("11010519491231002", "身份证号应为18位（现为 17 位）", None, None, None),
    ("11010519491231002Y", "身份证号应为18位：前17位是数字，最后一位是数字或 X", None, None, None),
    ("990101199001011234", "身份证号的前两位 99 不是任何省份的代码", None, None, None),
]


def test_id_number_table():
    for typed, expected, birth, gender, region in TABLE:
        if birth is None:
            with pytest.raises(InvalidValue) as refused:
                id_numbers.parse(typed, today=TODAY)
            assert str(refused.value) == expected, typed
            continue
        parsed = id_numbers.parse(typed, today=TODAY)
        assert (parsed.number, parsed.birth.isoformat(), parsed.gender, parsed.region) == \
            (expected, birth, gender, region), typed
        assert parsed.upgraded == (len(typed) == 15)
    assert id_numbers.mask("11010519491231002X") == "110105********002X"


@pytest.fixture
def book(app, make_user, make_customer):
    uid = make_user("chenxm", display_name="陈晓明")
    make_user("neiqin", role="内勤", department=("总经办",))  # sees every customer, may edit none
    return {"customer": make_customer("瑞和科技", uid)}


def test_the_contact_form_checks_the_number_and_fills_birthday_and_gender(app, client, book):
    client.login("chenxm")
    form = {"customer": str(book["customer"]), "name": "王芳", "id_number": "110105194912310021"}
    refused = client.post_form("/admin/contact/new/", form, follow=True).get_data(as_text=True)
    assert "身份证号校验位错误（应为 X）" in refused and 'value="110105194912310021"' in refused  # kept as typed
    with app.app_context():
        assert db.session.scalar(select(Contact).where(Contact.name == "王芳")) is None

    client.post_form("/admin/contact/new/", {**form, "id_number": "11010519491231002x"})
    # a typed birthday that differs is kept, and said so
    other = {"customer": str(book["customer"]), "name": "李强", "id_number": "440305199003070014",
             "birthday": "1990-03-17", "lunar_birth_month": "6", "lunar_birth_day": "15", "lunar_birth_leap": "y",
             "birthday_calendar": "lunar"}
    warned = client.post_form("/admin/contact/new/", other, follow=True).get_data(as_text=True)
    assert "身份证出生日期与生日不一致（身份证为 1990-03-07，生日填写为 1990-03-17），已保留填写的生日" in warned
    with app.app_context():
        wang = db.session.scalar(select(Contact).where(Contact.name == "王芳"))
        li = db.session.scalar(select(Contact).where(Contact.name == "李强"))
        assert (wang.id_number, wang.birthday, wang.gender) == ("11010519491231002X", date(1949, 12, 31), "female")
        assert (li.birthday, li.gender, li.lunar_birth_month, li.lunar_birth_day, li.lunar_birth_leap,
                li.birthday_calendar) == (date(1990, 3, 17), "male", 6, 15, True, "lunar")
    # greeting by the lunar calendar needs the lunar birthday
    no_lunar = {"customer": str(book["customer"]), "name": "赵敏", "birthday_calendar": "lunar"}
    assert "生日祝福按农历，请填写农历生日（月和日）" in client.post_form(
        "/admin/contact/new/", no_lunar, follow=True).get_data(as_text=True)

    page = client.get(f"/admin/customer/details/?id={book['customer']}").get_data(as_text=True)
    wang_row = page.split("11010519491231002X", 1)[1].split("</tr>", 1)[0]
    assert "出生日期 1949-12-31" in wang_row and "性别 女" in wang_row and "籍贯地区 北京市 朝阳区" in wang_row
    assert "农历生日 闰六月十五（下次 2027-07-18，本年无闰六月，按六月）" in page and "按农历生日祝福" in page


def test_the_number_is_masked_for_those_who_may_not_edit_the_contact(app, client, new_client, book):
    with app.app_context():
        db.session.add(Contact(customer_id=book["customer"], name="王芳", id_number="11010519491231002X"))
        db.session.commit()
    client.login("chenxm")
    assert "110105********002X" in list_table(client.get("/admin/contact/").get_data(as_text=True))
    assert "11010519491231002X" in client.get(f"/admin/customer/details/?id={book['customer']}").get_data(as_text=True)
    viewer = new_client()
    viewer.login("neiqin")
    page = viewer.get(f"/admin/customer/details/?id={book['customer']}").get_data(as_text=True)
    assert "110105********002X" in page and "11010519491231002X" not in page
    assert "籍贯地区 北京市 朝阳区" in page


def test_the_contact_import_refuses_a_bad_id_number_with_its_reason(app, client, book):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["所属客户", "姓名", "身份证号", "生日"])
    ws.append(["瑞和科技", "王芳", "11010519491231002X", None])
    ws.append(["瑞和科技", "错校验", "110105194912310021", None])
    ws.append(["瑞和科技", "错日期", "110101199902300011", None])
    ws.append(["瑞和科技", "数字格式", 440305199003070014, None])  # a number cell keeps 15 digits
    out = io.BytesIO()
    wb.save(out)
    client.login("chenxm")
    # Without 任何无效的值都拒绝整行, as any invalid optional cell: the contacts come in without the
    # number, and each row says why.
    upload_sheet(client, out.getvalue(), name="contacts.xlsx", entity="contact")
    start_import(client, latest_job(app).id)
    job = latest_job(app)
    assert (job.imported, job.warned, job.rejected) == (1, 3, 0)
    with app.app_context():
        assert db.session.scalar(select(Contact.id_number).where(Contact.name == "错校验")) is None
        db.session.execute(delete(Contact).where(Contact.name.in_(["王芳", "错校验", "错日期", "数字格式"])))
        db.session.commit()
    # With it, the three rows are refused, each with its reason.
    upload_sheet(client, out.getvalue(), name="contacts.xlsx", entity="contact")
    start_import(client, latest_job(app).id, strict="1")
    job = latest_job(app)
    assert (job.imported, job.rejected) == (1, 3)
    with app.app_context():
        reasons = dict(db.session.execute(select(JobRowIssue.row_no, JobRowIssue.reason)
                                          .where(JobRowIssue.job_id == job.id)).all())
        assert reasons[3] == "身份证号校验位错误（应为 X）"
        assert reasons[4] == "身份证号中的出生日期不存在（19990230）"
        assert reasons[5].startswith("身份证号校验位错误") and "请把该列设为文本格式" in reasons[5]
        wang = db.session.scalar(select(Contact).where(Contact.name == "王芳"))
        assert (wang.id_number, wang.birthday, wang.gender) == ("11010519491231002X", date(1949, 12, 31), "female")
