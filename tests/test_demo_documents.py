"""The demo company of issue 20: files on customers, contracts and orders whose bytes are really
there, a 文档中心 with the three kinds of folder and a document in its second version, a default
print template for every document type beside one custom order layout, and a live share link."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from conftest import seeded_demo
from models import Attachment, Document, DocumentFolder, DocumentVersion, PrintTemplate, QuoteShare, User, db
from models.printing import PrintDocType
from rules import document_search, file_store
from rules.actor import Actor


def test_demo_files_documents_templates_and_share(app, tmp_path, clock):
    from demo.documents import CUSTOM_ORDER_NAME

    root = tmp_path / "files"
    app.config["FILES_DIR"] = str(root)
    seeded_demo(app, tmp_path)
    with app.app_context():
        kinds = dict(db.session.execute(select(Attachment.entity, func.count(Attachment.id))
                                        .group_by(Attachment.entity)).all())
        assert kinds.get("customer", 0) >= 3 and kinds.get("contract", 0) >= 2 and kinds.get("order", 0) >= 1
        stored = db.session.scalars(select(Attachment)).all() + db.session.scalars(select(DocumentVersion)).all()
        for row in stored:  # every row names bytes that are there, unaltered
            data = file_store.path_of(root, row.storage_key).read_bytes()
            assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.size
        assert {"image", "pdf", "word", "excel"} <= {row.file_kind for row in stored}

        assert {"company", "department", "personal"} <= set(db.session.scalars(select(DocumentFolder.kind)))
        revised = db.session.scalar(select(Document).where(Document.current_version == 2))
        assert revised is not None and revised.name == "差旅与报销制度.pdf"
        assert db.session.scalar(select(func.count(DocumentVersion.id))
                                 .where(DocumentVersion.document_id == revised.id)) == 2
        # its words are searchable from the first start, for a salesperson too (公司制度 is open to all)
        rep = Actor.from_user(db.session.scalar(select(User).where(User.username == "chenxm")))
        assert [d.name for d in document_search.find(db.session, rep, "高铁")] == ["差旅与报销制度.pdf"]

        defaults = set(db.session.scalars(select(PrintTemplate.doc_type).where(
            PrintTemplate.is_default.is_(True), PrintTemplate.deleted_at.is_(None))))
        assert defaults == {t.value for t in PrintDocType}
        custom = db.session.scalar(select(PrintTemplate).where(PrintTemplate.name == CUSTOM_ORDER_NAME))
        assert custom.doc_type == "order" and not custom.is_default

        share = db.session.scalar(select(QuoteShare))
        assert share is not None and share.revoked_at is None and share.expires_at > clock.now
