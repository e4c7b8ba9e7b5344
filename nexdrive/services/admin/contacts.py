"""The CRM screens (C09) for the administrator: contacts, the pipeline, one contact's interactions,
create and edit, convert a prospect into an enrolled learner, and merge two contacts on purpose.

Nothing here merges by itself: :func:`contact_record` lists "possibly the same person as …"
(other contacts sharing a phone, an email or a name, or whose bookings were typed with this
contact's details); the administrator picks one and calls :func:`merge_contacts`.
Every change is audited. All of it is the administrator's alone (``access.require_admin``).
"""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.errors import InvalidState, NotFound, ValidationFailed
from nexdrive.formats import au_when, aud, format_au_phone, normalise_au_phone, normalise_email
from nexdrive.models import Contact, Student
from nexdrive.models.crm import LIFECYCLE_STAGES
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.audit import record_event
from nexdrive.services.core.people import possible_matches
from nexdrive.services.crm.contacts import SOURCES
from nexdrive.services.identity import accounts

PAGE = 25
MAX_PAGE = 100
PIPELINE_CARDS = 25
STAGE_LABELS = {"prospect": "Prospect", "lead": "Lead", "qualified": "Qualified", "enrolled": "Enrolled",
                "active": "Active", "completed": "Completed", "alumni": "Alumni", "lost": "Lost"}
EDITABLE = ("first_name", "last_name", "phone", "email", "lifecycle_stage", "source", "source_detail",
            "utm_source", "utm_medium", "utm_campaign", "notes")
# Tables whose rows belong to a contact and move with a merge (issued invoices keep their buyer).
_OWNED_BY_CONTACT = (("bookings", "contact_id"), ("payments", "contact_id"), ("call_logs", "contact_id"),
                     ("conversations", "contact_id"), ("waitlist", "contact_id"),
                     ("voucher_redemptions", "contact_id"), ("marketing_consents", "contact_id"),
                     ("outbox_messages", "contact_id"), ("notifications", "recipient_contact_id"))


def _uuid(value: Any, field: str = "contact_id") -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError):
        raise ValidationFailed("That is not a valid contact.", field=field) from None


def _live(session: Session, contact_id: Any, *, lock: bool = False) -> Contact:
    contact = session.get(Contact, _uuid(contact_id), with_for_update=lock)
    if contact is None or contact.deleted_at is not None:
        raise NotFound("No such contact.")
    return contact


def _summary(c: Contact) -> dict:
    return {"id": str(c.id), "name": c.full_name or "Unnamed", "first_name": c.first_name or "",
            "last_name": c.last_name or "", "phone": format_au_phone(c.phone) if c.phone else "",
            "email": c.email or "", "stage": c.lifecycle_stage, "stage_label": STAGE_LABELS[c.lifecycle_stage],
            "source": c.source or "", "source_detail": c.source_detail or "", "utm_source": c.utm_source or "",
            "utm_medium": c.utm_medium or "", "utm_campaign": c.utm_campaign or "", "notes": c.notes or "",
            "lead_score": c.lead_score, "interactions": c.total_interactions,
            "first_contact": au_when(c.first_contact_at), "last_contact": au_when(c.last_contact_at),
            "user_id": str(c.user_id) if c.user_id else ""}


