"""The exploration's Hypothesis reports go to its log, and nothing else does: suites beside it
(chaos, on the main thread) keep printing to the screen."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis.reporting import report

from explore.adapter import hypothesis_reports_to


def test_reports_go_to_the_log_and_other_output_stays_on_the_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "hypothesis.log"

    def beside() -> None:
        print("chaos: 02-postgres-restart-under-load: completed in 34 s")

    with hypothesis_reports_to(log):
        report("Falsifying example: state.checkout(...)")
        neighbour = threading.Thread(target=beside)
        neighbour.start()
        neighbour.join()
        print("the suite's own line")

    assert log.read_text(encoding="utf-8") == "Falsifying example: state.checkout(...)\n"
    shown = capsys.readouterr().out
    assert "chaos: 02-postgres-restart-under-load" in shown
    assert "the suite's own line" in shown
