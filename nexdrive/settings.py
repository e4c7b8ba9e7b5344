"""One settings object, read from the environment, with safe local defaults.

Every external service is optional: when its credentials are absent the
offline adapter is used (docs/decisions/0005-outbox-and-offline-adapters.md), so a fresh machine runs everything.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    environment: str = field(default_factory=lambda: _env("NEXDRIVE_ENV", "development"))
    public_url: str = field(default_factory=lambda: _env("PUBLIC_URL", "http://localhost:3000").rstrip("/"))
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL"))
    data_dir: Path = field(default_factory=lambda: Path(_env("NEXDRIVE_DATA_DIR", str(PROJECT_ROOT / ".data"))))
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL"))
    # Operations (C23): JSON log lines with a request id ("json"), or plain text; /metrics behind a bearer token
    log_format: str = field(default_factory=lambda: _env("NEXDRIVE_LOG_FORMAT", "text"))
    metrics_token: str = field(default_factory=lambda: _env("METRICS_TOKEN"))
    # Optional error reporting to Sentry (nexdrive/api/error_reporting.py): unset, the SDK is never initialised.
    sentry_dsn: str = field(default_factory=lambda: _env("SENTRY_DSN"))
    sentry_release: str = field(default_factory=lambda: _env("SENTRY_RELEASE"))
    # This process's name among several behind a proxy (e.g. "app-1"): sent as X-Served-By when set.
    instance_name: str = field(default_factory=lambda: _env("NEXDRIVE_INSTANCE"))
    business_timezone: str = "Australia/Sydney"
    load_demo_data: bool = field(default_factory=lambda: _flag("NEXDRIVE_DEMO_DATA", True))
    run_scheduler: bool = field(default_factory=lambda: _flag("NEXDRIVE_SCHEDULER", True))
    # Rate limits on public mutations, e.g. "reserve=60/20/3600,voucher=off" (nexdrive/services/core/ratelimit.py).
    rate_limits: str = field(default_factory=lambda: _env("NEXDRIVE_RATE_LIMITS"))
    # Origins besides PUBLIC_URL's allowed to call the API with credentials (comma-separated, e.g. a staging site).
    cors_origins: tuple[str, ...] = field(default_factory=lambda: tuple(
        o.strip().rstrip("/") for o in _env("CORS_ORIGINS").split(",") if o.strip() and o.strip() != "*"))

    # External services: empty means "use the offline adapter".
    stripe_secret_key: str = field(default_factory=lambda: _env("STRIPE_SECRET_KEY"))
    stripe_webhook_secret: str = field(default_factory=lambda: _env("STRIPE_WEBHOOK_SECRET"))
    twilio_account_sid: str = field(default_factory=lambda: _env("TWILIO_ACCOUNT_SID"))
    twilio_auth_token: str = field(default_factory=lambda: _env("TWILIO_AUTH_TOKEN"))
    twilio_from_number: str = field(default_factory=lambda: _env("TWILIO_FROM_NUMBER"))
    smtp_url: str = field(default_factory=lambda: _env("SMTP_URL"))
    email_from: str = field(
        default_factory=lambda: _env("EMAIL_FROM", "NexDrive Academy <lessons@nexdriveacademy.com.au>"))
    anthropic_api_key: str = field(default_factory=lambda: _env("ANTHROPIC_API_KEY"))
    openai_api_key: str = field(default_factory=lambda: _env("OPENAI_API_KEY"))
    s3_bucket: str = field(default_factory=lambda: _env("S3_BUCKET"))
    s3_endpoint_url: str = field(default_factory=lambda: _env("S3_ENDPOINT_URL"))
    vapi_secret: str = field(default_factory=lambda: _env("VAPI_SECRET"))

    # Set by our launcher when it started the embedded server and passed its URL on.
    embedded_flag: bool = field(default_factory=lambda: _flag("NEXDRIVE_EMBEDDED_DB", False))

    @property
    def embedded_database(self) -> bool:
        return self.embedded_flag or not self.database_url

    @property
    def allowed_origins(self) -> list[str]:
        """PUBLIC_URL's origin plus CORS_ORIGINS: the only origins trusted with credentials (CORS, cookie writes)."""
        parts = urlsplit(self.public_url)
        origins = [f"{parts.scheme}://{parts.netloc}"]
        return origins + [o for o in self.cors_origins if o not in origins]

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    @property
    def demo_sign_in(self) -> bool:
        """One-click "Explore the demo as ..." sign-in: only with the demo school loaded, never in production."""
        return self.load_demo_data and self.environment != "production"


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def reset_settings() -> None:
    """Re-read the environment (tests change it)."""
    global _settings
    _settings = None
