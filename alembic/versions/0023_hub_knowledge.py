"""The assistant indexes the Competency Hub (issues 14 and 15): ``rag_documents.source_type`` may be 'hub'.

Hub pages are indexed under ``hub:<slug>`` with their public page ``/hub/<slug>`` as the source an answer
cites; the words stay in the Hub's data files (``nexdrive/data/hub``), re-indexing follows them.

Revision ID: 0023
Revises: 0014 (the coordinator re-chains when merging)
"""
from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0014"
branch_labels = None
depends_on = None

_OLD = ("regulation", "business", "educational", "faq", "blog", "template")
_NEW = _OLD + ("hub",)


def _check(values: tuple[str, ...]) -> None:
    op.execute("ALTER TABLE rag_documents DROP CONSTRAINT ck_rag_documents_source_type")
    op.execute("ALTER TABLE rag_documents ADD CONSTRAINT ck_rag_documents_source_type CHECK (source_type IN ("
               + ", ".join(f"'{v}'" for v in values) + "))")


def upgrade() -> None:
    _check(_NEW)


def downgrade() -> None:
    op.execute("DELETE FROM rag_documents WHERE source_type = 'hub'")
    _check(_OLD)
