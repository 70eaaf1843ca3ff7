"""Test data for a perf run, created through the target's public API before users start.

Customers are registered and logged in; dedicated products get ample stock through the admin
API (when admin credentials are known), so checkouts never run the catalog dry. Nothing
touches the database directly. The result is a JSON file every Locust process can load.
"""

from __future__ import annotations

import json
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from perf.config import DataConfig, PerfConfig, exemption_headers
from perf.plan import ORDERING_JOURNEYS, PlanError, accounts_for

DATA_ENV = "ASSAY_PERF_DATA"
PERF_PRODUCT_NAME = "Assay Perf Item"
PERF_CATEGORY = "assay-perf"
TIMEOUT_S = 30.0
REGISTERING_AT_ONCE = 4  # well inside a target's password-hashing queue


class DataError(Exception):
    """The target refused to set up test data."""


@dataclass
class Account:
    """A customer of the run and its current bearer token."""

    email: str
    password: str
    token: str = ""


@dataclass
class TestData:
    """Everything journeys need to know about the target's data."""

    __test__ = False  # not a pytest test class

    accounts: list[Account]
    product_ids: list[int]  # catalog products to browse and look at
    order_product_ids: list[int]  # products with ample stock, for cart and checkout
    categories: list[str]
    search_terms: list[str]
    admin: Account | None = None
    notes: list[str] = field(default_factory=list)

    def dump(self, path: Path) -> Path:
        """Write as JSON (tokens included: keep it inside the run directory)."""
        path.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> TestData:
        """Read what `dump` wrote."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        admin = raw.pop("admin")
        accounts = [Account(**a) for a in raw.pop("accounts")]
        return cls(accounts=accounts, admin=Account(**admin) if admin else None, **raw)


def _ok(response: httpx.Response, what: str, *accepted: int) -> httpx.Response:
    if response.status_code not in (accepted or (200,)):
        raise DataError(f"{what}: {response.status_code} {response.text[:200]}")
    return response


def login(client: httpx.Client, email: str, password: str) -> str:
    """A bearer token for these credentials."""
    answer = client.post("/auth/token", json={"email": email, "password": password})
    return str(_ok(answer, f"login {email}").json()["access_token"])


def _perf_products(client: httpx.Client, admin: Account, config: DataConfig) -> list[int]:
    headers = {"Authorization": f"Bearer {admin.token}"}
    ids: list[int] = []
    for number in range(1, config.products + 1):
        body = {
            "sku": f"ASSAY-PERF-{number:04d}",
            "name": f"{PERF_PRODUCT_NAME} {number}",
            "category": PERF_CATEGORY,
            "price": {"amount": 500 + number, "currency": "USD"},
            "stock": config.stock,
            "description": "Created by the Assay perf suite.",
        }
        created = client.post("/admin/products", json=body, headers=headers)
        if created.status_code == httpx.codes.CREATED:
            ids.append(int(created.json()["id"]))
            continue
        _ok(created, f"create {body['sku']}", 409)  # a previous run made it: top up its stock
        found = client.get("/products", params={"q": str(body["name"]), "category": PERF_CATEGORY})
        items = _ok(found, "find perf product").json()["items"]
        match = [p for p in items if p["sku"] == body["sku"]]
        if not match:
            raise DataError(f"{body['sku']} exists but cannot be found by name")
        product_id = int(match[0]["id"])
        stock = {"stock": config.stock}
        _ok(client.put(f"/admin/inventory/{product_id}", json=stock, headers=headers), "stock")
        ids.append(product_id)
    return ids


def _account(client: httpx.Client, email: str) -> Account:
    account = Account(email, secrets.token_urlsafe(12))
    body = {"email": account.email, "password": account.password, "full_name": "Perf Shopper"}
    _ok(client.post("/auth/register", json=body), f"register {account.email}", 201)
    account.token = login(client, account.email, account.password)
    return account


def _accounts(client: httpx.Client, count: int, tag: str) -> list[Account]:
    """`count` customers, registered a few at a time (each costs the target two password
    hashes; a shape's peak can ask for hundreds)."""
    emails = [f"perf-{tag}-{number}@example.com" for number in range(count)]
    with ThreadPoolExecutor(max_workers=REGISTERING_AT_ONCE) as pool:
        return list(pool.map(lambda email: _account(client, email), emails))


def prepare(
    base_url: str,
    config: DataConfig,
    admin_email: str | None = None,
    admin_password: str | None = None,
    *,
    buys: bool = True,
) -> TestData:
    """Create the run's customers (and stocked products, as admin) through the API.

    A run that `buys` (its checkout or cancel journey has weight) orders only products it
    created itself, which takes admin credentials: without them it refuses to start rather
    than buy up the target's real catalog stock.
    """
    if buys and not (admin_email and admin_password):
        raise DataError(
            "the checkout and cancel journeys order only products the run creates, which "
            "takes admin credentials (ASSAY_ADMIN_EMAIL, ASSAY_ADMIN_PASSWORD); without them "
            "give both weight 0 in ASSAY_PERF_CONFIG: the run never buys the target's own stock"
        )
    notes: list[str] = []
    with httpx.Client(base_url=base_url, timeout=TIMEOUT_S, headers=exemption_headers()) as client:
        catalog = _ok(client.get("/products", params={"limit": 100}), "list products").json()
        items = [p for p in catalog["items"] if p["category"] != PERF_CATEGORY]
        if not items:
            raise DataError("the target's catalog is empty: nothing to browse")
        admin: Account | None = None
        if admin_email and admin_password:
            admin = Account(admin_email, admin_password, login(client, admin_email, admin_password))
            order_ids = _perf_products(client, admin, config)
        else:
            # Only carts use these: a cart line reserves nothing, and nothing is ordered.
            order_ids = [int(p["id"]) for p in items if p["available"] > 0][:20]
            notes.append("no admin credentials: nothing ordered; carts use catalog products")
        accounts = _accounts(client, config.users, secrets.token_hex(4))
    words = sorted({p["name"].split()[1] for p in items if len(p["name"].split()) > 1})
    return TestData(
        accounts=accounts,
        product_ids=[int(p["id"]) for p in items],
        order_product_ids=order_ids,
        categories=sorted({p["category"] for p in items}),
        search_terms=words or [items[0]["name"]],
        admin=admin,
        notes=notes,
    )


def for_shape(
    base_url: str,
    config: PerfConfig,
    shape: str,
    admin_email: str | None = None,
    admin_password: str | None = None,
) -> TestData:
    """The data a run of `shape` needs: enough accounts for its peak order rate (see
    `perf.plan.accounts_for`), stocked products when its mix orders. DataError when the
    plan cannot work here or the target refuses."""
    admin_known = bool(admin_email and admin_password)
    try:
        accounts = accounts_for(config, config.shape(shape).peak_rps, admin_known)
    except PlanError as exc:
        raise DataError(f"the {shape} shape cannot run here: {exc}") from exc
    data = prepare(
        base_url,
        config.data.model_copy(update={"users": accounts}),
        admin_email,
        admin_password,
        buys=any(config.journeys.get(name, 0) > 0 for name in ORDERING_JOURNEYS),
    )
    if accounts > config.data.users:
        data.notes.append(
            f"{accounts} customer accounts (not {config.data.users}): at "
            f"{config.shape(shape).peak_rps:g} RPS none may near the target's limit of "
            f"{config.data.orders_per_account_per_minute:g} orders a minute"
        )
    return data


def from_environment(base_url: str, config: PerfConfig, shape: str) -> TestData:
    """The data file named by `ASSAY_PERF_DATA`, else fresh data made through the API now."""
    path = os.environ.get(DATA_ENV)
    if path:
        return TestData.load(Path(path))
    return for_shape(
        base_url,
        config,
        shape,
        os.environ.get("ASSAY_ADMIN_EMAIL"),
        os.environ.get("ASSAY_ADMIN_PASSWORD"),
    )
