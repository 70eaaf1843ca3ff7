"""How the Schemathesis run reaches the Target: in-process ASGI or HTTP, as a customer and admin.

Both loaders read the service's own published schema (`from_asgi` in CI for speed, `from_url`
for a deployed target) with the same configuration, so one run behaves the same either way.
Everything is read from the environment the suite adapter hands the pytest run (see
`RunConfig.from_env`); nothing here runs at import time.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.schemas import BaseSchema

DEFAULT_SEED = 20261126
DEFAULT_MAX_EXAMPLES = 20
DEFAULT_STATEFUL_EXAMPLES = 30
DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "admin-password-change-me"  # noqa: S105 - the service's public dev default
SCHEMA_PATH = "/openapi.json"
CUSTOMER_PASSWORD = "contract-suite-pass-1"  # noqa: S105 - a throwaway test account

# Checks are never switched off. Where a check's expectation cannot hold for a reason the
# schema cannot express, the expectation is widened for that operation only, with the reason.
# None is needed today: cursors, flag values and `items` are stated exactly by the contract,
# and the rules no schema can state (repeated lines past 99 units, two currencies, a total
# beyond the money range) are 409 business-rule conflicts, which every check accepts (ADR-015).
EXPECTATIONS: list[dict[str, Any]] = []
# Operations whose purpose is to make the service fail: the fault-injection flags (payment
# latency, errors and outages, slow queries) answer exactly as documented, and then every later
# request of the run meets the fault. The chaos suite exercises them; fuzzing them here would
# judge the faults instead of the contract.
FAULT_INJECTION_OPERATIONS = r"^admin-set-flag-(payment-[a-z-]+|db-slow-query-ms)$"

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class RunConfig:
    """One Schemathesis run: where the target is and how much to generate."""

    base_url: str | None  # None: build the reference service in-process (ASGI)
    out: Path
    admin_email: str = DEFAULT_ADMIN_EMAIL
    admin_password: str = DEFAULT_ADMIN_PASSWORD
    jwt_secret: str | None = None
    seed: int = DEFAULT_SEED
    max_examples: int = DEFAULT_MAX_EXAMPLES
    stateful_examples: int = DEFAULT_STATEFUL_EXAMPLES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RunConfig:
        """From ASSAY_* variables (the Target's and ASSAY_CONTRACT_*)."""
        env = os.environ if environ is None else environ
        transport = env.get("ASSAY_CONTRACT_TRANSPORT", "http")
        return cls(
            base_url=None if transport == "asgi" else env["ASSAY_TARGET_URL"].rstrip("/"),
            out=Path(env.get("ASSAY_CONTRACT_OUT", "contract")),
            admin_email=env.get("ASSAY_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL),
            admin_password=env.get("ASSAY_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD),
            jwt_secret=env.get("ASSAY_JWT_SECRET"),
            seed=int(env.get("ASSAY_CONTRACT_SEED", DEFAULT_SEED)),
            max_examples=int(env.get("ASSAY_CONTRACT_MAX_EXAMPLES", DEFAULT_MAX_EXAMPLES)),
            stateful_examples=int(
                env.get("ASSAY_CONTRACT_STATEFUL_EXAMPLES", DEFAULT_STATEFUL_EXAMPLES)
            ),
        )

    def schemathesis_config(self) -> schemathesis.Config:
        """All checks, positive and negative data, the seed, the budget, Schemathesis' reports."""
        return schemathesis.Config.from_dict(
            {
                "seed": self.seed,
                "generation": {"mode": "all", "max-examples": self.max_examples},
                "checks": {"enabled": True},
                "reports": {
                    "directory": str(self.out),
                    "junit": {"enabled": True, "path": str(self.out / "schemathesis-junit.xml")},
                    "har": {"enabled": True, "path": str(self.out / "schemathesis.har")},
                },
                "operations": [
                    *({k: v for k, v in item.items() if k != "reason"} for item in EXPECTATIONS),
                    {"include-operation-id-regex": FAULT_INJECTION_OPERATIONS, "enabled": False},
                ],
            }
        )


class SingleLifespan:
    """The app as a server process sees it: one lifespan for the whole run.

    Schemathesis' pytest plugin ends an ASGI app's lifespan after every test and starts it
    again; a server never does that, and the service closes its gateway clients on shutdown.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Receive,
        send: Send,
    ) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def reference_app(config: RunConfig, workdir: Path | None = None) -> ASGIApp:
    """A migrated, seeded reference service on a fresh SQLite file, for in-process runs."""
    from assay.target import HARNESS_CEILING
    from reference_service.__main__ import migrate, seed
    from reference_service.app import create_app
    from reference_service.settings import Settings

    folder = workdir or Path(tempfile.mkdtemp(prefix="assay-contract-"))
    options: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{folder / 'reference.db'}",
        "admin_email": config.admin_email,
        "admin_password": config.admin_password,
        # One in-process client drives every request: the harness's own ceiling, as for any
        # managed target (assay.target), so its fuzzing is not throttled into 429s.
        "rate_limit_per_client": HARNESS_CEILING,
        "rate_limit_orders_per_user": HARNESS_CEILING,
        "rate_limit_login_failures_per_client": HARNESS_CEILING,
    }
    if config.jwt_secret:
        options["jwt_secret"] = config.jwt_secret
    settings = Settings(**options)
    migrate(settings)
    seed(settings)
    return SingleLifespan(create_app(settings))


def load_schema(config: RunConfig, app: ASGIApp | None = None) -> BaseSchema:
    """The target's published schema, configured for this run."""
    options = config.schemathesis_config()
    if config.base_url is None:
        if app is None:
            raise ValueError("an in-process run needs the ASGI app")
        return schemathesis.openapi.from_asgi(SCHEMA_PATH, app, config=options)
    return schemathesis.openapi.from_url(
        f"{config.base_url}{SCHEMA_PATH}", config=options, wait_for_schema=30.0
    )


def _token(schema: BaseSchema, email: str, password: str) -> str:
    login = schema["/auth/token"]["POST"]
    response = login.Case(body={"email": email, "password": password}).call()
    if response.status_code != 200:
        raise RuntimeError(f"login as {email} answered {response.status_code}: {response.text}")
    return str(response.json()["access_token"])


def _bearer(token: str) -> type:
    class Bearer:
        def get(self, case: schemathesis.Case[Any], ctx: schemathesis.AuthContext) -> str:
            return token

        def set(
            self, case: schemathesis.Case[Any], data: str, ctx: schemathesis.AuthContext
        ) -> None:
            case.headers["Authorization"] = f"Bearer {data}"

    return Bearer


def authenticate(schema: BaseSchema, config: RunConfig) -> str:
    """Register a customer; admin operations run as the admin, all others as the customer."""
    email = f"contract-{uuid.uuid4().hex[:12]}@example.com"
    body: dict[str, Any] = {
        "email": email,
        "password": CUSTOMER_PASSWORD,
        "full_name": "Contract Customer",
    }
    registered = schema["/auth/register"]["POST"].Case(body=body).call()
    if registered.status_code != 201:
        raise RuntimeError(f"registering {email} answered {registered.status_code}")
    customer = _token(schema, email, CUSTOMER_PASSWORD)
    admin = _token(schema, config.admin_email, config.admin_password)
    schema.auth(refresh_interval=None).apply_to(tag="admin")(_bearer(admin))
    schema.auth(refresh_interval=None).skip_for(tag="admin")(_bearer(customer))
    return email
