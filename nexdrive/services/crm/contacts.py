"""Contacts (CRM): everyone who enquires or books, de-duplicated by mobile and email.

Every channel (enquiry form, booking widget, REST API, SMS, voice) calls
:func:`record_contact`, so one person who calls, texts and books is one contact
with one history. Two concurrent calls for the same person queue on advisory
locks keyed by the normalised phone and email; unique partial indexes
(migration 0004) are the backstop.
"""
from __future__ import annotations


import functools
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, select

from nexdrive.db import row_values
from nexdrive.models import Contact, Student, User
from nexdrive.models.crm import LIFECYCLE_STAGES
from nexdrive.formats import e164_au_phone, format_au_phone, normalise_au_mobile, normalise_au_phone  # noqa: F401
from nexdrive.formats import normalise_email  # noqa: F401
from nexdrive.services.core.people import possible_matches  # noqa: F401 (staff see "possibly the same person")
from nexdrive.services.core import clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.messaging import notify
from nexdrive.errors import Forbidden, ValidationFailed

# Stages only move forward on a new interaction (a booking never demotes an active student).
_STAGE_RANK = {stage: rank for rank, stage in enumerate(LIFECYCLE_STAGES)}
SOURCES = ("website", "phone", "sms", "voice_agent", "referral", "google", "facebook", "walk_in", "admin", "other")
MAX_MESSAGE = 2000


@dataclass(frozen=True)
class Utm:
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None

    @classmethod
    def clean(cls, source=None, medium=None, campaign=None) -> "Utm":
        def c(v):
            v = (v or "").strip()[:100]
            return v or None
        return cls(c(source), c(medium), c(campaign))


def split_name(name: str | None, *, field: str = "name") -> tuple[str, str | None]:
    value = " ".join((name or "").split())
    if not value:
        raise ValidationFailed("Please enter your name.", field=field)
    if len(value) > 100:
        raise ValidationFailed("That name is too long.", field=field)
    first, _, last = value.partition(" ")
    return first, (last or None)


def lock_keys(phone: str | None, email: str | None) -> list[str]:
    """The advisory-lock keys of one person (normalised phone and email), in the order they are taken."""
    return sorted(k for k in (f"contact:phone:{phone}" if phone else None,
                              f"contact:email:{email}" if email else None) if k)


def lock_sql(keys: list[str], prefix: str = "ck") -> str:
    """The select-list items that take these locks, left to right (bind parameters ``lock_params``)."""
    return ", ".join(f"pg_advisory_xact_lock(hashtextextended(:{prefix}{n}, 7))" for n in range(len(keys)))


def lock_params(keys: list[str], prefix: str = "ck") -> dict[str, str]:
    return {f"{prefix}{n}": key for n, key in enumerate(keys)}


def _lock(session: Session, key: str) -> None:
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))"), {"k": key})


