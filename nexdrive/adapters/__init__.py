"""Ports to the outside world and the one place that chooses their implementations.

Each external service has a real implementation and an offline default, chosen
from settings (DESIGN.md §4): with no credentials the offline one is used, so a
fresh machine runs the whole app with no network.
"""
from __future__ import annotations

from dataclasses import dataclass

from nexdrive.settings import Settings


@dataclass(frozen=True)
class AdapterChoice:
    port: str
    mode: str  # "live" | "offline"
    provider: str


def choose_adapters(settings: Settings) -> list[AdapterChoice]:
    """Which implementation each port gets with these settings."""

    def pick(port: str, live: bool, real: str, offline: str) -> AdapterChoice:
        return AdapterChoice(port, "live" if live else "offline", real if live else offline)

    return [
        pick("payments", bool(settings.stripe_secret_key), "stripe", "local test-mode gateway"),
        pick("sms", bool(settings.twilio_account_sid and settings.twilio_auth_token), "twilio", "outbox"),
        pick("email", bool(settings.smtp_url), "smtp", "outbox"),
        pick("llm", bool(settings.anthropic_api_key), "anthropic", "extractive answers"),
        pick("embeddings", bool(settings.openai_api_key), "openai", "full-text search only"),
        pick("storage", bool(settings.s3_bucket), "s3", f"local folder {settings.storage_dir}"),
        pick("voice", bool(settings.vapi_secret), "vapi", "recorded fixtures"),
    ]


def adapter_status(settings: Settings) -> dict[str, dict[str, str]]:
    return {c.port: {"mode": c.mode, "provider": c.provider} for c in choose_adapters(settings)}


def describe_adapters(settings: Settings) -> str:
    """The start-up line that tells the owner what is live and what is offline."""
    live = [f"{c.port}={c.provider}" for c in choose_adapters(settings) if c.mode == "live"]
    offline = [f"{c.port} ({c.provider})" for c in choose_adapters(settings) if c.mode == "offline"]
    return "Adapters live: " + (", ".join(live) or "none") + " | offline: " + (", ".join(offline) or "none")