def list_contacts(session: Session, actor: Actor, *, q: str = "", stage: str = "", source: str = "",
                  limit: int = PAGE, offset: int = 0) -> dict:
    """Live contacts, most recently in touch first, with search (name, email, phone) and filters."""
    access.require_admin(actor)
    if stage and stage not in LIFECYCLE_STAGES:
        raise ValidationFailed("Unknown stage.", field="stage")
    limit, offset = max(1, min(int(limit), MAX_PAGE)), max(0, int(offset))
    query = select(Contact).where(Contact.deleted_at.is_(None))
    if stage:
        query = query.where(Contact.lifecycle_stage == stage)
    if source:
        query = query.where(Contact.source == source)
    text = " ".join((q or "").split())[:100]
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds = [Contact.full_name.ilike(like), Contact.email.ilike(like)]
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) >= 4:
            conds.append(Contact.phone.like("%" + (digits[1:] if digits.startswith("0") else digits) + "%"))
        query = query.where(sa.or_(*conds))
    total = session.exec(select(sa.func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Contact.last_contact_at.desc(), Contact.id).limit(limit).offset(offset)).all()
    return {"items": [_summary(c) for c in rows], "total": int(total), "limit": limit, "offset": offset,
            "stages": [{"value": s, "label": STAGE_LABELS[s]} for s in LIFECYCLE_STAGES], "sources": list(SOURCES)}


def pipeline(session: Session, actor: Actor) -> list[dict]:
    """A column per lifecycle stage: how many contacts, and the most recent ones."""
    access.require_admin(actor)
    counts = dict(session.execute(sa.text("""
        SELECT lifecycle_stage, count(*) FROM contacts WHERE deleted_at IS NULL GROUP BY 1""")).all())
    columns = []
    for stage in LIFECYCLE_STAGES:
        rows = session.exec(select(Contact).where(Contact.deleted_at.is_(None), Contact.lifecycle_stage == stage)
                            .order_by(Contact.last_contact_at.desc(), Contact.id).limit(PIPELINE_CARDS)).all()
        columns.append({"stage": stage, "label": STAGE_LABELS[stage], "count": int(counts.get(stage, 0)),
                        "contacts": [_summary(c) for c in rows]})
    return columns


def merge_candidates(session: Session, contact: Contact) -> list[dict]:
    """Other live contacts that may be this person: same phone, email or name, or a booking of one typed
    with the other's phone or email. A hint for the administrator; nothing is merged here."""
    rows = session.execute(sa.text("""
        SELECT DISTINCT c.id, c.full_name, c.phone, c.email, c.created_at FROM contacts c
        WHERE c.deleted_at IS NULL AND c.id <> :id AND (
              c.phone = CAST(:phone AS text)
           OR lower(c.email) = lower(CAST(:email AS text))
           OR lower(c.full_name) = lower(CAST(:name AS text))
           OR EXISTS (SELECT 1 FROM bookings b WHERE b.contact_id = c.id
                      AND (b.booker_phone = CAST(:phone AS text)
                           OR lower(b.booker_email) = lower(CAST(:email AS text))))
           OR EXISTS (SELECT 1 FROM bookings b WHERE b.contact_id = :id
                      AND (b.booker_phone = c.phone OR lower(b.booker_email) = lower(c.email))))
        ORDER BY c.created_at, c.id LIMIT 10"""),
        {"id": contact.id, "phone": contact.phone, "email": contact.email, "name": contact.full_name}).all()
    return [{"id": str(r.id), "name": r.full_name or "Unnamed", "phone": format_au_phone(r.phone) if r.phone else "",
             "email": r.email or ""} for r in rows]


