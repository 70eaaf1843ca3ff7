"""The explore suite's adapter: a bounded, seeded exploration against the Target -> summary.json.

Writes `explore/summary.json` (one check per modelled property, linked to the catalog, plus
`ledger::gateways-agree` when the target exposes its gateways' ledgers), `hypothesis.log`
(Hypothesis' own report of a failing program) and, for a failure, the shortest failing step
sequence as a pytest file in `explore/regressions/`. See explore.config for the bounds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from hypothesis.reporting import with_reporter

from assay.catalog import load_catalog
from assay.ledger import DEFAULT_SETTLE_TIMEOUT_S, DEFAULT_WINDOW_S, LedgerError, check_target
from assay.ledger.summary import ledger_check, with_ledger
from assay.run import Run
from assay.suites import Suite, SuiteError
from assay.summary import Check, Counts, Summary, Verdict, counts_verdict, utcnow
from assay.target import Target
from explore import regression
from explore.api import ApiError, Shop, open_client
from explore.config import ExploreConfig, ExploreConfigError, load
from explore.faults import reset_everything
from explore.machine import Failure, Session, Settings, explore
from explore.model import CHECKS, require

NAME = "explore"
LOG = "hypothesis.log"
# In-run reconciliation: only what the service can never settle later counts as a failure.
IN_RUN_WINDOW_S = 300.0
# A managed target sweeps uncertain charges every second, so the final check settles soon.
MANAGED_TARGET_ENV = {"SWEEP_INTERVAL_S": "1"}


def _controls(requirements: tuple[str, ...]) -> list[str]:
    known = load_catalog().requirements
    return sorted({c for r in requirements if r in known for c in known[r].controls})


def _checks(session: Session, failure: Failure | None, evidence: list[str]) -> list[Check]:
    checks = []
    for ident, spec in CHECKS.items():
        failed = failure is not None and failure.check == ident
        if failed:
            verdict = Verdict.FAIL
        elif session.checked[ident]:
            verdict = Verdict.PASS
        else:
            verdict = Verdict.SKIPPED
        checks.append(
            Check(
                id=ident,
                title=spec.title,
                requirements=list(spec.requirements),
                controls=_controls(spec.requirements),
                verdict=verdict,
                evidence=evidence,
                message=failure.message if failed and failure else None,
            )
        )
    return checks


def _in_run_check(target: Target) -> Callable[[list[str]], None]:
    def check(user_ids: list[str]) -> None:
        try:
            report = check_target(
                target, user_ids=user_ids, window_s=IN_RUN_WINDOW_S, settle_timeout_s=0
            )
        except LedgerError:
            return  # judged (and reported as an error) by the final check
        require(not report.mismatches, "explore::one-capture", report.headline())

    return check


@contextlib.contextmanager
def hypothesis_reports_to(path: Path) -> Iterator[None]:
    """Hypothesis's reports from this thread go to `path`, through its reporter (a per-thread
    setting): redirecting sys.stdout would also take what suites running beside this one
    print meanwhile."""
    with path.open("w", encoding="utf-8") as log, with_reporter(lambda t: print(t, file=log)):
        yield


def _explore(
    out: Path, target: Target, config: ExploreConfig
) -> tuple[Session, Failure | None, datetime]:
    """The exploration's session, its failure if any, and when its faults were last cleared."""
    with open_client() as client:
        shop = Shop(target, client)
        try:
            reset_everything(shop, shop.gateways())
            session = Session(
                shop=shop,
                max_amount=shop.max_amount(),
                budget_s=config.budget_s,
                shrink_budget_s=config.shrink_budget_s,
                ledger_check=_in_run_check(target) if shop.gateways() else None,
            )
            bounds = Settings(config.seed, config.max_examples, config.stateful_step_count)
            with hypothesis_reports_to(out / LOG):
                failure = explore(session, bounds)
        except ApiError as exc:
            raise SuiteError(f"the target could not be explored: {exc}") from exc
        finally:
            with contextlib.suppress(ApiError):
                reset_everything(shop, shop.gateways())
            cleared_at = utcnow()
    return session, failure, cleared_at


