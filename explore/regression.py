"""A shrunk failure saved as a pytest file that replays its steps, and the replay itself.

The file names its steps by model index (customer 0, product 1, attempt 2), so it replays on
any target: ASSAY_TARGET_URL (with ASSAY_ADMIN_EMAIL / ASSAY_ADMIN_PASSWORD and, for the money
checks, ASSAY_GATEWAY_LEDGERS), or a reference service Assay starts when that is unset.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay.ledger import LedgerError, check_target
from assay.target import open_target
from explore.api import Shop, open_client
from explore.faults import FaultState
from explore.model import CHECKS, require
from explore.steps import Explorer, Step

REGRESSIONS = "regressions"
# Wide enough that only what the service can never settle later counts (a replay is short).
REPLAY_LEDGER_WINDOW_S = 30.0


def _literal(value: Any) -> str:
    """A Python literal of JSON-like data, in the quoting ruff format keeps."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} into a regression")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def render(steps: Sequence[Step], *, check: str, message: str, seed: int, run_id: str) -> str:
    """The pytest file that replays `steps`."""
    spec = CHECKS.get(check, CHECKS["explore::answers"])
    requirements = ", ".join(_literal(r) for r in spec.requirements)
    lines = "\n".join(f"    ({_literal(name)}, {_literal(args)})," for name, args in steps)
    said = " ".join(message.split())[:400].replace("\\", "/").replace('"', "'")
    headline = "\n".join(textwrap.wrap(f"It broke {check}: {said}", width=96))
    return f'''"""Regression found by `assay run explore` (run {run_id}, seed {seed}).

{headline}

Replays the shortest failing step sequence against ASSAY_TARGET_URL, or against a reference
service Assay starts when it is unset: `pytest <this file>`.
Replay on a quiet target: a breaker that a recent fault opened sends a checkout
straight to the fallback, and the window may not open.
"""

import pytest

from explore.regression import replay

pytestmark = [pytest.mark.slow, pytest.mark.req({requirements})]

STEPS = [
{lines}
]


def test_{_slug(check.split("::")[-1])}_replays_clean() -> None:
    replay(STEPS)
'''


def write(
    out: Path, steps: Sequence[Step], *, check: str, message: str, seed: int, run_id: str
) -> Path:
    """Write the regression file into `out/regressions/`; its path."""
    folder = out / REGRESSIONS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"test_{_slug(check.split('::')[-1])}_seed_{seed}.py"
    path.write_text(
        render(steps, check=check, message=message, seed=seed, run_id=run_id), encoding="utf-8"
    )
    return path


def replay(steps: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Run `steps` against the target the environment names (or a fresh reference service),
    checking the model after each and the gateways' ledgers at the end."""
    with open_target() as target, open_client() as client:
        shop = Shop(target, client)
        explorer = Explorer(shop, FaultState(), max_amount=shop.max_amount())
        try:
            for name, args in steps:
                explorer.apply(name, **args)
        finally:
            explorer.faults.reset(shop)
            cleared_at = datetime.now(UTC)
        if not shop.gateways() or not explorer.model.user_ids:
            return
        try:
            report = check_target(
                target,
                user_ids=explorer.model.user_ids,
                window_s=REPLAY_LEDGER_WINDOW_S,
                faults_cleared_at=cleared_at,
            )
        except LedgerError as exc:
            raise AssertionError(f"the ledgers could not be read: {exc}") from exc
        require(report.held, "explore::one-capture", report.headline())
