"""Who holds an outbox claim, and whether that process still runs.

A claim names its owner as "host:pid:start-token". The start token tells a
process apart from a later one that got the same pid (a restarted container's
daemon is often pid 1 again): on Linux it is the boot id and the process's start
time from /proc, which anyone can read for any pid; elsewhere a random token,
which only the process itself knows.

A claim whose owner is on this host and gone (no such pid, or a pid whose start
token differs) can be released at once. A claim from another host, or one we
cannot judge, waits for its lease to expire.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_PROC = Path("/proc")


def _boot_id() -> str | None:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:12]
    except OSError:
        return None


def proc_start_token(pid: int) -> str | None:
    """'<boot id>.<start time in clock ticks>' of a running pid, from /proc; None where
    there is no /proc or no such process."""
    boot = _boot_id()
    if boot is None:
        return None
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')':
    # fields after the last ')' start at field 3; the start time is field 22.
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20:
        return None
    return f"{boot}.{fields[19]}"


@dataclass(frozen=True)
class ClaimOwner:
    host: str
    pid: int
    token: str

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"

    @classmethod
    def parse(cls, text: str | None) -> ClaimOwner | None:
        """The owner named in a claimed_by value; None for an empty or malformed one."""
        parts = (text or "").rsplit(":", 2)
        if len(parts) != 3:
            return None
        host, pid, token = parts
        # pid 0 or negative would make os.kill address a process group.
        if not host or not token or not pid.isascii() or not pid.isdigit() or int(pid) <= 0:
            return None
        return cls(host, int(pid), token)


@cache
def _this_process(pid: int) -> ClaimOwner:
    # Keyed by pid: a forked child computes its own identity.
    token = proc_start_token(pid) or f"r{uuid.uuid4().hex[:16]}"
    return ClaimOwner(socket.gethostname(), pid, token)


def this_process() -> ClaimOwner:
    return _this_process(os.getpid())


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def owner_is_gone(claimed_by: str | None, me: ClaimOwner | None = None) -> bool:
    """True only when the claim's owner certainly no longer runs: it was on this host
    and its pid is free or now belongs to another process."""
    me = me or this_process()
    owner = ClaimOwner.parse(claimed_by)
    if owner is None or owner.host != me.host:
        return False  # unknown or elsewhere: the lease decides
    if owner.pid == me.pid:
        return owner.token != me.token  # our pid, but an earlier process's claim
    if not _pid_exists(owner.pid):
        return True
    if owner.token.startswith("r"):
        return False  # a random token only its owner knows: cannot tell, wait for the lease
    current = proc_start_token(owner.pid)
    return current is not None and current != owner.token
