"""Judges a command a runbook names: does the project have it, and is it safe in an incident?

The rules are stated in tests/docs/test_runbooks.py.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import typer
import yaml

from reference_service.errors import DomainError
from reference_service.flags import FlagDefinition, load_definitions
from reference_service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TARGET_ENV = "ASSAY_TARGET_URL"

PROGRAMS = {"assay", "python3", "python", "tox", "curl", "kubectl", "helm", "redis-cli", "jq"}
PROGRAMS |= {"grep", "sort", "head", "tail", "env"}
# Load and fault tools: a runbook never starts one against a live service.
LOAD_OR_FAULT = {"locust", "chaos", "st", "schemathesis"}
WRITES_ALLOWED = {("POST", "/auth/token")}  # a login changes nothing
KUBE_KINDS = {"deploy": "Deployment", "deployment": "Deployment", "hpa": "HorizontalPodAutoscaler"}
HELM_VERBS = {"history", "status", "rollback", "get"}
REDIS_READS = {"ping", "info"}
CURL_VALUED = {"-X", "--request", "-H", "--header", "-d", "--data", "--data-raw", "--json", "-o"}
CURL_VALUED |= {"-w", "--max-time", "-m", "--connect-timeout"}


@dataclass
class Verdict:
    """What checking one command found."""

    problems: list[str] = field(default_factory=list)
    runs_suite: bool = False


def judge(line: str, prohibition: bool = False) -> Verdict:
    """Check one command line (a pipeline, or an `X=$(...)` assignment)."""
    assigned = re.match(r"^[A-Za-z_]\w*=\$\((.*)\)$", line, re.S)
    source = assigned.group(1) if assigned else line
    lexer = shlex.shlex(source, posix=True, punctuation_chars="|&;")
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as exc:
        return Verdict([f"`{line}`: cannot be parsed as a shell command ({exc})"])
    stages: list[list[str]] = [[]]
    for token in tokens:
        if set(token) <= set("|&;"):
            stages.append([])
        else:
            stages[-1].append(token)
    verdict = Verdict()
    for stage in (s for s in stages if s):
        part = _check_stage(stage, prohibition)
        verdict.problems += [f"`{line}`: {p}" for p in part.problems]
        verdict.runs_suite |= part.runs_suite
    return verdict


def check_command(line: str, prohibition: bool = False) -> list[str]:
    """What is wrong with one command line; empty when it exists and is safe."""
    return judge(line, prohibition).problems


def _check_stage(words: list[str], prohibition: bool) -> Verdict:
    unset_target = aims_at_target = False
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
        aims_at_target |= words[0].startswith(f"{TARGET_ENV}=")
        words = words[1:]
    if words[:1] == ["env"]:
        words = words[1:]
        while words[:1] == ["-u"] and len(words) > 1:
            unset_target |= words[1] == TARGET_ENV
            words = words[2:]
        while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
            aims_at_target |= words[0].startswith(f"{TARGET_ENV}=")
            words = words[1:]
    if not words:
        return Verdict(["no command"])
    if words[0] in {"python3", "python"} and words[1:2] == ["dev.py"]:
        words = _dev_py(words[2:])
        if not words:
            return Verdict(["`dev.py` runs a command from .venv/bin, and this one is not there"])
    program = words[0]
    if program in LOAD_OR_FAULT:
        problem = f"{program} is a load or fault tool; no runbook starts one during an incident"
        return Verdict([] if prohibition else [problem], runs_suite=True)
    if program not in PROGRAMS:
        known = ", ".join(sorted(PROGRAMS))
        return Verdict([f"{program} is not a program the runbooks may use ({known})"])
    checker = CHECKERS.get(program)
    verdict = checker(words) if checker else Verdict()
    aims_at_target |= any(w.split("=")[0] == "--target-url" for w in words)
    if verdict.runs_suite and not prohibition and (aims_at_target or not unset_target):
        verdict.problems.append(
            f"runs a suite that can reach the incident's target; only "
            f"`env -u {TARGET_ENV} ...` without --target-url runs it on a managed target"
        )
    return verdict


def _dev_py(words: list[str]) -> list[str]:
    from dev import COMMANDS

    if not words:
        return []
    if words[0] in COMMANDS:
        return COMMANDS[words[0]] + words[1:]
    return words if (Path(sys.executable).parent / words[0]).exists() else []


@cache
def assay_cli() -> Any:
    """The `assay` command tree, plug-ins included, as Typer's click sees it."""
    from assay.cli import COMMANDS_GROUP, app

    root: Any = typer.main.get_command(app)
    for point in entry_points(group=COMMANDS_GROUP):
        loaded = point.load()
        if not isinstance(loaded, typer.Typer):
            loaded = typer.Typer()
            loaded.command(point.name)(point.load())
        root.commands[point.name] = typer.main.get_command(loaded)
    return root


