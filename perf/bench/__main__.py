"""`python -m perf.bench`: one run, one table, printed and recorded (never asserted on).

Load tool: wrk (Debian package `wrk`): closed-loop connections from C, so the load generator
costs far less CPU than the Python under test; each level runs a fixed number of connections
and the p95 comes from wrk's own latency histogram (a Lua `done` hook prints it). The server's
CPU per request is its process tree's CPU time (psutil) over the requests wrk counted. The
Locust row runs one Locust process (FastHttpUser, no wait) against a canned responder that
costs a few microseconds a request, so it shows the generator's capacity, not a server's.
`--journey-mix` adds the perf suite's sustained and step shapes (`assay run perf`), minutes each.

The results (rows with their targets, machine, commit, date, options) go to a JSON file,
perf/bench/results.json unless `--results` says otherwise or `--no-record` says not to; the
README's performance table is rendered from it by `python -m perf.bench.readme`.

    python -m perf.bench [--workers 2] [--duration 5] [--postgres URL] [--redis URL]
                         [--no-postgres] [--journey-mix] [--results PATH | --no-record]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from perf.bench import journeys
from perf.bench.load import (
    MIX_LUA,
    PRODUCT_LUA,
    auth_script,
    best,
    checkout_script,
    customers,
    fitted,
    locust_rps,
    sweep,
)
from perf.bench.results import RESULTS, Kind, Record, document, level_record, write
from perf.bench.servers import bare, postgres_database, reference, responder
from perf.bench.targets import (
    AUTH_READ,
    BROWSE_50,
    BROWSE_300,
    CACHED_READ,
    CEILING,
    CHECKOUT,
    LOCUST,
)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
AUTH_WORDS = "authenticated read (GET /users/me, GET /cart)"


@contextmanager
def _database(admin_url: str | None) -> Iterator[str | None]:
    if admin_url is None:
        yield None
        return
    with postgres_database(admin_url) as url:
        yield url


def service_rows(args: argparse.Namespace, ceiling: float | None) -> list[Record]:
    """The reference service's rows, on SQLite and (unless --no-postgres) PostgreSQL + Redis."""
    rows: list[Record] = []
    backends: list[tuple[str | None, str | None]] = [(None, None)]
    if args.postgres:
        backends.append((args.postgres, args.redis))
    for database, redis in backends:
        with _database(database) as url, reference(args.workers, url, redis) as service:
            backend = service.label
            levels = sweep(service, PRODUCT_LUA, args.duration)
            rows.append(
                level_record(
                    CACHED_READ,
                    "cached product read (GET /products/{id})",
                    backend,
                    Kind.ANONYMOUS,
                    best(levels, 1e9),
                    ceiling,
                )
            )
            levels = sweep(service, MIX_LUA, args.duration)
            for key, limit in ((BROWSE_50, 50), (BROWSE_300, 300)):
                level, note = fitted(levels, limit)
                what = f"browse mix, best at p95 < {limit} ms"
                rows.append(level_record(key, what, backend, Kind.ANONYMOUS, level, ceiling, note))
            data = customers(service)
            levels = sweep(service, auth_script(data), args.duration)
            rows.append(
                level_record(
                    AUTH_READ, AUTH_WORDS, backend, Kind.AUTHENTICATED, best(levels, 1e9), ceiling
                )
            )
            if database:
                levels = sweep(service, checkout_script(data), args.duration)
                level, note = fitted(levels, 100)
                what = "checkout, best at p95 < 100 ms (orders/s)"
                rows.append(level_record(CHECKOUT, what, backend, Kind.CHECKOUT, level, None, note))
    return rows


def measure(args: argparse.Namespace) -> list[Record]:
    """Every measurement, in one run."""
    with bare(args.workers) as server:
        top = best(sweep(server, "", args.duration, "/ping"), 1e9)
    ceiling = top.rps if top else None
    with responder() as server:
        locust = locust_rps(server.base_url, args.duration)
    rows = [
        level_record(
            CEILING, "bare FastAPI JSON endpoint (ceiling)", "-", Kind.CEILING, top, ceiling
        ),
        *service_rows(args, ceiling),
        level_record(
            LOCUST,
            "one Locust process (FastHttpUser loop)",
            "canned responder",
            Kind.GENERATOR,
            locust,
        ),
    ]
    if args.journey_mix:
        with tempfile.TemporaryDirectory(prefix="assay-bench-runs-") as runs:
            rows += journeys.measure(Path(runs), args.journey_target_url)
            if args.journey_target_url is None and not args.no_postgres:
                rows += journeys.measure_on_stack(Path(runs))
    else:
        rows += journeys.not_measured()
    return rows


ROW = "{:58} {:34} {:>8} {:>8} {:>6} {:>7} {:>8} {:>8}  {}"


def _cell(value: Any, spec: str) -> str:
    return "" if value is None else format(value, spec)


def render(rows: Sequence[Mapping[str, Any]], workers: int) -> str:
    """The printed table (rows as the results file holds them)."""
    head = ROW.format(
        "measurement", "backend", "RPS", "p95 ms", "conns", "errors", "ceiling", "CPU ms", "target"
    )
    title = f"perf.bench: {workers} server worker(s), {os.cpu_count()} CPUs, load by wrk -t2"
    lines = [title, head, "-" * len(head)]
    for row in rows:
        f = row["figures"]
        rate = f.get("rps", f.get("achieved_rps", f.get("knee_achieved_rps")))
        share = f.get("share_of_ceiling_pct")
        goal = row["target"]
        met = {True: "met", False: "NOT met"}.get(row["meets_target"], "not judged")
        cells = (
            row["measurement"][:58],
            row["backend"][:34],
            _cell(rate, ",.0f") or "none",
            _cell(f.get("p95_ms"), ".1f"),
            _cell(f.get("connections"), "d"),
            _cell(f.get("errors", f.get("failures")), "d"),
            "" if share is None else f"{share:.0f} %",
            _cell(f.get("cpu_ms_per_request"), ".2f"),
            f"{goal['text']}: {met}" if goal else "",
        )
        lines.append(ROW.format(*cells) + (f"  ({row['note']})" if row["note"] else ""))
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    made = argparse.ArgumentParser(
        prog="python -m perf.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    made.add_argument("--workers", type=int, default=2, help="server worker processes")
    made.add_argument("--duration", type=int, default=5, help="seconds per wrk level")
    made.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG))
    made.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    made.add_argument("--no-postgres", action="store_true", help="SQLite only")
    made.add_argument(
        "--journey-mix",
        action="store_true",
        help="also run the perf suite's sustained and step shapes (minutes each) on a managed "
        "default target and, unless --no-postgres, on a local stack",
    )
    made.add_argument(
        "--journey-target-url",
        default=None,
        help="run the journey mix against this target instead of a managed default one",
    )
    record = made.add_mutually_exclusive_group()
    record.add_argument("--results", type=Path, default=RESULTS, help="results file to write")
    record.add_argument("--no-record", action="store_true", help="print only; write no file")
    return made


def main(argv: list[str] | None = None) -> int:
    """Measure, print, record."""
    given = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(given)
    if args.no_postgres:
        args.postgres = None
    if shutil.which("wrk") is None:
        print("perf.bench needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    contents = document(measure(args), vars(args), given)
    print(render(contents["rows"], args.workers))
    if not args.no_record:
        path = write(args.results, contents)
        print(f"\nrecorded in {path}; `python -m perf.bench.readme` renders the README table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
