"""Plain-text tables for the command lines (`python -m pricing`, `python -m estimator`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

__all__ = ["render_text_table"]


def render_text_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, right_aligned: Collection[int] = ()
) -> str:
    """Columns padded to their widest cell, a rule under the headers; columns in `right_aligned` (by
    index) are aligned right, as figures read best. Ends without a newline."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(cell).rjust(width) if index in right_aligned else str(cell).ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=False))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)])
