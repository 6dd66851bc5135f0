"""CSV files people open in spreadsheets: one writer, one rule against formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence


def safe_cell(text: str | None) -> str:
    """`text` as a cell no spreadsheet runs: a leading =, +, - or @ would make it a formula."""
    value = text or ""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A CSV document (RFC 4180: CRLF line ends, quotes only where a cell needs them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
