"""CORS and security headers at the HTTP edge: only our own site (PUBLIC_URL, plus CORS_ORIGINS) may read
API responses with credentials; cookie writes from another origin (or ``Origin: null``) are refused;
every response carries the security headers. Real PostgreSQL."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from nexdrive.db import session_scope
from nexdrive.settings import reset_settings
from tests.factories import make_instructor
from nexdrive.http_app import build_api

PASSWORD = "kangaroo paddock sunrise"
OWN = "http://localhost:3000"  # PUBLIC_URL in tests


@pytest.fixture
def client(engine, monkeypatch):
    monkeypatch.delenv("CORS_ORIGINS", raising=False)
    monkeypatch.setenv("PUBLIC_URL", OWN)
    reset_settings()
    with session_scope(engine) as s:
        make_instructor(s)
    with TestClient(build_api(), raise_server_exceptions=False) as c:
        yield c
    reset_settings()


def signed_up(client):
    r = client.post("/api/v1/auth/sign-up", json={"email": "lee@example.com", "password": PASSWORD,
                                                  "first_name": "Lee", "last_name": "Learner"})
    assert r.status_code == 202, r.text
    r = client.post("/api/v1/auth/sign-in", json={"email": "lee@example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r


def test_a_foreign_origin_cannot_read_me_with_credentials(client):
    signed_up(client)
    r = client.get("/api/v1/me", headers={"Origin": "http://localhost:4000"})
    assert "access-control-allow-origin" not in r.headers
    # (Starlette still sends Allow-Credentials; without Allow-Origin the browser withholds the body)
    pre = client.options("/api/v1/me", headers={"Origin": "http://localhost:4000",
                                                "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 400 and "access-control-allow-origin" not in pre.headers
    for origin in ("null", "https://evil.example"):
        r = client.get("/api/v1/me", headers={"Origin": origin})
        assert r.headers.get("access-control-allow-origin") not in (origin, "*")


def test_our_own_origin_may(client):
    signed_up(client)
    r = client.get("/api/v1/me", headers={"Origin": OWN})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == OWN
    assert r.headers["access-control-allow-credentials"] == "true"


def test_cors_origins_setting_adds_origins(engine, monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://staging.nexdrive.example, https://admin.nexdrive.example/")
    reset_settings()
    try:
        with TestClient(build_api()) as c:
            r = c.get("/api/v1/booking/services", headers={"Origin": "https://admin.nexdrive.example"})
            assert r.headers["access-control-allow-origin"] == "https://admin.nexdrive.example"
            r = c.get("/api/v1/booking/services", headers={"Origin": "https://other.example"})
            assert "access-control-allow-origin" not in r.headers
    finally:
        reset_settings()


def test_the_reflex_app_gets_the_same_origins_not_a_wildcard(monkeypatch):
    import importlib

    import rxconfig

    monkeypatch.setenv("PUBLIC_URL", "https://nexdrive.example")
    monkeypatch.setenv("CORS_ORIGINS", "https://staging.nexdrive.example")
    reset_settings()
    try:
        config = importlib.reload(rxconfig).config
        assert list(config.cors_allowed_origins) == ["https://nexdrive.example", "https://staging.nexdrive.example"]
    finally:
        monkeypatch.undo()
        reset_settings()
        importlib.reload(rxconfig)


@pytest.mark.parametrize("origin", ["null", "http://localhost:4000", "https://evil.example"])
def test_cookie_writes_from_a_foreign_or_null_origin_are_refused(client, origin):
    signed_up(client)
    r = client.patch("/api/v1/me", json={"first_name": "Pwned"}, headers={"Origin": origin})
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert client.get("/api/v1/me").json()["data"]["profile"]["first_name"] == "Lee"


def test_cookie_writes_flagged_cross_site_without_origin_are_refused(client):
    signed_up(client)
    r = client.patch("/api/v1/me", json={"first_name": "Pwned"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_cookie_writes_from_our_own_pages_work(client):
    signed_up(client)
    r = client.patch(
        "/api/v1/me", json={"first_name": "Leigh"}, headers={"Origin": OWN, "Sec-Fetch-Site": "same-origin"}
    )
    assert r.status_code == 200, r.text


SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "strict-origin-when-cross-origin"}


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/booking/services", "/api/v1/me",
                                  "/api/v1/marketing/unsubscribe", "/api/v1/no-such-thing"])
def test_every_response_carries_the_security_headers(client, path):
    r = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert r.headers[name] == value, (path, name)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "default-src 'self'" in csp
    assert "ws://localhost:3000" in csp  # the Reflex backend's socket
    assert "strict-transport-security" not in r.headers  # PUBLIC_URL is http here


def test_hsts_only_when_the_public_url_is_https(engine, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://nexdrive.example")
    reset_settings()
    try:
        with TestClient(build_api()) as c:
            r = c.get("/api/v1/booking/services")
        assert r.headers["strict-transport-security"].startswith("max-age=31536000")
        assert "wss://nexdrive.example" in r.headers["content-security-policy"]
    finally:
        reset_settings()


def test_headers_cover_whatever_the_sub_app_wraps_and_error_envelopes(client):
    # In production Reflex mounts its backend and the built pages inside this app (api_transformer):
    # anything mounted below it gets the headers too.
    from starlette.responses import HTMLResponse

    api = build_api()
    api.mount("", lambda scope, receive, send: HTMLResponse("<p>page</p>")(scope, receive, send))
    with TestClient(api) as c:
        page = c.get("/some/page")
    assert page.text == "<p>page</p>" and page.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    bad = client.get("/api/v1/booking/availability", params={"service_id": "a\x00b"})
    assert bad.status_code == 422 and bad.headers["referrer-policy"] == "strict-origin-when-cross-origin"
