"""The money reconciliation in the reports: per suite with `metrics.ledger`, from the run only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pptx import Presentation

from assay.record import load_run
from reports import figures, html, qbr, traceability
from reports.figures import ReportData, money
from tests.fixtures.runs.make_runs import RUN_C

HELD = {
    "held": True,
    "settled": True,
    "charges": 41,
    "captures": 38,
    "refunds": 6,
    "captured_amount": {"USD": 4912200},
    "refunded_amount": {"USD": 750000},
    "orders": 41,
    "confirmed_orders": 32,
    "mismatches": [],
    "unsettled": [],
}
BROKEN = {
    **HELD,
    "held": False,
    "captures": 5,
    "mismatches": [
        {
            "kind": "double-capture",
            "gateway": "primary",
            "key": f"order-{n}",
            "order_id": f"o-{n}",
            "detail": f"second capture ch_{n} at primary (3000 USD) beside ch_x at fallback",
        }
        for n in range(5)
    ],
}


def _with_ledger(runs_dir: Path, suite: str, block: dict[str, Any]) -> None:
    path = runs_dir / RUN_C / suite / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary["metrics"]["ledger"] = block
    path.write_text(json.dumps(summary), encoding="utf-8")


def _data(runs_dir: Path) -> ReportData:
    _with_ledger(runs_dir, "acceptance", HELD)
    _with_ledger(runs_dir, "perf", BROKEN)
    return figures.load(load_run(runs_dir / RUN_C))


def test_amounts_read_as_money() -> None:
    assert money({"USD": 4912200, "JPY": 1200}) == "1,200 JPY, 49,122.00 USD"
    assert money({}) == "0"


def test_each_suite_with_a_ledger_gets_a_row_naming_its_first_mismatches(
    runs_dir: Path,
) -> None:
    rows = {row.suite: row for row in figures.money_rows(_data(runs_dir).run)}
    assert set(rows) == {"acceptance", "perf"}, "only suites that reconciled"
    held, broken = rows["acceptance"], rows["perf"]
    assert (held.verdict, held.charges, held.captures, held.refunds) == ("held", 41, 38, 6)
    assert (held.captured, held.refunded) == ("49,122.00 USD", "7,500.00 USD")
    assert broken.verdict == "mismatch"
    assert broken.mismatches == 5
    assert len(broken.named) == figures.NAMED_MISMATCHES
    assert broken.named[0].startswith("double-capture at primary: second capture ch_0")


def test_the_status_page_shows_the_reconciliation(runs_dir: Path) -> None:
    data = _data(runs_dir)
    page = html.render(data, traceability.build(data)).decode()
    start = page.index('<section id="money"')
    section = page[start : page.index("</section>", start)]
    assert "Money reconciliation" in section
    assert "49,122.00 USD" in section
    assert "double-capture at primary" in section
    assert f"{RUN_C}/perf/summary.json#/metrics/ledger" in section
    assert 'href="#money"' in page


def test_the_status_page_says_when_no_suite_reconciled(data_c: ReportData) -> None:
    page = html.render(data_c, traceability.build(data_c)).decode()
    assert "No suite reconciled the gateways' ledgers in this run." in page


def test_the_deck_has_a_money_slide_with_sourced_figures(runs_dir: Path, tmp_path: Path) -> None:
    data = _data(runs_dir)
    path = tmp_path / "qbr.pptx"
    path.write_bytes(qbr.build_deck(data, traceability.build(data)))
    slide = next(
        s
        for s in Presentation(str(path)).slides
        if s.shapes.title.text.startswith("Money reconciliation")
    )
    table = next(shape.table for shape in slide.shapes if shape.has_table)
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[1][:5] == ["acceptance", "held", "41 / 38 / 6", "49,122.00 USD", "7,500.00 USD"]
    assert cells[2][0] == "perf"
    assert cells[2][5].startswith("5: double-capture at primary")
    notes = slide.notes_slide.notes_text_frame.text
    assert f"perf captures = 5 <- {RUN_C}/perf/summary.json#/metrics/ledger/captures" in notes
