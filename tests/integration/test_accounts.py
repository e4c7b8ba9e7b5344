"""Accounts service: credentials, sessions, rate limits, magic links, resets,
staff accounts, suspension, parent invitations, audit. Real PostgreSQL."""
from __future__ import annotations

import base64
import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.models import AuditLog, AuthSession, MagicLink, OutboxMessage, ParentStudentLink, User
from nexdrive.models.accounts import AuthThrottleEvent
from nexdrive.services.core import access
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import (
    AccountSuspended,
    AuthRequired,
    EmailTaken,
    InvalidCredentials,
    LinkInvalid,
    RateLimited,
)
from nexdrive.services.core.actors import SYSTEM, VISITOR, Actor
from nexdrive.services.core.audit import verify_chain
from nexdrive.errors import Forbidden, ValidationFailed
from nexdrive.settings import get_settings
from tests.factories import make_instructor, make_user

PASSWORD = "kangaroo paddock sunrise"
IP = "203.0.113.7"
UA = "pytest-browser/1.0"


@pytest.fixture
def instructor_id(engine):
    with session_scope(engine) as s:
        return make_instructor(s).id


def sign_up(engine, email="learner@example.com", password=PASSWORD, **kw):
    with session_scope(engine) as s:
        return accounts.sign_up_student(s, email=email, password=password, first_name="Lee", last_name="Learner",
                                        ip=IP, user_agent=UA, **kw)


def sign_in(engine, email="learner@example.com", password=PASSWORD, ip=IP, previous_token=None):
    with session_scope(engine) as s:
        return accounts.sign_in(s, email=email, password=password, ip=ip, user_agent=UA,
                                previous_token=previous_token)


def resolve(engine, token):
    with session_scope(engine) as s:
        return accounts.actor_for_session_token(s, token, ip=IP, user_agent=UA)


def events(engine, event_type):
    with session_scope(engine) as s:
        return s.exec(select(AuditLog).where(AuditLog.event_type == event_type).order_by(AuditLog.seq)).all()


# ─── credentials ────────────────────────────────────────────────────────────


def test_stored_hash_is_argon2id_with_owasp_parameters(engine, instructor_id):
    issued = sign_up(engine)
    with session_scope(engine) as s:
        stored = s.get(User, issued.user_id).password_hash
    m = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)", stored)
    assert m, stored
    memory, time_cost, parallelism = int(m[1]), int(m[2]), int(m[3])
    assert memory >= 19 * 1024 and time_cost >= 2 and parallelism == 1
    salt = base64.b64decode(m[4] + "=" * (-len(m[4]) % 4))
    digest = base64.b64decode(m[5] + "=" * (-len(m[5]) % 4))
    assert len(salt) >= 16 and len(digest) >= 32
    assert PASSWORD not in stored
    # a second account with the same password gets a different salt and hash
    other = sign_up(engine, email="twin@example.com")
    with session_scope(engine) as s:
        assert s.get(User, other.user_id).password_hash != stored


def test_password_rules_length_common_list_no_composition_no_truncation(engine, instructor_id):
    for weak, why in [("short7!", "at least 8"), ("password123", "too common"), ("Qwerty123", "too common"),
                      ("canberra2024", "too common"), ("iloveyou", "too common")]:
        with pytest.raises(ValidationFailed, match=why):
            sign_up(engine, email=f"weak{abs(hash(weak))}@example.com", password=weak)
    with session_scope(engine) as s:  # refused sign-ups left nothing behind
        assert s.execute(sa.text("SELECT count(*) FROM users WHERE role = 'student'")).scalar() == 0
    # all lower-case letters and spaces is fine: no composition rules
    sign_up(engine, email="plain@example.com", password="correct horse battery staple")
    # a 200-character password is hashed whole: changing its last character fails
    long_pw = ("wattle " * 40)[:199] + "Z"
    sign_up(engine, email="long@example.com", password=long_pw)
    assert sign_in(engine, email="long@example.com", password=long_pw).token
    with pytest.raises(InvalidCredentials):
        sign_in(engine, email="long@example.com", password=long_pw[:-1] + "Y")
    with pytest.raises(InvalidCredentials):
        sign_in(engine, email="long@example.com", password=long_pw[:72])


def test_duplicate_email_refused_case_insensitively(engine, instructor_id):
    sign_up(engine, email="Dup@Example.com")
    with pytest.raises(EmailTaken):
        sign_up(engine, email="dup@example.COM")


# ─── sessions ───────────────────────────────────────────────────────────────


