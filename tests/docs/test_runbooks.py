"""Runbooks are safe to follow during an incident, and everything they name exists.

On-call follows a runbook against a shared or production service with real users, at night,
in a hurry. So every page under docs/runbooks/ is read with these rules:

Commands. A command is every line of a fenced block, and every inline code span that starts
with a program (`curl`, `kubectl`, `assay`, `python3 dev.py`, `tox`, ...). Each must be one the
project has: `assay` subcommands, options and suite names exist in the CLI (plug-ins included),
`python3 dev.py X` is a dev.py command or a .venv program, `tox -e X` is an environment of
tox.ini, `kubectl` and `helm` name the chart's namespace, release, Deployments and pod labels,
and `curl` calls an operation of contracts/openapi.json (or GET /metrics), with only its
declared query parameters, on a target named by a variable, never a host. An operation named
in prose (`GET /admin/flags`) is one of the contract too.

Safety. No command may change the incident's target, except two writes: a login
(POST /auth/token) and putting a flag back to its default (PUT /admin/flags/NAME with the
definition's default as its body), which is how a leftover fault is cleared. Prose names no
other write (`POST /orders`): a write is given as a curl command, whose body can be judged.
redis-cli only reads (ping, info). Load and fault tools (locust, chaos, schemathesis) are never
run. A suite (`assay run`, or a tox environment that runs `assay run`) runs only on a managed
target: prefixed `env -u ASSAY_TARGET_URL` (so a variable left in the shell cannot aim it at
the incident) and without --target-url. A sentence telling the reader to run a suite (a run
verb and a suite word) must carry that command in a code span, so the rule above judges it;
a vague "run the smoke tests" fails. Sentences that start with "Never" or "Do not" forbid
something: the safety rules do not apply to what they name, but what they name must exist.

Names. A bare identifier in code within three words of "flag" or "flags" is a flag of
config/feature-flags.yaml (or a setting, or true/false); an UPPER_CASE code span is a service
setting, an `ASSAY_` variable of the README, or a variable the runbooks' commands use; an
emphasised *Assay / ...* is a dashboard; a code span shaped like a repository path exists; the
alerts on a page's **Alert:** line exist in the generated rules.

Links. No absolute URL (the repository links to nothing outside itself); every link resolves
to a file in the repository, and an anchor to a heading of the linked page. Every alert's
runbook_url is such a path to a page that names the alert.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs import runbook_commands as cmds
from tests.docs.runbook_markdown import Page, commands, parse, slug

ROOT = cmds.ROOT
RUNBOOKS = ROOT / "docs" / "runbooks"
PAGES = sorted(RUNBOOKS.glob("*.md"))
ALERT_PAGE = re.compile(r"^docs/runbooks/[\w-]+\.md$")

RUN_VERB = re.compile(r"\b(run|runs|running|start|starts|launch|execute)\b", re.I)
SUITE_WORD = re.compile(
    r"\b(suites?|acceptance|contract|perf|chaos|smoke|soak|spike|schemathesis|locust|"
    r"load[- ]tests?)\b",
    re.I,
)
FLAG_WORD = re.compile(r"flags?", re.I)
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
UPPER_NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
REPO_PATH = re.compile(r"^[\w.-]+(/[\w.-]+)+\.[a-z]{2,4}$")
OPERATION = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/\S*)$")
ABSOLUTE = re.compile(r"^[a-z][a-z0-9+.-]*:|^//", re.I)


def _variables(pages: list[Page]) -> set[str]:
    text = "\n".join(line for page in pages for line, _ in commands(page))
    return set(re.findall(r"\$\{?([A-Za-z_]\w*)", text)) | set(re.findall(r"\b(\w+)=", text))


def _known_upper_names(page: Page) -> set[str]:
    readme = (ROOT / "README.md").read_text()
    return (
        set(cmds.setting_names())
        | set(re.findall(r"\bASSAY_[A-Z0-9_]+", readme))
        | _variables([page, *(parse(p) for p in PAGES)])
    )


def command_problems(page: Page) -> list[str]:
    """Commands that do not exist or are unsafe, and suite instructions without a command."""
    found = [p for line, banned in commands(page) for p in cmds.check_command(line, banned)]
    for sentence in page.sentences:
        says_run = RUN_VERB.search(sentence.prose) and SUITE_WORD.search(sentence.prose)
        if sentence.prohibits or not says_run:
            continue
        if not any(cmds.judge(span, prohibition=True).runs_suite for span in sentence.code):
            found.append(f"{sentence.prose.strip()!r} says to run a suite but names no command")
    return found


def name_problems(page: Page) -> list[str]:
    """Flags, settings, dashboards, paths and alerts the page names that do not exist."""
    found: list[str] = []
    upper = _known_upper_names(page)
    for sentence in page.sentences:
        flag_spans = sentence.code_near(FLAG_WORD, within=3)
        for span in sentence.code:
            if UPPER_NAME.match(span) and span not in upper:
                found.append(f"`{span}` is no setting of the service nor a runbook variable")
            named_as_flag = span in flag_spans and IDENTIFIER.match(span)
            if named_as_flag and span not in {*cmds.flags(), *upper, "true", "false"}:
                found.append(f"`{span}` is named as a flag; the flags are {sorted(cmds.flags())}")
            if operation := OPERATION.match(span):
                method, path = operation.groups()
                found += cmds.check_operation(method, path, sentence.prohibits)
            if REPO_PATH.match(span) and not (ROOT / span).is_file():
                found.append(f"`{span}` is not a file of the repository")
        if re.match(r"^\s*Alerts?:", sentence.prose):
            found += [
                f"alert {span} is not in the generated rules"
                for span in sentence.code
                if re.fullmatch(r"[A-Z][A-Za-z0-9]+", span) and span not in cmds.alert_runbooks()
            ]
        if re.search(r"\bhttps?://", sentence.prose):
            found.append(f"{sentence.prose.strip()!r} has an absolute URL")
    found += [
        f"*{title}* is not a dashboard ({sorted(cmds.dashboard_titles())})"
        for title in page.emphasis
        if title.startswith("Assay / ") and title not in cmds.dashboard_titles()
    ]
    return found


def link_problems(page: Page) -> list[str]:
    """Links that leave the repository, miss their file, or miss their anchor."""
    found: list[str] = []
    for link in page.links:
        if ABSOLUTE.match(link):
            found.append(f"{link}: an absolute link; link a file of the repository")
            continue
        path, _, anchor = link.partition("#")
        target = (page.path.parent / path).resolve() if path else page.path
        if not target.is_relative_to(ROOT) or not target.exists():
            found.append(f"{link}: no such file in the repository")
        elif anchor and (target.suffix != ".md" or anchor not in parse(target).slugs):
            found.append(f"{link}: {target.name} has no heading #{anchor}")
    return found


def problems(path: Path) -> list[str]:
    """Everything wrong with one runbook."""
    page = parse(path)
    return command_problems(page) + name_problems(page) + link_problems(page)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_runbook_is_safe_and_names_only_what_exists(path: Path) -> None:
    assert problems(path) == []


def test_every_alert_links_a_runbook_in_the_repository_that_names_it() -> None:
    alerts = cmds.alert_runbooks()
    assert alerts
    for name, url in alerts.items():
        assert ALERT_PAGE.match(url), f"{name}: runbook_url {url!r} is not docs/runbooks/<page>.md"
        assert (ROOT / url).is_file(), f"{name}: {url} is missing"
        alert_lines = [s for s in parse(ROOT / url).sentences if re.match(r"^\s*Alerts?:", s.prose)]
        assert any(name in s.code for s in alert_lines), f"{url} does not name {name}"


def test_the_index_lists_every_alert_page_and_the_shared_checks() -> None:
    pages = {(ROOT / url).name for url in cmds.alert_runbooks().values()}
    assert pages | {"checks.md"} <= set(parse(RUNBOOKS / "README.md").links)


def _page(tmp_path: Path, markdown: str) -> list[str]:
    path = tmp_path / "page.md"
    path.write_text(markdown + "\n", encoding="utf-8")
    return problems(path)


def _sh(*lines: str) -> str:
    return "```sh\n" + "\n".join(lines) + "\n```"


PUT_FLAG = 'curl -sS -X PUT "$S/admin/flags/{}" -d \'{{"value": {}}}\''


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        # The instructions issue 18 found, as they were written.
        ("5. Confirm recovery: run `tox -e acceptance` against the target.", "runs a suite"),
        ("5. Confirm with a short perf run (`tox -e perf` against the target).", "runs a suite"),
        ("2. Check the `cache` feature flag and the audit log.", "`cache` is named as a flag"),
        ("3. Restart the pods, run the smoke tests.", "names no command"),
        # Other ways to reach the incident's target, or to name what does not exist.
        ("Run `python3 dev.py run perf --target-url $SERVICE_URL`.", "runs a suite"),
        ("Run `env -u ASSAY_TARGET_URL assay run perf --target-url $U`.", "runs a suite"),
        ("Run `ASSAY_TARGET_URL=$U python3 dev.py assay run chaos`.", "runs a suite"),
        ("Then `locust -f perf/locustfile.py --host $SERVICE_URL`.", "load or fault tool"),
        (_sh("chaos run chaos/experiments/x.json"), "load or fault tool"),
        ("Run `env -u ASSAY_TARGET_URL assay run acceptence`.", "no suite 'acceptence'"),
        ("Use `assay stack restart`.", "has no command 'restart'"),
        ("Use `assay runs --last 3`.", "has no option --last"),
        ("Use `tox -e smoke`.", "no environment 'smoke'"),
        (_sh(PUT_FLAG.format("payment_primary_down", "true")), "restores the default False"),
        (_sh(PUT_FLAG.format("payment_latency_ms", 5)), "restores the default 0"),
        (_sh(PUT_FLAG.format("payment_latency_ms", "false")), "of that flag's type"),
        (_sh(PUT_FLAG.format("cache", "true")), "no flag 'cache'"),
        (_sh("curl -sS -X POST \"$S/orders\" -d '{}'"), "writes to the incident's target"),
        (_sh('curl -sS "$S/admin/audits"'), "not in contracts/openapi.json"),
        (_sh('curl -sS "$S/admin/audit?since=1"'), "no query parameter 'since'"),
        (_sh("curl -sS https://shop.example/health/ready"), "names the target by a variable"),
        (_sh('redis-cli -u "$REDIS_URL" flushall'), "runbooks only read"),
        (_sh('psql "$DATABASE_URL"'), "not a program the runbooks may use"),
        ("`kubectl get pods -n prod -l app.kubernetes.io/name=reference-service`", "namespace"),
        ("`kubectl get pods -n assay -l app=api`", "carries the labels app=api"),
        ("`kubectl rollout restart deploy/reference-service -n assay`", "no Deployment"),
        ("`helm rollback reference -n assay`", "the release is 'assay'"),
        ("Set `NO_SUCH_SETTING` and restart.", "`NO_SUCH_SETTING` is no setting"),
        ("Open *Assay / Overview*.", "is not a dashboard"),
        ("See `docs/runbooks/nowhere.md`.", "is not a file of the repository"),
        ("See [the docs](https://example.com/runbooks).", "an absolute link"),
        ("See [checks](no-such-page.md).", "no such file"),
        ("**Alert:** `NoSuchAlert` (page).", "alert NoSuchAlert is not in the generated rules"),
        ("Cancel it with `POST /orders/{order_id}/cancel`.", "is a write"),
        ("Read `GET /admin/flag`.", "GET /admin/flag is not in contracts/openapi.json"),
    ],
)
def test_the_rules_catch_unsafe_or_unknown_instructions(
    tmp_path: Path, markdown: str, expected: str
) -> None:
    found = _page(tmp_path, markdown)
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(
    "markdown",
    [
        "Never run `assay run acceptance --target-url $SERVICE_URL` against the incident.",
        "Do not start a perf run here: load deepens the incident.",
        "Run it on a managed target: `env -u ASSAY_TARGET_URL python3 dev.py run acceptance`.",
        _sh(PUT_FLAG.format("payment_error_rate", "0.0"), PUT_FLAG.format("payment_latency_ms", 0)),
        _sh(
            "TOKEN=$(curl -sS -X POST \"$S/auth/token\" -d '{}' | jq -r .access_token)",
            'curl -sS "$S/admin/audit?after=0&limit=50" -H "authorization: Bearer $TOKEN"',
            "curl -sS \"$S/metrics\" | grep -E '^circuit_breaker_state'",
        ),
        "The fault flags `payment_latency_ms` and `db_slow_query_ms` need `FAULT_INJECTION`.",
        "`kubectl get pods -n assay -l app.kubernetes.io/name=payment-gateway,"
        "app.kubernetes.io/instance=primary`",
        "**Alerts:** `LatencyP95High` (page).",
    ],
)
def test_the_rules_accept_reads_restores_and_managed_runs(tmp_path: Path, markdown: str) -> None:
    assert _page(tmp_path, markdown) == []


def test_anchors_follow_github_headings() -> None:
    assert slug("Restore a flag to its default") == "restore-a-flag-to-its-default"
    assert slug("`assay` on a managed target") == "assay-on-a-managed-target"
