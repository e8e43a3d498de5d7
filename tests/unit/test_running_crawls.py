"""Process groups and a running crawl stopped as one, on real processes: a shell
that leads its own session and leaves a `sleep` in its group, as a crawl leaves
its extraction workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from monitor.process_group import signal_group, wait_exited
from monitor.running_crawls import RunningCrawl
from tests.helpers.hostile import wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups as on Linux")


def _leader_with_member(*, leader_exits: bool) -> tuple[subprocess.Popen, int]:
    """A group leader (its own session) and a `sleep` member; returns the member's pid."""
    script = "sleep 600 & echo $!; " + ("exit 0" if leader_exits else "wait")
    proc = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    return proc, int(proc.stdout.readline())


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_wait_exited_leaves_the_leader_unreaped_so_its_group_can_still_be_killed():
    proc, member = _leader_with_member(leader_exits=True)
    try:
        assert wait_exited(proc, timeout=30)
        assert proc.returncode is None, "not reaped"
        assert _alive(member)
        assert signal_group(proc, signal.SIGKILL)
        assert wait_until(lambda: not _alive(member), timeout=10)
        assert proc.wait() == 0
        assert not signal_group(proc, signal.SIGKILL), "a reaped leader's pid is never signalled"
    finally:
        if _alive(member):
            os.kill(member, signal.SIGKILL)


def test_wait_exited_times_out_on_a_running_child():
    proc, member = _leader_with_member(leader_exits=False)
    try:
        assert not wait_exited(proc, timeout=0.3)
    finally:
        signal_group(proc, signal.SIGKILL)
        proc.wait()


def test_kill_ends_the_whole_group_and_keeps_the_first_reason():
    proc, member = _leader_with_member(leader_exits=False)
    crawl = RunningCrawl(proc)
    crawl.kill("timed out")
    crawl.kill("shutting down")
    assert crawl.reap() == -signal.SIGKILL
    assert crawl.kill_reason == "timed out"
    assert wait_until(lambda: not _alive(member), timeout=10)
