"""Upgrading to the document search index keeps the search rows written before it and finds
their documents by a word inside them, on SQLite (FTS5 rebuilt) and PostgreSQL (stored array)."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import insert, select

from app import MIGRATIONS_DIR
from conftest import FIXED_NOW, app_at_revision
from models import Role, User, db
from models.document import Document, DocumentFolder, DocumentSearch
from rules import document_search
from rules.actor import Actor

BEFORE = "6a57f323c426"


def put(model, **values) -> int:
    table = model.__table__
    return db.session.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_search_rows_written_before_the_index_are_found_after_the_upgrade(tmp_path, kind):
    with app_at_revision(kind, tmp_path, BEFORE):
        role = put(Role, name="业务员", data_scope="self", permissions=["document.view"])
        owner = put(User, username="chen", password_hash="x", display_name="陈", role_id=role, active=True)
        folder = put(DocumentFolder, name="我的文档", kind="personal", owner_id=owner, sort_order=0,
                     created_by_id=owner, created_at=FIXED_NOW)
        db.session.execute(DocumentFolder.__table__.update().values(root_id=folder))
        document = put(Document, folder_id=folder, root_id=folder, name="合同.pdf", current_version=1,
                       file_kind="pdf", size=10, created_by_id=owner, created_at=FIXED_NOW, updated_by_id=owner,
                       updated_at=FIXED_NOW)
        db.session.execute(insert(DocumentSearch.__table__), [document_search.row_for(document, "合同.pdf", "分期付款条款")])
        db.session.commit()
        upgrade(directory=MIGRATIONS_DIR)
        reader = Actor.from_user(db.session.get(User, owner), has_shares=False)
        assert [d.id for d in document_search.find(db.session, reader, "付款条款")] == [document]
        assert [d.id for d in document_search.find(db.session, reader, "分期")] == [document]
        assert db.session.scalar(select(DocumentSearch.body).where(DocumentSearch.document_id == document))
