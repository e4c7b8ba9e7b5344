"""Accounts, sign-in, sessions, magic links, staff creation, suspension and
parent invitations (issue 3; docs/decisions/0000-stack.md "our own accounts").

Security decisions, in one place:

* Passwords: Argon2id (``nexdrive.services.identity.passwords``).
* Sessions: a random 256-bit token (``secrets.token_urlsafe(32)``) goes to the
  client; only its SHA-256 is stored (``auth_sessions.token_hash``). Every
  sign-in issues a new token (and revokes the one the client presented, so a
  planted session id is never promoted). Sessions end at the idle expiry
  (sliding, :data:`SESSION_IDLE`) or the absolute expiry (:data:`SESSION_ABSOLUTE`),
  and are revoked server-side on sign-out, sign-out-everywhere, password change
  or reset, and account suspension.
* Magic links: 256-bit single-use tokens, stored hashed, short-lived, built from
  ``settings.public_url``. Looking at a link (:func:`describe_magic_link`) never
  uses it up; only :func:`consume_magic_link` (an explicit POST) does, through a
  compare-and-swap UPDATE, so it works exactly once.
* Rate limits: sliding windows per account and per IP (:data:`LIMITS`), counted
  in ``auth_throttle_events`` under an advisory lock so parallel attempts cannot
  slip past the limit. A failed sign-in is recorded (throttle row, counters,
  audit event) in its *own* committed transaction: the use case then raises and
  the caller's transaction rolls back, but the failure stays on record.
* Unknown emails: sign-in burns the same Argon2 time and returns the same error;
  magic-link and reset requests answer the same way whether or not the account
  exists (no account enumeration).

Call the sign-in style use cases (``sign_in``, ``consume_magic_link``) as the
first thing in their transaction: the side transaction that records a failure
must not wait on locks the caller's transaction already holds.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from nexdrive.models import (
    AuthSession,
    Instructor,
    MagicLink,
    Parent,
    ParentInvitation,
    ParentStudentLink,
    Profile,
    Student,
    User,
)
from nexdrive.models.accounts import AuthThrottleEvent
from nexdrive.models.users import PARENT_RELATIONSHIPS
from nexdrive.formats import normalise_email
from nexdrive.services.core import clock
from nexdrive.services.core.ratelimit import clean_ip
from nexdrive.services.core.access import PARENT_PERMISSIONS
from nexdrive.services.core.actors import SYSTEM, Actor
from nexdrive.services.core.audit import record_event
from nexdrive.services.messaging import notify
from nexdrive.errors import AuthRequired, RateLimited, Forbidden, InvalidState, NotFound, ServiceError, ValidationFailed
from nexdrive.services.identity.passwords import (
    burn_verification_time,
    check_password_rules,
    hash_password,
    needs_rehash,
    verify_password,
)
from nexdrive.settings import get_settings

# ─────────────────────────────────────────────────────────────────────────────
# Errors (the API turns them into the spec's envelope, architecture §4.3)
# ─────────────────────────────────────────────────────────────────────────────




class InvalidCredentials(ServiceError):
    code = "INVALID_CREDENTIALS"
    http_status = 401


class EmailTaken(ServiceError):
    code = "EMAIL_TAKEN"
    http_status = 409


class LinkInvalid(ServiceError):
    code = "LINK_INVALID"
    http_status = 400


class AccountSuspended(ServiceError):
    code = "ACCOUNT_SUSPENDED"
    http_status = 403


# ─────────────────────────────────────────────────────────────────────────────
# Parameters
# ─────────────────────────────────────────────────────────────────────────────

SESSION_IDLE = timedelta(hours=4)
SESSION_ABSOLUTE = timedelta(days=7)
SESSION_TOUCH_EVERY = timedelta(seconds=60)  # don't write last_seen_at on every request

MAGIC_LINK_TTL = timedelta(minutes=15)
RESET_LINK_TTL = timedelta(minutes=30)
STAFF_INVITE_TTL = timedelta(hours=72)
PARENT_INVITE_TTL = timedelta(days=7)

# Paths the emailed links point at, under settings.public_url.
MAGIC_LINK_PATH = "/sign-in/link?token="  # the page asks before it signs in (explicit POST)
RESET_LINK_PATH = "/reset-password?token="  # also sets the first password of invited staff
PARENT_INVITE_PATH = "/parent/accept?token="


@dataclass(frozen=True)
class Limit:
    per_account: int
    per_ip: int
    window: timedelta


LIMITS: dict[str, Limit] = {
    # failed sign-ins: the 6th failure for one account within 15 minutes is refused
    "sign_in_failed": Limit(per_account=5, per_ip=30, window=timedelta(minutes=15)),
    "magic_link": Limit(per_account=3, per_ip=10, window=timedelta(minutes=15)),
    "password_reset": Limit(per_account=3, per_ip=10, window=timedelta(minutes=15)),
}
_LIMIT_MESSAGES = {
    # The lockout stops password guessing only: the owner can still sign in by magic link (a separate
    # throttle, and consume_magic_link does not look at the password lockout).
    "sign_in_failed": "Too many sign-in attempts. For your security, password sign-in is paused for {wait}. "
                      "You can use \u201cForgot password\u201d, or sign in with a link sent to your email.",
    "magic_link": "Too many sign-in links requested. Please wait {wait} before asking for another one, "
                  "and check your inbox (and spam folder) for the links already sent.",
    "password_reset": "Too many password reset requests. Please wait {wait} before asking again, "
                      "and check your inbox (and spam folder) for the email already sent.",
}
_THROTTLE_LOCK_NAMESPACE = 0x4E58_4431  # advisory-lock class id ("NXD1")


_PHONE_RE = re.compile(r"^\+?[0-9 ()-]{8,20}$")


@dataclass(frozen=True)
class IssuedSession:
    """A freshly issued session. ``token`` goes to the client, never to the database."""

    token: str
    session_id: uuid.UUID
    user_id: uuid.UUID
    expires_at: datetime  # absolute expiry
    actor: Actor


# ─────────────────────────────────────────────────────────────────────────────
# Small helpers
# ─────────────────────────────────────────────────────────────────────────────


def _utcnow() -> datetime:
    return clock.now()


def new_token() -> str:
    """256 bits from the OS CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _clean_name(value: str | None, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(f"Please enter your {label}.", field=field)
    if len(value) > 100:
        raise ValidationFailed(f"The {label} is too long.", field=field)
    return value


def _clean_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _PHONE_RE.match(value):
        raise ValidationFailed("Please enter a valid phone number, e.g. 0412 345 678.", field="phone")
    digits = re.sub(r"[^0-9+]", "", value)
    if digits.startswith("0") and len(digits) == 10:
        digits = "+61" + digits[1:]
    return digits


def _user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(sa.func.lower(User.email) == email)).first()


def _public_url(path: str) -> str:
    return get_settings().public_url + path


def _mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "\u2022" * max(1, len(local) - 1)) + "@" + domain


def _queue_email(session: Session, template: str, *, to: str, data: dict, user_id: uuid.UUID | None = None,
                 related_type: str | None = None, related_id: uuid.UUID | None = None) -> None:
    """Email ``template`` (messaging.message_templates) into the transactional outbox; the dispatcher sends it
    (docs/decisions/0005-outbox-and-offline-adapters.md)."""
    notify.queue_message(session, template, to={"email": to, "user_id": user_id}, data=data,
                         channels=("email",), related_type=related_type, related_id=related_id)


