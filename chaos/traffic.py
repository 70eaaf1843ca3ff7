"""Bounded bursts of mixed traffic: Poisson arrivals for N seconds, measured per request.

A burst browses the catalog, reads products and checks out (one unit, `tok_visa`) as a few
customers it registers once per target. Every order the service acknowledges with a 2xx is
appended to the acknowledged-orders file, which the "nothing acknowledged is lost" probe reads.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import statistics
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from assay.catalog import load_catalog
from assay.suites import BESIDE_ENV
from perf.gate import MIN_LATENCY_SAMPLES, min_error_samples

USERS_FILE = "traffic-users.json"
USER_COUNT = 6
DEFAULT_MIX = {"browse": 0.45, "product": 0.3, "checkout": 0.25}
REQUEST_TIMEOUT_S = 5.0
# Idle connections are dropped before the server's keep-alive (gunicorn's default, 2 s) ends
# them: reusing one the server is closing fails with no answer, a client race, not an outage.
KEEPALIVE_EXPIRY_S = 1.0
MAX_CONCURRENCY = 16
LATENCY_SLO = "SLO-LATENCY-P95"
ERROR_SLO = "SLO-ERROR-RATE"
JUDGE_LATENCY_ENV = "ASSAY_CHAOS_JUDGE_LATENCY"


@dataclass(frozen=True)
class Sample:
    """One request: when it started (epoch s), what it was, how it ended, how long it took."""

    at: float
    kind: str
    status: int  # 0: no HTTP answer (connection refused, timeout)
    ms: float
    order_id: str | None = None
    error: str | None = None  # with status 0: the transport error's type

    @property
    def failed(self) -> bool:
        """A server error or no answer at all (4xx are the client's, e.g. out of stock)."""
        return self.status == 0 or self.status >= 500


def customers(client: httpx.Client, base_url: str, state_dir: Path) -> list[str]:
    """Bearer tokens of the traffic's customers, registered once per target and cached."""
    path = state_dir / USERS_FILE
    data: dict[str, Any] = {}
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("base_url") == base_url and data.get("expires_at", 0) > time.time() + 120:
        return list(data["tokens"])
    tokens = []
    run = secrets.token_hex(4)
    for index in range(USER_COUNT):
        email = f"chaos-{run}-{index}@example.com"
        password = secrets.token_urlsafe(16)
        body = {"email": email, "password": password, "full_name": f"Chaos Customer {index}"}
        client.post(f"{base_url}/auth/register", json=body).raise_for_status()
        login = client.post(f"{base_url}/auth/token", json={"email": email, "password": password})
        login.raise_for_status()
        tokens.append(login.json()["access_token"])
    expires = time.time() + 3000
    path.write_text(json.dumps({"base_url": base_url, "tokens": tokens, "expires_at": expires}))
    path.chmod(0o600)
    return tokens


def product_ids(client: httpx.Client, base_url: str, minimum_stock: int = 20) -> list[int]:
    """Ids of products with stock to sell (first page of the catalog)."""
    response = client.get(f"{base_url}/products", params={"limit": 100})
    response.raise_for_status()
    return [p["id"] for p in response.json()["items"] if p["available"] >= minimum_stock]


async def _one(
    client: httpx.AsyncClient,
    kind: str,
    tokens: list[str],
    products: list[int],
    rng: random.Random,
) -> Sample:
    started, clock = time.time(), time.perf_counter()
    order_id = None
    error = None
    try:
        if kind == "browse":
            response = await client.get("/products", params={"limit": 20})
        elif kind == "product":
            response = await client.get(f"/products/{rng.choice(products)}")
        else:
            body = {
                "items": [{"product_id": rng.choice(products), "quantity": 1}],
                "payment": {"token": "tok_visa"},
            }
            headers = {
                "Authorization": f"Bearer {rng.choice(tokens)}",
                "Idempotency-Key": f"chaos-{secrets.token_hex(12)}",
            }
            response = await client.post("/orders", json=body, headers=headers)
            if response.status_code in (200, 201):
                order_id = str(response.json()["id"])
        status = response.status_code
    except httpx.HTTPError as exc:
        status, error = 0, type(exc).__name__
    return Sample(started, kind, status, (time.perf_counter() - clock) * 1000, order_id, error)


async def _burst(
    base_url: str,
    duration_s: float,
    rate_rps: float,
    mix: dict[str, float],
    tokens: list[str],
    products: list[int],
) -> list[Sample]:
    rng = random.Random()  # noqa: S311 - load generation, not security
    kinds, weights = list(mix), list(mix.values())
    limit = asyncio.Semaphore(MAX_CONCURRENCY)
    cap = int(rate_rps * duration_s * 2) + 10  # hard bound on requests in one burst

    async def fire(kind: str) -> Sample:
        async with limit:
            return await _one(client, kind, tokens, products, rng)

    limits = httpx.Limits(max_connections=MAX_CONCURRENCY, keepalive_expiry=KEEPALIVE_EXPIRY_S)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=REQUEST_TIMEOUT_S, limits=limits
    ) as client:
        tasks: list[asyncio.Task[Sample]] = []
        deadline = time.monotonic() + duration_s
        while time.monotonic() < deadline and len(tasks) < cap:
            tasks.append(asyncio.create_task(fire(rng.choices(kinds, weights)[0])))
            await asyncio.sleep(rng.expovariate(rate_rps))  # Poisson arrivals, no lockstep
        done = await asyncio.wait_for(
            asyncio.gather(*tasks), timeout=REQUEST_TIMEOUT_S * 2 + duration_s
        )
    return list(done)