def contact_record(session: Session, actor: Actor, contact_id: Any) -> dict:
    """One contact with every interaction (enquiries, calls, messages, bookings, payments), newest first."""
    access.require_admin(actor)
    c = _live(session, contact_id)
    events: list[tuple] = []
    if c.source_detail and c.source_detail.startswith("Enquiry form:"):
        events.append((c.first_contact_at, "enquiry", "Enquiry", c.source_detail.removeprefix("Enquiry form:").strip()))
    for r in session.execute(sa.text("""
            SELECT started_at, outcome, summary, caller_reason, requires_callback, callback_completed_at
            FROM call_logs WHERE contact_id = :id"""), {"id": c.id}).all():
        wait = " (waiting for a call back)" if r.requires_callback and not r.callback_completed_at else ""
        events.append((r.started_at, "call", f"Call, {r.outcome}{wait}", r.summary or r.caller_reason or ""))
    for r in session.execute(sa.text("""
            SELECT m.created_at, m.direction, m.content, v.channel FROM messages m
            JOIN conversations v ON v.id = m.conversation_id WHERE v.contact_id = :id"""), {"id": c.id}).all():
        events.append((r.created_at, "message", f"{r.channel.upper() if r.channel == 'sms' else r.channel} "
                       f"{'from them' if r.direction == 'inbound' else 'to them'}", r.content[:300]))
    for r in session.execute(sa.text("""
            SELECT b.created_at, b.start_time, b.end_time, b.status, sv.name FROM bookings b
            JOIN services sv ON sv.id = b.service_id WHERE b.contact_id = :id"""), {"id": c.id}).all():
        events.append((r.created_at, "booking", f"Booking: {r.name} ({r.status.replace('_', ' ')})",
                       au_when(r.start_time, r.end_time)))
    for r in session.execute(sa.text("""
            SELECT created_at, amount_cents, status, description FROM payments WHERE contact_id = :id"""),
            {"id": c.id}).all():
        events.append((r.created_at, "payment", f"Payment {aud(r.amount_cents)} ({r.status.replace('_', ' ')})",
                       r.description or ""))
    for r in session.execute(sa.text("""
            SELECT created_at, channel, template, subject, status FROM outbox_messages
            WHERE contact_id = :id OR (related_type = 'contact' AND related_id = :id)"""), {"id": c.id}).all():
        events.append((r.created_at, "outgoing", f"{r.channel} sent ({r.status})", r.subject or r.template or ""))
    events.sort(key=lambda e: e[0], reverse=True)
    student_id = ""
    if c.user_id:
        sid = session.exec(select(Student.id).where(Student.user_id == c.user_id)).first()
        student_id = str(sid) if sid else ""
    candidates = merge_candidates(session, c)
    same = [x["name"] for x in candidates]
    for name in possible_matches(session, phone=c.phone, email=c.email, exclude_contact_id=c.id):
        if name not in same and name != c.full_name:
            same.append(name)  # a learner with this phone or email
    return {**_summary(c), "student_id": student_id, "possibly_same": same, "candidates": candidates,
            "interactions": [{"when": au_when(at), "kind": kind, "title": title, "detail": detail}
                             for at, kind, title, detail in events]}


def _clean(session: Session, data: dict, *, current: Contact | None = None) -> dict:
    """Validated, normalised fields; errors name their field (shown next to it)."""
    out: dict[str, Any] = {}
    for key in EDITABLE:
        if key not in data:
            continue
        value = " ".join(str(data.get(key) or "").split()) if key != "notes" else str(data.get(key) or "").strip()
        out[key] = value or None
    if "first_name" in out and not out["first_name"] and current is None:
        raise ValidationFailed("Please enter a first name.", field="first_name")
    for key in ("first_name", "last_name", "source_detail", "utm_source", "utm_medium", "utm_campaign"):
        if out.get(key) and len(out[key]) > 100 + (200 if key == "source_detail" else 0):
            raise ValidationFailed("That is too long.", field=key)
    if out.get("notes") and len(out["notes"]) > 4000:
        raise ValidationFailed("Please keep the notes under 4,000 characters.", field="notes")
    if out.get("phone"):
        out["phone"] = normalise_au_phone(out["phone"], field="phone")
    if out.get("email"):
        try:
            out["email"] = normalise_email(out["email"])
        except ValidationFailed:
            raise ValidationFailed("Please enter a valid email address.", field="email") from None
    phone = out["phone"] if "phone" in out else (current.phone if current else None)
    email = out["email"] if "email" in out else (current.email if current else None)
    if not phone and not email:
        raise ValidationFailed("Please give a phone number or an email address.", field="phone")
    if "lifecycle_stage" in out:
        out["lifecycle_stage"] = out["lifecycle_stage"] or "lead"
        if out["lifecycle_stage"] not in LIFECYCLE_STAGES:
            raise ValidationFailed("Unknown stage.", field="lifecycle_stage")
    if out.get("source") and out["source"] not in SOURCES:
        raise ValidationFailed("Unknown source.", field="source")
    me = current.id if current else None
    if out.get("phone"):
        other = session.exec(select(Contact).where(Contact.phone == out["phone"], Contact.deleted_at.is_(None),
                                                   Contact.id != me if me else sa.true())).first()
        if other is not None:
            raise ValidationFailed(f"This phone number belongs to {other.full_name or 'another contact'}: "
                                   "open that contact, or merge the two.", field="phone", contact_id=str(other.id))
    if out.get("email"):
        other = session.exec(select(Contact).where(sa.func.lower(Contact.email) == out["email"],
                                                   Contact.deleted_at.is_(None),
                                                   Contact.id != me if me else sa.true())).first()
        if other is not None:
            raise ValidationFailed(f"This email belongs to {other.full_name or 'another contact'}: "
                                   "open that contact, or merge the two.", field="email", contact_id=str(other.id))
    return out


