"""Pieces every config model shares: durations, strict models, one-line values."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}



def parse_duration(value: Any) -> float:
    """'15m' -> 900.0 seconds; plain numbers are seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m, 1h or 1d")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 15m, 1h or 1d")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_NAMES = {"\n": "line feed (LF)", "\r": "carriage return (CR)", "\t": "tab"}


def single_line(value: str, what: str = "the value") -> str:
    """Values that end up in a header or a protocol line (HTTP, SMTP) must be one line: a CR or
    LF splits the line (header injection) or makes the request fail on every retry. The
    message never repeats the value: it may be a secret."""
    found = _CONTROL_CHARACTER.search(value)
    if found:
        kind = _CONTROL_NAMES.get(found.group(), f"control character U+{ord(found.group()):04X}")
        where = "at its end" if found.start() == len(value) - 1 else f"at character {found.start() + 1}"
        raise ValueError(f"{what} contains a {kind} {where} (read from a file or an environment variable "
                         "with a trailing newline?); remove it")
    return value
