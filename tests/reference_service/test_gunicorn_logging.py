"""Regression (chaos experiment 02): gunicorn workers log JSON lines, not rich tracebacks.

Under `serve --workers N` nothing configured structlog in the workers, so every unhandled
error was rendered by structlog's dev console renderer (syntax-highlighted tracebacks with
locals), which held the event loop for seconds. During a PostgreSQL outage every request
failed that way and gunicorn killed the frozen workers (WORKER TIMEOUT): readiness stopped
answering at all instead of saying 503.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from reference_service import __main__ as cli
from reference_service import gunicorn_conf
from reference_service.settings import Settings


@pytest.fixture
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_serve_with_workers_passes_the_gunicorn_config(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(cli.os, "execve", lambda _exe, argv, _env: seen.append(list(argv)))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/unused-metrics")
    cli.serve(Settings(), "127.0.0.1", 0, workers=2)
    argv = seen[0]
    assert argv[argv.index("--config") + 1] == "python:reference_service.gunicorn_conf"
    # The workers serve through the protocol that bounds request heads.
    assert argv[argv.index("--worker-class") + 1] == "reference_service.server.LimitedUvicornWorker"


@pytest.mark.usefixtures("_reset_structlog")
def test_worker_hook_logs_errors_as_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    gunicorn_conf.post_worker_init(worker=None)
    try:
        raise ConnectionRefusedError("database down")
    except ConnectionRefusedError as exc:
        structlog.get_logger("reference_service").error("unhandled_error", exc_info=exc)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["event"] == "unhandled_error"
    assert "ConnectionRefusedError" in entry["exception"]


@pytest.mark.usefixtures("_reset_structlog")
def test_http_client_chatter_stays_out_of_the_json_log(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh worker's logging: no handlers yet (pytest's own are set aside for this test).
    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setattr(logging.root, "level", logging.WARNING)
    monkeypatch.setattr(logging.getLogger("httpx"), "level", logging.NOTSET)
    gunicorn_conf.post_worker_init(worker=None)
    logging.getLogger("httpx").info('HTTP Request: POST http://primary/charges "HTTP/1.1 201"')
    logging.getLogger("httpx").warning("gateway connection reset")
    structlog.get_logger("reference_service").info("after")
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert "HTTP Request" not in "\n".join(lines)
    assert any("gateway connection reset" in line for line in lines)  # warnings still show
