"""The perf suite's adapter: Locust (one process, or a master and N workers) against the Target.

Test data is made through the API first; Locust then runs the configured shape, its SLO gate
writes `summary.json` and sets the exit code; this adapter adds the CSVs, the HTML report and
a latency/throughput chart to the run. `ASSAY_PERF_SHAPE` picks the shape, `ASSAY_PERF_WORKERS`
the number of worker processes (0: a single local process); `assay run perf --shape --workers`
set them. `ASSAY_PERF_DATA` names a data file made earlier (perf.data) instead of making one.
A target with gateway ledgers is reconciled after the load (`metrics.ledger`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from assay.ledger.summary import record_ledger
from assay.run import Run
from assay.suites import Suite, SuiteError
from assay.summary import Summary
from assay.target import Target, TargetKind, free_port
from perf.config import (
    OUT_ENV,
    PERF_DIR,
    SHAPE_ENV,
    SUMMARY,
    WORKERS_ENV,
    PerfConfigError,
    load_config,
    shape_name,
)
from perf.data import DATA_ENV, DataError, TestData, for_shape
from perf.regression import with_regression

NAME = "perf"
LOCUSTFILE = PERF_DIR / "locustfile.py"
PREFIX = "locust"
# Locust's CSV names -> the run layout's names.
RENAMES = {
    f"{PREFIX}_stats.csv": "stats.csv",
    f"{PREFIX}_stats_history.csv": "stats_history.csv",
    f"{PREFIX}_failures.csv": "failures.csv",
    f"{PREFIX}_exceptions.csv": "exceptions.csv",
}
REPORT, CHART, LOG = "report.html", "chart.png", "locust.log"
STOP_TIMEOUT_S = 10  # users finish the journey in flight, so every request sent is counted
GRACE_S = 90.0  # start-up, worker connection, graceful stop and report writing
# A managed target is started with these: one loopback address sends the whole load.
MANAGED_TARGET_ENV = {
    "RATE_LIMIT_PER_CLIENT": "10000000/minute",
    "RATE_LIMIT_ORDERS_PER_USER": "10000000/minute",
}


def workers(environ: Mapping[str, str] | None = None) -> int:
    """Locust worker processes to start (0 = one local process)."""
    env = os.environ if environ is None else environ
    try:
        count = int(env.get(WORKERS_ENV) or 0)
    except ValueError as exc:
        raise SuiteError(f"{WORKERS_ENV} must be a whole number") from exc
    if not 0 <= count <= 64:
        raise SuiteError(f"{WORKERS_ENV} must be between 0 and 64")
    return count


def locust_command(out: Path, host: str, worker_count: int, master_port: int) -> list[str]:
    """The master (or single-process) invocation."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--csv",
        str(out / PREFIX),
        "--csv-full-history",
        "--html",
        str(out / REPORT),
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--only-summary",
    ]
    if worker_count:
        command += [
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(master_port),
            "--expect-workers",
            str(worker_count),
            "--expect-workers-max-wait",
            "60",
        ]
    return command


