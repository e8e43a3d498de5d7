"""The crawl processes this newsmon process is running, so a signal or a
shutdown can reach them all.

Two ways to stop a crawl: `terminate` asks the crawl process alone (Scrapy then
finishes its in-flight pages, with its extraction workers still there to help);
`kill` ends its whole process group at once and remembers why, so the sources
that never reported are recorded with that reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading

from monitor.process_group import signal_group


class RunningCrawl:
    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.kill_reason: str | None = None  # set when we killed it: what the sources' failure says
        # Reentrant: a signal handler in the same thread may stop crawls while one is being stopped.
        self._lock = threading.RLock()

    def terminate(self) -> None:
        with self._lock:
            if self.proc.returncode is None:  # not Popen.send_signal: its poll() would reap the group's leader
                try:
                    os.kill(self.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass  # exited already: nothing left to ask

    def kill(self, reason: str | None) -> None:
        """SIGKILL the crawl and everything in its group; `reason` None: only strays are left."""
        with self._lock:
            if reason is not None and self.kill_reason is None:
                self.kill_reason = reason
            signal_group(self.proc, signal.SIGKILL)

    def reap(self) -> int:
        with self._lock:  # no signal goes to its pid once it may be reused
            return self.proc.wait()


class CrawlRegistry:
    def __init__(self) -> None:
        self._crawls: set[RunningCrawl] = set()
        self._changed = threading.Condition()  # its default lock is reentrant (signal handlers)
        self._refusing: str | None = None

    def add(self, crawl: RunningCrawl) -> None:
        with self._changed:
            self._crawls.add(crawl)
            if self._refusing is not None:  # started after shutdown began: it would outlive it
                crawl.kill(self._refusing)

    def discard(self, crawl: RunningCrawl) -> None:
        with self._changed:
            self._crawls.discard(crawl)
            self._changed.notify_all()

    def terminate_all(self) -> int:
        with self._changed:
            crawls = list(self._crawls)
        for crawl in crawls:
            crawl.terminate()
        return len(crawls)

    def kill_all(self, reason: str) -> int:
        """Kill every running crawl, and any started from now on, until `accept_new`."""
        with self._changed:
            self._refusing = reason
            crawls = list(self._crawls)
        for crawl in crawls:
            crawl.kill(reason)
        return len(crawls)

    def accept_new(self) -> None:
        with self._changed:
            self._refusing = None

    def wait_idle(self, timeout: float) -> bool:
        """True once no crawl is running; False if some still are after `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._crawls, timeout=timeout)

    def __len__(self) -> int:
        with self._changed:
            return len(self._crawls)


running = CrawlRegistry()


def terminate_running() -> int:
    """Ask every running crawl to stop (Scrapy finishes in-flight pages on SIGTERM)."""
    return running.terminate_all()
