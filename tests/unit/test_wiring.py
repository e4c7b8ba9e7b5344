"""Settings choose adapters, and database URLs are normalised, in one place."""
from __future__ import annotations

from nexdrive.adapters import adapter_status, describe_adapters
from nexdrive.db import normalise_url
from nexdrive.settings import Settings


def test_every_adapter_is_offline_without_credentials(monkeypatch):
    for var in ("STRIPE_SECRET_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMTP_URL", "ANTHROPIC_API_KEY",
                "OPENAI_API_KEY", "S3_BUCKET", "VAPI_SECRET"):
        monkeypatch.delenv(var, raising=False)
    status = adapter_status(Settings())
    assert {port: s["mode"] for port, s in status.items()} == {
        "payments": "offline", "sms": "offline", "email": "offline", "llm": "offline",
        "embeddings": "offline", "storage": "offline", "voice": "offline"}
    assert describe_adapters(Settings()).startswith("Adapters live: none | offline: payments")


def test_credentials_switch_their_adapter_live(monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_x")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)  # half-configured Twilio stays offline
    status = adapter_status(Settings())
    assert status["payments"] == {"mode": "live", "provider": "stripe"}
    assert status["sms"]["mode"] == "offline"


def test_database_urls_are_driven_by_psycopg3():
    assert normalise_url("postgres://u:p@h:5432/db") == "postgresql+psycopg://u:p@h:5432/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
