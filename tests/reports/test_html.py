"""The HTML status page: self-contained, accessible, failing first, rendered in Chromium."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from assay.record import load_run
from reports import figures, html, traceability
from reports.changes import changes
from reports.figures import ReportData
from tests.fixtures.runs.make_runs import RUN_C
from tests.reports.tools import require_tool


class _Page(HTMLParser):
    """Collects tags, attributes and ids of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


def _render(data: ReportData, cadence: html.Cadence = html.Cadence.WEEKLY) -> str:
    return html.render(data, traceability.build(data), cadence).decode()


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_page_has_landmarks_language_and_a_skip_link(data_b: ReportData) -> None:
    page = _parse(_render(data_b))
    assert page.all("html")[0]["lang"] == "en"
    for landmark in ("header", "nav", "main", "footer"):
        assert page.all(landmark), landmark
    assert page.all("a")[0]["href"] == "#main"


def test_images_have_alt_text_and_are_inline(data_c: ReportData) -> None:
    page = _parse(_render(data_c))
    images = page.all("img")
    assert len(images) == 3
    for image in images:
        assert (image.get("src") or "").startswith("data:image/svg+xml;base64,")
        assert len(image.get("alt") or "") > 20
    assert "182 ms" in (images[0]["alt"] or "")  # alt text carries the data


def test_page_is_self_contained(data_b: ReportData) -> None:
    text = _render(data_b)
    page = _parse(text)
    external = [
        a
        for t, a in page.tags
        for k in ("src", "href")
        if (a.get(k) or "").startswith(("http:", "https:", "//"))
    ]
    assert external == []
    assert not page.all("script")
    assert not page.all("link")


def test_tables_have_captions_and_scoped_headers(data_b: ReportData) -> None:
    text = _render(data_b)
    page = _parse(text)
    assert text.count("<caption>") == len(page.all("table"))
    assert all(th.get("scope") in {"col", "row"} for th in page.all("th"))


def test_failing_items_come_first(data_b: ReportData) -> None:
    text = _render(data_b)
    assert text.index('id="attention"') < text.index('id="slos"')
    attention = text[text.index('id="attention"') : text.index('id="slos"')]
    assert "chaos/restart-database" in attention
    assert "perf/steady-300rps" in attention
    slos = text[text.index('id="slos"') : text.index('id="trends"')]
    assert slos.index("SLO-ERROR-RATE") < slos.index("SLO-LATENCY-P95")


def test_evidence_links_resolve_to_manifest_items(data_b: ReportData) -> None:
    page = _parse(_render(data_b))
    ids = {a["id"] for _, a in page.tags if a.get("id")}
    anchors = [a["href"] for a in page.all("a") if (a.get("href") or "").startswith("#ev-")]
    assert anchors
    assert all((href or "")[1:] in ids for href in anchors)
    assert any(a.get("href") == "../evidence/manifest.json" for a in page.all("a"))
    assert len([i for i in ids if i.startswith("ev-")]) == len(data_b.manifest.items)


def test_ids_are_unique(data_b: ReportData) -> None:
    page = _parse(_render(data_b))
    ids = [a["id"] for _, a in page.tags if a.get("id")]
    assert len(ids) == len(set(ids))


DARK = [(f"dark {name}", pair) for name, pair in sorted(html.DARK_PALETTE.items())]


@pytest.mark.parametrize(("name", "pair"), [*sorted(html.PALETTE.items()), *DARK])
def test_palette_meets_wcag_aa_contrast(name: str, pair: tuple[str, str]) -> None:
    light, dark = sorted((_luminance(pair[0]), _luminance(pair[1])), reverse=True)
    assert (light + 0.05) / (dark + 0.05) >= 4.5, name


def test_monthly_page_shows_delivery_and_chaos(data_c: ReportData) -> None:
    text = _render(data_c, html.Cadence.MONTHLY)
    assert "Monthly exec status" in text
    assert "change failure rate" in text
    assert "resilience score" in text
    assert 'id="changes"' not in text


def test_same_runs_give_the_same_page(data_b: ReportData) -> None:
    assert _render(data_b) == _render(data_b)


def test_page_renders_in_headless_chromium(data_b: ReportData, tmp_path: Path) -> None:
    chromium = require_tool("chromium", "chromium-browser", "google-chrome")
    page = tmp_path / "status.html"
    page.write_text(_render(data_b))
    shot = tmp_path / "status.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,2000",
    ]
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a blank page is a few KB
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert re.search(r"<main id=\"main\">", dom)
    assert "Weekly ops status" in dom


