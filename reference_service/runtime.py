"""The app's wiring: what create_app builds once and routes reach through `RuntimeDep`."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from reference_service import db
from reference_service.auth import PasswordHashing
from reference_service.cache import Cache, MemoryCache, RedisCache
from reference_service.catalog.cached import CatalogCache
from reference_service.events.relay import InProcessPublisher, NatsPublisher, Publisher, relay_once
from reference_service.flags import DEFAULT_FLAGS_FILE, Flags, load_definitions
from reference_service.metrics import Metrics
from reference_service.orders.checkout import Checkout, SessionHook
from reference_service.orders.reconcile import sweep
from reference_service.payments.gateway import HttpGateway
from reference_service.payments.resilience import Faults, ResilientGateway, RetryPolicy
from reference_service.payments.service import PaymentProcessor
from reference_service.payments.simulator import create_gateway_app
from reference_service.ratelimit import RateLimits
from reference_service.settings import Settings
from reference_service.users.principals import Principals

log = structlog.get_logger("reference_service.runtime")


@dataclass
class Runtime:
    """Settings, database, cache, flags, gateways and the flows built on them."""

    settings: Settings
    engine: AsyncEngine
    flag_engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics
    cache: Cache
    flags: Flags
    catalog: CatalogCache
    limits: RateLimits
    passwords: PasswordHashing
    principals: Principals
    gateways: list[ResilientGateway]
    payments: PaymentProcessor
    checkout: Checkout
    publisher: Publisher
    slow_query: SessionHook
    http_clients: list[httpx.AsyncClient] = field(default_factory=list)
    simulators: dict[str, FastAPI] = field(default_factory=dict)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start_jobs(self) -> None:
        """Start the outbox relay and the reconciliation sweep (bounded loops, stopped at exit)."""
        if not self.settings.background_jobs:
            return
        self.tasks = [
            asyncio.create_task(self._every(self.settings.relay_interval_s, self._relay)),
            asyncio.create_task(self._every(self.settings.sweep_interval_s, self._sweep)),
        ]

    async def _relay(self) -> None:
        await relay_once(self.sessions, self.publisher)

    async def _sweep(self) -> None:
        await sweep(
            self.sessions,
            self.payments,
            reservation_ttl_s=self.settings.reservation_ttl_s,
            on_stock_change=self.catalog.stock_changed,
            metrics=self.metrics,
            uncertain_settle_s=self.settings.uncertain_settle_s,
        )

    async def _every(self, interval_s: float, job: object) -> None:
        while True:
            try:
                await job()  # type: ignore[operator]
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a supervisor: one failed pass must not end it
                log.warning(
                    "background_job_failed", job=getattr(job, "__name__", "?"), error=repr(exc)
                )
            await asyncio.sleep(interval_s)

    async def aclose(self) -> None:
        """Stop jobs, then release connections and clients."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.publisher.aclose()
        for client in self.http_clients:
            await client.aclose()
        await self.cache.aclose()
        await self.engine.dispose()
        await self.flag_engine.dispose()


def slow_query_hook(flags: Flags, is_sqlite: bool) -> SessionHook:
    """Fault injection (`db_slow_query_ms`): hold a session's connection that long."""

    async def slow_query(session: AsyncSession) -> None:
        delay_ms = await flags.get("db_slow_query_ms")
        if not delay_ms:
            return
        if is_sqlite:
            await session.connection()
            await asyncio.sleep(float(delay_ms) / 1000)
        else:
            await session.execute(text("SELECT pg_sleep(:s)"), {"s": float(delay_ms) / 1000})

    return slow_query


def _client(
    name: str, url: str, simulators: dict[str, FastAPI], timeout: float
) -> httpx.AsyncClient:
    limits = httpx.Timeout(timeout, connect=min(timeout, 1.0))
    if url:
        return httpx.AsyncClient(base_url=url, timeout=limits)
    # Embedded default: the simulator app, reached with HTTP semantics but no socket.
    simulators[name] = create_gateway_app(name)
    transport = httpx.ASGITransport(app=simulators[name])
    return httpx.AsyncClient(transport=transport, base_url=f"http://{name}", timeout=limits)


