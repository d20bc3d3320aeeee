"""Search matches highlighted in drawn lines: a finished message is shown as the lines its
Markdown drew (``RenderedSegment``), so a match is marked on those lines as they are shown,
without drawing the Markdown again."""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from synergia_tui.core.search_marks import find_matches


def highlight_strip(strip: Strip, pattern: re.Pattern[str], style: Style) -> Strip:
    """``strip`` with each match of ``pattern`` (``search_marks.pattern_for``) in its text
    drawn over with ``style``; the strip itself when nothing matches."""
    text = strip.text
    spans = find_matches(text, pattern)
    if not spans:
        return strip
    cells = [0]
    for char in text:
        cells.append(cells[-1] + cell_len(char))
    cuts: list[int] = []
    for start, end in spans:
        cuts += [cells[start], cells[end]]
    cuts.append(strip.cell_length)
    parts = strip.divide(cuts)
    return Strip.join(
        Strip(Segment.apply_style(list(part), post_style=style), part.cell_length)
        if index % 2
        else part
        for index, part in enumerate(parts)
    )
