"""The app's wiring: what create_app builds once and routes reach through `RuntimeDep`."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from reference_service import db
from reference_service.orders.checkout import Checkout
from reference_service.payments.gateway import HttpGateway
from reference_service.payments.service import PaymentProcessor
from reference_service.payments.simulator import create_gateway_app
from reference_service.settings import Settings

GATEWAY_TIMEOUT = httpx.Timeout(2.0, connect=1.0)


@dataclass
class Runtime:
    """Settings, database, payment gateways and the flows built on them."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    payments: PaymentProcessor
    checkout: Checkout
    http_clients: list[httpx.AsyncClient] = field(default_factory=list)
    simulators: dict[str, FastAPI] = field(default_factory=dict)

    async def aclose(self) -> None:
        """Release connections and clients."""
        for client in self.http_clients:
            await client.aclose()
        await self.engine.dispose()


def _gateway(name: str, url: str, simulators: dict[str, FastAPI]) -> httpx.AsyncClient:
    if url:
        return httpx.AsyncClient(base_url=url, timeout=GATEWAY_TIMEOUT)
    # Embedded default: the simulator app, reached over HTTP semantics without a socket.
    simulators[name] = create_gateway_app(name)
    transport = httpx.ASGITransport(app=simulators[name])
    return httpx.AsyncClient(
        transport=transport, base_url=f"http://{name}", timeout=GATEWAY_TIMEOUT
    )


def build_runtime(settings: Settings) -> Runtime:
    """Wire everything from settings; opens no connection yet."""
    engine = db.create_engine(settings)
    sessions = db.create_sessionmaker(engine)
    read_sessions = db.create_sessionmaker(engine, writes=False)
    simulators: dict[str, FastAPI] = {}
    clients = [_gateway("primary", settings.payment_gateway_url, simulators)]
    payments = PaymentProcessor([HttpGateway("primary", clients[0])])
    checkout = Checkout(sessions, payments, idempotency_ttl_s=settings.idempotency_ttl_seconds)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        read_sessions=read_sessions,
        payments=payments,
        checkout=checkout,
        http_clients=clients,
        simulators=simulators,
    )
