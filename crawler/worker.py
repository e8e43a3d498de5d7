"""A crawl process that checks sources as it is told, one Scrapy crawler per check,
in one reactor that keeps running (Twisted's reactor cannot restart in a process,
so a process is never reused for a second reactor: it retires and a new one starts).

What stays warm between checks: the interpreter and its imports, the extraction
processes, the archive's connection pool, Scrapy's DNS cache and robots.txt
(crawler.robots_cache). Two ways to feed it (monitor.crawl_protocol):

- `serve`: commands on stdin, one JSON line each, from the daemon; results,
  heartbeats and a retirement notice on stdout. End of input or SIGTERM: take
  no more checks, finish the ones held, exit 0.
- `run_once`: the given sources, all at once, then exit (`newsmon crawl`).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from scrapy.crawler import CrawlerProcess
from twisted.internet import task
from twisted.python.failure import Failure

from crawler.context import CrawlContext
from crawler.progress import report_result
from crawler.sources import spider_for
from monitor.config import NewsmonConfig
from monitor.crawl_protocol import HEARTBEAT_EVERY, HEARTBEAT_PREFIX, RETIRING_PREFIX
from monitor.statuses import RunStatus
from monitor.store import repo

SEEN_URL_EXPIRY_EVERY = 3600.0  # seconds between sweeps of expired seen-URL entries in a long-lived worker
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _reactor():
    """The running reactor. Imported late: importing it installs one, and Scrapy installs the
    asyncio reactor first (TWISTED_REACTOR)."""
    from twisted.internet import reactor

    return reactor


def resident_mib(pids: list[int]) -> float:
    """Resident memory of these processes, MiB (Linux /proc; 0 for a process that is gone)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total / 1_048_576


def build_worker(config: NewsmonConfig, *, log_level: str, progress: bool, long_lived: bool) -> CheckWorker:
    """A CheckWorker on the archive, in a process whose reactor is not installed yet."""
    from scrapy.utils.reactor import install_reactor

    from crawler.context import set_context
    from crawler.settings import CrawlSettings, build_settings
    from monitor.store.session import make_engine, session_factory

    sessions = session_factory(make_engine(config.database_url, config.database_pool))
    settings = CrawlSettings(build_settings(config, log_level=log_level))
    # Now, before anything imports twisted.internet.reactor (which would install the default one).
    install_reactor(settings["TWISTED_REACTOR"])
    context = CrawlContext(config=config, sessions=sessions, progress=progress)
    set_context(context)
    return CheckWorker(config, context, CrawlerProcess(settings),
                       max_checks=config.crawl.worker_max_checks if long_lived else None,
                       max_memory_mib=config.crawl.worker_max_memory if long_lived else None)