def test_each_sign_in_issues_a_new_random_token_and_stores_only_its_hash(engine, instructor_id):
    first = sign_up(engine)
    second = sign_in(engine)
    third = sign_in(engine, previous_token=second.token)
    tokens = {first.token, second.token, third.token}
    assert len(tokens) == 3 and len({first.session_id, second.session_id, third.session_id}) == 3
    assert all(len(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))) == 32 for t in tokens)  # 256 bits
    with session_scope(engine) as s:
        rows = s.exec(select(AuthSession).where(AuthSession.user_id == first.user_id)).all()
        stored = {r.token_hash for r in rows}
        assert stored.isdisjoint(tokens)
        assert hashlib.sha256(third.token.encode()).hexdigest() in stored
        row = s.get(AuthSession, third.session_id)
        assert row.idle_expires_at - row.created_at == accounts.SESSION_IDLE
        assert row.absolute_expires_at - row.created_at == accounts.SESSION_ABSOLUTE
        assert row.ip == IP and row.user_agent == UA
    # the token the client presented while signing in no longer works
    with pytest.raises(AuthRequired):
        resolve(engine, second.token)
    assert resolve(engine, third.token).user_id == first.user_id


def test_token_reused_after_sign_out_is_refused(engine, instructor_id):
    issued = sign_up(engine)
    other_device = sign_in(engine)
    actor = resolve(engine, issued.token)
    assert actor.role == "student" and actor.student_id is not None
    with session_scope(engine) as s:
        accounts.sign_out(s, actor, issued.token)
    with pytest.raises(AuthRequired):
        resolve(engine, issued.token)
    assert resolve(engine, other_device.token).user_id == issued.user_id  # only this session ended
    assert len(events(engine, "SIGN_OUT")) == 1


def test_sign_out_everywhere_ends_every_session(engine, instructor_id):
    a = sign_up(engine)
    b = sign_in(engine)
    with session_scope(engine) as s:
        assert accounts.sign_out_everywhere(s, resolve(engine, b.token)) == 2
    for token in (a.token, b.token):
        with pytest.raises(AuthRequired):
            resolve(engine, token)


def test_idle_and_absolute_expiry(engine, instructor_id):
    a = sign_up(engine)
    b = sign_in(engine)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE auth_sessions SET idle_expires_at = now() - interval '1 second' WHERE id = :i"),
                  {"i": a.session_id})
        s.execute(sa.text("UPDATE auth_sessions SET created_at = now() - interval '8 days', "
                          "absolute_expires_at = now() - interval '1 second' WHERE id = :i"), {"i": b.session_id})
    for token in (a.token, b.token):
        with pytest.raises(AuthRequired):
            resolve(engine, token)


def test_idle_expiry_slides_but_never_past_absolute(engine, instructor_id):
    a = sign_up(engine)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE auth_sessions SET last_seen_at = now() - interval '2 hours', "
                          "idle_expires_at = now() + interval '2 hours', "
                          "absolute_expires_at = now() + interval '1 hour' WHERE id = :i"), {"i": a.session_id})
    resolve(engine, a.token)
    with session_scope(engine) as s:
        row = s.get(AuthSession, a.session_id)
        assert row.idle_expires_at == row.absolute_expires_at


def test_password_change_needs_current_and_ends_other_sessions(engine, instructor_id):
    a = sign_up(engine)
    b = sign_in(engine)
    actor = resolve(engine, a.token)
    with pytest.raises(ValidationFailed, match="current password"):
        with session_scope(engine) as s:
            accounts.change_password(s, actor, current_password="wrong guess here", new_password="new pass phrase ok")
    with pytest.raises(ValidationFailed, match="too common"):
        with session_scope(engine) as s:
            accounts.change_password(s, actor, current_password=PASSWORD, new_password="password1")
    assert resolve(engine, b.token)  # refused changes changed nothing
    with session_scope(engine) as s:
        new = accounts.change_password(s, actor, current_password=PASSWORD, new_password="new pass phrase ok")
    for token in (a.token, b.token):
        with pytest.raises(AuthRequired):
            resolve(engine, token)
    assert resolve(engine, new.token).user_id == a.user_id
    with pytest.raises(InvalidCredentials):
        sign_in(engine)
    assert sign_in(engine, password="new pass phrase ok").token
    [event] = events(engine, "PASSWORD_CHANGED")
    assert event.actor_id == a.user_id and event.ip_address == IP and event.user_agent == UA


