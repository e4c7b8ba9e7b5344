"""A visitor's contact in one statement (issue 17, sixth round): ``contacts._record_untrusted`` sends one statement
under the instructor's lock, with the same rules and results as its earlier three steps (look up, then INSERT, or
``session.get`` and an UPDATE)."""
from __future__ import annotations

import random
import re
import uuid

import pytest
import sqlalchemy as sa
from psycopg import sql as psql
from sqlmodel import Session

from nexdrive.db import session_scope
from nexdrive.models import Contact
from nexdrive.models.crm import LIFECYCLE_STAGES
from nexdrive.services.core import clock
from nexdrive.services.core.actors import SYSTEM, VISITOR
from nexdrive.services.crm import contacts
from nexdrive.services.scheduling import booking
from tests.booking_helpers import at, sole_open_instructor, weekday_ahead
from tests.factories import make_user

TUESDAY = weekday_ahead(1)
PHONE, EMAIL = "+61455000001", "vic@example.com"
COLUMNS = ("first_name", "last_name", "full_name", "phone", "email", "user_id", "instructor_id", "lifecycle_stage",
           "lead_score", "source", "source_detail", "utm_source", "utm_medium", "utm_campaign", "total_interactions",
           "notes", "deleted_at")


def _sent(engine, fn):
    sent = []

    def listen(_conn, _cursor, statement, *_):
        sent.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        result = fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    return sent, result


def _existing(s, *, phone=PHONE, email=EMAIL, stage="lead", user_id=None, deleted=False, first="Old",
              interactions=3) -> uuid.UUID:
    return s.execute(sa.text(
        "INSERT INTO contacts (first_name, last_name, phone, email, lifecycle_stage, user_id, source, source_detail, "
        "utm_source, total_interactions, last_contact_at, deleted_at) VALUES (:f, 'Timer', :p, :e, :st, :u, "
        "'phone', 'called once', 'flyer', :n, now() - interval '30 days', "
        "CASE WHEN :d THEN now() - interval '1 day' END) RETURNING id"),
        {"f": first, "p": phone, "e": email, "st": stage, "u": user_id, "d": deleted, "n": interactions}).scalar_one()


def _row(s, contact_id):
    return s.execute(sa.text("SELECT * FROM contacts WHERE id = :c"), {"c": contact_id}).mappings().one()


def _visit(s, *, name="Vic Visitor", phone=PHONE, email=EMAIL, stage="qualified", **kw) -> Contact:
    return contacts.record_contact(s, VISITOR, name=name, phone=phone, email=email, stage=stage, **kw)


def _assert_tracked_as_row(engine, s, contact):
    """The object returned is the row: persistent in the session, every column loaded (no lazy load after)."""
    sent, values = _sent(engine, lambda: {c.key: getattr(contact, c.key) for c in Contact.__table__.columns})
    assert sent == []
    assert sa.inspect(contact).persistent and contact in s and not s.dirty
    assert values == dict(_row(s, contact.id))


# ------------------------------------------------------------------ each case of the one statement

def test_a_new_prospect_is_inserted_with_what_was_typed(engine):
    with session_scope(engine) as s:
        sent, contact = _sent(engine, lambda: _visit(s, source="sms", source_detail="Booked online",
                                                     utm=contacts.Utm.clean("google", "cpc", "winter")))
        assert [q for q in sent if "contacts" in q] == [sent[-1]] and len(sent) == 2  # the person's locks, then it
        _assert_tracked_as_row(engine, s, contact)
        row = _row(s, contact.id)
        assert (row["first_name"], row["last_name"], row["full_name"], row["phone"], row["email"]) == (
            "Vic", "Visitor", "Vic Visitor", PHONE, EMAIL)
        assert (row["lifecycle_stage"], row["source"], row["source_detail"], row["total_interactions"]) == (
            "qualified", "sms", "Booked online", 1)
        assert (row["utm_source"], row["utm_medium"], row["utm_campaign"]) == ("google", "cpc", "winter")
        assert row["user_id"] is None and row["lead_score"] == 0 and row["deleted_at"] is None


