"""/api/v1 accounts over HTTP: cookie and bearer auth, the error envelope
(401 AUTH_REQUIRED / 403 FORBIDDEN / 429 RATE_LIMITED), sign-in, sign-out,
magic links (GET looks, POST uses), passwords, /me. Real PostgreSQL."""
from __future__ import annotations

import re
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.models import OutboxMessage, User
from nexdrive.services.identity import accounts
from nexdrive.services.identity.passwords import hash_password
from nexdrive.settings import reset_settings
from tests.factories import make_instructor, make_user
from nexdrive.api.deps import SESSION_COOKIE
from nexdrive.api.accounts import router as accounts_router
from nexdrive.http_app import build_api

PASSWORD = "kangaroo paddock sunrise"


def make_app():
    api = build_api()
    if not any(getattr(r, "path", "") == "/api/v1/me" for r in api.routes):  # until app.py wires the router
        api.include_router(accounts_router, prefix="/api/v1")
    return api


@pytest.fixture
def client(engine):
    with session_scope(engine) as s:
        make_instructor(s)
    with TestClient(make_app()) as c:
        yield c


def sign_up(client, email="learner@example.com", **extra):
    """Sign up (202, the same answer for any email), then sign in with the password: the sign-in response."""
    body = {"email": email, "password": PASSWORD, "first_name": "Lee", "last_name": "Learner", **extra}
    r = client.post("/api/v1/auth/sign-up", json=body)
    assert r.status_code == 202, r.text
    return client.post("/api/v1/auth/sign-in", json={"email": email, "password": PASSWORD,
                                                     **({"client": extra["client"]} if "client" in extra else {})})


