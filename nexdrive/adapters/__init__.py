"""Ports to the outside world and the one place that chooses their implementations.

Each external service has a real implementation and an offline default, chosen
from settings (docs/decisions/0005-outbox-and-offline-adapters.md): with no credentials the offline one is used, so a
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


# --- The one wiring place -------------------------------------------------
# Each port's implementation is built once from settings. Tests replace a port
# with ``override(port, fake)`` (fakes only at this boundary).

_built: dict[str, object] = {}


def _build(port: str, settings: Settings) -> object:
    live = {c.port: c.mode == "live" for c in choose_adapters(settings)}[port]
    if port == "payments":
        from nexdrive.adapters import payments
        return payments.StripeGateway(settings) if live else payments.LocalGateway(settings)
    if port == "sms":
        from nexdrive.adapters import sms
        return sms.TwilioSms(settings) if live else sms.OutboxSms(settings)
    if port == "email":
        from nexdrive.adapters import email
        return email.SmtpEmail(settings) if live else email.OutboxEmail(settings)
    if port == "storage":
        from nexdrive.adapters import storage
        return storage.S3Storage(settings) if live else storage.LocalStorage(settings)
    if port == "llm":
        from nexdrive.adapters import llm
        return llm.AnthropicModel(settings) if live else llm.ExtractiveModel(settings)
    if port == "embeddings":
        from nexdrive.adapters import embeddings
        return embeddings.OpenAIEmbeddings(settings) if live else embeddings.NoEmbeddings(settings)
    raise KeyError(port)


def get_adapter(port: str, settings: Settings | None = None):
    """The implementation of ``port`` ('payments', 'sms', 'email', 'storage', 'llm', 'embeddings')."""
    if port not in _built:
        from nexdrive.settings import get_settings
        _built[port] = _build(port, settings or get_settings())
    return _built[port]


def override(port: str, implementation: object | None) -> None:
    """Install (or, with None, forget) an implementation for ``port``; used by tests and reset on settings change."""
    if implementation is None:
        _built.pop(port, None)
    else:
        _built[port] = implementation


def reset_adapters() -> None:
    _built.clear()
