"""Chaos Toolkit actions on the local provisioned stack and, through the admin API, any target.

Use from an experiment as `{"type": "python", "module": "chaos.actions", "func": ...}`.
Every action says its effect and its rollback. Process actions only ever signal processes
the stack started (see `infra.local.processes`); they refuse anything else.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from typing import Any

import psutil
from chaoslib.exceptions import ActivityFailed

from chaos.context import Configuration, boundary, http_client, resolve
from chaos.gateway_actions import clear_gateway_faults, set_gateway_faults
from infra.local.processes import STACK_ID_ENV, ForeignProcessError, carries_stack_id, signal_ours

__all__ = [
    "clear_flags",
    "clear_gateway_faults",
    "create_hot_product",
    "kill_gateway",
    "kill_service",
    "kill_worker",
    "restart_gateway",
    "restart_service",
    "set_flag",
    "set_gateway_faults",
    "start_postgres",
    "start_redis",
    "stop_cpu_stress",
    "stop_postgres",
    "stop_redis",
    "stress_cpu",
]

GATEWAYS = ("primary", "fallback")
STRESS_FILE = "cpu-stress.json"
HOT_PRODUCT_FILE = "hot-product.json"


def _gateway(name: str) -> str:
    if name not in GATEWAYS:
        raise ActivityFailed(f"no gateway {name!r}; one of {', '.join(GATEWAYS)} (empty refused)")
    return f"gateway-{name}"


@boundary
def kill_worker(count: int = 1, configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL `count` gunicorn workers of the service.

    Effect: in-flight requests on those workers are cut. Rollback: none needed, the gunicorn
    master forks replacements (`restart_service` if the master itself is gone).
    """
    if count < 1:
        raise ActivityFailed("kill_worker refuses an empty selection (count < 1)")
    context = resolve(configuration)
    stack = context.require_stack("kill_worker")
    master = stack.components["service"].process
    if master is None or not stack.owns("service"):
        raise ActivityFailed("the service's gunicorn master is not running")
    workers = [
        p for p in psutil.Process(master.pid).children() if carries_stack_id(p, stack.stack_id)
    ]
    if len(workers) < count:
        raise ActivityFailed(f"{len(workers)} workers run; refusing to kill {count}")
    chosen = random.sample(workers, count)
    for proc in chosen:
        proc.send_signal(signal.SIGKILL)
    pids = [p.pid for p in chosen]
    context.record_event("worker_killed", pids=pids)
    return {"killed": pids, "workers_before": len(workers)}