class CheckWorker:
    def __init__(self, config: NewsmonConfig, context: CrawlContext, process: CrawlerProcess, *,
                 max_checks: int | None = None, max_memory_mib: float | None = None):
        self.config = config
        self.context = context
        self.process = process
        self.max_checks = max_checks
        self.max_memory_mib = max_memory_mib
        self.running: dict[str, str] = {}  # check id -> source
        self.checks_done = 0
        self.accepting = True
        self.exit_when_idle = False
        self._heartbeat: task.LoopingCall | None = None
        # What retiring means: tell the daemon and stop (serve); a `newsmon worker` restarts itself.
        self.on_retire: Callable[[str], None] = self._retire

    # --- checks -----------------------------------------------------------------

    def check(self, source: str, check_id: str | None = None, next_check_at: datetime | None = None) -> None:
        check_id = check_id or source
        if not self.accepting or check_id in self.running:
            # Not a failure of the source: the daemon hands the check to another worker.
            report_result(dict(source=source, check=check_id, status=RunStatus.FAILED, refused=True,
                               error="the worker was stopping" if not self.accepting else "already running here"))
            return
        config = self.config.sources.get(source)
        if config is None:
            self._result_without_crawl(source, check_id, f"no source {source!r} in this worker's config "
                                       "(it changed since the worker started; the next worker has it)")
            return
        self.running[check_id] = source
        done = self.process.crawl(spider_for(config), source=config, check_id=check_id, next_check_at=next_check_at)
        done.addBoth(self._finished, check_id)

    def _result_without_crawl(self, source: str, check_id: str, error: str) -> None:
        """A RESULT for a check that produced none: recorded in the archive and reported."""
        self.context.write_soon(repo.record_source_failure, source, error)
        report_result(dict(source=source, check=check_id, status=RunStatus.FAILED, errors=1, error=error))
        self.context.reported.add(check_id)

    def _finished(self, outcome: object, check_id: str) -> None:
        """A check's crawler is done; one that printed no RESULT (it failed to start, or a bug
        stopped it) gets one saying why."""
        source = self.running.pop(check_id, None)
        self.checks_done += 1
        if check_id not in self.context.reported and source is not None:
            why = (f"crawler failed: {outcome.type.__name__}: {outcome.getErrorMessage()}"
                   if isinstance(outcome, Failure) else "the check ended without a result (see the crawl log)")
            self._result_without_crawl(source, check_id, why)
        self.context.reported.discard(check_id)
        if self.accepting:
            self._maybe_retire()
        if self.exit_when_idle and not self.running:
            self._exit()

    # --- lifecycle ------------------------------------------------------------------

    def _maybe_retire(self) -> None:
        reason = None
        if self.max_checks is not None and self.checks_done >= self.max_checks:
            reason = f"{self.checks_done} checks done (crawl.worker_max_checks)"
        elif self.max_memory_mib is not None:
            rss = resident_mib(self.context.process_ids())
            if rss > self.max_memory_mib:
                reason = f"{rss:.0f} MiB resident (crawl.worker_max_memory {self.max_memory_mib:g})"
        if reason is not None:
            self.on_retire(reason)

    def _retire(self, reason: str) -> None:
        print(RETIRING_PREFIX + json.dumps({"reason": reason}), flush=True)
        self.stop()

    def stop(self) -> None:
        """Take no more checks; exit once the ones held are done."""
        self.accepting = False
        self.exit_when_idle = True
        if not self.running:
            self._exit()

    def _exit(self) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        if _reactor().running:
            _reactor().stop()

    def heartbeat(self) -> None:
        print(HEARTBEAT_PREFIX + json.dumps({"running": len(self.running), "checks": self.checks_done,
                                             "rss_mib": round(resident_mib(self.context.process_ids()), 1)}),
              flush=True)

    def command(self, line: str) -> None:
        """One line from the daemon (monitor.crawl_protocol)."""
        try:
            message = json.loads(line)
            op = message["op"]
        except (ValueError, KeyError, TypeError):
            print(f"newsmon worker: unreadable command {line[:200]!r}", file=sys.stderr, flush=True)
            return
        if op == "check":
            when = message.get("next_check_at")
            self.check(message["source"], message.get("check"), datetime.fromisoformat(when) if when else None)
        elif op == "stop":
            self.stop()
        else:
            print(f"newsmon worker: unknown command {op!r}", file=sys.stderr, flush=True)

    # --- the two ways to run ------------------------------------------------------------

    def serve(self) -> None:
        """Take commands from stdin until told to stop (or stdin closes); blocks in the reactor."""
        def read_commands() -> None:
            for line in sys.stdin:
                if line.strip():
                    _reactor().callFromThread(self.command, line)
            _reactor().callFromThread(self.stop)  # the daemon is gone or done with us

        def on_signal(_signum, _frame) -> None:
            _reactor().callFromThread(self.stop)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self._heartbeat = task.LoopingCall(self.heartbeat)
        self._heartbeat.start(HEARTBEAT_EVERY, now=True)
        task.LoopingCall(self.forget_seen_urls).start(SEEN_URL_EXPIRY_EVERY, now=True)
        threading.Thread(target=read_commands, daemon=True, name="newsmon-worker-commands").start()
        self.process.start(stop_after_crawl=False, install_signal_handlers=False)

    def run_once(self, sources: list[str]) -> None:
        """Check every source in `sources` at once, then return."""
        if not sources:
            return
        self.forget_seen_urls()
        self.exit_when_idle = True
        for name in sources:
            _reactor().callWhenRunning(self.check, name)
        self.process.start(stop_after_crawl=False)

    def forget_seen_urls(self) -> None:
        """The memory of fetched non-article URLs expires (crawl.seen_url_retention)."""
        self.context.write_soon(repo.forget_seen_urls,
                                repo.utcnow() - timedelta(seconds=self.config.crawl.seen_url_retention))