@pytest.mark.parametrize("stored, given, kept", [
    ("active", "qualified", "active"),      # never demoted
    ("qualified", "qualified", "qualified"),
    ("lead", "qualified", "qualified"),     # raised
    ("prospect", "enrolled", "enrolled"),
    ("lost", "qualified", "qualified"),     # a lost lead who comes back is live again
    ("lost", "prospect", "prospect"),
    ("alumni", "lost", "lost"),             # 'lost' ranks last: as before, a visitor's 'lost' is taken
])
def test_the_same_prospect_returning_changes_only_the_stage_and_the_counters(engine, stored, given, kept):
    with session_scope(engine) as s:
        same = _existing(s, stage=stored, email=EMAIL.upper())  # the email as typed then; compared in lower case
    with session_scope(engine) as s:
        before = _row(s, same)
        now = clock.database_now(s)
        contact = _visit(s, name="Someone Else", stage=given, source="voice_agent", source_detail="new detail",
                         utm=contacts.Utm.clean("facebook"))
        assert contact.id == same
        _assert_tracked_as_row(engine, s, contact)
        after = _row(s, same)
        assert after["lifecycle_stage"] == kept
        assert after["total_interactions"] == before["total_interactions"] + 1
        assert after["last_contact_at"] == now and after["updated_at"] == now
        unchanged = [c for c in COLUMNS if c not in ("lifecycle_stage", "total_interactions")]
        assert {c: after[c] for c in unchanged} == {c: before[c] for c in unchanged}
        assert s.execute(sa.text("SELECT count(*) FROM contacts")).scalar() == 1


@pytest.mark.parametrize("taken", ["phone", "email", "both by one", "both by two"])
def test_a_detail_held_by_another_contact_is_not_stored_on_the_new_one(engine, taken):
    with session_scope(engine) as s:
        others = []
        if taken in ("phone", "both by two"):
            others.append(_existing(s, email="someone@example.com"))
        if taken in ("email", "both by two"):
            others.append(_existing(s, phone="+61455999999"))
        if taken == "both by one":  # the same phone and email, but another person's account
            user, _ = make_user(s, "student", "Stu")
            others.append(_existing(s, user_id=user.id))
        before = {o: dict(_row(s, o)) for o in others}
    with session_scope(engine) as s:
        contact = _visit(s)
        assert contact.id not in others
        _assert_tracked_as_row(engine, s, contact)
        phone_taken, email_taken = taken != "email", taken != "phone"
        assert (contact.phone, contact.email) == (None if phone_taken else PHONE, None if email_taken else EMAIL)
        assert (contact.first_name, contact.total_interactions, contact.user_id) == ("Vic", 1, None)
        assert {o: dict(_row(s, o)) for o in others} == before  # the others untouched


def test_a_contact_with_an_account_is_never_reused_by_a_visitor(engine):
    with session_scope(engine) as s:
        user, _ = make_user(s, "student", "Stu")
        learner = contacts.record_contact(s, SYSTEM, name="Stu Dent", phone=PHONE, email=EMAIL, user_id=user.id,
                                          stage="active")
        learner_id, before = learner.id, dict(_row(s, learner.id))
    with session_scope(engine) as s:
        contact = _visit(s)
        assert contact.id != learner_id and (contact.phone, contact.email, contact.user_id) == (None, None, None)
        assert dict(_row(s, learner_id)) == before


def test_a_deleted_contact_is_neither_reused_nor_holding_its_details(engine):
    with session_scope(engine) as s:
        gone = _existing(s, deleted=True)
    with session_scope(engine) as s:
        contact = _visit(s)
        assert contact.id != gone and (contact.phone, contact.email) == (PHONE, EMAIL)


def test_phone_only_and_email_only(engine):
    with session_scope(engine) as s:
        texter = _existing(s, email=None)                          # an SMS lead: a phone, no email
        writer = _existing(s, phone=None, email="w@example.com")   # an enquiry by email only
    with session_scope(engine) as s:
        assert _visit(s, email=None).id == texter                  # the same: this phone and no email
        assert _visit(s, phone=None, email="W@Example.com").id == writer
        other = _visit(s, email="new@example.com")                 # this phone but an email: someone else
        assert other.id not in (texter, writer) and (other.phone, other.email) == (None, "new@example.com")
        assert _row(s, texter)["total_interactions"] == 4 and _row(s, writer)["total_interactions"] == 4


