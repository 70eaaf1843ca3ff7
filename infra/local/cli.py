"""`assay stack up | status | down`: the local provisioned stack from the command line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra.local.components import MissingBinaryError
from infra.local.descriptor import (
    DESCRIPTOR_ENV,
    StackError,
    default_descriptor_path,
    load_stack,
)
from infra.local.stack import (
    DEFAULT_WORKERS,
    stack_down,
    stack_status,
    stack_up,
)

stack_app = typer.Typer(
    name="stack",
    help="A real local stack: PostgreSQL, Redis, two gateway simulators, the service (gunicorn).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

DescriptorOption = Annotated[
    Path | None,
    typer.Option(
        "--descriptor",
        envvar=DESCRIPTOR_ENV,
        help="Where the stack descriptor lives (default runs/stack.json).",
    ),
]


def _setting(pairs: list[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"--set takes NAME=VALUE, got {pair!r}")
        settings[name.upper()] = value
    return settings


@stack_app.command("up")
def up_command(
    descriptor: DescriptorOption = None,
    workers: Annotated[int, typer.Option(min=1, max=8, help="gunicorn workers")] = DEFAULT_WORKERS,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="A service setting, e.g. --set BREAKER_ENABLED=false."),
    ] = None,
) -> None:
    """Provision the stack on free loopback ports and write its descriptor."""
    path = descriptor or default_descriptor_path()
    started = time.monotonic()
    try:
        with console.status("Provisioning PostgreSQL, Redis, gateways and the service …"):
            stack = stack_up(path, workers=workers, settings=_setting(set_ or []))
    except (StackError, MissingBinaryError) as exc:
        console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(1) from exc
    _print_status(path)
    console.print(f"up in {time.monotonic() - started:.1f} s · descriptor {stack.descriptor}")


@stack_app.command("status")
def status_command(
    descriptor: DescriptorOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the descriptor as JSON.")] = False,
) -> None:
    """Show each component and whether it runs; exit 1 if any is down."""
    path = descriptor or default_descriptor_path()
    if as_json:
        try:
            console.print_json(json.dumps(load_stack(path).to_json()))
        except StackError as exc:
            console.print(f"[red]{exc}[/]", highlight=False)
            raise typer.Exit(1) from exc
        return
    if not _print_status(path):
        raise typer.Exit(1)


@stack_app.command("down")
def down_command(descriptor: DescriptorOption = None) -> None:
    """Stop every process the stack started and remove its temporary directories."""
    path = descriptor or default_descriptor_path()
    try:
        stack = load_stack(path)
    except StackError as exc:
        console.print(f"[yellow]{exc}[/]", highlight=False)
        return
    for note in stack_down(stack):
        console.print(f"  [dim]{note}[/]", highlight=False)
    console.print(f"stack {stack.stack_id} is down; {stack.root} removed")


def _print_status(path: Path) -> bool:
    try:
        stack = load_stack(path)
    except StackError as exc:
        console.print(f"[red]{exc}[/]", highlight=False)
        return False
    table = Table("component", "url", "pid", "state", title=f"stack {stack.stack_id}")
    status = stack_status(stack)
    for name, row in status.items():
        state = "[green]up[/]" if row["up"] else "[red]down[/]"
        table.add_row(name, row["url"], str(row["pid"] or "-"), state)
    console.print(table)
    console.print(f"data: {stack.root}", highlight=False)
    return all(row["up"] for row in status.values())
