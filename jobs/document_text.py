"""文档中心: the text of uploaded versions taken out for search (rules/document_text.py), in a
job so a large PDF never holds up a web request. Idempotent: a version already read is skipped,
and only the document's current version writes its search row."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from jobs.queue import job_app_context
from models import db
from models.document import Document, DocumentVersion, TextStatus
from rules import document_search, document_text, file_store

PENDING_BATCH = 200


def _extract(version: DocumentVersion) -> None:
    try:
        path = file_store.path_of(current_app.config["FILES_DIR"], version.storage_key)
        found = document_text.extract(path, version.file_kind, version.mime) if path.is_file() else None
    except FileNotFoundError:
        found = None
    version.text_status = found.status if found else TextStatus.FAILED
    document = db.session.get(Document, version.document_id)
    if document is not None and document.current_version == version.number:
        document_search.refresh(db.session, document, text_=found.text if found else "")


def extract_version(version_id: int) -> str:
    with job_app_context():
        version = db.session.get(DocumentVersion, version_id)
        if version is None or version.text_status != TextStatus.PENDING:
            return "skipped"
        _extract(version)
        db.session.commit()
        return str(version.text_status)


def extract_pending() -> int:
    """Versions still waiting (the queue was down at upload, a worker died): read them now."""
    with job_app_context():
        ids = list(db.session.scalars(select(DocumentVersion.id).where(
            DocumentVersion.text_status == TextStatus.PENDING).order_by(DocumentVersion.id).limit(PENDING_BATCH)))
        for version_id in ids:
            version = db.session.get(DocumentVersion, version_id)
            _extract(version)
            db.session.commit()
        return len(ids)
