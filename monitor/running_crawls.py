"""`newsmon crawl`'s crawl process (monitor.crawl_runner), stopped as one unit.

`kill` ends its whole process group at once (its extraction workers are in it) and
remembers why, so the sources that never reported are recorded with that reason.
"""

from __future__ import annotations

import signal
import subprocess
import threading

from monitor.process_group import signal_group


class RunningCrawl:
    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.kill_reason: str | None = None  # set when we killed it: what the sources' failure says
        # Reentrant: a signal handler (Ctrl-C) in the same thread may stop it while it is being stopped.
        self._lock = threading.RLock()

    def kill(self, reason: str | None) -> None:
        """SIGKILL the crawl and everything in its group; `reason` None: only strays are left."""
        with self._lock:
            if reason is not None and self.kill_reason is None:
                self.kill_reason = reason
            signal_group(self.proc, signal.SIGKILL)

    def reap(self) -> int:
        with self._lock:  # no signal goes to its pid once it may be reused
            return self.proc.wait()
