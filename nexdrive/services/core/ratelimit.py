"""Rate limits on public mutations (reserve, confirm, enquiry, sign-up, sign-in, voucher check, waitlist),
per IP and per contact (email or phone), shared by the API and the Reflex pages.

Fixed windows counted in PostgreSQL (``rate_limit_counters``, one ``INSERT ... ON CONFLICT DO UPDATE``
per bucket) so every app worker sees the same count. The count is written in its own short, committed
transaction: an attempt counts even when the use case then fails and rolls back (a voucher guess that
misses is still a guess), and the caller's transaction holds no lock on the counter. Refusals raise
:class:`~nexdrive.errors.RateLimited` (429 with ``Retry-After`` at the API).

Limits are configurable with ``NEXDRIVE_RATE_LIMITS``: comma-separated ``action=per_ip/per_contact/seconds``
(``0`` = no limit on that key), or ``action=off``; e.g. ``reserve=60/20/3600,voucher=off``.
Magic-link and password-reset requests are also limited by the accounts service's own throttle
(``accounts.LIMITS``); failed sign-ins lock the account (``accounts.sign_in``).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session

from nexdrive.errors import RateLimited
from nexdrive.settings import get_settings


def clean_ip(ip: str | None) -> str | None:
    """An IP address as PostgreSQL INET accepts it, or None (e.g. a test client's 'testclient')."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


@dataclass(frozen=True)
class Rule:
    per_ip: int  # 0: not limited per IP
    per_contact: int  # 0: not limited per contact
    window_seconds: int


DEFAULT_RULES: dict[str, Rule] = {
    "reserve": Rule(per_ip=30, per_contact=10, window_seconds=3600),
    "confirm": Rule(per_ip=60, per_contact=0, window_seconds=3600),
    "enquiry": Rule(per_ip=10, per_contact=5, window_seconds=3600),
    "sign_up": Rule(per_ip=10, per_contact=3, window_seconds=3600),
    "sign_in": Rule(per_ip=60, per_contact=20, window_seconds=900),
    "voucher": Rule(per_ip=30, per_contact=0, window_seconds=900),
    "waitlist": Rule(per_ip=10, per_contact=5, window_seconds=3600),
    # The assistant (web chat, SMS, voice): per IP, and per phone number or chat session.
    "assistant": Rule(per_ip=120, per_contact=40, window_seconds=3600),
}

_WHAT = {
    "reserve": "booking attempts", "confirm": "confirmation attempts", "enquiry": "messages",
    "sign_up": "sign-up attempts", "sign_in": "sign-in attempts", "voucher": "voucher checks",
    "waitlist": "waitlist requests", "assistant": "messages to the assistant",
}

_UPSERT = sa.text("""
    INSERT INTO rate_limit_counters AS c (bucket, window_start, hits, expires_at)
    SELECT :bucket, w.start, 1, w.start + make_interval(secs => :secs)
      FROM (SELECT to_timestamp(floor(extract(epoch FROM now()) / :secs) * :secs) AS start) AS w
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = c.hits + 1
    RETURNING c.hits, GREATEST(1, ceil(extract(epoch FROM c.expires_at - now())))::int AS retry
""")


def rules() -> dict[str, Rule]:
    """The defaults with ``NEXDRIVE_RATE_LIMITS`` applied."""
    result = dict(DEFAULT_RULES)
    for item in filter(None, (p.strip() for p in get_settings().rate_limits.split(","))):
        action, _, spec = item.partition("=")
        action, spec = action.strip(), spec.strip().lower()
        if spec == "off":
            result.pop(action, None)
            continue
        numbers = re.fullmatch(r"(\d+)/(\d+)/(\d+)", spec)
        if not numbers or int(numbers[3]) < 1:
            raise ValueError(f"NEXDRIVE_RATE_LIMITS: can't read {item!r} (use action=per_ip/per_contact/seconds)")
        result[action] = Rule(int(numbers[1]), int(numbers[2]), int(numbers[3]))
    return result


def normalise_contact(contact: str | None) -> str | None:
    """An email (lower-case) or a phone number (its last 9 digits, so 0412… and +61412… are one person)."""
    if not contact or not contact.strip():
        return None
    contact = contact.strip().lower()
    if "@" in contact:
        return contact[:254]
    digits = re.sub(r"\D", "", contact)
    return digits[-9:] if len(digits) >= 8 else None


def _engine(session: Session) -> sa.Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minutes"


def enforce(session: Session, action: str, *, ip: str | None = None, contact: str | None = None,
            contacts: tuple[str | None, ...] = ()) -> None:
    """Count one attempt at ``action`` from this IP and contact(s); raise RateLimited once a limit is passed."""
    rule = rules().get(action)
    if rule is None:
        return
    buckets: list[tuple[str, int, str]] = []
    ip = clean_ip(ip)
    if ip and rule.per_ip:
        buckets.append((f"{action}|ip|{ip}", rule.per_ip, "ip"))
    if rule.per_contact:
        seen = set()
        for who in (contact, *contacts):
            key = normalise_contact(who)
            if key and key not in seen:
                seen.add(key)
                buckets.append((f"{action}|contact|{key}", rule.per_contact, "contact"))
    if not buckets:
        return
    refused: tuple[int, str] | None = None
    with _engine(session).begin() as conn:
        for bucket, allowed, scope in buckets:
            hits, retry = conn.execute(_UPSERT, {"bucket": bucket, "secs": rule.window_seconds}).one()
            if hits > allowed and (refused is None or retry > refused[0]):
                refused = (retry, scope)
    if refused:
        retry, scope = refused
        what = _WHAT.get(action, "attempts")
        raise RateLimited(f"Too many {what} in a short time. Please wait {_wait_text(retry)} and try again, "
                          "or call NexDrive Academy.", retry_after_seconds=retry, scope=scope, action=action)


def purge_expired(session: Session) -> int:
    """Housekeeping: counters whose window has ended."""
    result = session.execute(sa.text("DELETE FROM rate_limit_counters WHERE expires_at < now()"))
    return result.rowcount or 0