def test_suspension_ends_sessions_and_refuses_sign_in(engine, instructor_id):
    a = sign_up(engine)
    with session_scope(engine) as s:
        admin_user, _ = make_user(s, "admin")
        admin = accounts.actor_for_user(s, admin_user.id, IP, UA)
    with pytest.raises(Forbidden):
        with session_scope(engine) as s:
            accounts.suspend_user(s, resolve(engine, a.token), a.user_id)
    with session_scope(engine) as s:
        accounts.suspend_user(s, admin, a.user_id, reason="unpaid fees")
    with pytest.raises(AuthRequired):
        resolve(engine, a.token)
    with pytest.raises(AccountSuspended):
        sign_in(engine)
    with session_scope(engine) as s:
        accounts.reinstate_user(s, admin, a.user_id)
    assert sign_in(engine).token


# ─── rate limits ────────────────────────────────────────────────────────────


def test_n_plus_first_failed_sign_in_within_window_is_refused(engine, instructor_id):
    issued = sign_up(engine)
    limit = accounts.LIMITS["sign_in_failed"].per_account
    for _ in range(limit):
        with pytest.raises(InvalidCredentials):
            sign_in(engine, password="not my password at all")
    # the N+1th attempt is refused, even with the right password, with a clear message
    with pytest.raises(RateLimited, match="Too many sign-in attempts") as refused:
        sign_in(engine)
    assert refused.value.retry_after > 0
    # every failure was recorded although each use case raised (own transaction)
    with session_scope(engine) as s:
        assert s.get(User, issued.user_id).failed_sign_in_count == limit
        assert s.get(User, issued.user_id).locked_until is not None
    failed = events(engine, "SIGN_IN_FAILED")
    assert [e.details["reason"] for e in failed] == ["wrong_password"] * limit + ["rate_limited"]
    assert all(e.ip_address == IP and e.user_agent == UA for e in failed)
    # once the window has passed, the right password works again and clears the count
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE auth_throttle_events SET created_at = created_at - interval '16 minutes'"))
    assert sign_in(engine).token
    with session_scope(engine) as s:
        assert s.get(User, issued.user_id).failed_sign_in_count == 0


def test_failed_sign_ins_are_limited_per_ip_across_accounts(engine, instructor_id):
    limit = accounts.LIMITS["sign_in_failed"].per_ip
    for i in range(limit):
        with pytest.raises(InvalidCredentials):
            sign_in(engine, email=f"nobody{i}@example.com", ip="198.51.100.9")
    with pytest.raises(RateLimited):
        sign_in(engine, email="someone-else@example.com", ip="198.51.100.9")
    # another IP is unaffected
    with pytest.raises(InvalidCredentials):
        sign_in(engine, email="someone-else@example.com", ip="198.51.100.10")


def test_parallel_failed_sign_ins_cannot_slip_past_the_limit(engine, instructor_id):
    sign_up(engine)
    barrier = threading.Barrier(10)

    def attempt(_):
        barrier.wait(timeout=10)
        try:
            sign_in(engine, password="parallel wrong guess")
        except InvalidCredentials:
            return "invalid"
        except RateLimited:
            return "limited"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(10)))
    limit = accounts.LIMITS["sign_in_failed"].per_account
    assert results.count("invalid") == limit and results.count("limited") == 10 - limit


def test_unknown_email_and_wrong_password_look_the_same(engine, instructor_id):
    sign_up(engine)
    with pytest.raises(InvalidCredentials) as unknown:
        sign_in(engine, email="nobody@example.com")
    with pytest.raises(InvalidCredentials) as wrong:
        sign_in(engine, password="not the right one")
    assert unknown.value.message == wrong.value.message


# ─── magic links ────────────────────────────────────────────────────────────


def request_link(engine, email="learner@example.com", ip=IP):
    with session_scope(engine) as s:
        return accounts.request_magic_link(s, email=email, ip=ip, user_agent=UA)


def consume(engine, token):
    with session_scope(engine) as s:
        return accounts.consume_magic_link(s, token, ip=IP, user_agent=UA)