def worker_command(host: str, master_port: int) -> list[str]:
    """One worker process's invocation."""
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--worker",
        "--host",
        host,
        "--master-host",
        "127.0.0.1",
        "--master-port",
        str(master_port),
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
    ]


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _tail(path: Path, lines: int = 20) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def run_locust(
    out: Path, host: str, env: dict[str, str], worker_count: int, budget_s: float
) -> int:
    """Run Locust to completion (bounded by `budget_s`); its exit code."""
    port = free_port() if worker_count else 0
    logs: list[IO[str]] = []
    helpers: list[subprocess.Popen[str]] = []
    try:
        master_log = (out / LOG).open("w", encoding="utf-8")
        logs.append(master_log)
        master = subprocess.Popen(  # noqa: S603 - our interpreter running Locust on our locustfile
            locust_command(out, host, worker_count, port),
            env=env,
            stdout=master_log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        helpers.append(master)
        for number in range(worker_count):
            log = (out / f"locust-worker-{number + 1}.log").open("w", encoding="utf-8")
            logs.append(log)
            worker = subprocess.Popen(  # noqa: S603 - as above, one worker
                worker_command(host, port), env=env, stdout=log, stderr=subprocess.STDOUT, text=True
            )
            helpers.append(worker)
        try:
            return master.wait(timeout=budget_s)
        except subprocess.TimeoutExpired as exc:
            reason = f"Locust did not finish within {budget_s:.0f} s; see perf/{LOG}"
            raise SuiteError(reason) from exc
    finally:
        for process in helpers:
            _stop(process)
        for opened in logs:
            opened.close()


def collect(out: Path, run_dir: Path, summary: Summary, shape: str) -> Summary:
    """Rename Locust's files to the run layout, draw the chart, list the artifacts."""
    from perf.chart import render  # matplotlib: loaded only when a run has finished

    for source, target in RENAMES.items():
        if (out / source).exists():
            (out / source).replace(out / target)
    if (out / "stats_history.csv").exists():
        render(out / "stats_history.csv", out / CHART, f"perf: {shape} against the target")
    rel = out.relative_to(run_dir).as_posix()
    names = [*RENAMES.values(), REPORT, CHART, LOG]
    names += sorted(p.name for p in out.glob("locust-worker-*.log"))
    artifacts = [f"{rel}/{name}" for name in names if (out / name).exists()]
    return summary.model_copy(update={"artifacts": artifacts})


def run_perf(run: Run, target: Target) -> Summary:
    """Locust journeys against the target, judged by the catalog's SLOs (p95, errors, checkout)."""
    try:
        config = load_config()
        shape = shape_name()
        budget = config.shape(shape).duration_s + GRACE_S
    except PerfConfigError as exc:
        raise SuiteError(str(exc)) from exc
    count = workers()
    out = run.suite_dir(NAME)
    for stale in (SUMMARY, REPORT, CHART, LOG, *RENAMES, *RENAMES.values()):
        (out / stale).unlink(missing_ok=True)
    started = time.monotonic()
    admin = target.admin
    with tempfile.TemporaryDirectory(prefix="assay-perf-") as tmp:
        given = os.environ.get(DATA_ENV)
        try:
            data = (
                TestData.load(Path(given))
                if given
                else for_shape(
                    target.base_url,
                    config,
                    shape,
                    admin.email if admin else None,
                    admin.password if admin else None,
                )
            )
        except DataError as exc:
            raise SuiteError(f"test data could not be made through the API: {exc}") from exc
        env = {
            **os.environ,
            **target.env(),
            SHAPE_ENV: shape,
            WORKERS_ENV: str(count),
            DATA_ENV: given or str(data.dump(Path(tmp) / "data.json")),  # tokens: not in the run
            OUT_ENV: str(out),
            "PYTHONUNBUFFERED": "1",
        }
        code = run_locust(out, target.base_url, env, count, budget)
    if not (out / SUMMARY).exists():
        raise SuiteError(f"Locust exited {code} without a gate verdict:\n{_tail(out / LOG)}")
    summary = collect(out, run.directory, Summary.read(out / SUMMARY), shape)
    notes = list(summary.notes) + data.notes
    notes.append(f"shape {shape}, {count or 'no'} Locust workers, Locust exit code {code}")
    if target.kind is TargetKind.REMOTE:
        notes.append("remote target: its per-client rate limit must admit this load generator")
    metrics = {**summary.metrics, "workers": count, "exit_code": code}
    summary = summary.model_copy(update={"notes": notes, "metrics": metrics})
    summary = with_regression(
        summary,
        run.directory.parent,
        run_id=run.run_id,
        target=target.describe(),
        shape=shape,
    )
    # The load moved real money through the gateways: reconcile it once the users stopped.
    summary = record_ledger(summary, target)
    return summary.model_copy(update={"duration_s": round(time.monotonic() - started, 2)})


SUITE = Suite(
    name=NAME,
    run=run_perf,
    description=run_perf.__doc__ or "",
    order=30,
    managed_env=MANAGED_TARGET_ENV,
    judges_latency=True,
)
