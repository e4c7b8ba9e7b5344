"""Optional Sentry (C23): with SENTRY_DSN set, an error in an API route reaches Sentry as one event tagged with
the request id and carrying no email address or phone number; without it the SDK is never initialised.

The SDK's own Transport hook captures the envelopes: nothing leaves the machine."""
from __future__ import annotations

import pytest
import sentry_sdk
from fastapi.testclient import TestClient
from sentry_sdk.transport import Transport

from nexdrive.api import error_reporting
from nexdrive.http_app import build_api
from nexdrive.settings import get_settings, reset_settings

DSN = "https://public@o0.ingest.sentry.invalid/1"
EMAIL = "lee.learner@example.com"
PHONE = "0412 345 678"


class Captured(Transport):
    """Keeps every envelope the SDK would send."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        return [item.payload.json for env in self.envelopes for item in env.items if item.type == "event"]


@pytest.fixture
def no_sentry():
    error_reporting.reset_for_tests()
    yield
    error_reporting.reset_for_tests()
    reset_settings()


def test_an_error_in_an_api_route_is_one_scrubbed_event_with_the_request_id(monkeypatch, no_sentry):
    monkeypatch.setenv("SENTRY_DSN", DSN)
    monkeypatch.setenv("NEXDRIVE_ENV", "staging")
    monkeypatch.setenv("SENTRY_RELEASE", "nexdrive@test-1")
    reset_settings()
    transport = Captured()
    assert error_reporting.init_sentry(get_settings(), transport=transport)
    api = build_api()  # calls init_sentry again: once is enough (still our transport)
    assert sentry_sdk.get_client().transport is transport

    @api.post("/api/v1/test-only/explode")
    def explode(body: dict):
        contact = {"email": body["email"], "phone": body["phone"], "name": "Lee"}  # noqa: F841 (a local Sentry sees)
        raise RuntimeError(f"could not book for {body['email']} on {body['phone']}")

    rid = "req-sentry-test-0001"
    with TestClient(api, raise_server_exceptions=False) as client:
        r = client.post("/api/v1/test-only/explode", json={"email": EMAIL, "phone": PHONE},
                        headers={"X-Request-ID": rid, "Cookie": f"session=secret; who={EMAIL}"})
        assert r.status_code == 500
        assert r.json()["error"]["code"] == "INTERNAL_ERROR"
        assert r.headers["x-request-id"] == rid
        ok = client.get("/api/v1/health")  # a request that succeeds sends nothing
        assert ok.status_code == 200
    sentry_sdk.flush(timeout=2)

    events = transport.events()
    assert len(events) == 1, [e.get("message") or e.get("logentry") for e in events]
    event = events[0]
    assert event["tags"]["request_id"] == rid
    assert event["environment"] == "staging"
    assert event["release"] == "nexdrive@test-1"
    values = event["exception"]["values"]
    assert values[-1]["type"] == "RuntimeError"
    assert "could not book for [email] on [phone]" in values[-1]["value"]
    sent = repr(event)
    assert EMAIL not in sent and "lee.learner" not in sent
    assert PHONE not in sent and "0412345678" not in sent and "412 345 678" not in sent
    assert "user" not in event or not event["user"].get("ip_address")


def test_scrubbing_covers_the_usual_shapes():
    event = {"message": "call +61 412 345 678 or (02) 6123 4567, mail a.b+c@school.com.au",
             "event_id": "0412345678abcdef0412345678abcdef",
             "extra": {"contact": {"email": "x@y.com", "mobile": "0412 345 678"}, "list": ["ring 0412345678"]},
             "breadcrumbs": {"values": [{"message": "sent SMS to 0498 765 432"}]}}
    out = error_reporting.scrub_event(event, {})
    assert out["message"] == "call [phone] or [phone], mail [email]"
    assert out["event_id"] == event["event_id"]  # the SDK's ids are left alone
    assert out["extra"]["contact"] == {"email": "[Filtered]", "mobile": "[Filtered]"}
    assert out["extra"]["list"] == ["ring [phone]"]
    assert out["breadcrumbs"]["values"][0]["message"] == "sent SMS to [phone]"


def test_without_a_dsn_the_sdk_is_never_initialised(monkeypatch, no_sentry):
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    reset_settings()
    assert error_reporting.init_sentry() is False
    build_api()
    assert not sentry_sdk.get_client().is_active()
    assert sentry_sdk.get_client().transport is None
    reset_settings()


def test_x_served_by_names_the_process_only_when_asked(monkeypatch):
    """Behind a proxy, NEXDRIVE_INSTANCE names the process that answered (tests/e2e/test_multi_machine.py)."""
    monkeypatch.setenv("NEXDRIVE_INSTANCE", "app-7")
    reset_settings()
    with TestClient(build_api()) as client:
        assert client.get("/api/v1/health").headers["x-served-by"] == "app-7"
    monkeypatch.delenv("NEXDRIVE_INSTANCE")
    reset_settings()
    with TestClient(build_api()) as client:
        assert "x-served-by" not in client.get("/api/v1/health").headers
