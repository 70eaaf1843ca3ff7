"""The `assay` command: one entry point; suites and generators plug in by entry point."""

from __future__ import annotations

import os
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from assay import generators
from assay.catalog.check import PROJECT_ROOT, check_catalog
from assay.overall import of_run, overall
from assay.record import CiTimings, LateTimings, RunTimings, load_run
from assay.record import RunError as RecordError
from assay.run import RUN_ID_PATTERN, Run, RunError, runs_dir
from assay.schedule import error_summary, plan, run_suites
from assay.screen import (
    Built,
    console,
    print_artefacts,
    print_check,
    print_run_summary,
    print_timings,
    verdict_text,
)
from assay.suites import Suite, UnknownSuiteError, available, get
from assay.summary import Summary, Verdict, min_judged_share
from assay.target import Target, TargetError, open_target

COMMANDS_GROUP = "assay.commands"
DESELECT_TAGS_ENV = "ASSAY_DESELECT_TAGS"
# dev.py's install time before the main job, which `assay run` records with its own.
SETUP_ENV = "ASSAY_SETUP_S"


def _resolve(names: list[str]) -> list[Suite]:
    if not names:
        suites = list(available().values())
        if not suites:
            raise typer.BadParameter("no suites are installed (see the assay.suites entry points)")
        return suites
    try:
        return [get(name) for name in names]
    except UnknownSuiteError as exc:
        raise typer.BadParameter(str(exc.args[0])) from exc


def _announce(what: str) -> None:
    console.rule(f"[bold]{what}[/]", characters="─")


def _generate(run: Run) -> list[Built]:
    built: list[Built] = []
    for generator in generators.available():
        started = time.monotonic()
        with console.status(f"Building {generator.name} ({generator.description}) …"):
            try:
                paths = generator.build(run.directory)
                built.append(Built(generator.name, paths, time.monotonic() - started))
            except generators.GeneratorError as exc:
                built.append(Built(generator.name, [], time.monotonic() - started, str(exc)))
    return built


app = typer.Typer(
    help="Assay: reliability and compliance checks against one target, recorded in one run.",
    no_args_is_help=True,
    add_completion=False,
)
catalog_app = typer.Typer(help="The catalog of requirements, SLOs, controls, risks and ADRs.")
app.add_typer(catalog_app, name="catalog")
timings_app = typer.Typer(help="How long a run, and the CI job around it, took.")
app.add_typer(timings_app, name="timings")