def build_runtime(settings: Settings) -> Runtime:
    """Wire everything from settings; opens no connection yet."""
    engine = db.create_engine(settings)
    sessions = db.create_sessionmaker(engine)
    read_sessions = db.create_sessionmaker(engine, writes=False)
    metrics = Metrics()
    # Flags are read on the request path, often inside a transaction (checkout reads two while
    # it holds the Idempotency-Key): their refresh gets its own small pool, so it never waits
    # for a connection held by transactions that are waiting on the one that refreshes.
    flag_engine = db.create_engine(settings, pool_size=1)
    flags = Flags(
        load_definitions(Path(settings.flags_file) if settings.flags_file else DEFAULT_FLAGS_FILE),
        db.create_sessionmaker(flag_engine, writes=False),
        refresh_s=settings.flag_refresh_s,
        faults_enabled=settings.fault_injection_enabled,
    )
    cache: Cache = RedisCache(settings.redis_url) if settings.redis_url else MemoryCache()
    catalog = CatalogCache(
        cache,
        flags,
        metrics,
        detail_ttl_s=settings.catalog_cache_ttl_s,
        list_ttl_s=settings.catalog_list_ttl_s,
    )
    limits = RateLimits(
        settings.redis_url.replace("redis://", "async+redis://", 1)
        if settings.redis_url
        else "async+memory://",
        login_failures=settings.rate_limit_login_failures,
        orders_per_user=settings.rate_limit_orders_per_user,
        per_client=settings.rate_limit_per_client,
        login_failures_per_client=settings.rate_limit_login_failures_per_client,
        exempt_token=settings.rate_limit_exempt_token,
    )

    async def primary_faults() -> Faults:
        values = await flags.snapshot()
        return Faults(
            down=bool(values["payment_primary_down"]),
            latency_ms=int(values["payment_latency_ms"]),
            error_rate=float(values["payment_error_rate"]),
        )

    async def fallback_faults() -> Faults:
        return Faults(down=bool(await flags.get("payment_fallback_down")))

    policy = RetryPolicy(
        attempts=settings.payment_attempts,
        attempt_timeout_s=settings.payment_attempt_timeout_s,
        budget_s=settings.payment_budget_s,
    )
    simulators: dict[str, FastAPI] = {}
    clients: list[httpx.AsyncClient] = []
    gateways: list[ResilientGateway] = []
    for name, url, faults in (
        ("primary", settings.payment_gateway_url, primary_faults),
        ("fallback", settings.payment_fallback_url, fallback_faults),
    ):
        client = _client(name, url, simulators, settings.payment_attempt_timeout_s)
        clients.append(client)
        gateways.append(
            ResilientGateway(
                HttpGateway(name, client),
                policy,
                # A disabled breaker never opens: a threshold no run reaches.
                failure_threshold=settings.breaker_failure_threshold
                if settings.breaker_enabled
                else 10**9,
                recovery_timeout_s=settings.breaker_recovery_s,
                faults=faults,
                trust_failed_lookup=settings.payment_trust_failed_lookup,
            )
        )
    payments = PaymentProcessor(gateways, retry_after_s=settings.payment_retry_after_s)

    async def lock_rows() -> bool:
        return bool(await flags.get("pessimistic_inventory_locking"))

    slow_query = slow_query_hook(flags, settings.is_sqlite)
    checkout = Checkout(
        sessions,
        payments,
        metrics,
        idempotency_ttl_s=settings.idempotency_ttl_seconds,
        lock_rows=lock_rows,
        on_stock_change=catalog.stock_changed,
        before_reserve=slow_query,
    )
    return Runtime(
        settings=settings,
        engine=engine,
        flag_engine=flag_engine,
        sessions=sessions,
        read_sessions=read_sessions,
        metrics=metrics,
        cache=cache,
        flags=flags,
        catalog=catalog,
        limits=limits,
        passwords=PasswordHashing(
            settings.password_hash_concurrency,
            queue=settings.password_hash_queue,
            wait_s=settings.password_hash_wait_s,
        ),
        principals=Principals(settings, read_sessions),
        gateways=gateways,
        payments=payments,
        checkout=checkout,
        publisher=NatsPublisher(
            settings.nats_url, settings.nats_stream, settings.nats_subject_prefix
        )
        if settings.nats_url
        else InProcessPublisher(),
        slow_query=slow_query,
        http_clients=clients,
        simulators=simulators,
    )