def run_explore(run: Run, target: Target) -> Summary:
    """Random order flows with faults against the target, checked against a model of money
    and stock after every step; a shrunk failure is saved as a regression test."""
    try:
        config = load()
    except ExploreConfigError as exc:
        raise SuiteError(str(exc)) from exc
    out = run.suite_dir(NAME)
    for stale in (out / regression.REGRESSIONS).glob("*.py"):
        stale.unlink()
    started = utcnow()
    clock = time.monotonic()
    session, failure, cleared_at = _explore(out, target, config)
    artifacts = [f"{NAME}/{LOG}"]
    notes = []
    if failure is not None and failure.steps:
        path = regression.write(
            out,
            failure.steps,
            check=failure.check,
            message=failure.message,
            seed=config.seed,
            run_id=run.run_id,
        )
        artifacts.append(f"{NAME}/{regression.REGRESSIONS}/{path.name}")
        notes.append(
            f"{failure.check} broke after {len(failure.steps)} steps; replay: "
            f"ASSAY_TARGET_URL=... pytest {path}"
        )
    checks = _checks(session, failure, artifacts)
    counts = Counts(
        passed=sum(c.verdict is Verdict.PASS for c in checks),
        failed=sum(c.verdict is Verdict.FAIL for c in checks),
        skipped=sum(c.verdict is Verdict.SKIPPED for c in checks),
    )
    summary = Summary(
        suite=NAME,
        verdict=counts_verdict(counts),
        started_at=started,
        finished_at=utcnow(),
        duration_s=round(time.monotonic() - clock, 2),
        counts=counts,
        checks=checks,
        artifacts=artifacts,
        notes=notes,
        metrics={
            "seed": config.seed,
            "profile": config.profile,
            "max_examples": config.max_examples,
            "stateful_step_count": config.stateful_step_count,
            "budget_s": config.budget_s,
            "examples": session.examples,
            "steps": session.steps,
            "duration_s": round(time.monotonic() - clock, 2),
            "customers": len(session.user_ids),
            "steps_by_kind": dict(sorted(session.exercised.items())),
            "checks_evaluated": dict(sorted(session.checked.items())),
            "answers": dict(sorted(session.answers.items())),
            "failure": None
            if failure is None
            else {"check": failure.check, "message": failure.message, "steps": len(failure.steps)},
        },
    )
    summary = _ledger(summary, target, session, cleared_at)
    return summary.model_copy(
        update={"finished_at": utcnow(), "duration_s": round(time.monotonic() - clock, 2)}
    )


def _ledger(summary: Summary, target: Target, session: Session, cleared_at: datetime) -> Summary:
    """The gateways' ledgers against the exploration's own orders, settled or timed out.

    A capture the service owes back is judged from `cleared_at` at the earliest: while a
    gateway refused refunds the service could only keep asking."""
    if not getattr(target, "ledgers", None):
        note = "money reconciliation not run: the target exposes no gateway ledgers"
        return summary.model_copy(update={"notes": [*summary.notes, note]})
    started = time.monotonic()
    try:
        report = check_target(
            target,
            user_ids=sorted(session.user_ids),
            window_s=DEFAULT_WINDOW_S,
            settle_timeout_s=DEFAULT_SETTLE_TIMEOUT_S,
            faults_cleared_at=cleared_at,
        )
    except LedgerError as exc:
        check = ledger_check(None, error=str(exc), duration_s=time.monotonic() - started)
        return with_ledger(summary, check, None)
    check = ledger_check(report, duration_s=time.monotonic() - started)
    return with_ledger(summary, check, report)


SUITE = Suite(
    name=NAME,
    run=run_explore,
    description=(run_explore.__doc__ or "").splitlines()[0],
    order=35,
    managed_env=MANAGED_TARGET_ENV,
)