def _check_assay(words: list[str]) -> Verdict:
    from assay.suites import available

    command = assay_cli()
    path: list[str] = []
    args = words[1:]
    while getattr(command, "commands", None) and args and not args[0].startswith("-"):
        if args[0] not in command.commands:
            return Verdict([f"assay {' '.join([*path, ''])}has no command {args[0]!r}"])
        command = command.commands[args[0]]
        path.append(args.pop(0))
    options = {o: p for p in command.params for o in (*p.opts, *p.secondary_opts)}
    problems: list[str] = []
    positional: list[str] = []
    while args:
        arg = args.pop(0)
        if not arg.startswith("-"):
            positional.append(arg)
            continue
        param = options.get(arg.split("=")[0])
        if param is None:
            problems.append(f"assay {' '.join(path)} has no option {arg.split('=')[0]}")
        elif "=" not in arg and not getattr(param, "is_flag", False) and args:
            value = args.pop(0)
            if arg == "--suites":
                positional += value.split(",")
    if path == ["run"]:
        problems += [f"no suite {s!r} (assay suites)" for s in positional if s not in available()]
    return Verdict(problems, runs_suite=path == ["run"])


@cache
def tox_envs() -> dict[str, str]:
    """Each tox environment and its commands."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    return {s.split(":", 1)[1]: tox[s].get("commands", "") for s in tox if s.startswith("testenv:")}


def _check_tox(words: list[str]) -> Verdict:
    names = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "-e"]
    envs = [e for name in names for e in name.split(",")]
    problems = [f"tox has no environment {e!r}" for e in envs if e not in tox_envs()]
    suite = any("assay run" in tox_envs().get(e, "") for e in envs)
    return Verdict(problems, runs_suite=suite)


@cache
def flags() -> dict[str, FlagDefinition]:
    """The service's flag definitions."""
    return load_definitions()


