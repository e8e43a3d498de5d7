"""Timeouts that fire and no process left behind: a crawl hanging on a site that
never answers, with extraction workers running beside it, is killed with its whole
process group; a SIGKILLed daemon or crawl leaves no crawl or worker behind.

Every process a test starts carries a unique marker in its environment, so the
checks find extraction workers too (their command line names nothing of ours)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from replay.environment import newsmon_executable
from tests.helpers.config import write_config
from tests.helpers.hostile import HostileServer, wait_until
from tests.helpers.processes import MARKER_VARIABLE, Proc, describe, marked_processes, new_marker

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]

COMMAND_TIMEOUT = 60  # generous: a hung command fails the test instead of hanging it
GONE_TIMEOUT = 20     # for processes to disappear; the mechanisms act within about a second
EMPTY_FEED = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.fixture
def hanging_site():
    with HostileServer() as site:
        site.route("/feed.xml", EMPTY_FEED, content_type="application/rss+xml", delay=600)  # never answers
        yield site


def _config(tmp_path: Path, site: HostileServer, **crawl: object) -> Path:
    return write_config(tmp_path / "config", {
        "database_url": f"sqlite:///{tmp_path / 'archive.sqlite3'}",
        "schedule": {"interval": "1h", "delivery_interval": "1m"},
        "crawl": {"obey_robots_txt": False, "retry_times": 0, "download_timeout": "300s",
                  "extract_workers": 1, **crawl},
    }, {"hanging": {"kind": "feed", "start_urls": [site.url("/feed.xml")]}})


def _env(tmp_path: Path, marker: str) -> dict[str, str]:
    return {**os.environ, MARKER_VARIABLE: marker, "PYTHONUNBUFFERED": "1",
            "NEWSMON_DATABASE_URL": f"sqlite:///{tmp_path / 'archive.sqlite3'}"}


def _init(config: Path, env: dict[str, str]) -> None:
    subprocess.run([newsmon_executable(), "--config", str(config), "init"], env=env, check=True,
                   capture_output=True, timeout=COMMAND_TIMEOUT)


def _workers(marker: str) -> list[Proc]:
    return [p for p in marked_processes(marker) if "multiprocessing.spawn" in p.cmdline]


def _crawl_processes(marker: str) -> list[Proc]:
    return [p for p in marked_processes(marker) if " -m crawler " in p.cmdline]


def _wait_for_hanging_crawl(site: HostileServer, marker: str, proc: subprocess.Popen) -> None:
    """Until the crawl is waiting on the feed with its extraction worker started."""
    assert wait_until(lambda: "/feed.xml" in site.paths() and _workers(marker) or proc.poll() is not None,
                      timeout=COMMAND_TIMEOUT), describe(marked_processes(marker))
    assert proc.poll() is None, "the command exited before the crawl hung"


def _last_error(tmp_path: Path, source: str) -> str:
    with sqlite3.connect(tmp_path / "archive.sqlite3") as conn:
        (error,) = conn.execute("SELECT last_error FROM source_state WHERE source = ?", (source,)).fetchone()
    return error


def _assert_none_left(marker: str) -> None:
    assert wait_until(lambda: not marked_processes(marker), timeout=GONE_TIMEOUT), \
        describe(marked_processes(marker))


def _stop(proc: subprocess.Popen, marker: str) -> None:
    """Cleanup after a failed test: nothing of it may run on."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for p in marked_processes(marker):
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_crawl_past_subprocess_timeout_is_killed_with_its_workers(tmp_path, hanging_site):
    marker, config = new_marker(), _config(tmp_path, hanging_site, subprocess_timeout="10s")
    env = _env(tmp_path, marker)
    _init(config, env)
    proc = subprocess.Popen([newsmon_executable(), "--config", str(config), "crawl"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_hanging_crawl(hanging_site, marker, proc)
        stdout, stderr = proc.communicate(timeout=COMMAND_TIMEOUT)
    finally:
        _stop(proc, marker)
    assert proc.returncode == 1, stdout + stderr
    assert "crawl.subprocess_timeout" in stdout, stdout
    assert "crawl.subprocess_timeout" in _last_error(tmp_path, "hanging")
    _assert_none_left(marker)


def test_crawl_whose_leftovers_hold_its_output_does_not_hang(tmp_path):
    """The crawl finishes, but a process it started keeps its stdout open: the command still returns."""
    marker = new_marker()
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    # Python runs sitecustomize at startup: the crawl process leaves a sleeper holding its stdout and stderr.
    (hooks / "sitecustomize.py").write_text(
        "import os, subprocess\n"
        "with open('/proc/self/cmdline', 'rb') as f:\n"
        "    crawl = b'\\0-m\\0crawler\\0' in f.read()\n"
        "if crawl and os.environ.pop('NEWSMON_TEST_LEAVE_SLEEPER', None):\n"
        "    subprocess.Popen(['sleep', '600'])\n")
    with HostileServer() as site:
        site.route("/feed.xml", EMPTY_FEED, content_type="application/rss+xml")
        config = _config(tmp_path, site)
        env = _env(tmp_path, marker)
        _init(config, env)
        env.update(NEWSMON_TEST_LEAVE_SLEEPER="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(hooks), env.get("PYTHONPATH")])))
        proc = subprocess.Popen([newsmon_executable(), "--config", str(config), "crawl"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = proc.communicate(timeout=COMMAND_TIMEOUT)
        finally:
            _stop(proc, marker)
    assert proc.returncode == 0, stdout + stderr
    assert "hanging" in stdout and "ok" in stdout, stdout
    _assert_none_left(marker)


def _start_daemon(config: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([newsmon_executable(), "--config", str(config), "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_sigkilled_daemon_leaves_no_crawl_behind(tmp_path, hanging_site):
    marker, config = new_marker(), _config(tmp_path, hanging_site)
    env = _env(tmp_path, marker)
    _init(config, env)
    daemon = _start_daemon(config, env)
    try:
        _wait_for_hanging_crawl(hanging_site, marker, daemon)
        assert _crawl_processes(marker), describe(marked_processes(marker))
        daemon.kill()
        daemon.wait(timeout=COMMAND_TIMEOUT)
        _assert_none_left(marker)
    finally:
        _stop(daemon, marker)


def test_sigterm_kills_crawls_still_running_after_stop_grace(tmp_path, hanging_site):
    marker, config = new_marker(), _config(tmp_path, hanging_site, stop_grace="2s")
    env = _env(tmp_path, marker)
    _init(config, env)
    daemon = _start_daemon(config, env)
    try:
        _wait_for_hanging_crawl(hanging_site, marker, daemon)
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=COMMAND_TIMEOUT)
    finally:
        _stop(daemon, marker)
    assert daemon.returncode == 0, output
    assert "still running after 2s (crawl.stop_grace): killed" in output, output
    assert "newsmon daemon stopped" in output, output
    # Interrupted, not failed: the site did nothing wrong; the check is due again at the next start.
    with sqlite3.connect(tmp_path / "archive.sqlite3") as conn:
        runs = conn.execute("SELECT status, error_summary FROM crawl_runs WHERE source = 'hanging'").fetchall()
    assert [status for status, _ in runs] == ["interrupted"], runs
    assert "crawl.stop_grace" in runs[0][1]
    assert _last_error(tmp_path, "hanging") is None
    _assert_none_left(marker)


def test_sigkilled_crawl_leaves_no_extraction_worker(tmp_path, hanging_site):
    """The crawl process alone, as newsmon starts it (its own session), SIGKILLed: nobody
    else cleans up, so its workers must notice by themselves."""
    marker, config = new_marker(), _config(tmp_path, hanging_site)
    env = _env(tmp_path, marker)
    _init(config, env)
    crawl = subprocess.Popen([sys.executable, "-m", "crawler", "--config", str(config), "hanging"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_hanging_crawl(hanging_site, marker, crawl)
        crawl.kill()
        crawl.wait(timeout=COMMAND_TIMEOUT)
        _assert_none_left(marker)
    finally:
        _stop(crawl, marker)