def run_burst(
    base_url: str,
    state_dir: Path,
    acknowledged: Path,
    *,
    duration_s: float,
    rate_rps: float,
    mix: dict[str, float] | None = None,
    product_id: int | None = None,
) -> list[Sample]:
    """Send a burst and record acknowledged orders; at most `duration_s` plus the timeouts."""
    if not 0 < duration_s <= 120 or not 0 < rate_rps <= 200:
        raise ValueError("a burst lasts 0-120 s at 0-200 requests per second")
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        tokens = customers(client, base_url, state_dir)
        products = [product_id] if product_id is not None else product_ids(client, base_url)
    if not products:
        raise ValueError("no product with stock to order")
    samples = asyncio.run(
        _burst(base_url, duration_s, rate_rps, mix or DEFAULT_MIX, tokens, products)
    )
    with acknowledged.open("a", encoding="utf-8") as handle:
        for sample in samples:
            if sample.order_id:
                handle.write(json.dumps({"id": sample.order_id, "at": sample.at}) + "\n")
    return samples


def record_acknowledged(path: Path, order_id: str) -> None:
    """Append one order the service acknowledged with a 2xx."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": order_id, "at": time.time()}) + "\n")


def p95(values: list[float]) -> float | None:
    """95th percentile (inclusive method); None without data."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure(samples: list[Sample], journey: str | None = None) -> dict[str, Any]:
    """p95 and error rate of the samples (of one kind when `journey` is given)."""
    chosen = [s for s in samples if journey is None or s.kind == journey]
    statuses: dict[str, int] = {}
    for sample in chosen:
        statuses[str(sample.status)] = statuses.get(str(sample.status), 0) + 1
    unanswered: dict[str, int] = {}
    for sample in chosen:
        if sample.status == 0:
            name = sample.error or "unknown"
            unanswered[name] = unanswered.get(name, 0) + 1
    failed = sum(s.failed for s in chosen)
    latency = p95([s.ms for s in chosen if s.status != 0])
    return {
        "requests": len(chosen),
        "failures": failed,
        "p95_ms": round(latency, 1) if latency is not None else None,
        "error_rate_pct": round(100.0 * failed / len(chosen), 2) if chosen else None,
        "statuses": statuses,
        "unanswered": unanswered,
    }


def latency_unjudged_because(environ: Mapping[str, str] | None = None) -> str | None:
    """Why latency SLOs are measured only here, or None when they are judged.

    `ASSAY_CHAOS_JUDGE_LATENCY=false` measures them only, for runs on a machine shared with
    other work (the project's own tests, CI), and so does a chaos suite that `assay run` runs
    beside other suites (BESIDE_ENV): absolute latency then says more about the neighbours
    than about the service."""
    env = os.environ if environ is None else environ
    if env.get(JUDGE_LATENCY_ENV, "true").strip().lower() in {"false", "0", "no"}:
        return f"{JUDGE_LATENCY_ENV}=false"
    beside = env.get(BESIDE_ENV, "").strip()
    if beside:
        return f"ran beside {beside} on this machine"
    return None


def judges_latency(environ: Mapping[str, str] | None = None) -> bool:
    """Whether latency SLOs are judged here (see `latency_unjudged_because`)."""
    return latency_unjudged_because(environ) is None


def min_requests() -> int:
    """The fewest requests a burst that judges the SLOs sends: enough for a p95, and enough
    that one error alone cannot break the error-rate objective (the perf gate's rule)."""
    return max(MIN_LATENCY_SAMPLES, min_error_samples(load_catalog().slo(ERROR_SLO)))


def judge_slos(measured: dict[str, Any]) -> list[dict[str, Any]]:
    """The measured p95 and error rate against the catalog's SLOs (`held` is None for a
    latency SLO measured only, see `judges_latency`, and for one error in a burst too small
    for one error to decide)."""
    catalog = load_catalog()
    latency_judged = judges_latency()
    results = []
    for slo_id, key in ((LATENCY_SLO, "p95_ms"), (ERROR_SLO, "error_rate_pct")):
        slo = catalog.slo(slo_id)
        observed = measured[key]
        held: bool | None = observed is not None and slo.met(float(observed))
        if slo_id == LATENCY_SLO and not latency_judged:
            held = None
        lone_error = measured.get("failures") == 1
        if (
            slo_id == ERROR_SLO
            and lone_error
            and measured.get("requests", 0) < min_error_samples(slo)
        ):
            held = None
        results.append(
            {
                "id": slo_id,
                "objective": slo.objective,
                "unit": slo.unit,
                "observed": observed,
                "held": held,
            }
        )
    return results


def samples_json(samples: list[Sample]) -> list[dict[str, Any]]:
    """Samples as JSON-ready dicts."""
    return [asdict(s) for s in samples]