def create_contact(session: Session, actor: Actor, data: dict) -> dict:
    """Add a contact by hand (a phone call, a walk-in). Phone: an Australian number (stored +61...)."""
    access.require_admin(actor)
    fields = _clean(session, {"source": "admin", "lifecycle_stage": "lead", **data})
    contact = Contact(**fields)
    session.add(contact)
    session.flush()
    session.refresh(contact)
    record_event(session, actor, "CONTACT_CREATED", subject_type="contact", subject_id=contact.id,
                 details={"stage": contact.lifecycle_stage, "source": contact.source})
    return _summary(contact)


def update_contact(session: Session, actor: Actor, contact_id: Any, changes: dict) -> dict:
    access.require_admin(actor)
    contact = _live(session, contact_id, lock=True)
    fields = _clean(session, changes, current=contact)
    if "first_name" in fields and not fields["first_name"]:
        raise ValidationFailed("Please enter a first name.", field="first_name")
    changed = {k: v for k, v in fields.items() if getattr(contact, k) != v}
    for key, value in changed.items():
        setattr(contact, key, value)
    if changed:
        session.add(contact)
        session.flush()
        session.refresh(contact)
        record_event(session, actor, "CONTACT_UPDATED", subject_type="contact", subject_id=contact.id,
                     details={"fields": sorted(changed)})
    return _summary(contact)


def merge_contacts(session: Session, actor: Actor, *, keep_id: Any, merge_id: Any) -> dict:
    """The administrator's decision that two contacts are one person: everything of ``merge_id`` moves to
    ``keep_id`` (bookings, payments, calls, conversations, messages...), gaps in ``keep_id`` are filled
    from it, and ``merge_id`` is retired (soft-deleted, with a note). Audited."""
    access.require_admin(actor)
    keep_uuid, merge_uuid = _uuid(keep_id, "keep_id"), _uuid(merge_id, "merge_id")
    if keep_uuid == merge_uuid:
        raise ValidationFailed("Choose two different contacts.", field="merge_id")
    first, second = sorted((keep_uuid, merge_uuid))  # one lock order
    _live(session, first, lock=True)
    _live(session, second, lock=True)
    keep, gone = session.get(Contact, keep_uuid), session.get(Contact, merge_uuid)
    if keep.user_id and gone.user_id and keep.user_id != gone.user_id:
        raise InvalidState("Both contacts have their own account; they are two people in the system.")
    moved = {}
    for table, column in _OWNED_BY_CONTACT:
        moved[table] = session.execute(sa.text(f"UPDATE {table} SET {column} = :keep WHERE {column} = :gone"),
                                       {"keep": keep.id, "gone": gone.id}).rowcount
    now = clock.now(session)
    phone, email, notes = gone.phone, gone.email, gone.notes
    gone.phone, gone.email, gone.deleted_at = None, None, now
    gone.notes = "\n".join(x for x in (notes, f"Merged into {keep.full_name or keep.id}.") if x)
    session.add(gone)
    session.flush()
    for key in ("first_name", "last_name", "source", "source_detail", "utm_source", "utm_medium", "utm_campaign",
                "user_id", "instructor_id"):
        if not getattr(keep, key) and getattr(gone, key):
            setattr(keep, key, getattr(gone, key))
    keep.phone = keep.phone or phone
    keep.email = keep.email or email
    if notes:
        keep.notes = "\n".join(x for x in (keep.notes, notes) if x)
    ranks = {s: i for i, s in enumerate(LIFECYCLE_STAGES)}
    if keep.lifecycle_stage == "lost" or (gone.lifecycle_stage != "lost"
                                          and ranks[gone.lifecycle_stage] > ranks[keep.lifecycle_stage]):
        keep.lifecycle_stage = gone.lifecycle_stage
    keep.first_contact_at = min(keep.first_contact_at, gone.first_contact_at)
    keep.last_contact_at = max(keep.last_contact_at, gone.last_contact_at)
    keep.total_interactions = (keep.total_interactions or 0) + (gone.total_interactions or 0)
    session.add(keep)
    session.flush()
    session.refresh(keep)
    record_event(session, actor, "CONTACTS_MERGED", subject_type="contact", subject_id=keep.id,
                 details={"merged_contact_id": str(gone.id), "moved": moved})
    return {**_summary(keep), "moved": moved}


