"""Find the processes a test started, however deep, by a marker in their environment.

Children inherit the environment, extraction workers included (their command line
names no config or test path), so a unique variable set on the outermost command
tags everything below it. Linux /proc only.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

MARKER_VARIABLE = "NEWSMON_TEST_PROCESS_MARKER"


def new_marker() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    cmdline: str


def marked_processes(marker: str) -> list[Proc]:
    """Live (not zombie) processes whose environment carries `marker`."""
    needle = f"{MARKER_VARIABLE}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # exited while we looked, or not ours
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ", which may hold spaces
        state, ppid, pgid = fields[0], int(fields[1]), int(fields[2])
        if state != "Z":
            found.append(Proc(int(entry.name), ppid, pgid, cmdline))
    return found


def describe(processes: list[Proc]) -> str:
    return "\n".join(f"pid {p.pid} ppid {p.ppid} pgid {p.pgid}: {p.cmdline}" for p in processes) or "none"


def wait_for_line(lines: list[str], needle: str, timeout: float, step: float = 0.05) -> str:
    """The first of `lines` (filled by a reader thread) containing `needle`, waiting up to `timeout` s."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(lines):
            if needle in line:
                return line
        time.sleep(step)
    raise AssertionError(f"no line with {needle!r} within {timeout}s:\n" + "\n".join(lines))
