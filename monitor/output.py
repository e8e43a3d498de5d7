"""Rendering rows for people (aligned tables) and for scripts (csv, json).

`write_rows` streams: it holds at most TABLE_LOOKAHEAD rows (the table format sizes its
columns from them), so a query of millions of rows prints in constant memory.
`render` and `table` build a string, for the short listings of the other commands.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TextIO

TABLE_LOOKAHEAD = 1000  # rows read before the table's column widths are fixed


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def to_json(value: Any, *, indent: int | None = 2) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_default)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    """A plain aligned text table; long cells are cut with an ellipsis."""
    cells = [[_cell(v).replace("\n", " ") for v in row] for row in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], _display_width(c))
    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _display_width(v)) for v, w in zip(values, widths)).rstrip()
    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _display_width(text: str) -> int:
    """Wide (CJK) characters take two terminal columns."""
    import unicodedata

    if text.isascii():  # the common case, and a million-row table spends its time here
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """`text` cut with an ellipsis to at most `width` terminal columns."""
    if len(text) <= width // 2 or _display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = _display_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def write_rows(headers: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, out: TextIO,
               max_width: int = 200) -> int:
    """Write rows as they come, in `fmt` (table, csv or json); returns how many were written."""
    if fmt == "csv":
        return _write_csv(headers, rows, out)
    if fmt == "json":
        return _write_json(headers, rows, out)
    return _write_table(headers, rows, out, max_width)


def _write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    count = 0
    for count, row in enumerate(rows, 1):  # noqa: B007 (the last count is the result)
        writer.writerow([_cell(v) for v in row])
    return count


def _write_json(headers: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> int:
    """A JSON array of objects, one object a line, written as the rows arrive."""
    count = 0
    out.write("[")
    for count, row in enumerate(rows, 1):
        out.write(",\n  " if count > 1 else "\n  ")
        out.write(to_json(dict(zip(headers, row)), indent=None))
    out.write("\n]\n" if count else "]\n")
    return count


def _write_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO, max_width: int) -> int:
    """Column widths come from the first TABLE_LOOKAHEAD rows; later, longer cells are cut to fit."""
    rows = iter(rows)
    ahead = []
    for row in rows:
        ahead.append([_fit(_cell(v).replace("\n", " "), max_width) for v in row])
        if len(ahead) >= TABLE_LOOKAHEAD:
            break
    widths = [max([_display_width(h)] + [_display_width(r[i]) for r in ahead]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (w - _display_width(v)) for v, w in zip(values, widths)).rstrip() + "\n"

    out.write(line(list(headers)))
    out.write(line(["-" * w for w in widths]))
    for cells in ahead:
        out.write(line(cells))
    count = len(ahead)
    for row in rows:
        out.write(line([_fit(_cell(v).replace("\n", " "), w) for v, w in zip(row, widths)]))
        count += 1
    return count


def render(headers: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, max_width: int = 10_000) -> str:
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        return buf.getvalue().rstrip("\n")
    if fmt == "json":
        return to_json([dict(zip(headers, row)) for row in rows])
    return table(headers, rows, max_width=max_width)