def record_contact(
    session: Session,
    actor: Actor,
    *,
    name: str | None,
    phone: str | None,
    email: str | None,
    source: str = "website",
    source_detail: str | None = None,
    utm: Utm | None = None,
    stage: str = "lead",
    user_id: uuid.UUID | None = None,
    instructor_id: uuid.UUID | None = None,
    allow_landline: bool = False,
    trusted: bool | None = None,
    locks_taken: bool = False,
) -> Contact:
    """Create or update the contact for this person; returns it (flushed, in this transaction).

    ``trusted`` (default: the actor signed in) says whether the details come from someone we know.
    An untrusted request (a visitor, an inbound SMS) never links to an account, never changes an
    existing contact's details and only reuses a contact whose phone and email are exactly the ones
    given (and which has no account); otherwise it gets a new contact (see :func:`_record_untrusted`).

    ``allow_landline``: a contact form, where we reply by phone, takes a landline; booking and SMS paths don't.

    ``locks_taken``: the caller took this person's locks already, in this transaction (``lock_sql`` with
    ``lock_keys`` of the same normalised phone and email), e.g. in the same round trip as its own lock.
    """
    if trusted is None:
        trusted = not actor.is_visitor
    if actor.is_parent:
        raise Forbidden("Parents cannot create contacts.")
    if stage not in _STAGE_RANK:
        raise ValidationFailed("Unknown lifecycle stage.", field="stage")
    if source not in SOURCES:
        source = "other"
    phone = (normalise_au_phone(phone) if allow_landline else normalise_au_mobile(phone)) if phone else None
    email = normalise_email(email) if email else None
    if not phone and not email:
        raise ValidationFailed("Please give a mobile number or an email address.", field="phone")
    first, last = split_name(name) if name else (None, None)
    utm = utm or Utm()

    keys = lock_keys(phone, email)
    if keys and not locks_taken:  # in sorted order, in one round trip (a select list is evaluated left to right)
        session.execute(sa.text("SELECT " + lock_sql(keys)), lock_params(keys))
    if not trusted:
        return _record_untrusted(session, first=first, last=last, phone=phone, email=email, source=source,
                                 source_detail=source_detail, utm=utm, stage=stage)

    contact = None
    if phone:
        contact = session.exec(select(Contact).where(Contact.phone == phone, Contact.deleted_at.is_(None))).first()
    if contact is None and email:
        contact = session.exec(select(Contact).where(sa.func.lower(Contact.email) == email,
                                                     Contact.deleted_at.is_(None))).first()
    if user_id is None and email:
        # A booking by an existing student (or their address) links the contact to that account.
        user_id = session.exec(select(User.id).join(Student, Student.user_id == User.id)
                               .where(sa.func.lower(User.email) == email)).first()

    if contact is None:
        contact = Contact(
            first_name=first, last_name=last, phone=phone, email=email, lifecycle_stage=stage,
            source=source, source_detail=(source_detail or None), utm_source=utm.source,
            utm_medium=utm.medium, utm_campaign=utm.campaign, user_id=user_id, instructor_id=instructor_id,
            total_interactions=1,
        )
        session.add(contact)
        session.flush()
        return contact

    # Fill gaps; never overwrite what we know with a blank, keep the first-touch attribution.
    if first and not contact.first_name:
        contact.first_name, contact.last_name = first, last
    if phone and not contact.phone:
        taken = session.exec(select(Contact.id).where(Contact.phone == phone, Contact.deleted_at.is_(None))).first()
        if taken is None:
            contact.phone = phone
    if email and not contact.email:
        taken = session.exec(select(Contact.id).where(sa.func.lower(Contact.email) == email,
                                                      Contact.deleted_at.is_(None))).first()
        if taken is None:
            contact.email = email
    if user_id and not contact.user_id:
        contact.user_id = user_id
    if instructor_id and not contact.instructor_id:
        contact.instructor_id = instructor_id
    if _STAGE_RANK[stage] > _STAGE_RANK.get(contact.lifecycle_stage, 0) and contact.lifecycle_stage != "lost":
        contact.lifecycle_stage = stage
    elif contact.lifecycle_stage == "lost":
        contact.lifecycle_stage = stage  # a lost lead who comes back is live again
    if not contact.utm_source and utm.source:
        contact.utm_source, contact.utm_medium, contact.utm_campaign = utm.source, utm.medium, utm.campaign
    if source_detail:
        contact.source_detail = source_detail
    contact.total_interactions = (contact.total_interactions or 0) + 1
    contact.last_contact_at = clock.database_now(session)
    session.add(contact)
    session.flush()
    return contact


def _record_untrusted(session: Session, *, first: str | None, last: str | None, phone: str | None,
                      email: str | None, source: str, source_detail: str | None, utm: Utm, stage: str) -> Contact:
    """An unauthenticated request: a matching detail proves nothing about who this is.

    Reuse a contact only when it is exactly this phone and this email and has no account (the
    same prospect coming back), and then change none of its details. Otherwise a new contact,
    holding only the details no other contact holds (the unique indexes allow one contact per
    phone and email); the booking keeps what was typed. Staff see the likely match and merge
    on purpose.
    """
    values = row_values(Contact, dict(
        first_name=first, last_name=last, phone=phone, email=email, lifecycle_stage=stage, source=source,
        source_detail=(source_detail or None), utm_source=utm.source, utm_medium=utm.medium,
        utm_campaign=utm.campaign, total_interactions=1))  # the new row as Contact(...) would be (id, times)
    params = {f"n_{c}": values.get(c) for c in _INSERTED}
    params.update(p=phone, e=email, rank=_STAGE_RANK[stage], stage=stage)
    statement = _untrusted_statement(bool(phone), bool(email))
    return session.execute(statement, params).scalar_one()


# The columns a visitor's new contact is inserted with (the rest: NULL, or filled by the database).
_INSERTED = ("id", "first_name", "last_name", "email", "phone", "lifecycle_stage", "lead_score", "source",
             "source_detail", "utm_source", "utm_medium", "utm_campaign", "first_contact_at", "last_contact_at",
             "total_interactions", "created_at", "updated_at")
_STAGES_SQL = "ARRAY[" + ", ".join(f"'{s}'" for s in LIFECYCLE_STAGES) + "]::text[]"