@boundary
def kill_service(configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL the gunicorn master and all its workers.

    Effect: the service is gone, connections are refused. Rollback: `restart_service`.
    """
    context = resolve(configuration)
    stack = context.require_stack("kill_service")
    master = stack.components["service"].process
    if master is None:
        raise ActivityFailed("the service is not running")
    try:
        workers = psutil.Process(master.pid).children()
        signal_ours(master, stack.stack_id, signal.SIGKILL)
    except (ForeignProcessError, psutil.NoSuchProcess) as exc:
        raise ActivityFailed(str(exc)) from exc
    for proc in workers:
        if carries_stack_id(proc, stack.stack_id):
            proc.kill()
    stack.stop("service")  # records it as stopped (nothing left to signal)
    context.record_event("service_killed", pid=master.pid)
    return {"killed": [master.pid, *[p.pid for p in workers]]}


@boundary
def restart_service(configuration: Configuration = None) -> dict[str, Any]:
    """Start the service again if it is not running, and wait until it is ready.

    Effect: a fresh gunicorn master with its workers on the same port. Rollback: itself.
    """
    context = resolve(configuration)
    stack = context.require_stack("restart_service")
    was_up = stack.owns("service")
    stack.start("service")
    context.record_event("service_started", restarted=not was_up)
    return {"restarted": not was_up, "pid": stack.components["service"].process.pid}  # type: ignore[union-attr]


@boundary
def stop_postgres(mode: str = "fast", configuration: Configuration = None) -> dict[str, Any]:
    """Stop the stack's PostgreSQL with pg_ctl in `mode` ("fast" or "immediate").

    Effect: every connection is cut; immediate skips the shutdown checkpoint (a crash).
    Rollback: `start_postgres`.
    """
    if mode not in {"fast", "immediate"}:
        raise ActivityFailed(f"mode must be fast or immediate, not {mode!r}")
    context = resolve(configuration)
    stack = context.require_stack("stop_postgres")
    if not stack.owns("postgres"):
        raise ActivityFailed("the stack's PostgreSQL is not running")
    stack.stop("postgres", mode=mode)
    context.record_event("postgres_stopped", mode=mode)
    return {"stopped": True, "mode": mode}


@boundary
def start_postgres(configuration: Configuration = None) -> dict[str, Any]:
    """Start the stack's PostgreSQL if it is stopped (pg_ctl start -w).

    Effect: the database accepts connections again. Rollback: itself (idempotent).
    """
    context = resolve(configuration)
    stack = context.require_stack("start_postgres")
    was_up = stack.owns("postgres")
    stack.start("postgres")
    context.record_event("postgres_started", restarted=not was_up)
    return {"started": not was_up}


@boundary
def stop_redis(configuration: Configuration = None) -> dict[str, Any]:
    """Stop the stack's redis-server (SIGTERM, no persistence: the cache is lost).

    Effect: cache and rate-limit storage are gone. Rollback: `start_redis`.
    """
    context = resolve(configuration)
    stack = context.require_stack("stop_redis")
    if not stack.owns("redis"):
        raise ActivityFailed("the stack's redis-server is not running")
    stack.stop("redis")
    context.record_event("redis_stopped")
    return {"stopped": True}


@boundary
def start_redis(configuration: Configuration = None) -> dict[str, Any]:
    """Start the stack's redis-server on its port if it is stopped.

    Effect: an empty cache is available again. Rollback: itself (idempotent).
    """
    context = resolve(configuration)
    stack = context.require_stack("start_redis")
    was_up = stack.owns("redis")
    stack.start("redis")
    context.record_event("redis_started", restarted=not was_up)
    return {"started": not was_up}


@boundary
def kill_gateway(name: str, configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL one payment gateway simulator ("primary" or "fallback"; empty refused).

    Effect: its port refuses connections; its ledger (kept in the stack's file) survives,
    its fault knobs do not. Rollback: `restart_gateway`.
    """
    component = _gateway(name)
    context = resolve(configuration)
    stack = context.require_stack("kill_gateway")
    record = stack.components[component].process
    if record is None:
        raise ActivityFailed(f"gateway {name} is not running")
    try:
        signal_ours(record, stack.stack_id, signal.SIGKILL)
    except ForeignProcessError as exc:
        raise ActivityFailed(str(exc)) from exc
    stack.stop(component)
    context.record_event("gateway_killed", gateway=name, pid=record.pid)
    return {"killed": record.pid, "gateway": name}


@boundary
def restart_gateway(name: str, configuration: Configuration = None) -> dict[str, Any]:
    """Start a gateway simulator again on its port if it is not running.

    Effect: the gateway answers again, with its ledger read back and no faults.
    Rollback: itself (idempotent).
    """
    component = _gateway(name)
    context = resolve(configuration)
    stack = context.require_stack("restart_gateway")
    was_up = stack.owns(component)
    stack.start(component)
    context.record_event("gateway_started", gateway=name, restarted=not was_up)
    return {"restarted": not was_up, "gateway": name}


@boundary
def set_flag(name: str, value: bool | int | float, configuration: Configuration = None) -> Any:
    """Set a feature flag through the admin API (audited), e.g. payment_latency_ms=1500.

    Effect: every worker sees the value within its flag refresh (1 s). Rollback: `clear_flags`.
    """
    if not name:
        raise ActivityFailed("set_flag refuses an empty flag name")
    context = resolve(configuration)
    with http_client() as client:
        headers = context.admin_headers(client)
        url = f"{context.base_url}/admin/flags/{name}"
        response = client.put(url, json={"value": value}, headers=headers)
    if response.status_code != 200:
        raise ActivityFailed(f"PUT /admin/flags/{name} answered {response.status_code}")
    context.record_event("flag_set", flag=name, value=value)
    return response.json()


@boundary
def clear_flags(names: list[str] | None = None, configuration: Configuration = None) -> list[str]:
    """Put flags back to their defaults (all that differ when `names` is None).

    Effect: fault injection through flags stops. Rollback: none (this is the rollback).
    """
    context = resolve(configuration)
    cleared = []
    with http_client() as client:
        headers = context.admin_headers(client)
        flags = client.get(f"{context.base_url}/admin/flags", headers=headers).json()
        for flag in flags:
            if (names is None or flag["name"] in names) and flag["value"] != flag["default"]:
                url = f"{context.base_url}/admin/flags/{flag['name']}"
                response = client.put(url, json={"value": flag["default"]}, headers=headers)
                if response.status_code != 200:
                    raise ActivityFailed(
                        f"resetting {flag['name']} answered {response.status_code}"
                    )
                cleared.append(flag["name"])
    context.record_event("flags_cleared", flags=cleared)
    return cleared


@boundary
def stress_cpu(
    duration_s: float = 10.0, workers: int = 1, configuration: Configuration = None
) -> dict[str, Any]:
    """Burn `workers` CPUs for `duration_s` seconds (at most 60) in child processes.

    Effect: the service competes for CPU. Rollback: `stop_cpu_stress` (they also end alone).
    """
    if not 0 < duration_s <= 60 or not 1 <= workers <= 4:
        raise ActivityFailed("stress_cpu takes 0-60 s and 1-4 workers")
    context = resolve(configuration)
    env = {**os.environ}
    if context.stack is not None:
        env[STACK_ID_ENV] = context.stack.stack_id  # teardown's safety net finds them
    code = f"import time\nend = time.monotonic() + {duration_s}\nwhile time.monotonic() < end: pass"
    pids = [
        subprocess.Popen(  # noqa: S603 - our interpreter running a fixed busy loop
            [sys.executable, "-c", code], env=env, start_new_session=True
        ).pid
        for _ in range(workers)
    ]
    (context.state_dir / STRESS_FILE).write_text(json.dumps(pids), encoding="utf-8")
    context.record_event("cpu_stress", pids=pids, duration_s=duration_s)
    return {"pids": pids, "duration_s": duration_s}


@boundary
def stop_cpu_stress(configuration: Configuration = None) -> list[int]:
    """End the CPU burners `stress_cpu` started (only those; their command line is checked).

    Effect: CPU pressure ends. Rollback: none (this is the rollback).
    """
    context = resolve(configuration)
    path = context.state_dir / STRESS_FILE
    if not path.exists():
        return []
    stopped = []
    for pid in json.loads(path.read_text(encoding="utf-8")):
        try:
            proc = psutil.Process(pid)
            if proc.cmdline()[:2] == [sys.executable, "-c"]:
                proc.kill()
                stopped.append(pid)
        except psutil.NoSuchProcess:
            continue
    path.unlink()
    return stopped


@boundary
def create_hot_product(stock: int = 20, configuration: Configuration = None) -> dict[str, Any]:
    """Create a product with `stock` units through the admin API and remember it as "hot".

    Effect: a new product the rush probes target. Rollback: none needed (it stays, sold out).
    """
    if stock < 1:
        raise ActivityFailed("create_hot_product needs stock >= 1")
    context = resolve(configuration)
    sku = f"CHAOS-HOT-{random.randrange(16**8):08X}"  # noqa: S311 - a label
    body = {
        "sku": sku,
        "name": f"Hot item {sku}",
        "category": "toys",
        "price": {"amount": 1999, "currency": "USD"},
        "stock": stock,
    }
    with http_client() as client:
        headers = context.admin_headers(client)
        response = client.post(f"{context.base_url}/admin/products", json=body, headers=headers)
    if response.status_code != 201:
        raise ActivityFailed(f"POST /admin/products answered {response.status_code}")
    product_id = int(response.json()["id"])
    hot = {"product_id": product_id, "stock": stock, "sku": sku}
    (context.state_dir / HOT_PRODUCT_FILE).write_text(json.dumps(hot), encoding="utf-8")
    if context.stack is not None:  # the conservation baseline gains the new product
        path = context.stack.root / "baseline-stock.json"
        baseline = json.loads(path.read_text(encoding="utf-8"))
        baseline[str(product_id)] = stock
        path.write_text(json.dumps(baseline), encoding="utf-8")
    context.record_event("hot_product_created", **hot)
    return hot
