"""The QBR deck's layout, checked rather than hoped for: on a run as crowded as a full default
run (some forty per-endpoint SLO results, a dozen chaos experiments with long notes), no two
shapes on a slide overlap, everything stays on its slide, and the deck LibreOffice renders keeps
every word on its page with each table above the chart under it."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from pathlib import Path

import pytest
from pptx import Presentation

from assay.record import load_run
from reports import figures, qbr, slides, traceability
from tests.fixtures.runs.make_runs import RUN_C
from tests.reports.tools import require_tool

WORD = re.compile(
    r'<word xMin="(?P<x0>[\d.]+)" yMin="(?P<y0>[\d.]+)" xMax="(?P<x1>[\d.]+)" '
    r'yMax="(?P<y1>[\d.]+)">(?P<text>[^<]*)</word>'
)
VERDICT_WORDS = {"pass", "fail", "warning", "skipped", "unjudged", "error"}
PAGE = re.compile(r'<page width="(?P<w>[\d.]+)" height="(?P<h>[\d.]+)">(?P<body>.*?)</page>', re.S)


def _crowd(runs_dir: Path) -> None:
    perf_path = runs_dir / RUN_C / "perf" / "summary.json"
    perf = json.loads(perf_path.read_text())
    for number in range(40):
        perf["slos"].append(
            {
                "id": "SLO-LATENCY-P95",
                "objective": 300.0,
                "unit": "ms",
                "observed": 40.0 + 6 * number,  # the last, 274 ms, is the worst
                "verdict": "pass",
                "scope": f"GET journey{number} /a/rather/long/path/{number}/{{id}}",
            }
        )
    perf_path.write_text(json.dumps(perf))
    chaos_path = runs_dir / RUN_C / "chaos" / "summary.json"
    chaos = json.loads(chaos_path.read_text())
    for number in range(12):
        chaos["checks"].append(
            {
                "id": f"chaos/experiment-{number}",
                "title": f"an experiment with a long title, number {number}",
                "verdict": "fail" if number % 3 == 0 else "pass",
                "message": "steady state missed after the rollback: " + "detail " * 30,
            }
        )
    chaos_path.write_text(json.dumps(chaos))


@pytest.fixture
def crowded_deck(runs_dir: Path, tmp_path: Path) -> Path:
    _crowd(runs_dir)
    data = figures.load(load_run(runs_dir / RUN_C))
    path = tmp_path / "qbr.pptx"
    path.write_bytes(qbr.build_deck(data, traceability.build(data)))
    return path


def _boxes(slide: object) -> list[tuple[str, int, int, int, int]]:
    return [
        (shape.name, shape.left, shape.top, shape.left + shape.width, shape.top + shape.height)
        for shape in slide.shapes  # type: ignore[attr-defined]
    ]


def test_no_two_shapes_overlap_and_every_shape_is_on_its_slide(crowded_deck: Path) -> None:
    deck = Presentation(str(crowded_deck))
    width, height = deck.slide_width, deck.slide_height
    assert width is not None
    assert height is not None
    checked = 0
    for number, slide in enumerate(deck.slides, start=1):
        boxes = _boxes(slide)
        for name, left, top, right, bottom in boxes:
            assert 0 <= left < right <= width, (number, name)
            assert 0 <= top < bottom <= height, (number, name)
        for a, b in itertools.combinations(boxes, 2):
            apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
            assert apart, f"slide {number}: {a[0]} overlaps {b[0]}"
            checked += 1
    assert checked > 10


def test_long_tables_are_summarised_and_the_slo_table_has_a_row_per_objective(
    crowded_deck: Path,
) -> None:
    deck = Presentation(str(crowded_deck))
    tables = {
        slide.shapes.title.text: shape.table
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_table
    }
    slo = tables["SLO attainment vs objectives"]
    names = [slo.cell(r, 0).text for r in range(1, len(slo.rows))]
    # Forty endpoint groups' latency are one row, naming the worst of them.
    latency = [n for n in names if n.startswith("SLO-LATENCY-P95 (perf")]
    assert len(latency) == 1, names
    assert "worst: GET journey39" in latency[0]
    chaos = tables["Chaos outcomes and resilience score"]
    last = chaos.cell(len(chaos.rows) - 1, 0).text
    assert re.fullmatch(r"… \d+ more rows \(all in the status page\)", last)
    for table in tables.values():
        for row in table.rows:
            assert row.height == slides.ROW
            for cell in row.cells:
                assert "\n" not in cell.text


def test_the_rendered_deck_keeps_every_word_on_its_page_and_tables_above_charts(
    crowded_deck: Path, tmp_path: Path
) -> None:
    soffice = require_tool("soffice", "libreoffice")
    pdftotext = require_tool("pdftotext")
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            *[soffice, f"-env:UserInstallation=file://{profile}", "--headless"],
            *["--convert-to", "pdf", "--outdir", str(tmp_path), str(crowded_deck)],
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    layout = subprocess.run(
        [pdftotext, "-bbox", str(tmp_path / "qbr.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    pages = list(PAGE.finditer(layout))
    assert len(pages) == len(Presentation(str(crowded_deck)).slides)
    below_tables = 0
    for number, page in enumerate(pages, start=1):
        page_w, page_h = float(page["w"]), float(page["h"])
        words = [m.groupdict() for m in WORD.finditer(page["body"])]
        assert words, f"page {number} has no text"
        for word in words:
            assert float(word["x1"]) <= page_w + 0.5, (number, word)
            assert float(word["y1"]) <= page_h + 0.5, (number, word)
        texts = {w["text"] for w in words}
        if "attainment" in texts:  # the SLO slide: verdicts are only in its table
            table_words = [w for w in words if w["text"] in VERDICT_WORDS]
            chart_title = "Error"  # "Error budget used (%)"
        elif "outcomes" in texts:  # the chaos slide: its table's last row is the summary
            table_words = [w for w in words if w["text"] == "status"]
            chart_title = "Resilience"  # "Resilience score per run" (the footer is below)
        else:
            continue
        titles = [w for w in words if w["text"] == chart_title]
        assert table_words, f"page {number}: the table's text was not found"
        assert titles, f"page {number}: the chart's title was not found"
        table_bottom = max(float(w["y1"]) for w in table_words)
        chart_top = min(float(w["y0"]) for w in titles)
        assert table_bottom < chart_top, f"page {number}: the table runs into its chart"
        below_tables += 1
    assert below_tables == 2