def test_magic_link_survives_get_works_once_on_post_then_refused(engine, instructor_id):
    issued = sign_up(engine)
    token = request_link(engine)
    with session_scope(engine) as s:
        link = s.exec(select(MagicLink).where(MagicLink.user_id == issued.user_id)).one()
        assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
        assert link.expires_at - link.created_at <= timedelta(minutes=15)
        email = s.exec(select(OutboxMessage).where(OutboxMessage.template == "magic_link")).one()
    assert f"{get_settings().public_url}{accounts.MAGIC_LINK_PATH}{token}" in email.body
    # a link scanner (or the user) looking at it twice doesn't use it up
    for _ in range(2):
        with session_scope(engine) as s:
            assert accounts.describe_magic_link(s, token)["valid"] is True
    signed_in = consume(engine, token)
    assert resolve(engine, signed_in.token).user_id == issued.user_id
    with pytest.raises(LinkInvalid, match="already been used"):
        consume(engine, token)
    with session_scope(engine) as s:
        assert accounts.describe_magic_link(s, token) | {"expires_at": None} == {
            "valid": False, "reason": "used", "purpose": "sign_in", "email_hint": "l" + "\u2022" * 6 + "@example.com",
            "expires_at": None}
    assert [e.details["method"] for e in events(engine, "SIGN_IN")] == ["sign_up", "magic_link"]


def test_magic_link_refused_after_expiry(engine, instructor_id):
    sign_up(engine)
    token = request_link(engine)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE magic_links SET expires_at = now() - interval '1 second'"))
    with pytest.raises(LinkInvalid, match="expired"):
        consume(engine, token)
    with session_scope(engine) as s:
        assert s.exec(select(MagicLink)).one().consumed_at is None


def test_parallel_consumption_signs_in_once(engine, instructor_id):
    sign_up(engine)
    token = request_link(engine)
    barrier = threading.Barrier(8)

    def attempt(_):
        barrier.wait(timeout=10)
        try:
            return consume(engine, token).token
        except LinkInvalid:
            return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert sum(r is not None for r in results) == 1


def test_magic_link_for_unknown_email_answers_the_same_and_sends_nothing(engine, instructor_id):
    assert request_link(engine, email="nobody@example.com") is None
    with session_scope(engine) as s:
        assert s.exec(select(OutboxMessage)).all() == []
        assert s.exec(select(MagicLink)).all() == []


def test_magic_link_requests_are_rate_limited_per_account(engine, instructor_id):
    sign_up(engine)
    for _ in range(accounts.LIMITS["magic_link"].per_account):
        assert request_link(engine)
    with pytest.raises(RateLimited, match="Too many sign-in links"):
        request_link(engine)
    with session_scope(engine) as s:  # the refused request created no link
        assert len(s.exec(select(MagicLink)).all()) == accounts.LIMITS["magic_link"].per_account


def test_magic_link_requests_are_rate_limited_per_ip(engine, instructor_id):
    for i in range(accounts.LIMITS["magic_link"].per_ip):
        request_link(engine, email=f"probe{i}@example.com", ip="192.0.2.50")
    with pytest.raises(RateLimited):
        request_link(engine, email="another@example.com", ip="192.0.2.50")


# ─── password reset ─────────────────────────────────────────────────────────


def test_password_reset_link_sets_a_new_password_once_and_ends_sessions(engine, instructor_id):
    issued = sign_up(engine)
    with session_scope(engine) as s:
        token = accounts.request_password_reset(s, email="LEARNER@example.com", ip=IP, user_agent=UA)
    with pytest.raises(ValidationFailed):  # a weak password doesn't use the link up
        with session_scope(engine) as s:
            accounts.reset_password(s, token, "12345678", ip=IP, user_agent=UA)
    with session_scope(engine) as s:
        fresh = accounts.reset_password(s, token, "brand new secret phrase", ip=IP, user_agent=UA)
    with pytest.raises(AuthRequired):
        resolve(engine, issued.token)
    assert resolve(engine, fresh.token).user_id == issued.user_id
    assert sign_in(engine, password="brand new secret phrase").token
    with pytest.raises(LinkInvalid):
        with session_scope(engine) as s:
            accounts.reset_password(s, token, "another new phrase", ip=IP, user_agent=UA)
    with pytest.raises(LinkInvalid):  # a reset link can't sign in as a magic link
        consume(engine, token)
    assert len(events(engine, "PASSWORD_RESET")) == 1


def test_password_reset_requests_are_rate_limited(engine, instructor_id):
    sign_up(engine)
    for _ in range(accounts.LIMITS["password_reset"].per_account):
        with session_scope(engine) as s:
            accounts.request_password_reset(s, email="learner@example.com", ip=IP)
    with pytest.raises(RateLimited, match="Too many password reset"):
        with session_scope(engine) as s:
            accounts.request_password_reset(s, email="learner@example.com", ip=IP)


# ─── staff accounts and roles ───────────────────────────────────────────────