def assert_envelope(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def outbox_token(engine, template):
    with session_scope(engine) as s:
        msg = s.exec(select(OutboxMessage).where(OutboxMessage.template == template)
                     .order_by(OutboxMessage.created_at.desc())).first()
    return re.search(r"token=([A-Za-z0-9_-]+)", msg.body)[1]


def test_sign_up_sets_an_httponly_lax_session_cookie_and_me_works(client):
    r = sign_up(client)
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # public URL is http://localhost in tests
    token = client.cookies.get(SESSION_COOKIE)
    assert token and token not in r.text  # the body never carries a browser's token
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    data = me.json()["data"]
    assert data["user"]["role"] == "student" and data["student"]["id"] and data["profile"]["first_name"] == "Lee"
    assert data["user"]["last_sign_in_at"].endswith("Z")


def test_cookie_is_secure_when_the_public_url_is_https(client, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://nexdrive.example")
    reset_settings()
    try:
        r = sign_up(client)
        assert "Secure" in r.headers["set-cookie"]
    finally:
        monkeypatch.delenv("PUBLIC_URL")
        reset_settings()


def test_signed_out_clients_get_401_auth_required(client):
    for method, path in [("GET", "/api/v1/me"), ("PATCH", "/api/v1/me"), ("POST", "/api/v1/auth/sign-out"),
                         ("POST", "/api/v1/auth/sign-out-all"), ("GET", "/api/v1/admin/audit-log"),
                         ("GET", "/api/v1/students/00000000-0000-0000-0000-000000000000")]:
        r = client.request(method, path, json={} if method == "PATCH" else None)
        assert_envelope(r, 401, "AUTH_REQUIRED")
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert_envelope(r, 401, "AUTH_REQUIRED")


def test_bearer_token_is_accepted(client):
    sign_up(client)
    client.cookies.clear()
    r = client.post("/api/v1/auth/sign-in", json={"email": "learner@example.com", "password": PASSWORD,
                                                  "client": "api"})
    assert r.status_code == 200 and "set-cookie" not in r.headers
    token = r.json()["data"]["session"]["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["data"]["user"]["email"] == "learner@example.com"


def test_sign_in_issues_a_new_session_and_the_old_cookie_stops_working(client):
    sign_up(client)
    first = client.cookies.get(SESSION_COOKIE)
    r = client.post("/api/v1/auth/sign-in", json={"email": "learner@example.com", "password": PASSWORD})
    assert r.status_code == 200
    second = client.cookies.get(SESSION_COOKIE)
    assert second and second != first
    assert_envelope(client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}), 401, "AUTH_REQUIRED")
    assert client.get("/api/v1/me").status_code == 200


def test_sign_out_ends_the_session_server_side(client):
    sign_up(client)
    token = client.cookies.get(SESSION_COOKIE)
    r = client.post("/api/v1/auth/sign-out")
    assert r.status_code == 200 and f'{SESSION_COOKIE}=""' in r.headers["set-cookie"]
    # replaying the old token (e.g. a copied cookie) is refused
    assert_envelope(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "AUTH_REQUIRED")


def test_sign_out_all_devices(client):
    sign_up(client)
    other_device = TestClient(client.app)
    phone = other_device.post("/api/v1/auth/sign-in", json={"email": "learner@example.com", "password": PASSWORD,
                                                            "client": "api"}).json()["data"]["session"]["token"]
    r = client.post("/api/v1/auth/sign-out-all")
    assert r.status_code == 200 and r.json()["data"]["sessions_ended"] == 2
    assert_envelope(client.get("/api/v1/me", headers={"Authorization": f"Bearer {phone}"}), 401, "AUTH_REQUIRED")


def test_wrong_password_then_rate_limit_with_clear_message(client):
    sign_up(client)
    client.cookies.clear()
    body = {"email": "learner@example.com", "password": "definitely not it"}
    for _ in range(accounts.LIMITS["sign_in_failed"].per_account):
        assert_envelope(client.post("/api/v1/auth/sign-in", json=body), 401, "INVALID_CREDENTIALS")
    r = client.post("/api/v1/auth/sign-in", json={**body, "password": PASSWORD})
    err = assert_envelope(r, 429, "RATE_LIMITED")
    assert "Too many sign-in attempts" in err["message"] and int(r.headers["Retry-After"]) > 0


def test_magic_link_get_does_not_consume_post_works_once(client, engine):
    sign_up(client)
    client.cookies.clear()
    r = client.post("/api/v1/auth/magic-link", json={"email": "learner@example.com"})
    unknown = client.post("/api/v1/auth/magic-link", json={"email": "nobody@example.com"})
    assert r.status_code == unknown.status_code == 202 and r.json() == unknown.json()
    token = outbox_token(engine, "magic_link")
    # a mail scanner fetches the link (HTML and JSON) — nothing is used up, no one is signed in
    page = client.get(f"/api/v1/auth/magic-link/{token}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'action="consume"' in page.text and "set-cookie" not in page.headers
    info = client.get(f"/api/v1/auth/magic-link/{token}", headers={"Accept": "application/json"})
    assert info.json()["data"]["valid"] is True
    assert_envelope(client.get("/api/v1/me"), 401, "AUTH_REQUIRED")
    # the explicit POST signs in, once
    r = client.post("/api/v1/auth/magic-link/consume", json={"token": token})
    assert r.status_code == 200 and client.cookies.get(SESSION_COOKIE)
    assert client.get("/api/v1/me").status_code == 200
    client.cookies.clear()
    err = assert_envelope(client.post("/api/v1/auth/magic-link/consume", json={"token": token}), 400, "LINK_INVALID")
    assert "already been used" in err["message"]
    gone = client.get(f"/api/v1/auth/magic-link/{token}", headers={"Accept": "text/html"})
    assert gone.status_code == 410


def test_magic_link_confirm_page_form_post_signs_in_and_expired_links_fail(client, engine):
    sign_up(client)
    client.cookies.clear()
    client.post("/api/v1/auth/magic-link", json={"email": "learner@example.com"})
    token = outbox_token(engine, "magic_link")
    r = client.post("/api/v1/auth/magic-link/consume", data={"token": token}, follow_redirects=False)
    assert r.status_code == 303 and SESSION_COOKIE in r.headers["set-cookie"]
    client.cookies.clear()
    client.post("/api/v1/auth/magic-link", json={"email": "learner@example.com"})
    token = outbox_token(engine, "magic_link")
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE magic_links SET expires_at = now() - interval '1 second'"))
    err = assert_envelope(client.post("/api/v1/auth/magic-link/consume", json={"token": token}), 400, "LINK_INVALID")
    assert "expired" in err["message"]


def test_forgot_and_reset_password(client, engine):
    sign_up(client)
    old = client.cookies.get(SESSION_COOKIE)
    client.cookies.clear()
    assert client.post("/api/v1/auth/password/forgot", json={"email": "learner@example.com"}).status_code == 202
    token = outbox_token(engine, "password_reset")
    weak = client.post("/api/v1/auth/password/reset", json={"token": token, "new_password": "password"})
    assert_envelope(weak, 422, "VALIDATION_ERROR")
    r = client.post("/api/v1/auth/password/reset", json={"token": token, "new_password": "fresh new wattle"})
    assert r.status_code == 200
    assert_envelope(client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}), 401, "AUTH_REQUIRED")
    assert client.get("/api/v1/me").status_code == 200