@app.command("run")
def run_command(
    suites: Annotated[
        list[str] | None,
        typer.Argument(help="Suites to run, in order (default: every installed suite)."),
    ] = None,
    target_url: Annotated[
        str | None,
        typer.Option(
            "--target-url",
            envvar="ASSAY_TARGET_URL",
            help="Deployed service to test; unset starts the reference service locally.",
        ),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id", envvar="ASSAY_RUN_ID", help="Add to this run instead of a new one."
        ),
    ] = None,
    runs: Annotated[
        Path | None,
        typer.Option("--runs-dir", envvar="ASSAY_RUNS_DIR", help="Where run directories live."),
    ] = None,
    suite_list: Annotated[
        str | None,
        typer.Option("--suites", help="Suites to run, comma-separated (same as naming them)."),
    ] = None,
    generate: Annotated[
        bool,
        typer.Option(help="Build the evidence pack and reports from the run afterwards."),
    ] = True,
    shape: Annotated[
        str | None,
        typer.Option(
            "--shape",
            help="perf: load shape (smoke, sustained, spike, soak, step); sets ASSAY_PERF_SHAPE.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="perf: Locust worker processes beside a master; sets ASSAY_PERF_WORKERS.",
        ),
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            min=1,
            help="explore: wall-clock seconds to explore for; sets ASSAY_EXPLORE_BUDGET_S.",
        ),
    ] = None,
    deselect_tags: Annotated[
        list[str] | None,
        typer.Option(
            "--deselect-tag",
            help=(
                "acceptance: leave out scenarios with this tag on purpose (repeatable, e.g. "
                "admin); they do not count against the judged share. Sets ASSAY_DESELECT_TAGS."
            ),
        ),
    ] = None,
    setup_s: Annotated[
        float | None,
        typer.Option(
            "--setup-seconds",
            envvar=SETUP_ENV,
            min=0,
            hidden=True,
            help="Seconds an install took before this run (dev.py sets it); recorded in run.json.",
        ),
    ] = None,
) -> None:
    """Run suites against one target, record them in a run directory, then build its artefacts."""
    began = time.monotonic()
    os.environ.pop(SETUP_ENV, None)  # this run's setup, not that of any run its suites start
    named = [*(suites or []), *(n.strip() for n in (suite_list or "").split(",") if n.strip())]
    chosen = _resolve(named)
    try:
        min_share = min_judged_share()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    # Suite options reach suites as environment variables (suites run with this environment).
    tags = ",".join(t.strip().lstrip("@") for t in deselect_tags or [] if t.strip()) or None
    for name, value in (
        ("ASSAY_PERF_SHAPE", shape),
        ("ASSAY_PERF_WORKERS", workers),
        ("ASSAY_EXPLORE_BUDGET_S", budget),
        (DESELECT_TAGS_ENV, tags),
    ):
        if value is not None:
            os.environ[name] = str(value)
    try:
        run = Run.open(run_id, runs or runs_dir())
    except RunError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"run {run.run_id}: {', '.join(s.name for s in chosen)}", highlight=False)
    summaries: list[Summary] = []
    started = time.monotonic()
    target_s = 0.0  # starting and stopping the target: the run's time outside its suites
    suites_s: float | None = None  # the suites' wall time, when some ran side by side
    target: Target | None = None
    try:
        where = target_url or "a local reference service"
        with console.status(f"Preparing target {where} …"):
            service_env = {k: v for suite in chosen for k, v in suite.managed_env.items()}
            target_context = open_target(
                target_url, log_dir=run.directory / "target", service_env=service_env
            )
            target = target_context.__enter__()
        target_s = time.monotonic() - started
        try:
            run.record_target(target)
            suites_began = time.monotonic()
            summaries = run_suites(chosen, run, target, min_share, _announce)
            if plan(chosen, target).beside:
                suites_s = time.monotonic() - suites_began
        finally:
            stopping = time.monotonic()
            with console.status("Stopping target …"):
                target_context.__exit__(None, None, None)
            target_s += time.monotonic() - stopping
    except TargetError as exc:
        if target is None:  # it never came up: waiting for it was the target's time
            target_s = time.monotonic() - started
        console.print(f"[red]target unavailable:[/] {exc}", highlight=False)
        for suite in chosen:
            summaries.append(error_summary(suite.name, f"target unavailable: {exc}", started))
            run.record_suite(summaries[-1])
    sealed = RunTimings(
        setup_s=setup_s,
        target_s=round(target_s, 3),
        suites_s=None if suites_s is None else round(suites_s, 3),
        suites={summary.suite: summary.duration_s for summary in summaries},
    )
    try:  # every suite of the run, those an earlier invocation added too
        verdict = of_run(load_run(run.directory))
    except RecordError as exc:  # a summary on disk is unreadable: judge what ran here
        console.print(f"[red]{exc}[/]", highlight=False)
        verdict = overall(summaries, {"run directory": Verdict.ERROR})
    # Before the generators: the evidence pack seals run.json as it is now.
    run.finish(sealed, verdict.to_json())
    built = _generate(run) if generate else []
    late = LateTimings(
        run_id=run.run_id,
        total_s=round(time.monotonic() - began, 3),
        generators={b.name: round(b.duration_s, 3) for b in built},
    )
    run.record_late_timings(total_s=late.total_s, generators=late.generators)
    print_run_summary(run, target, summaries, verdict)
    print_artefacts(run, built)
    print_timings(sealed, late)
    failed_generators = [b for b in built if b.error]
    if failed_generators or not verdict.green:
        raise typer.Exit(1)


