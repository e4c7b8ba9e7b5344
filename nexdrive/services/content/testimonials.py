"""Testimonials: a quote, the name as shown (a first name), suburb, rating, and the person's consent —
who gave it, when, and how (e.g. "email 3 Dec 2026").

A testimonial is shown on the site only while it is published, and it can be published only with
consent recorded and not withdrawn (checked here and by a CHECK in the database). Withdrawing consent
unpublishes it in the same transaction: the next page load no longer shows it. Every change is audited.
"""
from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.errors import InvalidState, NotFound, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, au_date_input, parse_au_date
from nexdrive.models import Testimonial
from nexdrive.services.content._common import block, flag, one_line
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.audit import record_event

MAX_QUOTE = 1200


def _has_consent(row: Testimonial) -> bool:
    return bool(row.consent_given_by and row.consent_given_at and row.consent_method
                and row.consent_withdrawn_at is None)


def _public(row: Testimonial) -> dict[str, Any]:
    return {"id": str(row.id), "quote": row.quote, "name": row.display_name, "suburb": row.suburb or "",
            "role": row.role or "", "highlight": row.highlight or "", "rating": row.rating or 0,
            "sample": row.is_sample}


def _view(row: Testimonial) -> dict[str, Any]:
    return {**_public(row), "published": row.is_published, "position": row.position,
            "consent_given_by": row.consent_given_by or "",
            "consent_date": au_date_input(row.consent_given_at.astimezone(BUSINESS_TZ).date())
            if row.consent_given_at else "",
            "consent_when": au_date(row.consent_given_at, weekday=False) if row.consent_given_at else "",
            "consent_method": row.consent_method or "",
            "consent_withdrawn": au_date(row.consent_withdrawn_at, weekday=False) if row.consent_withdrawn_at
            else "",
            "has_consent": _has_consent(row)}


def _visible_query():
    return (select(Testimonial).where(Testimonial.is_published, Testimonial.consent_withdrawn_at.is_(None),
                                      Testimonial.consent_given_at.is_not(None))
            .order_by(Testimonial.position, Testimonial.created_at))


def published(session: Session, limit: int | None = None) -> list[dict[str, Any]]:
    """What the site shows: published testimonials with consent, in the owner's order (first name, suburb)."""
    query = _visible_query()
    if limit:
        query = query.limit(limit)
    return [_public(r) for r in session.exec(query)]


