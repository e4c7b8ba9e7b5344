"""Password hashing and password rules.

* Argon2id (argon2-cffi) with explicit parameters at or above the OWASP
  Password Storage Cheat Sheet minimum: m = 19 MiB (19,456 KiB), t = 2, p = 1,
  16-byte random salt, 32-byte hash. Hashes made with weaker parameters are
  upgraded at the next successful sign-in (:func:`needs_rehash`).
* Rules (NIST SP 800-63B): at least 8 characters, checked against a list of
  common passwords and against the account's own email; no composition rules;
  the whole password is hashed (no truncation). Passwords are NFKC-normalised
  before hashing and checking so the same visible password always verifies.
"""
from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from nexdrive.errors import ValidationFailed

MEMORY_COST_KIB = 19456  # 19 MiB — OWASP minimum for Argon2id with t=2, p=1
TIME_COST = 2
PARALLELISM = 1
HASH_LEN = 32
SALT_LEN = 16

MIN_LENGTH = 8
# Not a truncation: an absurdly long password is refused with a message (hashing
# megabytes on every sign-in attempt would be a denial-of-service vector).
MAX_LENGTH = 1024

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[2] / "data" / "common_passwords.txt"

_hasher = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_COST_KIB,
    parallelism=PARALLELISM,
    hash_len=HASH_LEN,
    salt_len=SALT_LEN,
    type=Type.ID,
)


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password_rules(password: str, *, email: str | None = None) -> None:
    """Raise ValidationFailed (field ``password``) with a clear reason, or return."""
    if not isinstance(password, str):
        raise ValidationFailed("Please enter a password.", field="password")
    pw = _normalise(password)
    if len(pw) < MIN_LENGTH:
        raise ValidationFailed(f"Use at least {MIN_LENGTH} characters for your password.", field="password")
    if len(pw) > MAX_LENGTH:
        raise ValidationFailed(f"Use at most {MAX_LENGTH} characters for your password.", field="password")
    lowered = pw.lower()
    if lowered in common_passwords() or lowered.strip() in common_passwords():
        raise ValidationFailed(
            "That password is too common and easy to guess. Please choose another — "
            "a few unrelated words make a strong, memorable password.",
            field="password",
        )
    if email:
        local = email.lower().split("@", 1)[0]
        if lowered in (email.lower(), local) or (
            len(local) >= 4 and lowered.startswith(local) and len(lowered) - len(local) <= 4
        ):
            raise ValidationFailed("Your password must not be based on your email address.", field="password")
    if "nexdrive" in lowered and len(lowered) <= len("nexdrive") + 4:
        raise ValidationFailed("Your password must not be based on the school's name.", field="password")


def hash_password(password: str) -> str:
    """Argon2id PHC string, e.g. ``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>``."""
    return _hasher.hash(_normalise(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, _normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


# Verified against when the email is unknown, so a sign-in for a missing account
# takes as long as one for an existing account (no user enumeration by timing).
_DUMMY_HASH: str | None = None


def burn_verification_time(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing-only")
    verify_password(_DUMMY_HASH, password)