@app.command("runs")
def runs_command(
    runs: Annotated[
        Path | None,
        typer.Option("--runs-dir", envvar="ASSAY_RUNS_DIR", help="Where run directories live."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest first.")] = 20,
) -> None:
    """List past runs with their suites' verdicts, newest first."""
    folder = runs or runs_dir()
    table = Table("run", "started", "target", "verdicts", title=f"Runs in {folder}")
    listed = 0
    for run_json in sorted(folder.glob("*/run.json"), reverse=True)[:limit]:
        try:
            run = load_run(run_json.parent)
        except RecordError as exc:
            table.add_row(run_json.parent.name, "", "", f"[red]unreadable[/]: {exc}")
            continue
        verdicts = " ".join(
            f"{name} {verdict_text(verdict)}" for name, verdict in run.record.suites.items()
        )
        started = run.record.started_at.strftime("%Y-%m-%d %H:%M")
        table.add_row(run.run_id, started, run.record.target.kind or "?", verdicts or "-")
        listed += 1
    console.print(table)
    if not listed:
        console.print(f"no runs yet in {folder}: `assay run` makes one")


@app.command("suites")
def suites_command() -> None:
    """List the installed suites."""
    table = Table("suite", "description")
    for suite in available().values():
        table.add_row(suite.name, suite.description)
    console.print(table)


@catalog_app.command("check")
def catalog_check_command(
    root: Annotated[
        Path,
        typer.Option(
            help="Checkout whose tests link to the catalog.", exists=True, file_okay=False
        ),
    ] = PROJECT_ROOT,
) -> None:
    """Validate ids and links, and that every requirement is tested, pending or waived."""
    report = check_catalog(root.resolve())
    print_check(report)
    if not report.ok:
        raise typer.Exit(1)


def _phase(value: str) -> tuple[str, float]:
    name, _, seconds = value.partition("=")
    try:
        parsed = float(seconds)
    except ValueError:
        parsed = -1.0
    if not name.strip() or not parsed >= 0:
        raise typer.BadParameter(f"{value!r} is not NAME=SECONDS (seconds >= 0)")
    return name.strip(), parsed


@timings_app.command("record")
def timings_record_command(
    run_id: Annotated[str, typer.Argument(help="The run the CI job's main job made.")],
    phases: Annotated[
        list[str],
        typer.Option("--phase", help="A CI phase's wall time as NAME=SECONDS (repeatable)."),
    ],
    tests_exit: Annotated[
        int | None, typer.Option("--tests-exit", help="The tests' (pytest's) exit code.")
    ] = None,
    runs: Annotated[
        Path | None,
        typer.Option("--runs-dir", envvar="ASSAY_RUNS_DIR", help="Where run directories live."),
    ] = None,
) -> None:
    """Record the CI job's phase times beside its main job's run, in the run's timings.json.

    Not in run.json: the run's evidence pack sealed that file before CI's phases ended.
    """
    if not RUN_ID_PATTERN.match(run_id):
        raise typer.BadParameter(
            f"{run_id!r} is not a run id like 20261126T080000Z-1a2b3c or gh-123-1"
        )
    ci = CiTimings(phases=dict(_phase(value) for value in phases), tests_exit=tests_exit)
    try:
        path = Run.resume(run_id, runs or runs_dir()).record_late_timings(ci=ci)
    except RunError as exc:
        console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
    console.print(f"CI timings recorded in {path}", highlight=False)


def _plug_in_commands(target: typer.Typer) -> None:
    # Later parts of Assay (evidence, reports, ...) add commands without editing this file.
    for point in entry_points(group=COMMANDS_GROUP):
        loaded = point.load()
        if isinstance(loaded, typer.Typer):
            target.add_typer(loaded, name=point.name)
        elif callable(loaded):
            target.command(point.name)(loaded)


def main() -> None:
    """Entry point of the `assay` console script."""
    _plug_in_commands(app)
    app()