def _side_engine(session: Session) -> sa.Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


# ─────────────────────────────────────────────────────────────────────────────
# Actors and sessions
# ─────────────────────────────────────────────────────────────────────────────


def actor_for_user(session: Session, user_id: uuid.UUID, ip: str | None = None,
                   user_agent: str | None = None) -> Actor:
    """The Actor a user acts as: role from ``users.role``, plus their role rows' ids."""
    ip = clean_ip(ip)
    user = session.get(User, user_id)
    if user is None:
        raise AuthRequired("Please sign in.")
    instructor_id = session.exec(select(Instructor.id).where(Instructor.user_id == user_id)).first()
    student_id = session.exec(select(Student.id).where(Student.user_id == user_id)).first()
    parent_id = session.exec(select(Parent.id).where(Parent.user_id == user_id)).first()
    return Actor(role=user.role, user_id=user.id, instructor_id=instructor_id, student_id=student_id,
                 parent_id=parent_id, ip_address=ip, user_agent=(user_agent or None) and user_agent[:500])


def _issue_session(session: Session, user: User, ip: str | None, user_agent: str | None,
                   previous_token: str | None = None) -> IssuedSession:
    if previous_token:  # never keep a session id the client had before signing in
        session.execute(
            sa.update(AuthSession)
            .where(AuthSession.token_hash == hash_token(previous_token), AuthSession.revoked_at.is_(None))
            .values(revoked_at=sa.func.now())
        )
    token = new_token()
    now = _utcnow()
    row = AuthSession(
        token_hash=hash_token(token), user_id=user.id, created_at=now, last_seen_at=now,
        idle_expires_at=now + SESSION_IDLE, absolute_expires_at=now + SESSION_ABSOLUTE,
        ip=ip, user_agent=(user_agent or None) and user_agent[:500],
    )
    session.add(row)
    user.last_sign_in_at = now
    user.failed_sign_in_count = 0
    user.locked_until = None
    session.add(user)
    session.flush()
    return IssuedSession(token=token, session_id=row.id, user_id=user.id, expires_at=row.absolute_expires_at,
                         actor=actor_for_user(session, user.id, ip, user_agent))


def actor_for_session_token(session: Session, token: str | None, *, ip: str | None = None,
                            user_agent: str | None = None) -> Actor:
    """Resolve a cookie / bearer token to an Actor, or raise AuthRequired.

    Slides the idle expiry forward (at most once a minute), never past the
    absolute expiry.
    """
    ip = clean_ip(ip)
    if not token:
        raise AuthRequired("Please sign in to continue.")
    row = session.execute(
        sa.select(AuthSession.id, AuthSession.user_id, AuthSession.last_seen_at, User.status)
        .join(User, User.id == AuthSession.user_id)
        .where(
            AuthSession.token_hash == hash_token(token),
            AuthSession.revoked_at.is_(None),
            AuthSession.idle_expires_at > sa.func.now(),
            AuthSession.absolute_expires_at > sa.func.now(),
        )
    ).first()
    if row is None:
        raise AuthRequired("Your session has ended. Please sign in again.")
    if row.status != "active":
        raise AuthRequired("This account is suspended. Please contact NexDrive Academy.")
    if row.last_seen_at < _utcnow() - SESSION_TOUCH_EVERY:
        session.execute(
            sa.update(AuthSession).where(AuthSession.id == row.id).values(
                last_seen_at=sa.func.now(),
                idle_expires_at=sa.func.least(sa.func.now() + SESSION_IDLE, AuthSession.absolute_expires_at),
            )
        )
    return actor_for_user(session, row.user_id, ip, user_agent)


def session_id_for_token(session: Session, token: str) -> uuid.UUID | None:
    return session.exec(select(AuthSession.id).where(AuthSession.token_hash == hash_token(token))).first()


def _revoke_all_sessions(session: Session, user_id: uuid.UUID) -> int:
    result = session.execute(
        sa.update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
    )
    return result.rowcount or 0


# ─────────────────────────────────────────────────────────────────────────────
# Rate limits
# ─────────────────────────────────────────────────────────────────────────────


def _lock_throttle_keys(session: Session, action: str, account: str | None, ip: str | None) -> None:
    """Serialise attempts on one account / one IP so the count can't be raced past."""
    for key in (f"{action}:a:{account}" if account else None, f"{action}:i:{ip}" if ip else None):
        if key:
            session.execute(sa.text("SELECT pg_advisory_xact_lock(:ns, hashtext(:k))"),
                            {"ns": _THROTTLE_LOCK_NAMESPACE, "k": key})


def _check_throttle(session: Session, action: str, account: str | None, ip: str | None) -> None:
    limit = LIMITS[action]
    since = sa.func.now() - limit.window
    checks = []
    if account:
        checks.append((AuthThrottleEvent.account == account, limit.per_account, "account"))
    if ip:
        checks.append((AuthThrottleEvent.ip == ip, limit.per_ip, "ip"))
    for condition, allowed, scope in checks:
        count, oldest = session.execute(
            sa.select(sa.func.count(), sa.func.min(AuthThrottleEvent.created_at)).where(
                AuthThrottleEvent.action == action, condition, AuthThrottleEvent.created_at > since)
        ).one()
        if count >= allowed:
            now = session.execute(sa.select(sa.func.now())).scalar_one()
            retry = max(1, int((oldest + limit.window - now).total_seconds()) + 1)
            minutes = max(1, round(retry / 60))
            wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
            raise RateLimited(_LIMIT_MESSAGES[action].format(wait=wait), retry_after_seconds=retry, scope=scope)


def _record_throttle(session: Session, action: str, account: str | None, ip: str | None) -> None:
    session.add(AuthThrottleEvent(action=action, account=account, ip=ip))
    session.flush()


