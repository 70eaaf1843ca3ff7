"""`python -m perf.bench`: one run, one table, printed (never asserted on).

Load tool: wrk (Debian package `wrk`): closed-loop connections from C, so the load generator
costs far less CPU than the Python under test; each level runs a fixed number of connections
and the p95 comes from wrk's own latency histogram (a Lua `done` hook prints it). The Locust
row runs one Locust process (FastHttpUser, no wait) against a canned responder that costs a
few microseconds a request, so it shows the generator's capacity, not a server's.

    python -m perf.bench [--workers 2] [--duration 5] [--postgres URL] [--redis URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from perf.bench.servers import (
    SERVICE_ENV,
    Server,
    bare,
    postgres_database,
    reference,
    responder,
)
from perf.config import DataConfig
from perf.data import prepare

HERE = Path(__file__).resolve().parent
LEVELS = (2, 8, 16, 32, 64)  # concurrent connections tried per measurement
LOCUST_MIN_S = 5  # seconds Locust runs at least: it needs some to start and spawn
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"

# The default browse-heavy mix (anonymous): list pages, search, product detail.
MIX_LUA = """
local ids = {}
for i = 1, 200 do ids[i] = i end
local terms = {"Lamp", "Tent", "Coffee", "Robot", "Guide", "Pro", "Eco", "Kite"}
local cats = {"books", "electronics", "garden", "grocery", "home", "outdoors", "sports", "toys"}
request = function()
  local r = math.random(100)
  if r <= 35 then return wrk.format("GET", "/products?limit=20")
  elseif r <= 45 then return wrk.format("GET", "/products?category=" .. cats[math.random(#cats)])
  elseif r <= 55 then return wrk.format("GET", "/products?q=" .. terms[math.random(#terms)])
  else return wrk.format("GET", "/products/" .. ids[math.random(#ids)]) end
end
"""
PRODUCT_LUA = """
request = function() return wrk.format("GET", "/products/" .. math.random(200)) end
"""
CHECKOUT_LUA = """
local tokens = {%(tokens)s}
local products = {%(products)s}
local counter = 0
local made = 0
-- Every wrk thread has its own Lua state: number the threads, and stamp each wrk run, so
-- Idempotency-Keys never repeat across threads or connection levels (a repeat is a replay).
setup = function(thread)
  made = made + 1
  thread:set("tid", made)
end
request = function()
  local prefix = os.time() .. "-" .. tid
  counter = counter + 1
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["Idempotency-Key"] = prefix .. "-" .. counter,
    ["Content-Type"] = "application/json",
  }
  local body = '{"items":[{"product_id":' .. products[math.random(#products)] ..
    ',"quantity":1}],"payment":{"token":"tok_visa"}}'
  return wrk.format("POST", "/orders", headers, body)
end
"""


@dataclass(frozen=True)
class Level:
    """One wrk run: connections, throughput, latency, errors."""

    connections: int
    rps: float
    p95_ms: float
    p50_ms: float
    errors: int


@dataclass(frozen=True)
class Row:
    """A line of the printed table."""

    what: str
    backend: str
    level: Level | None
    ceiling_rps: float | None
    note: str = ""


def wrk(url: str, script: str, connections: int, duration_s: int) -> Level:
    """Run wrk once with `script` (plus the shared result hook)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + (HERE / "wrk.lua").read_text(encoding="utf-8"))
    try:
        done = subprocess.run(  # noqa: S603 - wrk from PATH with our arguments
            ["wrk", "-t2", f"-c{connections}", f"-d{duration_s}s", "-s", lua.name, url],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=duration_s + 60,
            check=True,
        )
    finally:
        os.unlink(lua.name)
    line = next(x for x in done.stdout.splitlines() if x.startswith("ASSAY_RESULT"))
    requests, errors, micros, p95, p50 = line.split()[1:]
    non_2xx = next((x for x in done.stdout.splitlines() if "Non-2xx" in x), "")
    errors_total = int(errors) + (int(non_2xx.split(":")[1]) if non_2xx else 0)
    rps = int(requests) / (int(micros) / 1e6)
    return Level(connections, round(rps), float(p95), float(p50), errors_total)


def best(levels: list[Level], p95_limit_ms: float) -> Level | None:
    """The highest throughput with p95 under the limit and no errors."""
    fitting = [lv for lv in levels if lv.p95_ms < p95_limit_ms and lv.errors == 0]
    return max(fitting, key=lambda lv: lv.rps, default=None)


def fitted(what: str, backend: str, levels: list[Level], limit: float, top: float | None) -> Row:
    """The best level under `limit`; else the lowest-p95 level, marked as over the limit."""
    level = best(levels, limit)
    if level is not None:
        return Row(what, backend, level, top)
    closest = min(levels, key=lambda lv: (lv.errors > 0, lv.p95_ms))
    return Row(what, backend, closest, top, "over the p95 limit at every level")


def sweep(url: str, script: str, duration_s: int) -> list[Level]:
    """wrk at each connection level (a short warm-up first)."""
    wrk(url, script, 8, 2)
    return [wrk(url, script, c, duration_s) for c in LEVELS]


def locust_rps(url: str, duration_s: int) -> Level:
    """Requests per second one Locust process (FastHttpUser loop) sends here.

    Locust needs a few seconds to start and spawn its users, so it runs at least
    LOCUST_MIN_S whatever the other levels' duration (a 1 s run could end before a request).
    """
    run_s = max(duration_s, LOCUST_MIN_S) + 2
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(  # noqa: S603 - our interpreter running Locust headless, bounded
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(HERE / "locust_loop.py"),
                "--headless",
                "--host",
                url,
                "-u",
                "32",
                "-r",
                "32",
                "--run-time",
                f"{run_s}s",
                "--csv",
                f"{tmp}/loop",
                "--only-summary",
                "--stop-timeout",
                "1",
            ],
            capture_output=True,
            timeout=run_s + 60,
            check=False,
        )
        rows = (Path(tmp) / "loop_stats.csv").read_text().splitlines()
    header, total = rows[0].split(","), rows[-1].split(",")
    stats = dict(zip(header, total, strict=True))
    if int(stats["Request Count"]) == 0:
        raise RuntimeError(f"Locust sent no request to {url} in {run_s} s: nothing to report")
    return Level(
        32,
        round(float(stats["Requests/s"])),
        float(stats["95%"]),
        float(stats["50%"]),
        int(stats["Failure Count"]),
    )


def checkout_script(server: Server) -> str:
    """Customers and stocked products made through the API, baked into the wrk script."""
    data = prepare(
        server.base_url,
        DataConfig(users=20, products=20, stock=100_000_000),
        SERVICE_ENV["ADMIN_EMAIL"],
        SERVICE_ENV["ADMIN_PASSWORD"],
    )
    tokens = ",".join(f'"{a.token}"' for a in data.accounts)
    return CHECKOUT_LUA % {"tokens": tokens, "products": ",".join(map(str, data.order_product_ids))}


def measure(args: argparse.Namespace) -> list[Row]:
    """Every measurement, in one run."""
    rows: list[Row] = []
    with bare(args.workers) as server:
        ceiling = best(sweep(f"{server.base_url}/ping", "", args.duration), 1e9)
    with responder() as server:
        locust = locust_rps(server.base_url, args.duration)
    top = ceiling.rps if ceiling else None
    rows.append(Row("bare FastAPI JSON endpoint (ceiling)", "-", ceiling, top))
    backends: list[tuple[str | None, str | None]] = [(None, None)]
    if args.postgres:
        backends.append((args.postgres, args.redis))
    for database, redis in backends:
        with (
            postgres_database(database) if database else _nothing() as url,
            reference(args.workers, url, redis) as service,
        ):
            levels = sweep(service.base_url, PRODUCT_LUA, args.duration)
            rows.append(Row("cached product read", service.label, best(levels, 1e9), top))
            levels = sweep(service.base_url, MIX_LUA, args.duration)
            for limit in (50, 300):
                what = f"browse mix, p95 < {limit} ms"
                rows.append(fitted(what, service.label, levels, limit, top))
            if database:
                levels = sweep(service.base_url, checkout_script(service), args.duration)
                what = "checkout, p95 < 100 ms (orders/s)"
                rows.append(fitted(what, service.label, levels, 100, None))
    rows.append(Row("one Locust process (FastHttpUser loop)", "canned responder", locust, None))
    return rows


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


ROW = "{:44} {:20} {:>8} {:>8} {:>6} {:>7} {:>11}"


def render(rows: list[Row], workers: int) -> str:
    """The printed table."""
    head = ROW.format("measurement", "backend", "RPS", "p95 ms", "conns", "errors", "of ceiling")
    title = f"perf.bench: {workers} server worker(s), {os.cpu_count()} CPUs, load by wrk -t2"
    lines = [title, head, "-" * len(head)]
    for row in rows:
        lv = row.level
        if lv is None:
            lines.append(ROW.format(row.what, row.backend, "none fits", "", "", "", ""))
            continue
        ratio = f"{100 * lv.rps / row.ceiling_rps:.0f} %" if row.ceiling_rps else ""
        p95 = f"{lv.p95_ms:.1f}"
        cells = (row.what, row.backend, lv.rps, p95, lv.connections, lv.errors, ratio)
        lines.append(ROW.format(*cells) + (f"  ({row.note})" if row.note else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(prog="python -m perf.bench", description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk level")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    if args.no_postgres:
        args.postgres = None
    if shutil.which("wrk") is None:
        print("perf.bench needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    print(render(measure(args), args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
