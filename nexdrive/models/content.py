"""The public website's content the owner edits: FAQ entries, testimonials (with the person's consent) and
blog posts (Markdown)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import SQLModel

from nexdrive.models.base import (
    bool_field,
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

POST_STATUSES = ("draft", "published")


class FaqEntry(SQLModel, table=True):
    """One question and its answer on ``/faq`` (and in the assistant's knowledge base as ``faq:<key>``)."""
    __tablename__ = "faq_entries"
    __table_args__ = (
        sa.Index("idx_faq_entries_position", "position"),
    )

    id: uuid.UUID = uuid_pk()
    key: str = text_field(nullable=False, unique=True)  # stable: 'logbook-0', the page anchor and the index key
    category: str = text_field(nullable=False)  # the group heading on the page
    question: str = text_field(nullable=False)
    answer: str = text_field(nullable=False)  # Markdown (plain text is valid Markdown)
    position: int = int_field(nullable=False, default=0)
    is_published: bool = bool_field(default=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Testimonial(SQLModel, table=True):
    """A review shown on the site. Published only while the person's consent is recorded and not withdrawn
    (a CHECK in the database, too)."""
    __tablename__ = "testimonials"
    __table_args__ = (
        check("rating IS NULL OR rating BETWEEN 1 AND 5", "rating"),
        check("NOT is_published OR (consent_given_by IS NOT NULL AND consent_given_at IS NOT NULL "
              "AND consent_method IS NOT NULL AND consent_withdrawn_at IS NULL)", "published_with_consent"),
        sa.Index("idx_testimonials_position", "position"),
    )

    id: uuid.UUID = uuid_pk()
    quote: str = text_field(nullable=False)
    display_name: str = text_field(nullable=False)  # as shown: a first name
    suburb: Optional[str] = text_field()
    role: Optional[str] = text_field()  # 'Learner', 'Parent', ...
    highlight: Optional[str] = text_field()  # a short label: what the review is about
    rating: Optional[int] = int_field()
    consent_given_by: Optional[str] = text_field()  # who gave consent (the person, or a parent for a minor)
    consent_given_at: Optional[datetime] = ts_field()
    consent_method: Optional[str] = text_field()  # how: 'email 3 Dec 2026', 'signed form', ...
    consent_withdrawn_at: Optional[datetime] = ts_field()
    is_published: bool = bool_field(default=False)
    is_sample: bool = bool_field(default=False)  # written by the school as an example, not a real person
    position: int = int_field(nullable=False, default=0)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class BlogPost(SQLModel, table=True):
    """A blog post: Markdown body; public only when published."""
    __tablename__ = "blog_posts"
    __table_args__ = (
        check_in("status", POST_STATUSES),
        check("status <> 'published' OR published_at IS NOT NULL", "published_at"),
        sa.Index("idx_blog_posts_published", "status", "published_at"),
    )

    id: uuid.UUID = uuid_pk()
    slug: str = text_field(nullable=False, unique=True)
    title: str = text_field(nullable=False)
    summary: str = text_field(nullable=False)
    body: str = text_field(nullable=False)  # Markdown
    category: str = text_field(nullable=False)
    status: str = text_field(nullable=False, default="draft")
    published_at: Optional[datetime] = ts_field()
    author_id: Optional[uuid.UUID] = fk_field("users.id", ondelete="SET NULL")
    author_name: str = text_field(nullable=False)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
