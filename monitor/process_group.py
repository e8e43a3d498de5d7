"""A child process and everything it started, as one unit.

A crawl runs in its own session (start_new_session=True), so it leads a process
group that also holds its extraction workers and multiprocessing's resource
tracker. Signalling the group reaches them all; signalling the child alone
leaves the workers running, holding the child's stdout open.

A group is named by its leader's pid, which stays reserved while the leader is
unreaped (alive or a zombie) or any member lives: so wait for the leader
without reaping it (`wait_exited`), signal the group, then reap.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

_POLL = 0.1  # seconds between checks while waiting for a child


def signal_group(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> bool:
    """Send `sig` to the group `proc` leads; False when no member is left to receive it."""
    if proc.returncode is not None:  # reaped: its pid may belong to someone else by now
        return False
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_exited(proc: subprocess.Popen, timeout: float | None) -> bool:
    """Wait up to `timeout` seconds (None: forever) for `proc` to exit, without reaping it."""
    if not hasattr(os, "waitid"):  # no WNOWAIT here: reaping is the only way to wait
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if proc.returncode is not None:
            return True
        try:
            if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:  # reaped by another waiter meanwhile
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(_POLL if deadline is None else max(0.0, min(_POLL, deadline - time.monotonic())))