def test_admin_creates_an_instructor_who_sets_a_password_via_the_emailed_link(engine, instructor_id):
    with session_scope(engine) as s:
        admin_user, _ = make_user(s, "admin")
        admin = accounts.actor_for_user(s, admin_user.id, IP, UA)
    student = sign_up(engine)
    for actor, error in [(VISITOR, AuthRequired), (student.actor, Forbidden)]:
        with pytest.raises(error):
            with session_scope(engine) as s:
                accounts.create_staff_account(s, actor, email="ian@example.com", role="instructor",
                                              first_name="Ian", last_name="Teach", adi_number="ADI1",
                                              adi_expiry=date(2030, 1, 1))
    with session_scope(engine) as s:
        invite = accounts.create_staff_account(s, admin, email="ian@example.com", role="instructor",
                                               first_name="Ian", last_name="Teach", adi_number="ADI1",
                                               adi_expiry=date(2030, 1, 1))
    with session_scope(engine) as s:
        accounts.reset_password(s, invite.token, "ian teaches hill starts", ip=IP)
    me = sign_in(engine, email="ian@example.com", password="ian teaches hill starts")
    assert me.actor.role == "instructor" and me.actor.instructor_id == invite.instructor_id
    with session_scope(engine) as s:
        accounts.set_user_role(s, admin, me.user_id, "admin")
    with pytest.raises(AuthRequired):  # a role change ends the sessions; new rights at next sign-in
        resolve(engine, me.token)
    again = sign_in(engine, email="ian@example.com", password="ian teaches hill starts")
    assert again.actor.role == "admin" and again.actor.instructor_id == invite.instructor_id
    [created] = [e for e in events(engine, "ACCOUNT_CREATED") if e.details["method"] == "admin"]
    assert created.actor_id == admin_user.id and created.ip_address == IP
    [changed] = events(engine, "ROLE_CHANGED")
    assert changed.details == {"from": "instructor", "to": "admin"} and changed.actor_id == admin_user.id


# ─── parent invitations ─────────────────────────────────────────────────────


def invite(engine, student_actor, email="mum@example.com", **perms):
    with session_scope(engine) as s:
        return accounts.invite_parent(s, student_actor, email=email, permissions=perms or None)


def accept(engine, token, actor=VISITOR, password="mum drives a ute"):
    with session_scope(engine) as s:
        return accounts.accept_parent_invitation(s, actor, token, password=password, first_name="Mum",
                                                 last_name="Learner")


def test_parent_joins_by_invitation_with_the_permissions_the_student_chose(engine, instructor_id):
    student = sign_up(engine)
    inv = invite(engine, student.actor, can_view_payments=False)
    link, issued = accept(engine, inv.token)
    assert link.status == "active" and link.can_view_payments is False and link.can_view_bookings is True
    parent = resolve(engine, issued.token)
    assert parent.role == "parent" and parent.parent_id == link.parent_id
    with session_scope(engine) as s:
        assert access.can_access_student(s, parent, student.actor.student_id, "bookings")
        assert not access.can_access_student(s, parent, student.actor.student_id, "payments")
    with pytest.raises(LinkInvalid, match="already been accepted"):
        accept(engine, inv.token)


def test_invitations_expire_and_can_be_withdrawn(engine, instructor_id):
    student = sign_up(engine)
    old = invite(engine, student.actor, email="dad@example.com")
    withdrawn = invite(engine, student.actor, email="nan@example.com")
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE parent_invitations SET expires_at = now() - interval '1 second' "
                          "WHERE lower(email) = 'dad@example.com'"))
        accounts.revoke_parent_invitation(s, student.actor, withdrawn.invitation_id)
    with pytest.raises(LinkInvalid, match="expired"):
        accept(engine, old.token)
    with pytest.raises(LinkInvalid, match="withdrawn"):
        accept(engine, withdrawn.token)
    with session_scope(engine) as s:
        assert s.exec(select(ParentStudentLink)).all() == []
        assert s.execute(sa.text("SELECT count(*) FROM users WHERE role = 'parent'")).scalar() == 0


