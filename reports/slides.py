"""The deck's layout: slides, one-line tables that fit above the footer, native charts, and
the notes that name each figure's source. `reports.qbr` says what goes on the slides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.presentation import Presentation as Deck
from pptx.slide import Slide
from pptx.util import Emu, Inches, Length, Pt

from reports.figures import Figure

LEFT, TOP, WIDTH = Inches(0.5), Inches(1.4), Inches(9.0)
# Layout: a table row is one line of 10 pt text (cells are cut to fit, the full text is in the
# notes or the status page); everything stays above the footer line at BOTTOM.
ROW = Inches(0.32)
TITLE_H = Inches(0.9)
BOTTOM = Inches(6.6)
CHART_MIN = Inches(1.8)  # the least height a chart below a table gets
CELL_PT = 10
CHARS_PER_INCH = 13  # of 10 pt text, a little over its average width
CELL_MARGINS = 0.2  # inches, left and right together


class Sources:
    """Collects `label = value <- source` lines for a slide's notes."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.slide: Slide | None = None

    def write(self) -> None:
        """Put the collected lines into the slide's notes."""
        notes = None if self.slide is None else self.slide.notes_slide.notes_text_frame
        if notes is not None:
            notes.text = "Sources (runs directory):\n" + "\n".join(
                self.lines or ["no figures on this slide"]
            )

    def add(self, label: str, figure: Figure | None) -> float | None:
        if figure is None:
            return None
        self.lines.append(f"{label} = {figure.value} <- {figure.source}")
        return figure.value


def new_slide(deck: Deck, title: str, sources: Sources | None = None, text: str = "") -> Slide:
    slide: Slide = deck.slides.add_slide(deck.slide_layouts[5])  # "Title Only"
    heading = slide.shapes.title
    if heading is None:
        raise ValueError("the deck's 'Title Only' layout has no title placeholder")
    heading.text = title
    heading.text_frame.paragraphs[0].font.size = Pt(28)
    # One line of 28 pt, ending above the content (the layout's box reaches into it).
    heading.left, heading.top, heading.width, heading.height = LEFT, Inches(0.3), WIDTH, TITLE_H
    if text:
        box = slide.shapes.add_textbox(LEFT, Inches(6.7), WIDTH, Inches(0.5)).text_frame
        box.text = text
        box.paragraphs[0].font.size = Pt(11)
    if sources is not None:
        sources.slide = slide
    return slide


def cut(text: str, width: float) -> str:
    """`text` cut to one line of a cell `width` inches wide."""
    room = max(4, int((width - CELL_MARGINS) * CHARS_PER_INCH))
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def table(
    slide: Slide,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    top: Length = TOP,
    bottom: Length = BOTTOM,
    widths: Sequence[float] | None = None,
) -> Length:
    """A table of one-line rows between `top` and `bottom`; rows that do not fit are counted
    in a last row instead. `widths`: each column's share of the width (equal by default).
    Returns where the table ends."""
    fit = max(1, int((bottom - top) // ROW) - 1)
    shown = list(rows)
    if len(shown) > fit:
        rest = len(shown) - (fit - 1)
        shown = [*shown[: fit - 1], [f"… {rest} more rows (all in the status page)"]]
    height = Emu(ROW * (len(shown) + 1))
    shape = slide.shapes.add_table(len(shown) + 1, len(header), LEFT, top, WIDTH, height)
    shares = list(widths or [1.0] * len(header))
    inches = [WIDTH.inches * share / sum(shares) for share in shares]
    columns = shape.table.columns
    for col in range(len(columns)):
        columns[col].width = Inches(inches[col])
    for col, name in enumerate(header):
        shape.table.cell(0, col).text = cut(name, inches[col])
    for r, row in enumerate(shown, start=1):
        if len(row) == 1 and len(header) > 1:  # a summary row: one cell across the table
            shape.table.cell(r, 0).merge(shape.table.cell(r, len(header) - 1))
            shape.table.cell(r, 0).text = cut(row[0], WIDTH.inches)
            continue
        for col, value in enumerate(row):
            shape.table.cell(r, col).text = cut(value, inches[col])
    for row in shape.table.rows:
        row.height = ROW
        for cell in row.cells:
            for paragraph in cell.text_frame.paragraphs:
                paragraph.font.size = Pt(CELL_PT)
    return Emu(top + height)


def bullets(slide: Slide, items: Sequence[str], size: int, top: Length = TOP) -> None:
    """A bulleted list in one wrapping text box below the title."""
    frame = slide.shapes.add_textbox(LEFT, top, WIDTH, Inches(5)).text_frame
    frame.word_wrap = True
    for index, item in enumerate(items):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.text = f"• {item}"
        paragraph.font.size = Pt(size)


def tiles(slide: Slide, items: Sequence[tuple[str, str, str]], top: Length = TOP) -> Length:
    """Headline figures side by side: per figure a label, the value large and a line below,
    each in a band of its own so the values line up. Returns where the bands end."""
    gap = Inches(0.15)
    width = Emu(int((WIDTH - gap * (len(items) - 1)) / len(items)))
    bands = ((Inches(0.75), 13, False), (Inches(0.75), 28, True), (Inches(1.3), 12, False))
    for index, texts in enumerate(items):
        left = Emu(LEFT + index * (width + gap))
        y = top
        for (height, size, bold), text in zip(bands, texts, strict=True):
            frame = slide.shapes.add_textbox(left, y, width, height).text_frame
            frame.word_wrap = True
            frame.paragraphs[0].text = text
            frame.paragraphs[0].font.size = Pt(size)
            frame.paragraphs[0].font.bold = bold
            y = Emu(y + height)
    return Emu(top + sum(height for height, _, _ in bands))


def table_and_chart_box(rows: int) -> tuple[Length, tuple[float, float, float, float]]:
    """Where a table of `rows` rows may end so a chart fits below it, and the chart's box."""
    table_bottom = min(Emu(TOP + ROW * (rows + 1)), Emu(BOTTOM - CHART_MIN - Inches(0.2)))
    chart_top = table_bottom + Inches(0.2)
    return table_bottom, (0.5, chart_top / Inches(1), 9.0, (BOTTOM - chart_top) / Inches(1))


def chart(
    slide: Slide,
    kind: XL_CHART_TYPE,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    title: str,
    box: tuple[float, float, float, float] = (0.5, 1.4, 9.0, 5.0),
) -> None:
    data = CategoryChartData()  # type: ignore[no-untyped-call]  # python-pptx: untyped
    data.categories = list(categories)
    for name, values in series.items():
        data.add_series(name, list(values))  # type: ignore[no-untyped-call]
    x, y, cx, cy = (Inches(v) for v in box)
    # add_chart returns the GraphicFrame holding the chart; python-pptx's hints say Chart.
    frame: Any = slide.shapes.add_chart(kind, x, y, cx, cy, data)  # type: ignore[arg-type]
    chart = frame.chart
    # From zero: an axis that starts at the smallest bar makes 137 % look twice 136.9 %.
    chart.value_axis.minimum_scale = 0
    chart.has_title = True
    chart.chart_title.text_frame.text = title
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
