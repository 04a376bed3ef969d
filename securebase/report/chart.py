"""Summary chart as inline SVG: one stacked bar per framework section.

The SVG is written by hand so the PDF keeps vector graphics and the report needs no
plotting library.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from securebase.controls import Rating, SectionSummary

COLORS = {
    Rating.MET: "#2e7d32",
    Rating.PARTLY_MET: "#f9a825",
    Rating.NOT_MET: "#c62828",
    Rating.NO_EVIDENCE: "#9e9e9e",
}
LABEL_WIDTH = 250
BAR_WIDTH = 380
ROW_HEIGHT = 22
BAR_HEIGHT = 14
LEGEND_HEIGHT = 28
MAX_LABEL_CHARACTERS = 40


def section_chart(sections: Sequence[SectionSummary]) -> Markup:
    """Draw each section's requirements as a bar split by rating, widths in proportion to counts."""
    width = LABEL_WIDTH + BAR_WIDTH + 40
    height = LEGEND_HEIGHT + ROW_HEIGHT * max(len(sections), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="Requirements by section and rating">'
    ]
    parts += _legend()
    for row, summary in enumerate(sections):
        top = LEGEND_HEIGHT + row * ROW_HEIGHT
        label = summary.section
        if len(label) > MAX_LABEL_CHARACTERS:
            label = label[: MAX_LABEL_CHARACTERS - 1] + "…"
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{top + BAR_HEIGHT - 3}" text-anchor="end" font-size="10">'
            f"{escape(label)}</text>"
        )
        left = float(LABEL_WIDTH)
        for rating in Rating:
            count = summary.counts.get(rating, 0)
            if not count:
                continue
            span = BAR_WIDTH * count / summary.total
            parts.append(
                f'<rect x="{left:.1f}" y="{top}" width="{span:.1f}" height="{BAR_HEIGHT}" fill="{COLORS[rating]}">'
                f"<title>{escape(rating.value)}: {count}</title></rect>"
            )
            if span >= 14:
                parts.append(
                    f'<text x="{left + span / 2:.1f}" y="{top + BAR_HEIGHT - 3}" text-anchor="middle" '
                    f'font-size="9" fill="#ffffff">{count}</text>'
                )
            left += span
        parts.append(
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{top + BAR_HEIGHT - 3}" font-size="9">{summary.total}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend() -> list[str]:
    parts = []
    left = LABEL_WIDTH
    for rating in Rating:
        parts.append(f'<rect x="{left}" y="4" width="10" height="10" fill="{COLORS[rating]}"/>')
        parts.append(f'<text x="{left + 14}" y="13" font-size="9">{escape(rating.value)}</text>')
        left += 22 + 6 * len(rating.value)
    return parts
