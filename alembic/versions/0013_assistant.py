"""The assistant (issue 15): knowledge documents keyed by their source; conversation state per thread.

* ``rag_documents.source_key``: a stable key of where the document comes from
  (``faq:logbook-0``, ``service:<id>``, ``policy:cancellation``, ``act:learner-hours``...), so re-indexing
  updates a document in place instead of adding a copy; ``source_url`` is the public page it
  cites; ``content_hash`` lets re-indexing skip unchanged documents.
* ``conversations.assistant_state``: what the assistant is waiting for in a thread (the times it
  offered, the hold it made), kept between messages of an SMS or web-chat conversation.

Revision ID: 0013
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rag_documents", sa.Column("source_key", sa.Text(), nullable=True))
    op.add_column("rag_documents", sa.Column("source_url", sa.Text(), nullable=True))
    op.add_column("rag_documents", sa.Column("content_hash", sa.Text(), nullable=True))
    op.create_index("uq_rag_documents_source_key", "rag_documents", ["source_key"], unique=True,
                    postgresql_where=sa.text("source_key IS NOT NULL"))
    op.add_column("conversations", sa.Column("assistant_state", postgresql.JSONB(astext_type=sa.Text()),
                                             server_default=sa.text("'{}'::jsonb"), nullable=False))


def downgrade() -> None:
    op.drop_column("conversations", "assistant_state")
    op.drop_index("uq_rag_documents_source_key", table_name="rag_documents")
    for column in ("content_hash", "source_url", "source_key"):
        op.drop_column("rag_documents", column)