def test_a_contact_already_in_the_session_is_returned_as_the_row(engine):
    with session_scope(engine) as s:
        same = _existing(s, stage="lead")
    with session_scope(engine) as s:
        loaded = s.get(Contact, same)
        assert loaded.lifecycle_stage == "lead"
        contact = _visit(s)
        assert contact is loaded and contact.lifecycle_stage == "qualified" and contact.total_interactions == 4
        _assert_tracked_as_row(engine, s, contact)


# ------------------------------------------------------------------ the same results as the three steps before

def _three_steps(session: Session, *, first, last, phone, email, source, source_detail, utm, stage) -> Contact:
    """``_record_untrusted`` as it was before this round (commit ef3311b): the reference for its results."""
    row = session.execute(sa.text(
        "SELECT (SELECT id FROM contacts WHERE deleted_at IS NULL AND user_id IS NULL AND "
        + ("phone = :p" if phone else "phone IS NULL") + " AND "
        + ("lower(email) = :e" if email else "email IS NULL") + " LIMIT 1) AS same_id, "
        "CAST(:p AS text) IS NOT NULL AND EXISTS (SELECT 1 FROM contacts WHERE phone = :p AND deleted_at IS NULL) "
        "AS phone_taken, CAST(:e AS text) IS NOT NULL AND EXISTS (SELECT 1 FROM contacts WHERE lower(email) = :e "
        "AND deleted_at IS NULL) AS email_taken"), {"p": phone, "e": email}).one()
    contact = session.get(Contact, row.same_id) if row.same_id is not None else None
    if contact is None:
        contact = Contact(
            first_name=first, last_name=last, phone=None if row.phone_taken else phone,
            email=None if row.email_taken else email, lifecycle_stage=stage, source=source,
            source_detail=(source_detail or None), utm_source=utm.source, utm_medium=utm.medium,
            utm_campaign=utm.campaign, total_interactions=1)
        session.add(contact)  # the same row as the old Core INSERT of it (db.insert_as_built, since removed)
        session.flush()
        return contact
    rank = {s: n for n, s in enumerate(LIFECYCLE_STAGES)}
    if rank[stage] > rank.get(contact.lifecycle_stage, 0) or contact.lifecycle_stage == "lost":
        contact.lifecycle_stage = stage
    contact.total_interactions = (contact.total_interactions or 0) + 1
    contact.last_contact_at = clock.database_now(session)
    session.add(contact)
    session.flush()
    return contact


def test_random_cases_give_the_rows_the_three_steps_gave(engine):
    """200 random tables and visitors: the same contact reused or a new one, with the same columns."""
    rnd = random.Random(17)
    phones, emails = ["+61455000001", "+61455000002", None], ["a@example.com", "b@example.com", None]
    with Session(engine) as s:
        user, _ = make_user(s, "student", "Stu")
        s.commit()
        for case in range(200):
            live_phones, live_emails, made = set(), set(), []
            for _ in range(rnd.randint(0, 4)):
                phone, email, deleted = rnd.choice(phones), rnd.choice(emails), rnd.random() < 0.2
                if not deleted and ((phone and phone in live_phones) or (email and email in live_emails)):
                    continue
                if not deleted:
                    live_phones.add(phone)
                    live_emails.add(email)
                made.append((phone, email))
                _existing(s, phone=phone, email=(email.upper() if email and rnd.random() < 0.3 else email),
                          stage=rnd.choice(LIFECYCLE_STAGES), deleted=deleted,
                          user_id=user.id if rnd.random() < 0.2 else None, interactions=rnd.randint(1, 5))
            phone, email = rnd.choice(made) if made and rnd.random() < 0.5 else (rnd.choice(phones), rnd.choice(emails))
            if not phone and not email:
                email = "c@example.com"
            given = dict(first="Vic", last=rnd.choice(["Visitor", None]), phone=phone, email=email,
                         source=rnd.choice(["website", "sms"]), source_detail=rnd.choice([None, "", "detail"]),
                         utm=contacts.Utm.clean(rnd.choice([None, "google"])), stage=rnd.choice(LIFECYCLE_STAGES))
            existing = set(s.execute(sa.text("SELECT id FROM contacts")).scalars())
            results = []
            for record in (_three_steps, contacts._record_untrusted):
                savepoint = s.begin_nested()
                contact = record(s, **given)
                row = dict(_row(s, contact.id))
                results.append((contact.id if contact.id in existing else "new",
                                {c: row[c] for c in COLUMNS}, row["last_contact_at"] if contact.id in existing
                                else None))
                savepoint.rollback()
                s.expunge_all()
            assert results[1] == results[0], (case, given)
            s.rollback()


