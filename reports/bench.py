"""Benchmark: pack + every report for a run of 100k perf requests (`python -m reports.bench`)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assay.catalog import load_catalog
from assay.summary import Check, Counts, SloResult, Summary, Verdict

SUITES = {
    "acceptance": "junit.xml",
    "contract": "junit.xml",
    "chaos": "journal.json",
    "security": "bandit.json",
}
ENDPOINTS = [
    "GET /products",
    "GET /products/{id}",
    "POST /cart/items",
    "POST /orders",
    "GET /orders/{id}",
]


def _perf(root: Path, start: datetime, requests: int, rng: random.Random) -> Summary:
    # Locust writes one history row per endpoint per second; 100k requests at 300 RPS over
    # ~5.5 min is ~1.7k rows, so rows are kept per request here to stress the pipeline.
    folder = root / "perf"
    folder.mkdir(parents=True)
    rows = ["Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,99%,Total Request Count"]
    base = int(start.timestamp())
    for n in range(requests):
        name = ENDPOINTS[n % len(ENDPOINTS)]
        p50 = rng.uniform(15, 40)
        kind, path = name.split(" ", 1)
        latencies = f"{p50:.0f},{p50 * 4:.0f},{p50 * 7:.0f}"
        rows.append(f"{base + n // 300},300,{kind},{path},300.0,0.0,{latencies},{n + 1}")
    (folder / "stats_history.csv").write_text("\n".join(rows) + "\n")
    (folder / "stats.csv").write_text(
        f"Type,Name,Request Count,Failure Count\n,Aggregated,{requests},{requests // 500}\n"
    )
    p95, errors = round(rng.uniform(120, 200), 1), round(100 * (requests // 500) / requests, 2)
    evidence = ["perf/stats.csv", "perf/stats_history.csv"]
    return Summary(
        suite="perf",
        verdict=Verdict.PASS,
        started_at=start,
        finished_at=start + timedelta(minutes=6),
        duration_s=360,
        counts=Counts(passed=2),
        slos=[
            SloResult(
                id="SLO-LATENCY-P95", objective=300, unit="ms", observed=p95, verdict=Verdict.PASS
            ),
            SloResult(
                id="SLO-ERROR-RATE",
                objective=1.0,
                unit="percent",
                observed=errors,
                verdict=Verdict.PASS,
            ),
        ],
        checks=[
            Check(
                id="perf/steady::SLOs hold at 300 RPS",
                requirements=["REQ-PERF-001"],
                verdict=Verdict.PASS,
                evidence=evidence,
            ),
            Check(
                id="perf/spike::SLOs hold at 600 RPS",
                requirements=["REQ-PERF-002"],
                verdict=Verdict.PASS,
                evidence=evidence,
            ),
        ],
        artifacts=evidence,
        metrics={"requests": requests, "failures": requests // 500, "p95_ms": p95},
    )


def make_run(runs_dir: Path, index: int, requests: int, seed: int = 7) -> Path:
    """Write one synthetic but schema-valid run with `requests` perf requests' worth of stats."""
    rng = random.Random(seed + index)  # noqa: S311 - benchmark data, not security
    start = datetime(2026, 11, 1, 6, tzinfo=UTC) + timedelta(days=7 * index)
    run_id = f"{start:%Y%m%dT%H%M%SZ}-{index:06x}"
    root = runs_dir / run_id
    requirements = list(load_catalog().requirements)
    _perf(root, start, requests, rng).write(root / "perf")
    verdicts = {"perf": "pass"}
    for offset, (suite, raw) in enumerate(SUITES.items()):
        (root / suite).mkdir(parents=True)
        (root / suite / raw).write_text(json.dumps({"suite": suite, "index": index}) + "\n")
        checks = [
            Check(
                id=f"{suite}/{req}",
                requirements=[req],
                verdict=Verdict.PASS,
                evidence=[f"{suite}/{raw}"],
            )
            for req in requirements[offset::3]
        ]
        Summary(
            suite=suite,
            verdict=Verdict.PASS,
            started_at=start,
            finished_at=start + timedelta(minutes=1),
            duration_s=60,
            counts=Counts(passed=len(checks)),
            checks=checks,
            metrics={"resilience_score": 100.0} if suite == "chaos" else {},
        ).write(root / suite)
        verdicts[suite] = "pass"
    record = {
        "run_id": run_id,
        "started_at": start.isoformat(),
        "finished_at": (start + timedelta(minutes=10)).isoformat(),
        "git_commit": f"{index:040x}",
        "target": {"url": "http://127.0.0.1:8000", "kind": "local", "version": f"1.{index}.0"},
        "environment": {"python": sys.version.split()[0]},
        "suites": verdicts,
    }
    (root / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    return root


def main(argv: list[str] | None = None) -> int:
    """Generate the runs, then time pack + reports for the newest one and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m reports.bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=4, help="runs in the runs directory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp)
        for i in range(args.history):
            run_path = make_run(runs_dir, i, args.requests if i == args.history - 1 else 1000)
        size = (run_path / "perf" / "stats_history.csv").stat().st_size
        print(
            f"run {run_path.name}: {args.requests} requests, "
            f"stats_history.csv {size / 1e6:.1f} MB, "
            f"{args.history} runs of history"
        )
        t0 = time.perf_counter()
        from assay.record import load_run
        from assay.signing import Origin, Signer
        from evidence.pack import build_pack
        from reports.build import write_reports

        t1 = time.perf_counter()
        run = load_run(run_path)
        pack = build_pack(run, Signer(Ed25519PrivateKey.generate(), Origin.DEVELOPMENT, "bench"))
        t2 = time.perf_counter()
        written, counts = write_reports(run)
        t3 = time.perf_counter()
    print(f"imports            {t1 - t0:6.2f} s")
    print(f"evidence pack      {t2 - t1:6.2f} s  ({pack.items} items, {pack.archive.name})")
    print(
        f"reports            {t3 - t2:6.2f} s  "
        f"({len(written)} files, {counts['rows']} traceability rows)"
    )
    print(f"TOTAL pack+reports {t3 - t1:6.2f} s  (with imports {t3 - t0:.2f} s; budget 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
