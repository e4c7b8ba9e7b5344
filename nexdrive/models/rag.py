"""Knowledge base: rag_documents and rag_chunks.

Embeddings are 1,536-dimensional (docs/decisions/0010-vectors.md) with an HNSW cosine index;
``content_tsv`` is a generated ``tsvector`` (English) with a GIN index, used
for full-text retrieval when no embeddings exist and for hybrid search.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlmodel import Field, SQLModel

from nexdrive.models.base import (
    check,
    check_in,
    created_at_field,
    fk_field,
    int_field,
    text_field,
    ts_field,
    updated_at_field,
    uuid_pk,
)

EMBEDDING_DIMENSIONS = 1536
SOURCE_TYPES = ("regulation", "business", "educational", "faq", "blog", "template", "hub")  # hub: 0023
DOCUMENT_STATUSES = ("pending", "processing", "indexed", "failed", "archived")


def _metadata_field() -> Any:
    # The column is called "metadata" as in the spec; the attribute is ``meta``
    # because ``metadata`` is reserved on declarative classes.
    return Field(
        default_factory=dict,
        sa_column=sa.Column(
            "metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
    )


class RagDocument(SQLModel, table=True):
    __tablename__ = "rag_documents"
    __table_args__ = (
        sa.Index("idx_rag_documents_status", "status"),
        sa.Index("uq_rag_documents_source_key", "source_key", unique=True,
                 postgresql_where=sa.text("source_key IS NOT NULL")),
        check_in("source_type", SOURCE_TYPES),
        check_in("status", DOCUMENT_STATUSES),
    )

    id: uuid.UUID = uuid_pk()
    title: str = text_field(nullable=False)
    source_type: str = text_field(nullable=False)
    file_url: Optional[str] = text_field()  # storage key of the original file
    status: str = text_field(nullable=False, default="pending")
    chunk_count: int = int_field(nullable=False, default=0)
    last_indexed_at: Optional[datetime] = ts_field()
    meta: dict[str, Any] = _metadata_field()
    # Where it comes from (0013): 'faq:...', 'service:<id>', 'policy:...', 'act:...'; re-indexing updates in place.
    source_key: Optional[str] = text_field()
    source_url: Optional[str] = text_field()  # the public page an answer cites
    content_hash: Optional[str] = text_field()  # unchanged documents are not re-chunked
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class RagChunk(SQLModel, table=True):
    __tablename__ = "rag_chunks"
    __table_args__ = (
        sa.Index("idx_rag_chunks_document", "document_id"),
        sa.UniqueConstraint("document_id", "chunk_index", name="uq_rag_chunks_document_chunk"),
        sa.Index(
            "idx_rag_chunks_embedding",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        sa.Index("idx_rag_chunks_content_tsv", "content_tsv", postgresql_using="gin"),
        check("chunk_index >= 0", "chunk_index"),
    )

    id: uuid.UUID = uuid_pk()
    document_id: uuid.UUID = fk_field("rag_documents.id", nullable=False, ondelete="CASCADE", index=False)
    content: str = text_field(nullable=False)
    chunk_index: int = int_field(nullable=False)
    embedding: Optional[list[float]] = Field(
        default=None, sa_column=sa.Column(Vector(EMBEDDING_DIMENSIONS), nullable=True)
    )
    embedding_model: Optional[str] = text_field()
    content_tsv: Optional[Any] = Field(
        default=None,
        sa_column=sa.Column(
            TSVECTOR,
            sa.Computed("to_tsvector('english'::regconfig, content)", persisted=True),
        ),
    )
    meta: dict[str, Any] = _metadata_field()
    created_at: datetime = created_at_field()
