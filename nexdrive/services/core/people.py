"""Who else a typed phone or email might belong to: a hint for staff, never a link.

A booking, enquiry or SMS from someone not signed in is never attached to an existing person because
a detail matches (docs/decisions/0011-whose-booking.md); staff see "possibly the same person as …"
and merge on purpose.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Session


def possible_matches(session: Session, *, phone: str | None, email: str | None,
                     exclude_contact_id: uuid.UUID | None = None, limit: int = 3) -> list[str]:
    """Names of learners and contacts who share this phone or email (for staff: "possibly the same person")."""
    if not phone and not email:
        return []
    rows = session.execute(sa.text("""
        SELECT name FROM (
            SELECT 0 AS k, p.first_name || ' ' || p.last_name AS name, p.created_at AS at
            FROM students s JOIN profiles p ON p.id = s.profile_id
            WHERE (p.phone = :ph OR lower(p.email) = :em)
            UNION ALL
            SELECT 1, c.full_name, c.created_at FROM contacts c
            WHERE c.deleted_at IS NULL AND c.id IS DISTINCT FROM :cid AND c.full_name IS NOT NULL
              AND (c.phone = :ph OR lower(c.email) = :em)
        ) m ORDER BY k, at"""), {"ph": phone or "", "em": (email or "").lower(), "cid": exclude_contact_id}).all()
    names: list[str] = []
    for (name,) in rows:
        name = " ".join((name or "").split())
        if name and name not in names:
            names.append(name)
    return names[:limit]
