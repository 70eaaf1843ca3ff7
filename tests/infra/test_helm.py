"""The Helm chart renders to hardened, probed, chaos-selectable manifests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.helm import render
from infra.helm.gotemplate import Renderer, TemplateError
from infra.iac import run_checkov

pytestmark = pytest.mark.req("REQ-IAC-001")

Doc = dict[str, Any]


def _docs(variant: str = "default") -> list[Doc]:
    text = (render.RENDERED / f"{variant}.yaml").read_text()
    return [d for d in yaml.safe_load_all(text) if d]


def _find(docs: list[Doc], kind: str, name: str) -> Doc:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def _pod_specs(docs: list[Doc]) -> list[tuple[str, Doc, Doc]]:
    return [
        (d["metadata"]["name"], d["spec"]["template"]["metadata"], d["spec"]["template"]["spec"])
        for d in docs
        if d["kind"] in {"Deployment", "Job"}
    ]


def test_committed_renders_match_the_chart() -> None:
    assert render.main(["--check"]) == 0, "run: python -m infra.helm.render"


@pytest.mark.parametrize("variant", sorted(render.VARIANTS))
def test_every_workload_is_hardened(variant: str) -> None:
    for name, _, spec in _pod_specs(_docs(variant)):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True, name
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["privileged"] is False, name
            assert ctx["capabilities"]["drop"] == ["ALL"], name
            assert container["resources"]["limits"], name
            assert container["resources"]["requests"], name


def test_service_probes_use_the_health_endpoints() -> None:
    deployment = _find(_docs(), "Deployment", "assay-reference-service")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"


def test_connection_strings_come_from_the_secret() -> None:
    deployment = _find(_docs(), "Deployment", "assay-reference-service")
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    for name in ("DATABASE_URL", "REDIS_URL", "NATS_URL", "JWT_SECRET", "ADMIN_PASSWORD"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "assay-service", name
        assert "value" not in env[name]


def test_pods_carry_the_labels_chaos_experiments_select() -> None:
    labels = {name: meta["labels"] for name, meta, _ in _pod_specs(_docs())}
    assert labels["assay-reference-service"]["app.kubernetes.io/name"] == "reference-service"
    for instance in ("primary", "fallback"):
        gateway = labels[f"assay-gateway-{instance}"]
        assert gateway["app.kubernetes.io/name"] == "payment-gateway"
        assert gateway["app.kubernetes.io/instance"] == instance
    assert all(lab["app.kubernetes.io/part-of"] == "assay" for lab in labels.values())
    assert {d["metadata"].get("namespace") for d in _docs()} == {"assay"}


def test_scaling_disruption_network_and_monitoring_objects_exist() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in _docs()}
    assert ("HorizontalPodAutoscaler", "assay-reference-service") in kinds
    assert ("PodDisruptionBudget", "assay-reference-service") in kinds
    assert ("NetworkPolicy", "assay-default-deny") in kinds
    assert ("ServiceMonitor", "assay-reference-service") in kinds
    rule = _find(_docs(), "PrometheusRule", "assay-slo-alerts")
    assert {g["name"] for g in rule["spec"]["groups"]} >= {"assay-slo-alerts"}


def test_service_monitor_job_matches_the_alert_selector() -> None:
    monitor = _find(_docs(), "ServiceMonitor", "assay-reference-service")
    service = _find(_docs(), "Service", "assay-reference-service")
    assert service["metadata"]["labels"][monitor["spec"]["jobLabel"]] == "reference-service"


def _runbook_urls(text: str) -> dict[str, str]:
    rule = _find([d for d in yaml.safe_load_all(text) if d], "PrometheusRule", "assay-slo-alerts")
    groups = rule["spec"]["groups"]
    return {
        r["alert"]: r["annotations"]["runbook_url"]
        for g in groups
        for r in g["rules"]
        if "alert" in r
    }


def test_runbook_links_are_repository_paths_unless_a_base_url_makes_them_absolute() -> None:
    # The repository links to nothing outside itself; a deployment that wants links
    # Alertmanager can show sets prometheusRule.runbookBaseUrl to a web view of its commit.
    paths = _runbook_urls(render.render([]))
    assert paths
    assert all(url.startswith("docs/runbooks/") for url in paths.values())
    base = "https://git.example.test/acme/assay/blob/v1"
    for given in (base, base + "/"):
        rendered = render.render([], overrides={"prometheusRule": {"runbookBaseUrl": given}})
        assert _runbook_urls(rendered) == {a: f"{base}/{path}" for a, path in paths.items()}


def test_locust_runs_one_master_and_n_workers() -> None:
    docs = _docs("locust")
    master = _find(docs, "Deployment", "assay-locust-master")
    workers = _find(docs, "Deployment", "assay-locust-worker")
    assert master["spec"]["replicas"] == 1
    assert workers["spec"]["replicas"] == 4
    assert "--expect-workers=4" in master["spec"]["template"]["spec"]["containers"][0]["args"]
    assert not any(d["metadata"]["name"].startswith("assay-locust") for d in _docs())


def _render(source: str, values: dict[str, Any]) -> str:
    renderer = Renderer({"Values": values})
    return renderer.render(renderer.load(source))


def test_renderer_handles_else_if_chains_and_range_variables() -> None:
    source = (
        "{{- range $i, $g := .Values.items }}{{ $i }}={{ $g.n }}"
        '{{ if eq $g.n "a" }}A{{ else if eq $g.n "b" }}B{{ else }}C{{ end }};{{ end }}'
    )
    items = [{"n": "a"}, {"n": "b"}, {"n": "z"}]
    assert _render(source, {"items": items}) == "0=aA;1=bB;2=zC;"


def test_renderer_refuses_what_it_does_not_understand() -> None:
    with pytest.raises(TemplateError):
        _render("{{ .Values.x | sha256sum }}", {"x": "1"})
    with pytest.raises(TemplateError):
        _render("{{ .Values.missing }}", {})


def test_checkov_passes_the_rendered_manifests(require_tool: Callable[[str], str]) -> None:
    require_tool("checkov")
    result = run_checkov("kubernetes", render.RENDERED)
    assert result.ok, result.failures or result.error


def test_a_planted_privileged_container_is_caught(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    require_tool("checkov")
    docs = _docs()
    deployment = _find(docs, "Deployment", "assay-reference-service")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    (tmp_path / "planted.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    result = run_checkov("kubernetes", tmp_path)
    caught = {(f["check_id"], f["resource"]) for f in result.failures}
    assert ("CKV_K8S_16", "Deployment.assay.assay-reference-service") in caught
    assert not result.ok
