"""The malformed-input walk (tests/test_malformed_input.py) as the administrator on PostgreSQL,
with the values only a database refuses: a file of its own, so that the suite's two halves can
take one walk each."""
from __future__ import annotations

import pytest
from flask import Flask

from test_malformed_input import DATABASE_BATTERY, ROLES, walk_as


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_no_url_answers_5xx_to_malformed_input_on_postgresql(app: Flask, client, make_user, make_customer) -> None:
    walk_as(app, client, make_user, make_customer, *ROLES[0], battery=DATABASE_BATTERY)
