"""Server-side SVG charts of the showback pages: geometry only, in integers (no floats reach a figure).

A chart is drawn by a template as SVG with a <title> and <desc>, and the same figures are always given as
a table beside it (``templates/showback/_chart.html``): the table is what a screen reader and a printout
read. Amounts stay in nano-units; heights are integer fractions of the tallest column."""

from collections.abc import Callable
from dataclasses import dataclass, field

CHART_HEIGHT = 100  # viewBox units
COLUMN_WIDTH = 10  # viewBox units per column; the bar is COLUMN_WIDTH - BAR_GAP wide
BAR_GAP = 2
SERIES_CLASSES = 8  # series-0 .. series-7 in the portal's CSS; "other" has its own class
OTHER = "other"


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    value: int
    y: int
    height: int
    css: str
    href: str


@dataclass(frozen=True)
class Column:
    label: str
    x: int
    total: int
    segments: list[Segment]
    href: str
    cells: list[int] = field(default_factory=list)  # the value of every series, in legend order (the table)

    @property
    def width(self) -> int:
        return COLUMN_WIDTH - BAR_GAP


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    css: str
    total: int


@dataclass(frozen=True)
class StackedChart:
    title: str
    desc: str
    columns: list[Column]
    series: list[Series]
    unit: str  # "money" (nano-units) or "count"
    height: int = CHART_HEIGHT

    @property
    def width(self) -> int:
        return max(1, len(self.columns)) * COLUMN_WIDTH

    @property
    def total(self) -> int:
        return sum(column.total for column in self.columns)

    @property
    def empty(self) -> bool:
        return not any(column.total for column in self.columns)


def top_keys(totals: dict[str, int], top: int) -> list[str]:
    """The ``top`` largest keys (by absolute value, then name); the rest are folded into ``OTHER``."""
    return [key for key, _value in sorted(totals.items(), key=lambda item: (-abs(item[1]), item[0]))[:top]]


def stacked_chart(
    *,
    title: str,
    columns: list[tuple[object, str]],
    values: dict[object, dict[str, int]],
    top: int,
    unit: str,
    label_of: Callable[[str], str] = str,
    segment_href: Callable[[object, str | None], str] = lambda column, key: "",
    desc: str = "",
) -> StackedChart:
    """Columns (``(id, label)`` in order) of bars stacked by series. ``values[column id][series key]``. The
    ``top`` largest series over the whole chart keep their own colour, the others become one "other"
    segment. ``segment_href(column id, key)`` gives a segment's link (key None: the whole column, and
    the "other" segment, which is not one value). Negative values (credits) are drawn as zero height; the
    table keeps them."""
    totals: dict[str, int] = {}
    for per_key in values.values():
        for key, value in per_key.items():
            totals[key] = totals.get(key, 0) + value
    kept = top_keys(totals, top)
    folded = [key for key in totals if key not in kept]
    legend = [
        Series(key, label_of(key), f"series-{index % SERIES_CLASSES}", totals[key]) for index, key in enumerate(kept)
    ]
    if folded:
        legend.append(Series(OTHER, f"other ({len(folded)})", "series-other", sum(totals[key] for key in folded)))
    tallest = max(
        [sum(max(0, value) for value in (values.get(column_id) or {}).values()) for column_id, _label in columns] + [1]
    )
    drawn = []
    for index, (column_id, label) in enumerate(columns):
        per_key = values.get(column_id) or {}
        cells = [per_key.get(series.key, 0) for series in legend if series.key != OTHER]
        if folded:
            cells.append(sum(per_key.get(key, 0) for key in folded))
        y = CHART_HEIGHT
        segments = []
        for series, value in zip(legend, cells, strict=True):
            height = max(0, value) * CHART_HEIGHT // tallest
            if value <= 0:
                continue
            y -= height
            segments.append(
                Segment(
                    key=series.key,
                    label=series.label,
                    value=value,
                    y=y,
                    height=max(height, 1),
                    css=series.css,
                    href=segment_href(column_id, None if series.key == OTHER else series.key),
                )
            )
        drawn.append(
            Column(
                label=label,
                x=index * COLUMN_WIDTH + BAR_GAP // 2,
                total=sum(cells),
                segments=segments,
                href=segment_href(column_id, None),
                cells=cells,
            )
        )
    return StackedChart(title=title, desc=desc, columns=drawn, series=legend, unit=unit)