def list_testimonials(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every testimonial with its consent record (the office's editor)."""
    access.require_edit_content(actor)
    rows = session.exec(select(Testimonial).order_by(Testimonial.position, Testimonial.created_at)).all()
    return [_view(r) for r in rows]


def _consent_at(session: Session, value: Any) -> datetime | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        day = parse_au_date(text)
    except ValueError:
        raise ValidationFailed("Enter the date consent was given as dd/mm/yyyy.", field="consent_date") from None
    if day > clock.now(session).astimezone(BUSINESS_TZ).date():
        raise ValidationFailed("Consent can't be given in the future.", field="consent_date")
    return datetime.combine(day, time(12), BUSINESS_TZ)


def save_testimonial(session: Session, actor: Actor, *, quote: Any, display_name: Any, suburb: Any = "",
                     role: Any = "", highlight: Any = "", rating: Any = None, consent_given_by: Any = "",
                     consent_date: Any = "", consent_method: Any = "", published: Any = False,
                     testimonial_id: uuid.UUID | str | None = None) -> dict[str, Any]:
    """Add a testimonial or change one. Publishing needs the consent record (who, when, how)."""
    access.require_edit_content(actor)
    clean: dict[str, Any] = {
        "quote": block(quote, "quote", "quote", limit=MAX_QUOTE, minimum=10),
        "display_name": one_line(display_name, "display_name", "name as shown", limit=40),
        "suburb": one_line(suburb, "suburb", "suburb", limit=60, required=False) or None,
        "role": one_line(role, "role", "role", limit=60, required=False) or None,
        "highlight": one_line(highlight, "highlight", "label", limit=40, required=False) or None,
        "consent_given_by": one_line(consent_given_by, "consent_given_by", "name of who gave consent",
                                     limit=120, required=False) or None,
        "consent_method": one_line(consent_method, "consent_method", "how consent was given", limit=120,
                                   required=False) or None,
        "consent_given_at": _consent_at(session, consent_date),
    }
    if rating in (None, "", 0, "0"):
        clean["rating"] = None
    else:
        try:
            clean["rating"] = int(str(rating).strip())
        except ValueError:
            raise ValidationFailed("The rating is a number of stars from 1 to 5.", field="rating") from None
        if not 1 <= clean["rating"] <= 5:
            raise ValidationFailed("The rating is a number of stars from 1 to 5.", field="rating")
    consent_fields = ("consent_given_by", "consent_given_at", "consent_method")
    if any(clean[f] for f in consent_fields) and not all(clean[f] for f in consent_fields):
        missing = next(f for f in consent_fields if not clean[f])
        field = "consent_date" if missing == "consent_given_at" else missing
        raise ValidationFailed("Record who gave consent, when and how (all three).", field=field)
    row = None
    if testimonial_id:
        row = session.get(Testimonial, uuid.UUID(str(testimonial_id)))
        if row is None:
            raise NotFound("That testimonial is not on file.")
    publish = flag(published)
    withdrawn = row is not None and row.consent_withdrawn_at is not None
    if publish and (not clean["consent_given_by"] or withdrawn):
        raise ValidationFailed("A testimonial can be published only with the person's consent recorded"
                               + (" (they withdrew it)." if withdrawn else ": who gave it, when and how."),
                               field="consent_given_by")
    clean["is_published"] = publish
    if row is None:
        last = session.execute(sa.select(sa.func.max(Testimonial.position))).scalar()
        row = Testimonial(position=(last or 0) + 10, **clean)
        session.add(row)
        session.flush()
        record_event(session, actor, "TESTIMONIAL_CREATED", subject_type="testimonial", subject_id=row.id,
                     details={"after": _audit(row)})
    else:
        before = _audit(row)
        for name, value in clean.items():
            setattr(row, name, value)
        if row.is_sample and any(before[k] != _audit(row)[k] for k in ("quote", "display_name")):
            row.is_sample = False  # the owner's own words now
        session.add(row)
        session.flush()
        after = _audit(row)
        changed = {k: after[k] for k in after if after[k] != before[k]}
        if changed:
            record_event(session, actor, "TESTIMONIAL_UPDATED", subject_type="testimonial", subject_id=row.id,
                         details={"before": {k: before[k] for k in changed}, "after": changed})
    return _view(row)


def _audit(row: Testimonial) -> dict[str, Any]:
    return {"quote": row.quote, "display_name": row.display_name, "suburb": row.suburb, "role": row.role,
            "highlight": row.highlight, "rating": row.rating, "consent_given_by": row.consent_given_by,
            "consent_given_at": row.consent_given_at.isoformat() if row.consent_given_at else None,
            "consent_method": row.consent_method, "published": row.is_published}


def withdraw_consent(session: Session, actor: Actor, testimonial_id: uuid.UUID | str, *, note: Any = ""
                     ) -> dict[str, Any]:
    """The person withdrew consent: record when, and unpublish at once (it can't be published again)."""
    access.require_edit_content(actor)
    row = session.get(Testimonial, uuid.UUID(str(testimonial_id)), with_for_update=True)
    if row is None:
        raise NotFound("That testimonial is not on file.")
    if row.consent_withdrawn_at is not None:
        raise InvalidState("Consent was already withdrawn for this testimonial.")
    row.consent_withdrawn_at = clock.now(session)
    was_published, row.is_published = row.is_published, False
    session.add(row)
    session.flush()
    record_event(session, actor, "TESTIMONIAL_CONSENT_WITHDRAWN", subject_type="testimonial", subject_id=row.id,
                 details={"was_published": was_published,
                          "note": one_line(note, "note", "note", limit=200, required=False)})
    return _view(row)


def delete_testimonial(session: Session, actor: Actor, testimonial_id: uuid.UUID | str) -> None:
    access.require_edit_content(actor)
    row = session.get(Testimonial, uuid.UUID(str(testimonial_id)))
    if row is None:
        raise NotFound("That testimonial is not on file.")
    record_event(session, actor, "TESTIMONIAL_DELETED", subject_type="testimonial", subject_id=row.id,
                 details={"before": _audit(row)})
    session.delete(row)
    session.flush()
