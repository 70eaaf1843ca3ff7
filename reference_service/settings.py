"""Service settings, read once from the environment and passed in; nothing reads them at import."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reference_service.database_url import normalise_database_url

DEV_ADMIN_EMAIL = "admin@example.com"
# Seeded only when APP_ENV=development is chosen explicitly; never accepted otherwise.
DEV_ADMIN_PASSWORD = "admin-password-change-me"  # noqa: S105 - documented dev default


class AppEnv(StrEnum):
    """Where the service runs, when chosen: only development seeds the development password."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob of the service. Defaults are embedded: SQLite, in-process cache and gateway."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    # Unset is neither: no development password, and a JWT secret generated at start.
    app_env: AppEnv | None = None
    database_url: str = "sqlite+aiosqlite:///./reference.db"
    # SQLite calls on the event loop's thread (reference_service/sqlite.py); `serve` turns it off
    # for several workers, so a worker waiting for another's write lock never stalls its loop.
    sqlite_inline: bool = True
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_statement_timeout_ms: int = Field(default=5000, ge=100)

    # Unset: a fresh random secret (`serve` generates one before forking, for every worker).
    jwt_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    jwt_algorithm: str = "HS256"
    jwt_issuer: str = "reference-service"
    jwt_audience: str = "reference-service-api"
    jwt_ttl_seconds: int = Field(default=3600, ge=60, le=86400)
    # How long a process remembers a verified token's user and role (users/principals.py).
    auth_cache_ttl_s: float = Field(default=60.0, ge=0, le=3600)

    # Keys the audit chain's HMAC; never stored in the database. Unset: derived from jwt_secret.
    audit_hmac_key: str = ""

    admin_email: str = DEV_ADMIN_EMAIL
    # Unset: the development password with APP_ENV=development, else none (`seed` refuses).
    admin_password: str = Field(default_factory=lambda data: _default_admin_password(data))

    max_body_bytes: int = 1024 * 1024
    # Request heads (`serve`): total size, header count, seconds for a head to arrive in full.
    http_max_header_bytes: int = Field(default=32 * 1024, ge=1024, le=1024 * 1024)
    http_max_headers: int = Field(default=100, ge=10, le=1000)
    http_header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    idempotency_lock_seconds: int = Field(default=60, ge=1)
    max_cart_lines: int = 100

    # Argon2 hashes at once per process (about one a core); beyond them a bounded queue waits
    # a short while, and anyone else gets 503 with Retry-After.
    password_hash_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1)
    password_hash_queue: int = Field(default=256, ge=0)
    password_hash_wait_s: float = Field(default=10.0, gt=0, le=30)

    # Payment gateways: an empty URL means the embedded in-process simulator.
    payment_gateway_url: str = ""
    payment_fallback_url: str = ""
    payment_attempts: int = Field(default=3, ge=1, le=10)
    payment_attempt_timeout_s: float = Field(default=1.0, gt=0, le=30)
    payment_budget_s: float = Field(default=2.5, gt=0, le=60)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_recovery_s: int = Field(default=10, ge=1)
    breaker_enabled: bool = True
    # Deliberately weakened when true: a failed lookup after an ambiguous charge counts as
    # "not charged" and the fallback charges again (exists so the harness can prove it bites).
    payment_trust_failed_lookup: bool = False
    payment_retry_after_s: int = Field(default=5, ge=1)

    # Cache, rate limits, events: Redis and NATS when configured, in-process otherwise.
    redis_url: str = ""
    nats_url: str = ""
    nats_stream: str = "REFERENCE_EVENTS"
    catalog_cache_ttl_s: float = Field(default=30.0, gt=0)
    catalog_list_ttl_s: float = Field(default=5.0, gt=0)
    rate_limit_login_failures: str = "5/minute"
    rate_limit_login_failures_per_client: str = "20/minute"
    rate_limit_orders_per_user: str = "30/minute"
    rate_limit_per_client: str = "6000/minute"
    # Sent in X-Load-Test-Token, exempts a load generator from the per-client ceiling only
    # (reference_service/ratelimit.py). Empty: no exemption.
    rate_limit_exempt_token: str = ""
    reservation_ttl_s: int = Field(default=120, ge=1)
    relay_interval_s: float = Field(default=0.5, gt=0)
    sweep_interval_s: float = Field(default=5.0, gt=0)
    # How long after an uncertain charge the sweep keeps asking the gateway before it concludes
    # the charge never landed: a request the gateway still holds can land after the service
    # gave up on it (reference_service/orders/reconcile.py).
    uncertain_settle_s: float = Field(default=60.0, ge=0)
    background_jobs: bool = True

    flags_file: str = ""
    # The fault flags (payment latency, errors, outages, slow queries) make requests fail on
    # purpose. Unset: on only with APP_ENV=development, so whoever holds an admin token cannot
    # break a production-like deployment; chaos stacks and managed targets set it to true.
    fault_injection: bool | None = None
    flag_refresh_s: float = Field(default=1.0, ge=0)
    trace_sample_ratio: float = Field(default=0.1, ge=0, le=1)
    access_log: bool = True
    nats_subject_prefix: str = ""

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        return normalise_database_url(url)

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> Self:
        if not self.jwt_secret:
            raise ValueError("JWT_SECRET must not be empty (leave it unset to generate one)")
        if self.app_env is AppEnv.PRODUCTION:
            # Every replica must verify every other's tokens: a generated secret will not do.
            if "jwt_secret" not in self.model_fields_set or len(self.jwt_secret) < 32:
                raise ValueError("JWT_SECRET must be set (32+ characters) when APP_ENV=production")
            if self.admin_password in {"", DEV_ADMIN_PASSWORD}:
                raise ValueError("ADMIN_PASSWORD must be set when APP_ENV=production")
        if self.audit_hmac_key and len(self.audit_hmac_key) < 32:
            raise ValueError("AUDIT_HMAC_KEY must be 32+ characters when set")
        if self.rate_limit_exempt_token and len(self.rate_limit_exempt_token) < 32:
            raise ValueError("RATE_LIMIT_EXEMPT_TOKEN must be 32+ characters when set")
        if self.jwt_algorithm not in {"HS256", "HS384", "HS512"}:
            raise ValueError("JWT_ALGORITHM must be one of HS256, HS384, HS512")
        return self

    @property
    def audit_key(self) -> bytes:
        """The audit chain's HMAC key: AUDIT_HMAC_KEY, else derived from the JWT secret."""
        if self.audit_hmac_key:
            return self.audit_hmac_key.encode()
        return hmac.new(self.jwt_secret.encode(), b"audit-chain-v1", hashlib.sha256).digest()

    @property
    def fault_injection_enabled(self) -> bool:
        """FAULT_INJECTION when set; otherwise only development allows fault injection."""
        if self.fault_injection is not None:
            return self.fault_injection
        return self.app_env is AppEnv.DEVELOPMENT

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


def _default_admin_password(data: dict[str, Any]) -> str:
    if data.get("app_env") is AppEnv.DEVELOPMENT:
        return DEV_ADMIN_PASSWORD
    return ""