# ------------------------------------------------------------------ one round trip under the instructor's lock

@pytest.mark.parametrize("returning", [False, True])
def test_a_visitors_reservation_sends_one_statement_for_the_contact(engine, returning):
    school = sole_open_instructor(engine)

    def reserve(start, n):
        with session_scope(engine) as s:
            return booking.book_lesson(s, VISITOR, service_id=school["service"], start_time=at(TUESDAY, start),
                                       instructor_id=school["instructor"], name=f"Vic Visitor{n}", phone=PHONE,
                                       email=EMAIL, pickup_address="1 A St", suburb="Kambah").booking.contact_id

    first = reserve("09:00", 1) if returning else None
    sent, contact_id = _sent(engine, lambda: reserve("13:00", 2))
    locked = next(i for i, q in enumerate(sent) if "reserve_lock" in q)
    under_lock = sent[locked + 1:]
    assert [q for q in under_lock if "contacts" in q] == [under_lock[0]]  # one statement, right after the lock
    assert under_lock[1].startswith("INSERT INTO bookings")
    assert len(sent) <= 6, sent  # settings, calendar, lock, contact, booking, audit
    assert (contact_id == first) if returning else contact_id is not None
    with session_scope(engine) as s:
        row = _row(s, contact_id)
        assert (row["first_name"], row["total_interactions"], row["lifecycle_stage"]) == (
            "Vic", 2 if returning else 1, "qualified")


@pytest.mark.parametrize("with_phone, with_email", [(True, True), (True, False), (False, True)])
def test_the_one_statement_reads_contacts_by_index_as_a_generic_plan(engine, with_phone, with_email):
    """A reservation's transaction plans its statements generically (booking._prefetch_reservation): every read of
    ``contacts`` in the one statement is an index scan on 20,000 contacts, whichever case runs."""
    with Session(engine) as s:
        s.execute(sa.text("INSERT INTO contacts (first_name, phone, email, lifecycle_stage, source) SELECT 'X', "
                          "'+614' || lpad(g::text, 8, '0'), 'u' || g || '@example.com', 'lead', 'website' "
                          "FROM generate_series(1, 20000) AS g"))
        s.execute(sa.text("ANALYZE contacts"))
        s.execute(sa.text("SET LOCAL plan_cache_mode = force_generic_plan"))
        compiled = contacts._untrusted_statement(with_phone, with_email).element.compile(dialect=engine.dialect)
        names: list[str] = []

        def positional(match):
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        cursor = s.connection().connection.dbapi_connection.cursor()
        cursor.execute("PREPARE one_contact AS " + re.sub(r"%\((\w+)\)s", positional, str(compiled)))
        for phone, email in (("+61400000123", "u123@example.com"), ("+61400000123", "other@example.com"),
                             ("+61499999999", "new@example.com")):
            given = {"p": phone if with_phone else None, "e": email if with_email else None, "rank": 2,
                     "stage": "qualified", "n_id": str(uuid.uuid4()), "n_lifecycle_stage": "qualified",
                     "n_total_interactions": 1, "n_lead_score": 0, "n_source": "website",
                     **{f"n_{c}": at(TUESDAY, "09:00") for c in ("first_contact_at", "last_contact_at", "created_at",
                                                                 "updated_at")}}
            cursor.execute(psql.SQL("EXPLAIN (ANALYZE, FORMAT TEXT) EXECUTE one_contact({})").format(
                psql.SQL(", ").join(psql.Literal(given.get(n)) for n in names)))
            plan = "\n".join(r[0] for r in cursor.fetchall())
            assert "Seq Scan" not in plan, plan
            assert "Index" in plan, plan
        s.rollback()
