"""The production build serves its pages with the security headers, and still works under its own CSP."""
from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_pages_and_api_carry_the_security_headers(app_server):
    for path in ("/", "/sign-in", "/api/v1/health", "/ping"):
        r = httpx.get(app_server + path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
        assert "strict-transport-security" not in r.headers  # served over http here


def test_a_foreign_origin_is_not_allowed_to_read_the_api(app_server):
    r = httpx.get(app_server + "/api/v1/health", headers={"Origin": "http://localhost:1"})
    assert "access-control-allow-origin" not in r.headers
    own = httpx.get(app_server + "/api/v1/health", headers={"Origin": app_server})
    assert own.headers["access-control-allow-origin"] == app_server


def test_the_booking_page_works_under_the_csp_without_violations(app_server, page):
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    response = page.goto(app_server + "/book")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.get_by_role("heading", level=1).first.wait_for(state="visible", timeout=30_000)
    # the websocket to the backend is up: the page's state loaded the services from the server
    page.get_by_text("Lesson", exact=False).first.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1000)
    assert violations == []