def test_the_page_prints_to_a_few_clean_pages(data_b: ReportData, tmp_path: Path) -> None:
    chromium = require_tool("chromium", "chromium-browser", "google-chrome")
    pdfinfo, pdftotext = require_tool("pdfinfo"), require_tool("pdftotext")
    page = tmp_path / "status.html"
    page.write_text(_render(data_b))
    pdf = tmp_path / "status.pdf"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True)
    pages = int(re.search(r"^Pages:\s+(\d+)$", info.stdout, re.M)[1])  # type: ignore[index]
    assert 1 <= pages <= 8, pages
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Overall:" in text
    assert "What changed" in text
    # The skip link and the section links are for screens only.
    assert "Skip to content" not in text
    assert not [
        line for line in text.splitlines() if "Needs attention" in line and "Trends" in line
    ]


def _scoped(runs_dir: Path, run: str) -> None:
    """Per-journey results beside run's overall perf SLOs, one of them unjudged."""
    path = runs_dir / run / "perf" / "summary.json"
    summary = json.loads(path.read_text())
    for journey, observed in (("browse", 40.0), ("checkout", 250.0), ("login", 90.0)):
        summary["slos"].append(
            {
                "id": "SLO-LATENCY-P95",
                "objective": 300.0,
                "unit": "ms",
                "observed": observed,
                "verdict": "pass",
                "scope": f"journey:{journey}",
            }
        )
    summary["slos"].append(
        {
            "id": "SLO-CACHE-HIT",
            "objective": 85.0,
            "unit": "percent",
            "observed": 64.0,
            "verdict": "unjudged",
            "scope": "catalog cache",
        }
    )
    path.write_text(json.dumps(summary))


def test_slos_are_one_row_per_objective_with_every_scope_folded_below(runs_dir: Path) -> None:
    _scoped(runs_dir, RUN_C)
    text = _render(figures.load(load_run(runs_dir / RUN_C)))
    section = text[text.index('id="slos"') : text.index('id="trends"')]
    grouped, folded = section.split("<details>")
    latency = re.findall(r"SLO-LATENCY-P95 \(perf[^<]*\)", grouped)
    assert latency == ["SLO-LATENCY-P95 (perf, worst: journey:checkout)"]
    assert "journey:browse" not in grouped
    assert "journey:browse" in folded
    assert "<summary>Every scope judged" in folded
    # An unjudged SLO wears a grey badge and no budget figure, never a pass's green.
    cache = grouped[grouped.index("SLO-CACHE-HIT") :].split("</tr>")[0]
    assert "badge-skip" in cache
    assert "not judged" in cache
    assert " %</td>" not in cache


def test_two_runs_say_there_is_too_little_history_instead_of_drawing_a_trend(
    data_b: ReportData,
) -> None:
    text = _render(data_b)
    trends = text[text.index('id="trends"') : text.index('id="suites"')]
    assert "Request latency p95: not enough history for a trend (2 runs so far" in trends
    assert len(_parse(trends).all("img")) == 1  # the suite chart, of this run alone


def test_the_page_says_what_changed_since_the_run_before(
    data_b: ReportData, data_c: ReportData
) -> None:
    page = _render(data_b)
    changed = page[page.index('id="changed-h"') : page.index('id="attention"')]
    assert "Overall: pass → fail (3 failing checks)" in changed
    assert "Suite chaos: pass → fail" in changed
    assert "SLO-LATENCY-P95 (perf): pass → fail" in changed
    assert "Now failing: chaos/restart-database" in changed
    assert "No longer failing: chaos/restart-database" in _render(data_c)


def test_a_run_like_the_one_before_says_nothing_changed(data_c: ReportData) -> None:
    twin_id = "20261125T060000Z-0a0b0c"
    twin = replace(data_c.run, record=data_c.run.record.model_copy(update={"run_id": twin_id}))
    assert twin.run_id != data_c.run.run_id
    again = replace(data_c, runs=[twin, data_c.run])
    assert changes(again) == []
    assert "Nothing changed since run" in _render(again)
    first = replace(data_c, runs=[data_c.run])
    assert changes(first) == ["First run of this history: nothing to compare with."]


def test_a_dark_preference_gets_the_dark_palette_for_every_class(data_b: ReportData) -> None:
    page = _render(data_b)
    assert '<meta name="color-scheme" content="light dark">' in page
    dark = page[page.index("@media (prefers-color-scheme: dark){") :]
    assert set(html.DARK_PALETTE) == set(html.PALETTE)
    for name, (fg, bg) in html.DARK_PALETTE.items():
        assert f".{name}{{color:{fg};background:{bg}}}" in dark
    ink = html.DARK_PALETTE["ink"]
    assert f"body{{color:{ink[0]};background:{ink[1]}}}" in dark