def purge_throttle_events(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Housekeeping for a daily job: throttle rows outlive every window long before a day."""
    result = session.execute(sa.delete(AuthThrottleEvent).where(
        AuthThrottleEvent.created_at < sa.func.now() - older_than))
    return result.rowcount or 0


def _record_failed_sign_in(session: Session, *, email: str, user_id: uuid.UUID | None, ip: str | None,
                           user_agent: str | None, reason: str, count: bool = True) -> None:
    """Record a failed sign-in in its own committed transaction (survives the caller's rollback)."""
    ip = clean_ip(ip)
    with Session(_side_engine(session), expire_on_commit=False) as side:
        side.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
        if count:
            _record_throttle(side, "sign_in_failed", email, ip)
        if user_id is not None and count:
            limit = LIMITS["sign_in_failed"]
            side.execute(
                sa.update(User).where(User.id == user_id).values(
                    failed_sign_in_count=User.failed_sign_in_count + 1,
                    locked_until=sa.case(
                        (User.failed_sign_in_count + 1 >= limit.per_account, sa.func.now() + limit.window),
                        else_=User.locked_until,
                    ),
                )
            )
        visitor = Actor(role="visitor", ip_address=ip, user_agent=(user_agent or None) and user_agent[:500])
        record_event(side, visitor, "SIGN_IN_FAILED", subject_type="user" if user_id else None,
                     subject_id=user_id, details={"email": email, "reason": reason}, severity="warning")
        side.commit()


# ─────────────────────────────────────────────────────────────────────────────
# Sign-up, sign-in, sign-out
# ─────────────────────────────────────────────────────────────────────────────


def _default_instructor_id(session: Session, instructor_id: uuid.UUID | None) -> uuid.UUID:
    if instructor_id is not None:
        instructor = session.get(Instructor, instructor_id)
        if instructor is None or instructor.status != "active":
            raise ValidationFailed("Please choose one of our instructors.", field="instructor_id")
        return instructor.id
    chosen = session.exec(
        select(Instructor.id).where(Instructor.status == "active")
        .order_by(Instructor.is_owner.desc(), Instructor.created_at)
    ).first()
    if chosen is None:
        raise ValidationFailed("We're not taking new students online yet. Please call us to enrol.")
    return chosen


def sign_up_student(
    session: Session,
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str | None = None,
    date_of_birth: date | None = None,
    instructor_id: uuid.UUID | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> IssuedSession:
    """A learner creates their own account and is signed in (staff tools and tests; the public sign-up
    is :func:`request_sign_up`, which does not reveal whether an email already has an account)."""
    ip = clean_ip(ip)
    email, first_name, last_name, phone = _check_sign_up(email, password, first_name, last_name, phone,
                                                         date_of_birth)
    if _user_by_email(session, email) is not None:
        raise EmailTaken("An account with this email already exists. Sign in, or use \u201cForgot password\u201d.",
                         field="email")
    user, student = _create_student(session, email=email, password=password, first_name=first_name,
                                    last_name=last_name, phone=phone, date_of_birth=date_of_birth,
                                    instructor_id=instructor_id)
    issued = _issue_session(session, user, ip, user_agent)
    record_event(session, issued.actor, "ACCOUNT_CREATED", subject_type="user", subject_id=user.id,
                 details={"role": "student", "student_id": str(student.id), "method": "self_sign_up"})
    record_event(session, issued.actor, "SIGN_IN", subject_type="user", subject_id=user.id,
                 details={"method": "sign_up", "session_id": str(issued.session_id)})
    return issued


SIGN_UP_LINK_TTL = timedelta(hours=24)
SIGN_UP_MESSAGE = ("Thanks! Check your email: we've sent you a link to finish signing up. "
                   "If you already have an account, the email tells you how to sign in.")


def _check_sign_up(email: str, password: str, first_name: str, last_name: str, phone: str | None,
                   date_of_birth: date | None) -> tuple[str, str, str, str | None]:
    email = normalise_email(email)
    first_name = _clean_name(first_name, "first_name", "first name")
    last_name = _clean_name(last_name, "last_name", "last name")
    phone = _clean_phone(phone)
    check_password_rules(password, email=email)
    if date_of_birth is not None and date_of_birth > clock.today():
        raise ValidationFailed("Please check your date of birth.", field="date_of_birth")
    return email, first_name, last_name, phone


def request_sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str | None = None,
    date_of_birth: date | None = None,
    instructor_id: uuid.UUID | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str | None:
    """The public sign-up. Answers the same whether or not the email already has an account:

    * a new email gets an account and an email with a link that confirms the address and signs them in;
    * an email that already has an account gets nothing changed, and its owner an email saying someone
      tried to sign up with it (sign in, or reset the password).

    Returns the link's raw token for tools and tests (None for an existing account); the API never
    returns it. Input errors (a weak password, a missing name) are reported the same either way.
    """
    ip = clean_ip(ip)
    email, first_name, last_name, phone = _check_sign_up(email, password, first_name, last_name, phone,
                                                         date_of_birth)
    visitor = Actor(role="visitor", ip_address=ip, user_agent=user_agent)
    existing = _user_by_email(session, email)
    if existing is not None:
        burn_verification_time(password)  # the new-account path spends the same on hashing
        _queue_email(session, "sign_up_existing_account", to=existing.email, user_id=existing.id,
                     data={"sign_in_url": _public_url("/sign-in"), "forgot_url": _public_url("/forgot-password")})
        record_event(session, visitor, "SIGN_UP_EXISTING_EMAIL", subject_type="user", subject_id=existing.id,
                     severity="warning")
        return None
    user, student = _create_student(session, email=email, password=password, first_name=first_name,
                                    last_name=last_name, phone=phone, date_of_birth=date_of_birth,
                                    instructor_id=instructor_id)
    token = _create_link(session, user=user, purpose="sign_in", ttl=SIGN_UP_LINK_TTL, ip=ip)
    _queue_email(session, "sign_up_welcome", to=user.email, user_id=user.id,
                 data={"first_name": first_name, "link": _public_url(MAGIC_LINK_PATH + token),
                       "sign_in_url": _public_url("/sign-in")})
    record_event(session, visitor, "ACCOUNT_CREATED", subject_type="user", subject_id=user.id,
                 details={"role": "student", "student_id": str(student.id), "method": "self_sign_up"})
    return token


def _create_student(session: Session, *, email: str, password: str, first_name: str, last_name: str,
                    phone: str | None, date_of_birth: date | None,
                    instructor_id: uuid.UUID | None) -> tuple[User, Student]:
    chosen_instructor = _default_instructor_id(session, instructor_id)
    user = User(email=email, password_hash=hash_password(password), role="student")
    session.add(user)
    session.flush()
    profile = Profile(user_id=user.id, first_name=first_name, last_name=last_name, email=email, phone=phone,
                      date_of_birth=date_of_birth, role="student")
    session.add(profile)
    session.flush()
    student = Student(user_id=user.id, profile_id=profile.id, instructor_id=chosen_instructor)
    session.add(student)
    session.flush()
    return user, student


def sign_in(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str | None = None,
    user_agent: str | None = None,
    previous_token: str | None = None,
) -> IssuedSession:
    """Email + password. Raises InvalidCredentials (same message for unknown email
    and wrong password), RateLimited, or AccountSuspended."""
    ip = clean_ip(ip)
    try:
        email = normalise_email(email)
    except ValidationFailed:
        raise InvalidCredentials("That email and password don't match our records.") from None
    _lock_throttle_keys(session, "sign_in_failed", email, ip)
    try:
        _check_throttle(session, "sign_in_failed", email, ip)
    except RateLimited:
        user = _user_by_email(session, email)
        _record_failed_sign_in(session, email=email, user_id=user.id if user else None, ip=ip,
                               user_agent=user_agent, reason="rate_limited", count=False)
        raise
    user = _user_by_email(session, email)
    if user is None or not user.password_hash:
        burn_verification_time(password or "")
        _record_failed_sign_in(session, email=email, user_id=user.id if user else None, ip=ip,
                               user_agent=user_agent, reason="unknown_email" if user is None else "no_password")
        raise InvalidCredentials("That email and password don't match our records.")
    if not verify_password(user.password_hash, password or ""):
        _record_failed_sign_in(session, email=email, user_id=user.id, ip=ip, user_agent=user_agent,
                               reason="wrong_password")
        raise InvalidCredentials("That email and password don't match our records.")
    if user.status != "active":
        _record_failed_sign_in(session, email=email, user_id=user.id, ip=ip, user_agent=user_agent,
                               reason="suspended", count=False)
        raise AccountSuspended("This account is suspended. Please contact NexDrive Academy.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # A success clears the account's failure window (the per-IP count stays).
    session.execute(sa.delete(AuthThrottleEvent).where(
        AuthThrottleEvent.action == "sign_in_failed", AuthThrottleEvent.account == email))
    issued = _issue_session(session, user, ip, user_agent, previous_token)
    record_event(session, issued.actor, "SIGN_IN", subject_type="user", subject_id=user.id,
                 details={"method": "password", "session_id": str(issued.session_id)})
    return issued


# The demo school's accounts behind the sign-in page's "Explore the demo as ..." buttons (services/seed.py).
DEMO_SIGN_IN_ACCOUNTS: dict[str, str] = {
    "admin": "owner@demo.nexdrive.invalid",
    "instructor": "instructor@demo.nexdrive.invalid",
    "student": "liam.chen@demo.nexdrive.invalid",  # the learner the demo parent follows
    "parent": "michelle.chen@demo.nexdrive.invalid",
}
_DEMO_DOMAIN = "@demo.nexdrive.invalid"


def demo_sign_in(
    session: Session,
    *,
    email: str,
    ip: str | None = None,
    user_agent: str | None = None,
    previous_token: str | None = None,
) -> IssuedSession:
    """Sign in as a demo-school account with one click (a normal server-side session).

    Exists only while demo mode is on (``settings.demo_sign_in``: demo data loaded and not
    production), and only for accounts on the demo school's reserved domain; otherwise it
    answers NotFound, as if there were no such thing.
    """
    ip = clean_ip(ip)
    if not get_settings().demo_sign_in:
        raise NotFound("Demo sign-in is not available.")
    email = (email or "").strip().lower()
    user = _user_by_email(session, email) if email.endswith(_DEMO_DOMAIN) else None
    if user is None or email not in DEMO_SIGN_IN_ACCOUNTS.values():
        raise NotFound("There is no such demo account.")
    if user.status != "active":
        raise AccountSuspended("This account is suspended. Please contact NexDrive Academy.")
    issued = _issue_session(session, user, ip, user_agent, previous_token)
    record_event(session, issued.actor, "SIGN_IN", subject_type="user", subject_id=user.id,
                 details={"method": "demo", "session_id": str(issued.session_id)})
    return issued


def sign_out(session: Session, actor: Actor, token: str) -> None:
    """End this session (server-side: the token stops working everywhere)."""
    if actor.user_id is None:
        raise AuthRequired("Please sign in to continue.")
    result = session.execute(
        sa.update(AuthSession)
        .where(AuthSession.token_hash == hash_token(token), AuthSession.user_id == actor.user_id,
               AuthSession.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
        .returning(AuthSession.id)
    ).first()
    record_event(session, actor, "SIGN_OUT", subject_type="user", subject_id=actor.user_id,
                 details={"session_id": str(result.id) if result else None})


def sign_out_everywhere(session: Session, actor: Actor) -> int:
    """End every session of the acting user, this one included."""
    if actor.user_id is None:
        raise AuthRequired("Please sign in to continue.")
    count = _revoke_all_sessions(session, actor.user_id)
    record_event(session, actor, "SIGN_OUT_ALL", subject_type="user", subject_id=actor.user_id,
                 details={"sessions_ended": count})
    return count


# ─────────────────────────────────────────────────────────────────────────────
# Passwords
# ─────────────────────────────────────────────────────────────────────────────


def change_password(session: Session, actor: Actor, *, current_password: str | None = None,
                    new_password: str) -> IssuedSession:
    """Asks for the current password; ends every session and issues a new one for this device.

    An account that has never had a password (it signs in by emailed link, or is a demo
    account) sets its first one without a current password."""
    if actor.user_id is None:
        raise AuthRequired("Please sign in to continue.")
    user = session.get(User, actor.user_id)
    if user is None:
        raise AuthRequired("Please sign in to continue.")
    first = not user.password_hash
    if not first and not verify_password(user.password_hash, current_password or ""):
        raise ValidationFailed("Your current password isn't right.", field="current_password")
    check_password_rules(new_password, email=user.email)
    if not first and verify_password(user.password_hash, new_password):
        raise ValidationFailed("Your new password must be different from the current one.", field="new_password")
    user.password_hash = hash_password(new_password)
    session.add(user)
    ended = _revoke_all_sessions(session, user.id)
    issued = _issue_session(session, user, actor.ip_address, actor.user_agent)
    record_event(session, actor, "PASSWORD_SET" if first else "PASSWORD_CHANGED", subject_type="user",
                 subject_id=user.id, details={"sessions_ended": ended, "new_session_id": str(issued.session_id)})
    return issued


def _create_link(session: Session, *, user: User, purpose: str, ttl: timedelta, ip: str | None) -> str:
    token = new_token()
    session.add(MagicLink(token_hash=hash_token(token), user_id=user.id, email=user.email, purpose=purpose,
                          expires_at=_utcnow() + ttl, requested_ip=ip))
    session.flush()
    return token


def _email_a_link(session: Session, *, kind: str, purpose: str, path: str, ttl, event: str, email: str,
                  ip: str | None, user_agent: str | None, event_details: bool) -> str | None:
    """Throttle, then email a single-use link to an active account; None (and no email) otherwise."""
    ip = clean_ip(ip)
    email = normalise_email(email)
    _lock_throttle_keys(session, kind, email, ip)
    _check_throttle(session, kind, email, ip)
    _record_throttle(session, kind, email, ip)
    user = _user_by_email(session, email)
    if user is None or user.status != "active":
        return None
    token = _create_link(session, user=user, purpose=purpose, ttl=ttl, ip=ip)
    minutes = int(ttl.total_seconds() // 60)
    _queue_email(session, kind, to=user.email, user_id=user.id,
                 data={"link": _public_url(path + token), "minutes": minutes})
    record_event(session, Actor(role="visitor", ip_address=ip, user_agent=user_agent), event,
                 subject_type="user", subject_id=user.id,
                 details={"expires_in_minutes": minutes} if event_details else None)
    return token


def request_magic_link(session: Session, *, email: str, ip: str | None = None,
                       user_agent: str | None = None) -> str | None:
    """Email a single-use sign-in link. Answers the same for unknown emails.

    Returns the raw token for the caller's tests/tools (None when no account);
    the API never returns it to the client.
    """
    return _email_a_link(session, kind="magic_link", purpose="sign_in", path=MAGIC_LINK_PATH, ttl=MAGIC_LINK_TTL,
                         event="MAGIC_LINK_REQUESTED", email=email, ip=ip, user_agent=user_agent,
                         event_details=True)


def _link_row(session: Session, token: str) -> MagicLink | None:
    if not token:
        return None
    return session.exec(select(MagicLink).where(MagicLink.token_hash == hash_token(token))).first()


def describe_magic_link(session: Session, token: str) -> dict[str, Any]:
    """What a link is for and whether it still works. Read-only: never uses it up
    (a mail scanner fetching the link must not sign anyone in or burn it)."""
    row = _link_row(session, token)
    if row is None:
        return {"valid": False, "reason": "unknown", "purpose": None, "email_hint": None}
    now = session.execute(sa.select(sa.func.now())).scalar_one()
    reason = "used" if row.consumed_at is not None else "expired" if row.expires_at <= now else None
    return {"valid": reason is None, "reason": reason, "purpose": row.purpose,
            "email_hint": _mask_email(row.email), "expires_at": row.expires_at}


def _consume_link(session: Session, token: str, purposes: tuple[str, ...]) -> MagicLink:
    """Compare-and-swap: exactly one caller gets an unused, unexpired link."""
    consumed = session.execute(
        sa.update(MagicLink)
        .where(MagicLink.token_hash == hash_token(token or ""), MagicLink.consumed_at.is_(None),
               MagicLink.expires_at > sa.func.now(), MagicLink.purpose.in_(purposes))
        .values(consumed_at=sa.func.now())
        .returning(MagicLink.id)
    ).first()
    if consumed is None:
        row = _link_row(session, token)
        if row is None or row.purpose not in purposes:
            raise LinkInvalid("This link isn't valid. Please request a new one.", reason="unknown")
        if row.consumed_at is not None:
            raise LinkInvalid("This link has already been used. Please request a new one.", reason="used")
        raise LinkInvalid("This link has expired. Please request a new one.", reason="expired")
    row = session.get(MagicLink, consumed.id)
    session.refresh(row)
    return row


def consume_magic_link(session: Session, token: str, *, ip: str | None = None, user_agent: str | None = None,
                       previous_token: str | None = None) -> IssuedSession:
    """Sign in with a magic link (an explicit POST). Works once, before expiry."""
    ip = clean_ip(ip)
    link = _consume_link(session, token, ("sign_in",))
    user = session.get(User, link.user_id) if link.user_id else None
    if user is None:
        raise LinkInvalid("This link isn't valid. Please request a new one.", reason="unknown")
    if user.status != "active":
        raise AccountSuspended("This account is suspended. Please contact NexDrive Academy.")
    if user.email_verified_at is None:
        user.email_verified_at = _utcnow()  # they received the email
    issued = _issue_session(session, user, ip, user_agent, previous_token)
    record_event(session, issued.actor, "SIGN_IN", subject_type="user", subject_id=user.id,
                 details={"method": "magic_link", "session_id": str(issued.session_id)})
    return issued


def request_password_reset(session: Session, *, email: str, ip: str | None = None,
                           user_agent: str | None = None) -> str | None:
    """Email a single-use reset link. Answers the same for unknown emails."""
    return _email_a_link(session, kind="password_reset", purpose="reset_password", path=RESET_LINK_PATH,
                         ttl=RESET_LINK_TTL, event="PASSWORD_RESET_REQUESTED", email=email, ip=ip,
                         user_agent=user_agent, event_details=False)


def reset_password(session: Session, token: str, new_password: str, *, ip: str | None = None,
                   user_agent: str | None = None) -> IssuedSession:
    """Set a new password from a reset link (or a staff invitation link); ends every
    other session and signs this device in."""
    ip = clean_ip(ip)
    row = _link_row(session, token)
    check_password_rules(new_password, email=row.email if row else None)  # before using the link up
    link = _consume_link(session, token, ("reset_password", "invite"))
    user = session.get(User, link.user_id) if link.user_id else None
    if user is None:
        raise LinkInvalid("This link isn't valid. Please request a new one.", reason="unknown")
    if user.status != "active":
        raise AccountSuspended("This account is suspended. Please contact NexDrive Academy.")
    user.password_hash = hash_password(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = _utcnow()
    session.add(user)
    ended = _revoke_all_sessions(session, user.id)
    session.execute(sa.delete(AuthThrottleEvent).where(
        AuthThrottleEvent.action == "sign_in_failed", AuthThrottleEvent.account == user.email.lower()))
    issued = _issue_session(session, user, ip, user_agent)
    record_event(session, issued.actor, "PASSWORD_RESET" if link.purpose == "reset_password" else "PASSWORD_SET",
                 subject_type="user", subject_id=user.id,
                 details={"sessions_ended": ended, "session_id": str(issued.session_id)})
    return issued


# ─────────────────────────────────────────────────────────────────────────────
# Admin: staff accounts, roles, suspension
# ─────────────────────────────────────────────────────────────────────────────


def _require_admin(actor: Actor) -> None:
    if actor.is_visitor or actor.user_id is None and not actor.is_system:
        raise AuthRequired("Please sign in to continue.")
    if not actor.sees_everything:
        raise Forbidden("Only the administrator can do this.")


@dataclass(frozen=True)
class StaffInvitation:
    user_id: uuid.UUID
    instructor_id: uuid.UUID | None
    token: str  # emailed set-your-password link token (for tests/tools; never returned by the API)


def create_staff_account(
    session: Session,
    actor: Actor,
    *,
    email: str,
    role: str,
    first_name: str,
    last_name: str,
    phone: str | None = None,
    adi_number: str | None = None,
    adi_expiry: date | None = None,
    accreditation_number: str | None = None,
    accreditation_expiry: date | None = None,
    is_owner: bool = False,
) -> StaffInvitation:
    """The admin creates an instructor or another admin; they get an email to set a password."""
    _require_admin(actor)
    if role not in ("instructor", "admin"):
        raise ValidationFailed("Staff accounts are instructors or administrators.", field="role")
    email = normalise_email(email)
    first_name = _clean_name(first_name, "first_name", "first name")
    last_name = _clean_name(last_name, "last_name", "last name")
    phone = _clean_phone(phone)
    if _user_by_email(session, email) is not None:
        raise EmailTaken("An account with this email already exists.", field="email")
    user = User(email=email, role=role)
    session.add(user)
    session.flush()
    profile = Profile(user_id=user.id, first_name=first_name, last_name=last_name, email=email, phone=phone,
                      role=role)
    session.add(profile)
    session.flush()
    instructor_id = None
    if role == "instructor" or adi_number:
        if not adi_number or adi_expiry is None:
            raise ValidationFailed("An instructor needs their ADI number and its expiry date.", field="adi_number")
        instructor = Instructor(user_id=user.id, profile_id=profile.id, adi_number=adi_number.strip(),
                                adi_expiry=adi_expiry, accreditation_number=accreditation_number,
                                accreditation_expiry=accreditation_expiry, is_owner=is_owner,
                                status="onboarding")
        session.add(instructor)
        session.flush()
        instructor_id = instructor.id
    token = _create_link(session, user=user, purpose="invite", ttl=STAFF_INVITE_TTL, ip=actor.ip_address)
    link = _public_url(RESET_LINK_PATH + token)
    _queue_email(session, "staff_invite", to=email, user_id=user.id,
                 data={"first_name": first_name, "role": role, "link": link,
                       "hours": int(STAFF_INVITE_TTL.total_seconds() // 3600)})
    record_event(session, actor, "ACCOUNT_CREATED", subject_type="user", subject_id=user.id,
                 details={"role": role, "instructor_id": str(instructor_id) if instructor_id else None,
                          "method": "admin"})
    return StaffInvitation(user_id=user.id, instructor_id=instructor_id, token=token)


@dataclass(frozen=True)
class StudentInvitation:
    user_id: uuid.UUID
    student_id: uuid.UUID
    token: str  # emailed choose-your-password link token (for tests/tools; never shown)


def invite_student(session: Session, actor: Actor, *, email: str, first_name: str, last_name: str,
                   phone: str | None = None, instructor_id: uuid.UUID | None = None) -> StudentInvitation:
    """The office enrols someone: a learner account without a password, and an email with a link to
    choose one (the same link as a staff invitation). Refused when the email already has an account."""
    _require_admin(actor)
    email = normalise_email(email)
    first_name = _clean_name(first_name, "first_name", "first name")
    last_name = _clean_name(last_name, "last_name", "last name")
    phone = _clean_phone(phone)
    if _user_by_email(session, email) is not None:
        raise EmailTaken("An account with this email already exists.", field="email")
    chosen = _default_instructor_id(session, instructor_id)
    user = User(email=email, role="student")
    session.add(user)
    session.flush()
    profile = Profile(user_id=user.id, first_name=first_name, last_name=last_name, email=email, phone=phone,
                      role="student")
    session.add(profile)
    session.flush()
    student = Student(user_id=user.id, profile_id=profile.id, instructor_id=chosen)
    session.add(student)
    session.flush()
    token = _create_link(session, user=user, purpose="invite", ttl=STAFF_INVITE_TTL, ip=actor.ip_address)
    _queue_email(session, "student_invite", to=email, user_id=user.id,
                 data={"first_name": first_name, "link": _public_url(RESET_LINK_PATH + token),
                       "hours": int(STAFF_INVITE_TTL.total_seconds() // 3600)})
    record_event(session, actor, "ACCOUNT_CREATED", subject_type="user", subject_id=user.id,
                 details={"role": "student", "student_id": str(student.id), "method": "admin_invite"})
    return StudentInvitation(user_id=user.id, student_id=student.id, token=token)


@dataclass(frozen=True)
class OwnerCreated:
    user_id: uuid.UUID
    token: str  # the one-time set-your-password link's token
    link: str  # the full link, printed by ``manage.py create-owner`` (also emailed)


_OWNER_LOCK = 0x4E58_4F57  # advisory-lock key ("NXOW"): two create-owner runs at once make one owner


def create_owner(session: Session, *, email: str, name: str, force: bool = False) -> OwnerCreated:
    """The first administrator of a fresh install (``manage.py create-owner``), acting as the system.

    Refused when an administrator already exists, unless ``force`` (then another admin is added);
    an email that already has an account is always refused. No password is set here: the owner
    chooses one through the returned one-time link (the staff-invitation link, 72 hours).
    """
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _OWNER_LOCK})
    parts = (name or "").split()
    if len(parts) < 2:
        raise ValidationFailed('Give the owner\'s first and last name, e.g. --name "Jordan Ellis".', field="name")
    admins = session.execute(sa.select(sa.func.count()).select_from(User).where(User.role == "admin")).scalar_one()
    if admins and not force:
        raise InvalidState(f"This school already has {admins} administrator{'s' if admins != 1 else ''}. "
                           "Sign in as one of them to add staff, or use --force to add another administrator.")
    invitation = create_staff_account(session, SYSTEM, email=email, role="admin", first_name=" ".join(parts[:-1]),
                                      last_name=parts[-1])
    record_event(session, SYSTEM, "OWNER_CREATED", subject_type="user", subject_id=invitation.user_id,
                 details={"method": "cli", "forced": bool(force and admins), "admins_before": admins})
    return OwnerCreated(user_id=invitation.user_id, token=invitation.token,
                        link=_public_url(RESET_LINK_PATH + invitation.token))


def set_user_role(session: Session, actor: Actor, user_id: uuid.UUID, role: str) -> User:
    """Move a staff member between instructor and admin (students and parents keep their role)."""
    _require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    if role not in ("instructor", "admin") or user.role not in ("instructor", "admin"):
        raise ValidationFailed("Only staff can move between instructor and administrator.", field="role")
    if (
        role == "instructor"
        and session.exec(select(Instructor.id).where(Instructor.user_id == user.id)).first() is None
    ):
        raise ValidationFailed("This person has no instructor details yet.", field="role")
    if user.role == "admin" and role != "admin":
        admins = session.execute(sa.select(sa.func.count()).select_from(User).where(
            User.role == "admin", User.status == "active")).scalar_one()
        if admins <= 1:
            raise ValidationFailed("The school must keep at least one administrator.", field="role")
    old = user.role
    if old == role:
        return user
    user.role = role
    session.add(user)
    profile = session.exec(select(Profile).where(Profile.user_id == user.id)).first()
    if profile is not None:
        profile.role = role
        session.add(profile)
    _revoke_all_sessions(session, user.id)  # new rights take effect at the next sign-in
    session.flush()
    record_event(session, actor, "ROLE_CHANGED", subject_type="user", subject_id=user.id,
                 details={"from": old, "to": role})
    return user


def suspend_user(session: Session, actor: Actor, user_id: uuid.UUID, reason: str | None = None) -> User:
    """Suspend an account: every session ends at once, and sign-in is refused."""
    _require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    if user.id == actor.user_id:
        raise ValidationFailed("You can't suspend your own account.")
    user.status = "suspended"
    session.add(user)
    ended = _revoke_all_sessions(session, user.id)
    session.flush()
    record_event(session, actor, "ACCOUNT_SUSPENDED", subject_type="user", subject_id=user.id,
                 details={"reason": reason, "sessions_ended": ended}, severity="warning")
    return user


def reinstate_user(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    _require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    user.status = "active"
    user.locked_until = None
    user.failed_sign_in_count = 0
    session.add(user)
    session.flush()
    record_event(session, actor, "ACCOUNT_REINSTATED", subject_type="user", subject_id=user.id)
    return user


# ─────────────────────────────────────────────────────────────────────────────
# Parents: invitations and the permissions the student controls
# ─────────────────────────────────────────────────────────────────────────────


def _clean_permissions(permissions: dict[str, Any] | None, *, partial: bool) -> dict[str, bool]:
    permissions = dict(permissions or {})
    unknown = set(permissions) - set(PARENT_PERMISSIONS)
    if unknown:
        raise ValidationFailed(f"Unknown permission: {', '.join(sorted(unknown))}.", field="permissions")
    for key, value in permissions.items():
        if not isinstance(value, bool):
            raise ValidationFailed(f"{key} must be true or false.", field=key)
    if partial:
        return permissions
    return {key: bool(permissions.get(key, True)) for key in PARENT_PERMISSIONS}


@dataclass(frozen=True)
class ParentInvite:
    invitation_id: uuid.UUID
    token: str  # emailed; for tests/tools, never returned by the API


def invite_parent(session: Session, actor: Actor, *, email: str, relationship: str = "parent",
                  permissions: dict[str, bool] | None = None,
                  student_id: uuid.UUID | None = None) -> ParentInvite:
    """A student invites a parent / supervisor by email (admin may on a student's behalf)."""
    if actor.user_id is None:
        raise AuthRequired("Please sign in to continue.")
    if actor.is_student:
        student_id = actor.student_id
    elif not actor.is_admin:
        raise Forbidden("Only the student can invite a parent or supervisor.")
    student = session.get(Student, student_id) if student_id else None
    if student is None:
        raise NotFound("No such student.")
    email = normalise_email(email)
    if relationship not in PARENT_RELATIONSHIPS:
        raise ValidationFailed("Choose parent, guardian, supervisor or other.", field="relationship")
    perms = _clean_permissions(permissions, partial=False)
    student_user = session.get(User, student.user_id)
    if student_user is not None and student_user.email.lower() == email:
        raise ValidationFailed("Invite your parent or supervisor with their own email address.", field="email")
    token = new_token()
    invitation = ParentInvitation(student_id=student.id, email=email, token_hash=hash_token(token),
                                  relationship=relationship, permissions=perms, invited_by_user_id=actor.user_id,
                                  expires_at=_utcnow() + PARENT_INVITE_TTL)
    session.add(invitation)
    session.flush()
    profile = session.get(Profile, student.profile_id)
    name = f"{profile.first_name} {profile.last_name}" if profile else "Your learner"
    _queue_email(session, "parent_invitation", to=email, related_type="parent_invitation", related_id=invitation.id,
                 data={"learner_name": name, "relationship": relationship, "expires_days": PARENT_INVITE_TTL.days,
                       "accept_url": _public_url(PARENT_INVITE_PATH + token)})
    record_event(session, actor, "PARENT_INVITED", subject_type="student", subject_id=student.id,
                 details={"invitation_id": str(invitation.id), "email": email, "relationship": relationship,
                          "permissions": perms})
    return ParentInvite(invitation_id=invitation.id, token=token)


def _live_invitation(session: Session, token: str) -> ParentInvitation:
    inv = session.exec(select(ParentInvitation).where(
        ParentInvitation.token_hash == hash_token(token or "")).with_for_update()).first()
    if inv is None:
        raise LinkInvalid("This invitation isn't valid.", reason="unknown")
    if inv.revoked_at is not None:
        raise LinkInvalid("This invitation was withdrawn by the student.", reason="revoked")
    if inv.accepted_at is not None:
        raise LinkInvalid("This invitation has already been accepted.", reason="used")
    now = session.execute(sa.select(sa.func.now())).scalar_one()
    if inv.expires_at <= now:
        raise LinkInvalid("This invitation has expired. Ask the student to send a new one.", reason="expired")
    return inv


def describe_parent_invitation(session: Session, token: str) -> dict[str, Any]:
    """For the accept page: who invited, and whether the email already has an account (read-only)."""
    inv = _live_invitation(session, token)
    student = session.get(Student, inv.student_id)
    profile = session.get(Profile, student.profile_id)
    return {"student_first_name": profile.first_name, "email": inv.email, "relationship": inv.relationship,
            "permissions": dict(inv.permissions), "has_account": _user_by_email(session, inv.email) is not None,
            "expires_at": inv.expires_at}


def accept_parent_invitation(
    session: Session,
    actor: Actor,
    token: str,
    *,
    password: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    phone: str | None = None,
) -> tuple[ParentStudentLink, IssuedSession | None]:
    """Join as a parent. A signed-in parent with the invited email links their account;
    a visitor creates the parent account (and is signed in). Single use; expires."""
    inv = _live_invitation(session, token)
    existing = _user_by_email(session, inv.email)
    issued: IssuedSession | None = None
    if actor.user_id is not None:
        if not actor.is_parent or actor.parent_id is None:
            raise Forbidden("Only a parent account can accept this invitation. Sign out and open the link again.")
        user = session.get(User, actor.user_id)
        if user.email.lower() != inv.email.lower():
            raise Forbidden(f"This invitation was sent to {_mask_email(inv.email)}. Sign in with that account.")
        parent = session.get(Parent, actor.parent_id)
        acting = actor
    else:
        if existing is not None:
            if existing.role != "parent":
                raise ValidationFailed("This email belongs to a non-parent account. Ask the student to invite "
                                       "another email address.", field="email")
            raise AuthRequired("You already have an account. Sign in, then open the invitation again.")
        check_password_rules(password or "", email=inv.email)
        first = _clean_name(first_name, "first_name", "first name")
        last = _clean_name(last_name, "last_name", "last name")
        user = User(email=inv.email, password_hash=hash_password(password), role="parent",
                    email_verified_at=_utcnow())
        session.add(user)
        session.flush()
        profile = Profile(user_id=user.id, first_name=first, last_name=last, email=inv.email,
                          phone=_clean_phone(phone), role="parent")
        session.add(profile)
        session.flush()
        parent = Parent(user_id=user.id, profile_id=profile.id)
        session.add(parent)
        session.flush()
        issued = _issue_session(session, user, actor.ip_address, actor.user_agent)
        acting = issued.actor
        record_event(session, acting, "ACCOUNT_CREATED", subject_type="user", subject_id=user.id,
                     details={"role": "parent", "parent_id": str(parent.id), "method": "invitation"})
        record_event(session, acting, "SIGN_IN", subject_type="user", subject_id=user.id,
                     details={"method": "invitation", "session_id": str(issued.session_id)})
    perms = _clean_permissions(inv.permissions, partial=False)
    now = _utcnow()
    link = session.exec(select(ParentStudentLink).where(ParentStudentLink.parent_id == parent.id,
                                                        ParentStudentLink.student_id == inv.student_id)).first()
    if link is None:
        link = ParentStudentLink(parent_id=parent.id, student_id=inv.student_id, relationship=inv.relationship,
                                 status="active", invited_at=inv.created_at, accepted_at=now, **perms)
    else:
        link.relationship = inv.relationship
        link.status = "active"
        link.accepted_at = now
        for key, value in perms.items():
            setattr(link, key, value)
    session.add(link)
    inv.accepted_at = now
    inv.accepted_parent_id = parent.id
    session.add(inv)
    session.flush()
    record_event(session, acting, "PARENT_LINKED", subject_type="student", subject_id=inv.student_id,
                 details={"link_id": str(link.id), "parent_id": str(parent.id), "invitation_id": str(inv.id),
                          "permissions": perms})
    return link, issued


def _student_owned_link(session: Session, actor: Actor, link_id: uuid.UUID, *, parent_may: bool) -> ParentStudentLink:
    if actor.user_id is None:
        raise AuthRequired("Please sign in to continue.")
    link = session.get(ParentStudentLink, link_id)
    if link is None:
        if actor.is_admin:
            raise NotFound("No such parent link.")
        raise Forbidden("This parent link is not yours.")
    if actor.is_admin:
        return link
    if actor.is_student and link.student_id == actor.student_id:
        return link
    if parent_may and actor.is_parent and link.parent_id == actor.parent_id:
        return link
    raise Forbidden("Only the student can change what their parents can see.")


def set_parent_permissions(session: Session, actor: Actor, link_id: uuid.UUID,
                           permissions: dict[str, bool]) -> ParentStudentLink:
    """The student (or the admin) switches a linked parent's permissions on or off."""
    link = _student_owned_link(session, actor, link_id, parent_may=False)
    changes = _clean_permissions(permissions, partial=True)
    before = {key: getattr(link, key) for key in changes}
    for key, value in changes.items():
        setattr(link, key, value)
    session.add(link)
    session.flush()
    record_event(session, actor, "PARENT_PERMISSIONS_CHANGED", subject_type="student", subject_id=link.student_id,
                 details={"link_id": str(link.id), "parent_id": str(link.parent_id), "before": before,
                          "after": changes})
    return link


def revoke_parent_link(session: Session, actor: Actor, link_id: uuid.UUID) -> ParentStudentLink:
    """The student (or admin) removes a parent; a parent may also remove themselves."""
    link = _student_owned_link(session, actor, link_id, parent_may=True)
    if link.status != "revoked":
        link.status = "revoked"
        session.add(link)
        session.flush()
        record_event(session, actor, "PARENT_LINK_REVOKED", subject_type="student", subject_id=link.student_id,
                     details={"link_id": str(link.id), "parent_id": str(link.parent_id)})
    return link


def revoke_parent_invitation(session: Session, actor: Actor, invitation_id: uuid.UUID) -> ParentInvitation:
    if actor.user_id is None:
        raise AuthRequired("Please sign in to continue.")
    inv = session.get(ParentInvitation, invitation_id)
    if inv is None or not (actor.is_admin or (actor.is_student and inv.student_id == actor.student_id)):
        raise Forbidden("This invitation is not yours.")
    if inv.accepted_at is not None:
        raise ValidationFailed("This invitation was already accepted; remove the parent link instead.")
    if inv.revoked_at is None:
        inv.revoked_at = _utcnow()
        session.add(inv)
        session.flush()
        record_event(session, actor, "PARENT_INVITATION_REVOKED", subject_type="student", subject_id=inv.student_id,
                     details={"invitation_id": str(inv.id)})
    return inv


# ─────────────────────────────────────────────────────────────────────────────
# Me: the caller's own profile with role data
# ─────────────────────────────────────────────────────────────────────────────

_PROFILE_FIELDS = ("id", "first_name", "last_name", "email", "phone", "date_of_birth", "address_line1",
                   "address_line2", "suburb", "state", "postcode", "avatar_url", "status", "onboarded_at")
_PROFILE_EDITABLE = {"first_name", "last_name", "phone", "date_of_birth", "address_line1", "address_line2",
                     "suburb", "state", "postcode"}
_ROLE_EDITABLE = {
    "student": {"school_or_work", "transmission"},
    "parent": {"licence_type", "years_driving"},
    "instructor": {"bio"},
    "admin": {"bio"},
}


def _pick(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def get_me(session: Session, actor: Actor) -> dict[str, Any]:
    """The caller's account, profile and role data (never anyone else's)."""
    if actor.user_id is None:
        raise AuthRequired("Please sign in to continue.")
    user = session.get(User, actor.user_id)
    if user is None:
        raise AuthRequired("Please sign in to continue.")
    profile = session.exec(select(Profile).where(Profile.user_id == user.id)).first()
    me: dict[str, Any] = {
        "user": {**_pick(user, ("id", "email", "role", "status", "email_verified_at", "last_sign_in_at")),
                 "has_password": bool(user.password_hash)},
        "profile": _pick(profile, _PROFILE_FIELDS) if profile else None,
        "instructor": None, "student": None, "parent": None,
    }
    if actor.instructor_id:
        ins = session.get(Instructor, actor.instructor_id)
        me["instructor"] = _pick(ins, ("id", "adi_number", "adi_expiry", "accreditation_number",
                                       "accreditation_expiry", "is_owner", "status", "bio", "transmission"))
    if actor.student_id:
        st = session.get(Student, actor.student_id)
        me["student"] = _pick(st, ("id", "instructor_id", "licence_type", "transmission", "school_or_work",
                                   "total_hours", "night_hours", "professional_hours", "status",
                                   "enrollment_date", "estimated_test_date"))
        links = session.execute(
            sa.select(ParentStudentLink, Profile.first_name, Profile.last_name, Profile.email)
            .join(Parent, Parent.id == ParentStudentLink.parent_id)
            .join(Profile, Profile.id == Parent.profile_id)
            .where(ParentStudentLink.student_id == st.id, ParentStudentLink.status != "revoked")
        ).all()
        me["student"]["parent_links"] = [
            {"link_id": ln.id, "parent_id": ln.parent_id, "name": f"{fn} {lnm}", "email": em,
             "relationship": ln.relationship, "status": ln.status,
             "permissions": {k: getattr(ln, k) for k in PARENT_PERMISSIONS}}
            for ln, fn, lnm, em in links
        ]
        invs = session.exec(select(ParentInvitation).where(
            ParentInvitation.student_id == st.id, ParentInvitation.accepted_at.is_(None),
            ParentInvitation.revoked_at.is_(None), ParentInvitation.expires_at > sa.func.now())).all()
        me["student"]["pending_invitations"] = [
            {"invitation_id": i.id, "email": i.email, "relationship": i.relationship, "expires_at": i.expires_at}
            for i in invs
        ]
    if actor.parent_id:
        par = session.get(Parent, actor.parent_id)
        links = session.execute(
            sa.select(ParentStudentLink, Profile.first_name, Profile.last_name)
            .join(Student, Student.id == ParentStudentLink.student_id)
            .join(Profile, Profile.id == Student.profile_id)
            .where(ParentStudentLink.parent_id == par.id, ParentStudentLink.status == "active")
        ).all()
        me["parent"] = {
            **_pick(par, ("id", "licence_type", "years_driving")),
            "students": [{"link_id": ln.id, "student_id": ln.student_id, "name": f"{fn} {lnm}",
                          "relationship": ln.relationship,
                          "permissions": {k: getattr(ln, k) for k in PARENT_PERMISSIONS}}
                         for ln, fn, lnm in links],
        }
    return me


def update_me(session: Session, actor: Actor, changes: dict[str, Any]) -> dict[str, Any]:
    """Update the caller's own profile (and a few role fields). Email changes are not here."""
    if actor.user_id is None:
        raise AuthRequired("Please sign in to continue.")
    role_fields = _ROLE_EDITABLE.get(actor.role, set())
    unknown = set(changes) - _PROFILE_EDITABLE - role_fields
    if unknown:
        raise ValidationFailed(f"These fields can't be changed here: {', '.join(sorted(unknown))}.",
                               fields=sorted(unknown))
    profile = session.exec(select(Profile).where(Profile.user_id == actor.user_id)).first()
    if profile is None:
        raise NotFound("Your profile is missing; please contact the school.")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("first_name", "last_name"):
            value = _clean_name(value, key, key.replace("_", " "))
        elif key == "phone":
            value = _clean_phone(value)
        elif key == "date_of_birth" and value is not None:
            if isinstance(value, str):
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    raise ValidationFailed("Use the date format YYYY-MM-DD.", field=key) from None
            if value > clock.today():
                raise ValidationFailed("Please check the date of birth.", field=key)
        elif key == "transmission" and value not in ("manual", "auto"):
            raise ValidationFailed("Choose manual or auto.", field=key)
        elif key == "years_driving" and value is not None and (not isinstance(value, int) or not 0 <= value <= 90):
            raise ValidationFailed("Years driving must be a whole number.", field=key)
        elif isinstance(value, str):
            value = value.strip() or None
            if value is not None and len(value) > 2000:
                raise ValidationFailed("That is too long.", field=key)
        clean[key] = value
    for key, value in clean.items():
        if key in _PROFILE_EDITABLE:
            setattr(profile, key, value)
    session.add(profile)
    role_row = None
    if role_fields & set(clean):
        if actor.is_student:
            role_row = session.get(Student, actor.student_id)
        elif actor.is_parent:
            role_row = session.get(Parent, actor.parent_id)
        elif actor.instructor_id:
            role_row = session.get(Instructor, actor.instructor_id)
        if role_row is None:
            raise ValidationFailed("These fields don't apply to your account.", fields=sorted(role_fields & set(clean)))
        for key in role_fields & set(clean):
            setattr(role_row, key, clean[key])
        session.add(role_row)
    session.flush()
    if clean:
        record_event(session, actor, "PROFILE_UPDATED", subject_type="user", subject_id=actor.user_id,
                     details={"fields": sorted(clean)})
    return get_me(session, actor)
