"""The FAQ: questions and answers (Markdown) in categories, in the owner's order, each published or not.

``/faq`` and the assistant read the published entries from ``faq_entries``. Every change re-indexes the
FAQ into the knowledge engine in the same transaction (``ai.knowledge.index_faq``), so the assistant
answers from the new text at once; an answer the assistant may not hold (an email address or a phone
number) is refused before anything is written.
"""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.errors import NotFound, ValidationFailed
from nexdrive.models import FaqEntry
from nexdrive.services.ai import knowledge
from nexdrive.services.content._common import block, flag, one_line, slugify
from nexdrive.services.core import access
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.audit import record_event

ROUTE = "/faq"
# The question whose answer the page completes with the live cancellation policy (business settings).
CANCELLATION_KEY = "booking-2"
MAX_QUESTION = 200
MAX_ANSWER = 4000
MAX_CATEGORY = 60


def anchor(category: str) -> str:
    """The page anchor of a category: ``faq-log-book-and-supervised-hours``."""
    return "faq-" + (slugify(category) or "general")


def _view(row: FaqEntry) -> dict[str, Any]:
    return {"id": str(row.id), "key": row.key, "category": row.category, "question": row.question,
            "answer": row.answer, "position": row.position, "published": row.is_published,
            "anchor": anchor(row.category)}


def _published(session: Session) -> list[FaqEntry]:
    return list(session.exec(select(FaqEntry).where(FaqEntry.is_published)
                             .order_by(FaqEntry.position, FaqEntry.created_at, FaqEntry.key)))


def public_groups(session: Session) -> list[dict[str, Any]]:
    """The published entries grouped by category, categories in the order of their first entry."""
    groups: dict[str, dict[str, Any]] = {}
    for row in _published(session):
        group = groups.setdefault(row.category, {"title": row.category, "anchor": anchor(row.category),
                                                 "items": []})
        group["items"].append(_view(row))
    return list(groups.values())


def knowledge_entries(session: Session) -> list[dict[str, str]]:
    """The published entries as the assistant's FAQ documents ({"key", "question", "answer", "url"})."""
    return [{"key": r.key, "question": r.question, "answer": r.answer, "url": f"{ROUTE}#{anchor(r.category)}"}
            for r in _published(session)]


def list_entries(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every entry, published or not, in page order (the office's editor)."""
    access.require_edit_content(actor)
    rows = session.exec(select(FaqEntry).order_by(FaqEntry.position, FaqEntry.created_at, FaqEntry.key)).all()
    return [_view(r) for r in rows]


def _clean(category: Any, question: Any, answer: Any, position: Any) -> dict[str, Any]:
    clean = {
        "category": one_line(category, "category", "category", limit=MAX_CATEGORY),
        "question": one_line(question, "question", "question", limit=MAX_QUESTION),
        "answer": block(answer, "answer", "answer", limit=MAX_ANSWER, minimum=10),
    }
    if len(clean["question"]) < 5:
        raise ValidationFailed("Please write the question in full.", field="question")
    if position not in (None, ""):
        try:
            clean["position"] = int(str(position).strip())
        except ValueError:
            raise ValidationFailed("The order must be a whole number.", field="position") from None
        if not 0 <= clean["position"] <= 100_000:
            raise ValidationFailed("The order must be between 0 and 100000.", field="position")
    try:  # the assistant holds every published answer: no personal data in it
        knowledge.check_public(knowledge.SourceDocument("faq:check", clean["question"], "faq", clean["answer"]))
    except ValidationFailed as exc:
        raise ValidationFailed("An FAQ answer must not contain email addresses or phone numbers: the contact "
                               "page and the site's footer give them.", field="answer") from exc
    return clean


def _reindex(session: Session, actor: Actor) -> dict:
    return knowledge.index_faq(session, actor, knowledge_entries(session))


def save_entry(session: Session, actor: Actor, *, category: Any, question: Any, answer: Any,
               position: Any = None, published: Any = True, entry_id: uuid.UUID | str | None = None
               ) -> dict[str, Any]:
    """Add an entry (no ``entry_id``; placed last unless ``position`` is given) or change one; audited and
    re-indexed into the assistant's knowledge in the same transaction."""
    access.require_edit_content(actor)
    clean = _clean(category, question, answer, position)
    clean["is_published"] = flag(published)
    if entry_id:
        row = session.get(FaqEntry, uuid.UUID(str(entry_id)))
        if row is None:
            raise NotFound("That question is not in the FAQ.")
        before = _view(row)
        for name, value in clean.items():
            setattr(row, name, value)
        session.add(row)
        session.flush()
        after = _view(row)
        changed = {k: after[k] for k in after if after[k] != before[k]}
        if changed:
            record_event(session, actor, "FAQ_ENTRY_UPDATED", subject_type="faq_entry", subject_id=row.id,
                         details={"key": row.key, "before": {k: before[k] for k in changed}, "after": changed})
    else:
        if "position" not in clean:
            last = session.execute(sa.select(sa.func.max(FaqEntry.position))).scalar()
            clean["position"] = (last or 0) + 10
        base = slugify(clean["question"])[:40].strip("-") or "question"
        key, n = base, 2
        while session.exec(select(FaqEntry.id).where(FaqEntry.key == key)).first() is not None:
            key, n = f"{base}-{n}", n + 1
        row = FaqEntry(key=key, **clean)
        session.add(row)
        session.flush()
        record_event(session, actor, "FAQ_ENTRY_CREATED", subject_type="faq_entry", subject_id=row.id,
                     details={"after": _view(row)})
    _reindex(session, actor)
    return _view(row)


def delete_entry(session: Session, actor: Actor, entry_id: uuid.UUID | str) -> None:
    """Remove an entry from the FAQ (and from the assistant's knowledge)."""
    access.require_edit_content(actor)
    row = session.get(FaqEntry, uuid.UUID(str(entry_id)))
    if row is None:
        raise NotFound("That question is not in the FAQ.")
    record_event(session, actor, "FAQ_ENTRY_DELETED", subject_type="faq_entry", subject_id=row.id,
                 details={"before": _view(row)})
    session.delete(row)
    session.flush()
    _reindex(session, actor)
