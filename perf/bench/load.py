"""The benchmark's load: wrk runs (closed-loop connections from C) and one Locust process.

Each wrk run appends wrk.lua, whose `done` hook prints one machine-readable line (requests,
errors, duration, p95 and p50 from wrk's own histogram). Given a server's pid, a run also
reads the CPU its process tree spent, so a row can say what a request costs the server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from perf.bench import cpu
from perf.bench.servers import SERVICE_ENV, Server
from perf.config import DataConfig
from perf.data import TestData, prepare

HERE = Path(__file__).resolve().parent
LEVELS = (2, 8, 16, 32, 64)  # concurrent connections tried per measurement
LOCUST_MIN_S = 5  # seconds Locust runs at least: it needs some to start and spawn

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
# Authenticated reads: half GET /users/me, half GET /cart, each as a random customer.
AUTH_LUA = """
local tokens = {%(tokens)s}
local paths = {"/users/me", "/cart"}
request = function()
  local headers = {["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]}
  return wrk.format("GET", paths[math.random(2)], headers)
end
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
    """One load run: connections, throughput, latency, errors, and the server's CPU a request."""

    connections: int
    rps: float
    p95_ms: float
    p50_ms: float
    errors: int
    requests: int = 0
    cpu_ms_per_request: float | None = None


def wrk(url: str, script: str, connections: int, duration_s: int, pid: int | None = None) -> Level:
    """Run wrk once with `script` (plus the shared result hook); with `pid`, its tree's CPU."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + (HERE / "wrk.lua").read_text(encoding="utf-8"))
    before = cpu.snapshot(pid) if pid else {}
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
    used_s = cpu.spent(before, cpu.snapshot(pid)) if pid else None
    line = next(x for x in done.stdout.splitlines() if x.startswith("ASSAY_RESULT"))
    requests, errors, micros, p95, p50 = line.split()[1:]
    non_2xx = next((x for x in done.stdout.splitlines() if "Non-2xx" in x), "")
    errors_total = int(errors) + (int(non_2xx.split(":")[1]) if non_2xx else 0)
    rps = int(requests) / (int(micros) / 1e6)
    per_request = round(1000 * used_s / int(requests), 3) if used_s and int(requests) else None
    return Level(
        connections, round(rps), float(p95), float(p50), errors_total, int(requests), per_request
    )


def best(levels: list[Level], p95_limit_ms: float) -> Level | None:
    """The highest throughput with p95 under the limit and no errors."""
    fitting = [lv for lv in levels if lv.p95_ms < p95_limit_ms and lv.errors == 0]
    return max(fitting, key=lambda lv: lv.rps, default=None)


def fitted(levels: list[Level], limit: float) -> tuple[Level | None, str]:
    """The best level under `limit`; else the lowest-p95 level, with a note that it is over."""
    level = best(levels, limit)
    if level is not None or not levels:
        return level, ""
    closest = min(levels, key=lambda lv: (lv.errors > 0, lv.p95_ms))
    return closest, "over the p95 limit at every level"


def sweep(server: Server, script: str, duration_s: int, path: str = "") -> list[Level]:
    """wrk at each connection level (a short warm-up first), with the server's CPU."""
    url = server.base_url + path
    wrk(url, script, 8, 2)
    return [wrk(url, script, c, duration_s, server.pid) for c in LEVELS]


def customers(server: Server) -> TestData:
    """Customers and stocked products made through the API (perf.data), for the scripts."""
    return prepare(
        server.base_url,
        DataConfig(users=20, products=20, stock=100_000_000),
        SERVICE_ENV["ADMIN_EMAIL"],
        SERVICE_ENV["ADMIN_PASSWORD"],
    )


def _tokens(data: TestData) -> str:
    return ",".join(f'"{a.token}"' for a in data.accounts)


def auth_script(data: TestData) -> str:
    """The authenticated-read script, the customers' tokens baked in."""
    return AUTH_LUA % {"tokens": _tokens(data)}


def checkout_script(data: TestData) -> str:
    """The checkout script, tokens and stocked products baked in."""
    products = ",".join(map(str, data.order_product_ids))
    return CHECKOUT_LUA % {"tokens": _tokens(data), "products": products}


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
        int(stats["Request Count"]),
    )