def test_only_the_student_controls_permissions_and_can_revoke_the_link(engine, instructor_id):
    student = sign_up(engine)
    other = sign_up(engine, email="other@example.com")
    link, issued = accept(engine, invite(engine, student.actor).token)
    parent = issued.actor
    for outsider in (parent, other.actor):
        with pytest.raises(Forbidden):
            with session_scope(engine) as s:
                accounts.set_parent_permissions(s, outsider, link.id, {"can_view_payments": True})
    with session_scope(engine) as s:
        accounts.set_parent_permissions(s, student.actor, link.id, {"can_view_bookings": False})
        assert not access.can_access_student(s, parent, student.actor.student_id, "bookings")
        assert access.can_access_student(s, parent, student.actor.student_id, "student")
    [changed] = events(engine, "PARENT_PERMISSIONS_CHANGED")
    assert changed.details["before"] == {"can_view_bookings": True}
    assert changed.details["after"] == {"can_view_bookings": False}
    assert changed.actor_id == student.user_id
    with session_scope(engine) as s:
        accounts.revoke_parent_link(s, student.actor, link.id)
        assert not access.can_access_student(s, parent, student.actor.student_id, "student")
    with pytest.raises(Forbidden):
        with session_scope(engine) as s:
            access.get_student_record(s, parent, student.actor.student_id)


def test_existing_parent_must_sign_in_with_the_invited_email(engine, instructor_id):
    first = sign_up(engine)
    second = sign_up(engine, email="sibling@example.com")
    _, issued = accept(engine, invite(engine, first.actor).token)
    inv2 = invite(engine, second.actor)  # same parent email
    with pytest.raises(AuthRequired, match="already have an account"):
        accept(engine, inv2.token)
    link, none = accept(engine, inv2.token, actor=issued.actor)
    assert none is None and link.parent_id == issued.actor.parent_id


# ─── me and audit ───────────────────────────────────────────────────────────


def test_me_returns_role_data_and_updates_only_own_profile(engine, instructor_id):
    student = sign_up(engine, phone="0412 345 678")
    with session_scope(engine) as s:
        me = accounts.get_me(s, student.actor)
    assert me["user"]["role"] == "student" and me["profile"]["phone"] == "+61412345678"
    assert me["student"]["instructor_id"] == instructor_id
    with pytest.raises(ValidationFailed, match="can't be changed"):
        with session_scope(engine) as s:
            accounts.update_me(s, student.actor, {"email": "new@example.com"})
    with session_scope(engine) as s:
        me = accounts.update_me(s, student.actor, {"suburb": "Kambah", "transmission": "manual"})
    assert me["profile"]["suburb"] == "Kambah" and me["student"]["transmission"] == "manual"
    with pytest.raises(AuthRequired):
        with session_scope(engine) as s:
            accounts.get_me(s, VISITOR)


def test_sign_in_events_are_audited_with_actor_ip_and_user_agent_and_chain_verifies(engine, instructor_id):
    issued = sign_up(engine)
    with pytest.raises(InvalidCredentials):
        sign_in(engine, password="wrong wrong wrong")
    signed = sign_in(engine)
    with session_scope(engine) as s:
        accounts.sign_out(s, resolve(engine, signed.token), signed.token)
    kinds = [e.event_type for e in events(engine, "SIGN_IN") + events(engine, "SIGN_IN_FAILED")
             + events(engine, "SIGN_OUT")]
    assert sorted(kinds) == ["SIGN_IN", "SIGN_IN", "SIGN_IN_FAILED", "SIGN_OUT"]
    for e in events(engine, "SIGN_IN") + events(engine, "SIGN_OUT"):
        assert e.actor_id == issued.user_id and e.ip_address == IP and e.user_agent == UA
    [failed] = events(engine, "SIGN_IN_FAILED")
    assert (
        failed.actor_id is None
        and failed.subject_id == issued.user_id
        and "password" not in str(failed.details).replace("wrong_password", "")
    )
    with session_scope(engine) as s:
        assert verify_chain(s, "audit_log", "audit_log").ok


def test_throttle_rows_can_be_purged(engine, instructor_id):
    with pytest.raises(InvalidCredentials):
        sign_in(engine, email="ghost@example.com")
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE auth_throttle_events SET created_at = now() - interval '2 days'"))
        assert accounts.purge_throttle_events(s) == 1
        assert s.exec(select(AuthThrottleEvent)).all() == []


def test_system_and_actor_helpers(engine, instructor_id):
    issued = sign_up(engine)
    with session_scope(engine) as s:
        actor = accounts.actor_for_user(s, issued.user_id, IP, UA)
    assert actor == Actor(role="student", user_id=issued.user_id, student_id=issued.actor.student_id,
                          ip_address=IP, user_agent=UA)
    with pytest.raises(AuthRequired):
        resolve(engine, None)
    with pytest.raises(AuthRequired):
        resolve(engine, "not-a-real-token")
    assert SYSTEM.role == "system"
