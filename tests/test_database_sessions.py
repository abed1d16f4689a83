"""What every database session is set up with, whichever page or job opens it."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from models import User, db
from rules import reports


@pytest.mark.both_dbs
def test_a_report_names_more_rows_than_one_statement_can_bind(app):
    """PostgreSQL refuses a statement with more than 65,535 parameters; the 总经理's ageing by
    customer names every customer owing money."""
    with app.app_context():
        known = dict(db.session.execute(text("SELECT id, display_name FROM users")).all())
        asked = [*known, *range(10_000_000, 10_070_000)]  # 70,000 ids that are nobody
        assert reports._names(db.session, User, asked, "display_name") == known


@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_postgresql_sessions_run_without_jit(app):
    """JIT spent seconds compiling a 主管's report that runs in milliseconds."""
    with app.app_context():
        db.engine.dispose()  # a fresh connection, set up as every page's is
        assert db.session.execute(text("SHOW jit")).scalar() == "off"
