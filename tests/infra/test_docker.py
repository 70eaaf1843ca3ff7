"""Images are multi-stage, non-root and health-checked; the compose stack is hardened."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from infra.iac import ROOT, run_checkov

pytestmark = pytest.mark.req("REQ-IAC-001")

DOCKER = ROOT / "infra" / "docker"
DOCKERFILES = sorted(p for p in DOCKER.glob("Dockerfile.*") if p.suffix != ".dockerignore")
APP_SERVICES = ("service", "migrate", "gateway-primary", "gateway-fallback", "locust-master")


def _compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]


def test_there_is_a_dockerfile_per_image() -> None:
    assert {p.name for p in DOCKERFILES} == {
        "Dockerfile.service",
        "Dockerfile.gateway",
        "Dockerfile.locust",
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_images_are_multi_stage_non_root_and_health_checked(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(stages) >= 2
    assert stages[-1].startswith("gcr.io/distroless/")
    assert stages[-1].endswith(":nonroot")
    final = text.split("\nFROM ")[-1]
    assert re.search(r"^USER 65532:65532$", final, re.M)
    assert "HEALTHCHECK" in final
    assert ":latest" not in text


def test_compose_runs_the_whole_local_stack() -> None:
    services = _compose()
    assert {
        "postgres",
        "redis",
        "nats",
        "service",
        "gateway-primary",
        "gateway-fallback",
        "prometheus",
    } <= set(services)
    assert (
        services["service"]["depends_on"]["migrate"]["condition"]
        == "service_completed_successfully"
    )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_containers_are_hardened(name: str) -> None:
    svc = _compose()[name]
    assert svc["read_only"] is True
    assert svc["user"] == "65532:65532"
    assert svc["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in svc["security_opt"]
    assert not svc.get("privileged", False)


def test_compose_secrets_come_from_the_environment_and_ports_stay_local() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    for var in ("POSTGRES_PASSWORD", "JWT_SECRET", "ADMIN_PASSWORD"):
        assert f"${{{var}:?" in text, var
    for svc in _compose().values():
        assert all(port.startswith("127.0.0.1:") for port in svc.get("ports", []))


def test_checkov_passes_the_dockerfiles(require_tool: Callable[[str], str]) -> None:
    require_tool("checkov")
    result = run_checkov("dockerfile", DOCKER)
    assert result.ok, result.failures or result.error


def test_a_planted_root_image_is_caught(tmp_path: Path, require_tool: Callable[[str], str]) -> None:
    require_tool("checkov")
    text = (DOCKER / "Dockerfile.service").read_text()
    (tmp_path / "Dockerfile").write_text(text.replace("USER 65532:65532", "USER root"))
    result = run_checkov("dockerfile", tmp_path)
    assert "CKV_DOCKER_8" in {f["check_id"] for f in result.failures}