@cache
def contract_operations() -> list[tuple[str, re.Pattern[str], set[str]]]:
    """(method, path pattern, query parameters) of every operation, and GET /metrics."""
    doc = json.loads((ROOT / "contracts" / "openapi.json").read_text())
    found: list[tuple[str, re.Pattern[str], set[str]]] = [("GET", re.compile("^/metrics$"), set())]
    for path, operations in doc["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        for method, op in operations.items():
            query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            found.append((method.upper(), pattern, query))
    return found


def _check_curl(words: list[str]) -> Verdict:
    method, body, urls = "", None, []
    args = words[1:]
    while args:
        arg = args.pop(0)
        if arg in CURL_VALUED and args:
            value = args.pop(0)
            method = value.upper() if arg in {"-X", "--request"} else method
            body = value if arg in {"-d", "--data", "--data-raw", "--json"} else body
        elif not arg.startswith("-"):
            urls.append(arg)
    method = method or ("POST" if body is not None else "GET")
    problems: list[str] = []
    for url in urls:
        match = re.match(r"^\$\{?[A-Za-z_]\w*\}?(/[^?#]*)(?:\?(.*))?$", url)
        if not match:
            problems.append(f"{url}: a runbook names the target by a variable ($SERVICE_URL/...)")
            continue
        path, query = match.group(1), match.group(2) or ""
        ops = [q for m, p, q in contract_operations() if m == method and p.match(path)]
        if not ops:
            problems.append(f"{method} {path} is not in contracts/openapi.json")
        else:
            problems += [
                f"{path} takes no query parameter {k!r}"
                for k, _ in parse_qsl(query, keep_blank_values=True)
                if k not in ops[0]
            ]
        problems += _check_write(method, path, body)
    return Verdict(problems)


def check_operation(method: str, path: str, prohibition: bool = False) -> list[str]:
    """An API operation named in prose (`GET /admin/flags`): it exists, and it only reads."""
    if not any(m == method and p.match(path) for m, p, _ in contract_operations()):
        return [f"{method} {path} is not in contracts/openapi.json"]
    if method == "GET" or (method, path) in WRITES_ALLOWED or prohibition:
        return []
    return [f"{method} {path} is a write; a runbook names writes only as curl commands it checks"]


def _check_write(method: str, path: str, body: str | None) -> list[str]:
    flag = re.fullmatch(r"/admin/flags/([^/]+)", path)
    if flag and flag.group(1) not in flags():
        return [f"no flag {flag.group(1)!r} in config/feature-flags.yaml"]
    if method == "GET" or (method, path) in WRITES_ALLOWED:
        return []
    if not (flag and method == "PUT"):
        return [f"{method} {path} writes to the incident's target; runbooks read, or restore flags"]
    name, definition = flag.group(1), flags()[flag.group(1)]
    try:
        value = json.loads(body or "")["value"]
        restored = definition.coerce(name, value) == definition.default
        restored &= isinstance(value, bool) == isinstance(definition.default, bool)
    except (ValueError, KeyError, TypeError, DomainError):
        return [f'PUT {path} needs a body {{"value": ...}} of that flag\'s type']
    if not restored:
        default = definition.default
        return [f"PUT {path} sets {value!r}; a runbook only restores the default {default!r}"]
    return []


@cache
def chart_objects() -> list[dict[str, Any]]:
    """The objects of the chart's default render."""
    text = (ROOT / "infra" / "helm" / "rendered" / "default.yaml").read_text()
    return [d for d in yaml.safe_load_all(text) if d]


def _chart_namespace() -> str:
    from infra.helm.render import RELEASE

    return RELEASE["Namespace"]


def _check_kubectl(words: list[str]) -> Verdict:
    problems: list[str] = []
    objects = chart_objects()
    for i, word in enumerate(words[1:], 1):
        value = words[i + 1] if i + 1 < len(words) else ""
        if word in {"-n", "--namespace"} and value != _chart_namespace():
            problems.append(f"namespace {value!r}: the chart installs into {_chart_namespace()!r}")
        if word in {"-l", "--selector"}:
            wanted = dict(pair.split("=", 1) for pair in value.split(","))
            labels = [
                {
                    **o["metadata"].get("labels", {}),
                    **o.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}),
                }
                for o in objects
            ]
            if not any(wanted.items() <= have.items() for have in labels):
                problems.append(f"no object of the chart carries the labels {value}")
        kind, _, name = word.partition("/")
        if (
            name
            and kind in KUBE_KINDS
            and not any(
                o["kind"] == KUBE_KINDS[kind] and o["metadata"]["name"] == name for o in objects
            )
        ):
            problems.append(f"the chart has no {KUBE_KINDS[kind]} {name!r}")
    return Verdict(problems)


def _check_helm(words: list[str]) -> Verdict:
    from infra.helm.render import RELEASE

    if len(words) < 3 or words[1] not in HELM_VERBS:
        return Verdict([f"helm: runbooks use {', '.join(sorted(HELM_VERBS))} RELEASE"])
    problems = [] if words[2] == RELEASE["Name"] else [f"the release is {RELEASE['Name']!r}"]
    if "-n" in words and words[words.index("-n") + 1 :][:1] != [RELEASE["Namespace"]]:
        problems.append(f"the release's namespace is {RELEASE['Namespace']!r}")
    return Verdict(problems)


def _check_redis(words: list[str]) -> Verdict:
    rest = [w for i, w in enumerate(words[1:], 1) if not w.startswith("-") and words[i - 1] != "-u"]
    if not rest or rest[0].lower() not in REDIS_READS:
        return Verdict([f"redis-cli: runbooks only read ({', '.join(sorted(REDIS_READS))})"])
    return Verdict()


CHECKERS = {
    "assay": _check_assay,
    "tox": _check_tox,
    "curl": _check_curl,
    "kubectl": _check_kubectl,
    "helm": _check_helm,
    "redis-cli": _check_redis,
}


@cache
def setting_names() -> frozenset[str]:
    """The service's environment variables."""
    return frozenset(name.upper() for name in Settings.model_fields)


@cache
def dashboard_titles() -> frozenset[str]:
    """The titles of the generated Grafana dashboards."""
    folder = ROOT / "infra" / "observability" / "grafana" / "dashboards"
    return frozenset(json.loads(p.read_text())["title"] for p in folder.glob("*.json"))


@cache
def alert_runbooks() -> dict[str, str]:
    """Each generated alert and its runbook_url annotation."""
    from infra.observability.generate import RULES_FILE

    doc = yaml.safe_load(RULES_FILE.read_text())
    return {
        rule["alert"]: rule["annotations"]["runbook_url"]
        for group in doc["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
