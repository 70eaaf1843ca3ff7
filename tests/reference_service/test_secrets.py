"""No well-known secret works when no one sets one: no constant JWT secret, no default admin."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest

from reference_service.__main__ import share_jwt_secret
from reference_service.settings import DEV_ADMIN_EMAIL, DEV_ADMIN_PASSWORD, Settings
from tests.reference_service.test_cli import _free_port, wait_ready

pytestmark = pytest.mark.req("REQ-SEC-001")

# The constant this service once signed with: a token forged with it must never verify.
OLD_DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789"
UNSET = ("APP_ENV", "JWT_SECRET", "ADMIN_EMAIL", "ADMIN_PASSWORD", "DATABASE_URL")


def _bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    return {**env, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bare.db", **extra}


def _run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reference_service", *args],
        env=_bare_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def _served(tmp_path: Path, *args: str, **extra: str) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reference_service", "serve", "--port", str(port), *args],
        env=_bare_env(tmp_path, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _forged_admin_token(secret: str) -> str:
    settings = Settings()
    claims = {
        "sub": "00000000-0000-0000-0000-000000000001",
        "role": "admin",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": int(time.time()) + 365 * 24 * 3600,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.mark.parametrize("app_env", [None, "test", "production"])
def test_seed_without_admin_password_refuses_outside_development(
    tmp_path: Path, app_env: str | None
) -> None:
    assert _run(tmp_path, "migrate").returncode == 0
    extra = {"APP_ENV": app_env} if app_env else {}
    if app_env == "production":
        extra["JWT_SECRET"] = "s" * 40
    result = _run(tmp_path, "seed", **extra)
    assert result.returncode != 0
    assert "ADMIN_PASSWORD" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_development_must_be_chosen_to_seed_its_password(tmp_path: Path) -> None:
    assert _run(tmp_path, "migrate").returncode == 0
    seeded = _run(tmp_path, "seed", APP_ENV="development")
    assert seeded.returncode == 0, seeded.stderr
    assert Settings(app_env="development").admin_password == DEV_ADMIN_PASSWORD
    assert Settings().admin_password == ""
    assert Settings(app_env="test").admin_password == ""


def test_no_secret_in_code_and_a_fresh_one_each_start() -> None:
    assert Settings().jwt_secret != Settings().jwt_secret
    assert len(Settings().jwt_secret) >= 32
    environ: dict[str, str] = {}
    share_jwt_secret(environ)
    generated = environ["JWT_SECRET"]
    share_jwt_secret(environ)  # a second call (or a forked worker) keeps the same one
    assert environ["JWT_SECRET"] == generated
    kept = {"JWT_SECRET": "set-by-the-operator-" + "x" * 20}
    share_jwt_secret(kept)
    assert kept["JWT_SECRET"] == "set-by-the-operator-" + "x" * 20


@pytest.mark.slow
def test_no_environment_accepts_no_well_known_secret_and_workers_share_one(
    tmp_path: Path,
) -> None:
    # Without APP_ENV, serve --prepare cannot seed the development admin: it refuses to start.
    refused = _run(tmp_path, "serve", "--prepare", "--port", str(_free_port()))
    assert refused.returncode != 0
    assert "ADMIN_PASSWORD" in refused.stderr
    assert "Traceback" not in refused.stderr
    chosen = "a-password-the-operator-chose"
    assert _run(tmp_path, "seed", ADMIN_PASSWORD=chosen).returncode == 0
    with _served(tmp_path, "--workers", "2") as url:
        dev_login = {"email": DEV_ADMIN_EMAIL, "password": DEV_ADMIN_PASSWORD}
        assert httpx.post(f"{url}/auth/token", json=dev_login).status_code == 401
        forged = {"Authorization": f"Bearer {_forged_admin_token(OLD_DEV_JWT_SECRET)}"}
        assert httpx.get(f"{url}/users/me", headers=forged).status_code == 401
        login = {"email": DEV_ADMIN_EMAIL, "password": chosen}
        token = httpx.post(f"{url}/auth/token", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        # A fresh connection each time, so both workers answer: each verifies the other's token.
        answers = [httpx.get(f"{url}/users/me", headers=headers).status_code for _ in range(20)]
        assert answers == [200] * 20
