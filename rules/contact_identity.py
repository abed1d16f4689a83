"""A contact's 身份证号 and birthdays as one set of rules for the contact form and the importer:
the ID number is checked and stored in its 18-digit form, the birthday and gender left empty
are filled from it, and the lunar birthday is checked against the calendar the greeting follows.

What the user typed is never overwritten: a birthday or gender that differs from the ID number
is kept and a warning says so (people often celebrate a date other than the registered one,
and the ID card itself is sometimes wrong)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_

from models import BirthdayCalendar, Contact, Gender
from rules import id_numbers, lunar
from rules.errors import InvalidValue

GENDER_WORDS = {Gender.MALE.value: _l("男"), Gender.FEMALE.value: _l("女")}


@dataclass(frozen=True)
class Derived:
    """What a contact's ID number says, for the contact's page."""
    birth: date
    gender: str
    region: str


def apply(contact: Contact, *, today: date) -> list[str]:
    """Check and complete the contact in place; returns the warnings to show. Raises
    IdNumberRefused / LunarDateRefused / InvalidValue with the reason."""
    warnings: list[str] = []
    raw = id_numbers.tidy(contact.id_number)
    contact.id_number = raw or None
    if raw:
        parsed = id_numbers.parse(raw, today=today)
        contact.id_number = parsed.number
        if parsed.upgraded:
            warnings.append(str(_l("15位身份证号已升级为18位：%(n)s", n=parsed.number)))
        if contact.birthday is None:
            contact.birthday = parsed.birth
        elif contact.birthday != parsed.birth:
            warnings.append(str(_l("身份证出生日期与生日不一致（身份证为 %(a)s，生日填写为 %(b)s），已保留填写的生日",
                                   a=parsed.birth.isoformat(), b=contact.birthday.isoformat())))
        if not contact.gender:
            contact.gender = parsed.gender
        elif contact.gender != parsed.gender:
            warnings.append(str(_l("身份证性别（%(a)s）与填写的性别不一致，已保留填写的性别",
                                   a=GENDER_WORDS[parsed.gender])))
    leap = bool(contact.lunar_birth_leap)
    contact.lunar_birth_leap = leap
    birthday = lunar.check(contact.lunar_birth_month, contact.lunar_birth_day, leap)
    calendar = contact.birthday_calendar or BirthdayCalendar.SOLAR.value
    if calendar not in set(BirthdayCalendar):
        raise InvalidValue(_l("生日祝福请选择按公历或按农历"))
    contact.birthday_calendar = calendar
    if calendar == BirthdayCalendar.LUNAR and birthday is None:
        raise lunar.LunarDateRefused(_l("生日祝福按农历，请填写农历生日（月和日）"))
    return warnings


def derived(contact: Contact, *, today: date) -> Derived | None:
    """出生日期, 性别 and 籍贯地区 read from a stored ID number (None without a valid one)."""
    if not contact.id_number:
        return None
    try:
        parsed = id_numbers.parse(contact.id_number, today=today)
    except InvalidValue:
        return None
    return Derived(parsed.birth, parsed.gender, parsed.region)


@dataclass(frozen=True)
class Described:
    """A contact's identity and birthdays as its customer's page shows them."""
    id_number: str                      # whole, or masked for those who may not edit the contact
    derived: Derived | None
    lunar_birthday: lunar.LunarBirthday | None
    lunar_next: lunar.Placed | None     # the coming solar day of the lunar birthday
    greets_lunar: bool

    @property
    def shown(self) -> bool:
        return bool(self.id_number or self.lunar_birthday)


def describe(contact: Contact, *, today: date, whole_number: bool) -> Described:
    birthday = lunar_birthday(contact)
    number = contact.id_number or ""
    return Described(number if whole_number else id_numbers.mask(number), derived(contact, today=today), birthday,
                     lunar.next_birthday(birthday, today) if birthday else None,
                     contact.birthday_calendar == BirthdayCalendar.LUNAR.value)


def lunar_birthday(contact: Contact) -> lunar.LunarBirthday | None:
    if contact.lunar_birth_month is None or contact.lunar_birth_day is None:
        return None
    return lunar.LunarBirthday(contact.lunar_birth_month, contact.lunar_birth_day, bool(contact.lunar_birth_leap))


# --- matching birthdays in SQL ----------------------------------------------------------------

def greets_by_lunar() -> Any:
    return Contact.birthday_calendar == BirthdayCalendar.LUNAR.value


def lunar_keys_clause(keys: Iterable[tuple[int, int, bool]]) -> Any:
    """Contacts greeted by a lunar birthday that is one of `keys` (rules/lunar.keys_on): a few
    equalities on the indexed month and day columns."""
    terms = [and_(Contact.lunar_birth_month == month, Contact.lunar_birth_day == day,
                  Contact.lunar_birth_leap.is_(leap)) for month, day, leap in keys]
    return and_(greets_by_lunar(), or_(*terms)) if terms else false()


def lunar_birthday_on(day: date) -> Any:
    return lunar_keys_clause(lunar.keys_on(day))