def test_change_password_asks_for_the_current_one(client):
    sign_up(client)
    bad = client.post("/api/v1/auth/password/change",
                      json={"current_password": "not it at all", "new_password": "fresh new wattle"})
    err = assert_envelope(bad, 422, "VALIDATION_ERROR")
    assert err["details"]["field"] == "current_password"
    old = client.cookies.get(SESSION_COOKIE)
    ok = client.post("/api/v1/auth/password/change",
                     json={"current_password": PASSWORD, "new_password": "fresh new wattle"})
    assert ok.status_code == 200 and client.cookies.get(SESSION_COOKIE) != old
    assert client.get("/api/v1/me").status_code == 200
    assert_envelope(client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}), 401, "AUTH_REQUIRED")


def test_patch_me_updates_own_profile_and_rejects_other_fields(client):
    sign_up(client)
    r = client.patch("/api/v1/me", json={"suburb": "Belconnen", "phone": "0412 000 111"})
    assert r.status_code == 200
    assert r.json()["data"]["profile"]["suburb"] == "Belconnen"
    assert r.json()["data"]["profile"]["phone"] == "+61412000111"
    assert_envelope(client.patch("/api/v1/me", json={"role": "admin"}), 422, "VALIDATION_ERROR")
    assert client.get("/api/v1/me").json()["data"]["user"]["role"] == "student"


def test_signed_in_without_the_right_gets_403_forbidden(client, engine):
    me = sign_up(client).json()["data"]["me"]
    with session_scope(engine) as s:
        other = accounts.sign_up_student(s, email="other@example.com", password=PASSWORD, first_name="O",
                                         last_name="Ther")
        admin_user, _ = make_user(s, "admin")
        admin_user.password_hash = hash_password("admin strong phrase")
        s.add(admin_user)
        admin_email = admin_user.email
    other_id = other.actor.student_id
    # a student reading another student's records by id
    for path in (f"/api/v1/students/{other_id}", f"/api/v1/students/{other_id}/lessons",
                 f"/api/v1/students/{other_id}/bookings", f"/api/v1/students/{other_id}/payments",
                 f"/api/v1/students/{other_id}/progress", "/api/v1/admin/audit-log"):
        assert_envelope(client.get(path), 403, "FORBIDDEN")
    assert client.get(f"/api/v1/students/{me['student']['id']}/lessons").status_code == 200
    # the admin may
    admin = TestClient(client.app)
    assert admin.post("/api/v1/auth/sign-in", json={"email": admin_email,
                                                    "password": "admin strong phrase"}).status_code == 200
    assert admin.get(f"/api/v1/students/{other_id}").status_code == 200
    log = admin.get("/api/v1/admin/audit-log").json()["data"]
    assert {"ACCOUNT_CREATED", "SIGN_IN"} <= {e["event_type"] for e in log}


def test_cross_site_cookie_post_is_refused(client):
    sign_up(client)
    r = client.post("/api/v1/auth/sign-out-all", headers={"Origin": "https://evil.example"})
    assert_envelope(r, 403, "FORBIDDEN")
    assert client.get("/api/v1/me").status_code == 200  # nothing happened


def test_request_validation_uses_the_envelope(client):
    r = client.post("/api/v1/auth/sign-in", json={"email": "x@example.com"})
    assert_envelope(r, 422, "VALIDATION_ERROR")
    with session_scope() as s:  # the engine fixture made this test's database the default
        assert s.execute(sa.select(sa.func.count()).select_from(User).where(User.role == "student")).scalar() == 0


def test_reset_link_page_shows_a_password_form_that_posts_and_signs_in(client, engine):
    sign_up(client)
    client.cookies.clear()
    client.post("/api/v1/auth/password/forgot", json={"email": "learner@example.com"})
    token = outbox_token(engine, "password_reset")
    page = client.get(f"/api/v1/auth/magic-link/{token}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'action="../password/reset"' in page.text and 'name="new_password"' in page.text
    r = client.post("/api/v1/auth/password/reset", data={"token": token, "new_password": "fresh new wattle"},
                    follow_redirects=False)
    assert r.status_code == 303 and SESSION_COOKIE in r.headers["set-cookie"]
    again = client.post("/api/v1/auth/password/reset", data={"token": token, "new_password": "another wattle"},
                        follow_redirects=False)
    assert again.status_code == 400 and "already been used" in again.text
