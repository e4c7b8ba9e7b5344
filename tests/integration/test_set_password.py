"""Accounts that only ever signed in by link set a first password on /account; with a
password, changing it still needs the current one. Real PostgreSQL."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from nexdrive.db import session_scope
from nexdrive.models import AuditLog, User
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ValidationFailed
from tests.factories import make_user
from nexdrive.api.deps import SESSION_COOKIE
from nexdrive.http_app import build_api

IP = "203.0.113.8"
NEW = "wattle creek morning"


def _link_only_user(engine):
    """An account with no password (like a demo account or one that signs in by emailed link)."""
    with session_scope(engine) as s:
        user, _ = make_user(s, "student")
        token = accounts.request_magic_link(s, email=user.email, ip=IP)
    with session_scope(engine) as s:
        issued = accounts.consume_magic_link(s, token, ip=IP)
    return user.email, issued


def test_get_me_says_whether_there_is_a_password(engine):
    email, issued = _link_only_user(engine)
    with session_scope(engine) as s:
        assert accounts.get_me(s, issued.actor)["user"]["has_password"] is False


def test_a_link_only_account_sets_a_first_password_without_a_current_one(engine):
    email, issued = _link_only_user(engine)
    with session_scope(engine) as s:
        new = accounts.change_password(s, issued.actor, new_password=NEW)
    with session_scope(engine) as s:
        assert accounts.get_me(s, new.actor)["user"]["has_password"] is True
        assert accounts.actor_for_session_token(s, new.token).user_id == issued.user_id
        [event] = s.query(AuditLog).filter(AuditLog.event_type == "PASSWORD_SET").all()
        assert event.actor_id == issued.user_id
    with pytest.raises(AuthRequired), session_scope(engine) as s:  # the old session ended
        accounts.actor_for_session_token(s, issued.token)
    with session_scope(engine) as s:
        assert accounts.sign_in(s, email=email, password=NEW, ip=IP).user_id == issued.user_id


def test_a_first_password_still_follows_the_password_rules(engine):
    _, issued = _link_only_user(engine)
    with pytest.raises(ValidationFailed), session_scope(engine) as s:
        accounts.change_password(s, issued.actor, new_password="password1")
    with session_scope(engine) as s:
        assert s.get(User, issued.user_id).password_hash is None  # refused: nothing changed


def test_once_there_is_a_password_changing_it_needs_the_current_one(engine):
    _, issued = _link_only_user(engine)
    with session_scope(engine) as s:
        new = accounts.change_password(s, issued.actor, new_password=NEW)
    for current in (None, "", "not the password"):
        with pytest.raises(ValidationFailed, match="current password"), session_scope(engine) as s:
            accounts.change_password(s, new.actor, current_password=current, new_password="another fine phrase")
    with session_scope(engine) as s:
        accounts.change_password(s, new.actor, current_password=NEW, new_password="another fine phrase")


def test_the_api_sets_a_first_password_without_current_password(engine):
    _, issued = _link_only_user(engine)
    with TestClient(build_api()) as client:
        client.cookies.set(SESSION_COOKIE, issued.token)
        assert client.get("/api/v1/me").json()["data"]["user"]["has_password"] is False
        ok = client.post("/api/v1/auth/password/change", json={"new_password": NEW})
        assert ok.status_code == 200, ok.text
        assert ok.json()["data"]["me"]["user"]["has_password"] is True
        again = client.post("/api/v1/auth/password/change", json={"new_password": "another fine phrase"})
        assert again.status_code == 422
        assert again.json()["error"]["details"]["field"] == "current_password"