@functools.cache
def _untrusted_statement(with_phone: bool, with_email: bool):
    """``_record_untrusted``'s one statement (issue 17, sixth round: one round trip under the instructor's lock).

    ``same``: the same prospect's contact (exactly this phone and this email, no account, not deleted); if there
    is one, ``upd`` raises its stage (never demotes, except that a lost lead comes back live), counts the
    interaction and stamps ``last_contact_at`` with the transaction's ``now()`` and changes nothing else;
    otherwise ``ins`` inserts the new contact without the phone / the email when another live contact holds it.
    Every part sees the snapshot the statement started with, so ``ins``'s checks see the table as ``same`` did;
    the person's advisory locks (``lock_keys``) are held, so nothing else inserts this phone or email meanwhile.
    The row comes back as a ``Contact`` tracked in the session (all columns loaded: no lazy load after)."""
    columns = [c.name for c in Contact.__table__.columns]
    type_of = {c.name: c.type.compile(dialect=postgresql.dialect()) for c in Contact.__table__.columns}
    phone_sql = "phone = :p" if with_phone else "phone IS NULL"
    email_sql = "lower(email) = :e" if with_email else "email IS NULL"
    inserted = []
    for c in _INSERTED:
        value = f"CAST(:n_{c} AS {type_of[c]})"
        if c == "phone" and with_phone:
            value = (f"CASE WHEN EXISTS (SELECT 1 FROM contacts WHERE phone = :p AND deleted_at IS NULL) "
                     f"THEN NULL ELSE {value} END")
        elif c == "email" and with_email:
            value = (f"CASE WHEN EXISTS (SELECT 1 FROM contacts WHERE lower(email) = :e AND deleted_at IS NULL) "
                     f"THEN NULL ELSE {value} END")
        inserted.append(value)
    sql = (
        "WITH same AS (SELECT id FROM contacts WHERE deleted_at IS NULL AND user_id IS NULL AND "
        f"{phone_sql} AND {email_sql} LIMIT 1), "
        "upd AS (UPDATE contacts AS c SET "
        f"lifecycle_stage = CASE WHEN c.lifecycle_stage = 'lost' OR CAST(:rank AS integer) > "
        f"COALESCE(array_position({_STAGES_SQL}, CAST(c.lifecycle_stage AS text)), 1) - 1 "
        "THEN CAST(:stage AS text) ELSE c.lifecycle_stage END, "
        "total_interactions = COALESCE(c.total_interactions, 0) + 1, last_contact_at = now() "
        "FROM same WHERE c.id = same.id RETURNING " + ", ".join(f"c.{n}" for n in columns) + "), "
        f"ins AS (INSERT INTO contacts ({', '.join(_INSERTED)}) SELECT {', '.join(inserted)} "
        "WHERE NOT EXISTS (SELECT 1 FROM same) RETURNING " + ", ".join(f"contacts.{n}" for n in columns) + ") "
        "SELECT * FROM upd UNION ALL SELECT * FROM ins")
    text = sa.text(sql).columns(*Contact.__table__.columns)
    return select(Contact).from_statement(text).execution_options(populate_existing=True)


def record_enquiry(
    session: Session,
    actor: Actor,
    *,
    name: str,
    phone: str | None,
    email: str | None,
    message: str,
    utm: Utm | None = None,
) -> Contact:
    """The website's contact form: a lead in the CRM and a note to the school in the outbox."""
    name = " ".join(p for p in split_name(name) if p)  # the form needs a name to reply to (record_contact allows none)
    message = (message or "").strip()
    if not message:
        raise ValidationFailed("Please write a short message.", field="message")
    if len(message) > MAX_MESSAGE:
        raise ValidationFailed(f"Please keep the message under {MAX_MESSAGE} characters.", field="message")
    contact = record_contact(session, actor, name=name, phone=phone, email=email, source="website",
                             source_detail=f"Enquiry form: {message[:300]}", utm=utm, stage="lead",
                             allow_landline=True)
    phone = normalise_au_phone(phone) if phone else None  # reply to what was typed, not to a stored contact
    email = normalise_email(email) if email else None
    same_as = possible_matches(session, phone=phone, email=email, exclude_contact_id=contact.id)
    school = session.execute(sa.text("SELECT email FROM business_settings WHERE id = 1")).scalar()
    if school:
        notify.queue_message(session, "enquiry_received", to={"email": school, "contact_id": contact.id},
                             data={"name": name, "phone": format_au_phone(phone), "email": email,
                                   "possible_matches": ", ".join(same_as), "message": message},
                             related_type="contact", related_id=contact.id, template_data={})
    return contact
