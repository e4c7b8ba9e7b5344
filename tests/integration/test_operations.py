"""Operations (C23): a request id on every response and in the JSON log lines; /metrics in the Prometheus
text format with request latency, bookings and payments by status, the outbox backlog and job runs;
the bearer token when one is set."""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from nexdrive.api.observability import JsonFormatter, request_id
from nexdrive.db import session_scope
from nexdrive.http_app import build_api
from nexdrive.models import JobRun, OutboxMessage
from nexdrive.services.reporting import metrics
from nexdrive.settings import reset_settings
from tests.factories import make_instructor, make_service, make_student
from tests.jobs_helpers import lesson

NOW = datetime(2026, 11, 18, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def client(engine, monkeypatch):
    monkeypatch.delenv("METRICS_TOKEN", raising=False)
    reset_settings()
    metrics.reset()
    with TestClient(build_api(), raise_server_exceptions=False) as c:
        yield c
    reset_settings()


def test_every_response_carries_a_request_id(client):
    r = client.get("/api/v1/health")
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])
    mine = client.get("/api/v1/health", headers={"X-Request-ID": "abc-12345678"})
    assert mine.headers["x-request-id"] == "abc-12345678"
    odd = client.get("/api/v1/health", headers={"X-Request-ID": "<script>"})
    assert odd.headers["x-request-id"] != "<script>"


def _value(body: str, name: str, **labels) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name + ("{" + want + "}" if labels else "")) + r" ([0-9.e+-]+)$"
    found = re.search(pattern, body, re.M)
    assert found, (name, labels)
    return float(found.group(1))


def test_metrics_exposes_latency_bookings_payments_outbox_and_jobs(client, engine):
    with session_scope(engine) as s:
        ins, svc = make_instructor(s), make_service(s)
        learner = make_student(s, ins)
        lesson(s, ins, svc, NOW, student=learner, status="confirmed")
        lesson(s, ins, svc, NOW + timedelta(days=1), student=learner, status="cancelled")
        s.add(OutboxMessage(channel="sms", recipient="+61400000000", body="hi", template="sms_reply",
                            status="pending", next_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
        s.add(JobRun(job_name="reminders", due_at=NOW, status="ok", started_at=NOW, finished_at=NOW))
    for _ in range(3):
        client.get("/api/v1/health")
    body = client.get("/metrics")
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = body.text
    assert _value(text, "nexdrive_http_request_duration_seconds_count", method="GET", route="/api/v1/health",
                  status="2xx") == 3
    assert _value(text, "nexdrive_http_request_duration_seconds_bucket", method="GET", route="/api/v1/health",
                  status="2xx", le="+Inf") == 3
    assert _value(text, "nexdrive_bookings", status="confirmed") == 1
    assert _value(text, "nexdrive_bookings", status="cancelled") == 1
    assert _value(text, "nexdrive_outbox_backlog") == 1
    assert _value(text, "nexdrive_outbox_oldest_due_seconds") >= 290
    assert _value(text, "nexdrive_job_runs_total", job="reminders", status="ok") == 1
    assert "# TYPE nexdrive_http_request_duration_seconds histogram" in text
    # every sample line is "name{labels} number"
    for line in text.splitlines():
        assert line.startswith("#") or re.fullmatch(r'[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+', line), line


def test_metrics_can_require_a_token(engine, monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "s3cret-token")
    reset_settings()
    try:
        with TestClient(build_api(), raise_server_exceptions=False) as c:
            assert c.get("/metrics").status_code == 401
            assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert c.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    finally:
        reset_settings()


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("nexdrive.http", logging.INFO, __file__, 1, "http.request", (), None)
    record.route, record.status = "/api/v1/health", 200
    token = request_id.set("req-12345678")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["request_id"] == "req-12345678" and line["message"] == "http.request"
    assert line["route"] == "/api/v1/health" and line["status"] == 200 and line["level"] == "info"
    assert line["time"].endswith("+00:00")