def convert_to_learner(session: Session, actor: Actor, contact_id: Any, *, instructor_id: Any = None,
                       first_name: str | None = None, last_name: str | None = None) -> dict:
    """Enrol a prospect: a learner account (``identity.accounts.invite_student``: the invitation email
    with a choose-your-password link), the contact linked to it and marked enrolled, and the
    contact's bookings and payments made before the account attached to the new learner. Audited."""
    access.require_admin(actor)
    contact = _live(session, contact_id, lock=True)
    if contact.user_id:
        raise InvalidState("This contact already has an account.")
    if not contact.email:
        raise ValidationFailed("Add the contact's email address first: the invitation goes there.", field="email")
    first = " ".join((first_name or contact.first_name or "").split())
    last = " ".join((last_name or contact.last_name or "").split())
    if not first:
        raise ValidationFailed("Please enter a first name.", field="first_name")
    if not last:
        raise ValidationFailed("Please enter a last name: learner records need both.", field="last_name")
    ins = None
    if instructor_id not in (None, ""):
        ins = _uuid(instructor_id, "instructor_id")
    mobile = contact.phone if contact.phone and contact.phone.startswith("+614") else None
    invitation = accounts.invite_student(session, actor, email=contact.email, first_name=first, last_name=last,
                                         phone=mobile, instructor_id=ins)
    contact.user_id = invitation.user_id
    contact.first_name, contact.last_name = first, last
    contact.lifecycle_stage = "enrolled"
    student = session.get(Student, invitation.student_id)
    contact.instructor_id = student.instructor_id
    session.add(contact)
    session.flush()
    attached = {}
    for table in ("bookings", "payments"):
        attached[table] = session.execute(sa.text(
            f"UPDATE {table} SET student_id = :sid WHERE contact_id = :cid AND student_id IS NULL"),
            {"sid": student.id, "cid": contact.id}).rowcount
    record_event(session, actor, "CONTACT_CONVERTED", subject_type="contact", subject_id=contact.id,
                 details={"student_id": str(student.id), "user_id": str(invitation.user_id), "attached": attached})
    return {"contact_id": str(contact.id), "student_id": str(student.id), "user_id": str(invitation.user_id),
            "attached": attached, "invite_token": invitation.token}


__all__ = ["STAGE_LABELS", "contact_record", "convert_to_learner", "create_contact", "list_contacts",
           "merge_candidates", "merge_contacts", "pipeline", "update_contact"]
