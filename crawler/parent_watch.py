"""Exit when the process that started us is gone.

A crawl whose newsmon was SIGKILLed, or an extraction worker whose crawl was,
would otherwise run on with nobody reading its results. Two mechanisms, because
each has a blind spot:

- Linux's PR_SET_PDEATHSIG: the kernel signals us the moment our parent dies,
  even while this interpreter is stuck in C code holding the GIL. It fires when
  the parent *thread* that started us ends, so it is only safe where that thread
  outlives us: newsmon's run_crawl blocks until the crawl's group is gone, and a
  crawl starts its extraction workers from its main thread.
- A watchdog thread comparing os.getppid() with the expected parent every second:
  portable, and it also catches a parent that died before we could ask.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_INTERVAL = 1.0  # seconds between parent checks


def exit_with_parent(parent_pid: int, *, kill_group: bool = False) -> None:
    """From now on, SIGKILL this process when `parent_pid` stops being its parent.

    `kill_group`: when this process leads its process group (a crawl started by
    newsmon), take the whole group with it: its extraction workers are in it.
    """
    _die_with_parent_thread()
    if os.getppid() != parent_pid:  # gone before we asked
        _orphaned(parent_pid, kill_group)
    threading.Thread(target=_watch, args=(parent_pid, kill_group), daemon=True,
                     name="newsmon-parent-watch").start()


def _die_with_parent_thread() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):  # no prctl in this libc: the watchdog alone will do
        return False


def _watch(parent_pid: int, kill_group: bool) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_INTERVAL)
    _orphaned(parent_pid, kill_group)


def _orphaned(parent_pid: int, kill_group: bool) -> None:
    try:
        print(f"newsmon: parent process {parent_pid} is gone; stopping (pid {os.getpid()})",
              file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass  # our stderr went with the parent: there is no one left to tell
    if kill_group and os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
