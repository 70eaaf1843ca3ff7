"""The QBR deck: its slides, native charts, numbers traceable to run files, PDF conversion."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE

from reports import html, qbr, traceability
from reports.figures import ReportData
from tests.reports.test_status_headline import WAIVER
from tests.reports.tools import require_tool

TITLES = [
    "Quarterly business review: reliability and compliance",
    "The quarter at a glance",
    "What needs a decision",
    "SLO attainment vs objectives",
    "Latency and error trends across runs",
    "Chaos outcomes and resilience score",
    "Money reconciliation: gateways' ledgers vs orders",
    "Contract and acceptance health",
    "Security posture",
    "Top risks and owners",
    "Delivery figures (DORA-style, from run history)",
    "Next steps",
]
SOURCE = re.compile(
    r"^(?P<label>.+) = (?P<value>[-\d.]+) <- (?P<run>[^/\s]+)/(?P<file>[^#\s]+)#(?P<pointer>\S+)$"
)


def _deck(data: ReportData, tmp_path: Path) -> Path:
    path = tmp_path / "qbr.pptx"
    path.write_bytes(qbr.build_deck(data, traceability.build(data)))
    return path


def _pointer(document: object, pointer: str) -> object:
    for part in pointer.strip("/").split("/"):
        document = document[int(part)] if isinstance(document, list) else document[part]  # type: ignore[index]
    return document


def test_deck_has_the_slides_in_order(data_c: ReportData, tmp_path: Path) -> None:
    deck = Presentation(str(_deck(data_c, tmp_path)))
    assert [s.shapes.title.text for s in deck.slides] == TITLES


def test_charts_are_native_and_carry_the_run_figures(data_c: ReportData, tmp_path: Path) -> None:
    deck = Presentation(str(_deck(data_c, tmp_path)))
    charts = [shape.chart for slide in deck.slides for shape in slide.shapes if shape.has_chart]
    assert len(charts) >= 6
    trend = next(
        c for c in charts if c.chart_title.text_frame.text.startswith("Request latency p95")
    )
    assert trend.chart_type == XL_CHART_TYPE.LINE_MARKERS
    observed = next(s for s in trend.plots[0].series if s.name == "observed")
    assert list(observed.values) == [182.0, 412.0, 176.0]  # runs A, B, C perf/summary.json
    assert list(trend.plots[0].categories) == ["11-12 0.9.0", "11-19 0.9.1", "11-26 0.9.2"]


def test_every_sourced_number_matches_its_run_file(
    data_c: ReportData, runs_dir: Path, tmp_path: Path
) -> None:
    deck = Presentation(str(_deck(data_c, tmp_path)))
    checked = 0
    for slide in deck.slides:
        for line in slide.notes_slide.notes_text_frame.text.splitlines():
            match = SOURCE.match(line)
            if not match:
                continue
            document = json.loads((runs_dir / match["run"] / match["file"]).read_text())
            value = _pointer(document, match["pointer"])
            if isinstance(value, int | float):
                assert float(value) == float(match["value"]), line
            else:  # a derived figure (a pass rate from counts): the source must exist
                assert value is not None, line
            checked += 1
    assert checked >= 20


def test_failing_run_puts_its_failures_in_next_steps(data_b: ReportData, tmp_path: Path) -> None:
    deck = Presentation(str(_deck(data_b, tmp_path)))
    steps = deck.slides[-1]
    text = "\n".join(shape.text_frame.text for shape in steps.shapes if shape.has_text_frame)
    assert "chaos/restart-database" in text
    assert "REQ-ADM-002" in text  # stale evidence to refresh
    assert "REQ-EVD-001" in text  # no test yet


def test_deck_converts_to_pdf_with_libreoffice(data_c: ReportData, tmp_path: Path) -> None:
    soffice = require_tool("soffice", "libreoffice")
    deck = _deck(data_c, tmp_path)
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(deck),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "qbr.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")


def test_too_little_history_is_said_not_drawn(data_b: ReportData, tmp_path: Path) -> None:
    deck = Presentation(str(_deck(data_b, tmp_path)))
    trends = next(s for s in deck.slides if s.shapes.title.text.startswith("Latency and error"))
    assert not [shape for shape in trends.shapes if shape.has_chart]
    text = " ".join(shape.text_frame.text for shape in trends.shapes if shape.has_text_frame)
    assert "Request latency p95: not enough history for a trend (2 runs so far" in text
    assert "2 runs of history" in deck.slides[0].placeholders[1].text


def _text(slide: object) -> str:
    shapes = slide.shapes  # type: ignore[attr-defined]
    return "\n".join(shape.text_frame.text for shape in shapes if shape.has_text_frame)


def test_the_headline_slide_gives_five_figures_against_the_run_before(
    data_b: ReportData, tmp_path: Path
) -> None:
    deck = Presentation(str(_deck(data_b, tmp_path)))
    glance = _text(deck.slides[1])
    # Run B failed its perf SLOs where run A met them, and its chaos score fell from 100.
    assert "0 of 2 met · ▼ worse (was 100)" in glance
    assert "75\nout of 100 · ▼ worse (was 100)" in glance
    for label in ("Error budget left, worst SLO", "High risks a failing check touches"):
        assert label in glance
    # The verdict is the status page's, from the same run files.
    status = html.headline(data_b.run)["overall"]
    assert status.startswith("fail")
    assert f"Overall: {status} (run {data_b.run.run_id}" in glance


def test_a_waiver_is_a_decision_with_its_owner_and_expiry(
    data_c: ReportData, tmp_path: Path
) -> None:
    summary = data_c.run.summaries["security"]
    data_c.run.summaries["security"] = summary.model_copy(update={"waivers": [WAIVER]})
    deck = Presentation(str(_deck(data_c, tmp_path)))
    assert "Overall: pass with 1 waiver" in _text(deck.slides[1])
    decision = _text(deck.slides[2])
    assert "waiver on security security/pip-audit (vulnerability-database-unreachable)" in decision
    assert "owner security, approved by ciso, expires 2027-06-30, SEC-42" in decision


def test_a_clean_run_needs_no_decision(data_c: ReportData, tmp_path: Path) -> None:
    deck = Presentation(str(_deck(data_c, tmp_path)))
    assert _text(deck.slides[2]).startswith("What needs a decision\n• Nothing: every check passed")


def test_every_chart_axis_starts_at_zero(data_b: ReportData, tmp_path: Path) -> None:
    deck = Presentation(str(_deck(data_b, tmp_path)))
    charts = [shape.chart for slide in deck.slides for shape in slide.shapes if shape.has_chart]
    assert charts
    assert all(chart.value_axis.minimum_scale == 0 for chart in charts)
