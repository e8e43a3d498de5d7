"""log_format, from outside: a crawl's log lines name their source; with `json` every line a
crawl or the daemon writes is one JSON object, secrets masked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from replay.environment import newsmon_executable
from tests.helpers.config import write_config
from tests.helpers.hostile import HostileServer

pytestmark = pytest.mark.slow

SOURCE = "harbour_daily"
SECRET = "feed-key-5ecret-9a7b"
REQUIRED = {"timestamp", "level", "logger", "source", "message"}
ARTICLE = ("<html><head><title>Harbour reopens</title></head><body><article><h1>Harbour reopens</h1>"
           + "".join(f"<p>The harbour reopened on Monday, day {n} of the season, after repairs that took most of "
                     f"the winter; the port authority counted {n * 17} ships waiting outside.</p>" for n in range(6))
           + "</article></body></html>")


@pytest.fixture(scope="module")
def site():
    with HostileServer("127.0.0.2").start() as server:
        items = "".join(f"<item><title>{title}</title><link>{server.url(path)}</link></item>"
                        for title, path in (("Harbour reopens", "/2024/harbour.html"), ("Gone", f"/2024/gone.html?key={SECRET}")))
        server.route("/feed.xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour</title>'
                     f"{items}</channel></rss>", content_type="application/rss+xml")
        server.route("/2024/harbour.html", ARTICLE, content_type="text/html; charset=utf-8")
        yield server  # /2024/gone.html: 404, logged as this source's error (with the secret in its URL)


def _config(root: Path, site: HostileServer, log_format: str, **newsmon: object) -> Path:
    config = write_config(root / "config", {
        "database_url": f"sqlite:///{root / 'archive.sqlite3'}",
        "log_format": log_format,
        "crawl": {"obey_robots_txt": False, "retry_times": 0, "autothrottle": False, "extract_workers": 0},
        **newsmon,
    }, {SOURCE: {"kind": "feed", "start_urls": [site.url("/feed.xml?key=${FEED_KEY}")]}})
    subprocess.run([newsmon_executable(), "--config", str(config), "init"], env=_env(), check=True,
                   capture_output=True, timeout=60)
    return config


def _env() -> dict[str, str]:
    return {**os.environ, "FEED_KEY": SECRET, "PYTHONUNBUFFERED": "1"}


def _crawl(config: Path) -> subprocess.CompletedProcess[str]:
    """What `newsmon crawl -v` runs, with its stderr (newsmon crawl keeps that for failure messages)."""
    return subprocess.run([sys.executable, "-m", "crawler", "--config", str(config), "--log-level", "INFO", SOURCE],
                          capture_output=True, text=True, env=_env(), timeout=120)


def _records(text: str) -> list[dict]:
    records = []
    for line in text.splitlines():
        record = json.loads(line)  # every line: one object
        assert isinstance(record, dict), line
        assert REQUIRED <= set(record), line
        records.append(record)
    return records


def test_json_crawl_log_is_one_object_per_line_with_the_source(tmp_path, site):
    done = _crawl(_config(tmp_path, site, "json"))
    assert done.returncode == 0, done.stderr
    records = _records(done.stderr)
    about = [r for r in records if r["source"] == SOURCE]
    assert any(r["logger"].startswith("scrapy.") for r in about), "Scrapy's own lines name the source"
    missing = [r for r in about if "/2024/gone.html" in r["message"] and r["level"] == "WARNING"]
    assert missing and "HTTP 404" in missing[0]["message"]
    assert any(r["message"] == "Spider opened" for r in about)
    assert all(r["source"] in (None, SOURCE) for r in records)
    assert all(r["timestamp"].endswith("Z") for r in records)
    assert SECRET not in done.stderr and "gone.html?key=***: HTTP 404" in missing[0]["message"]


def test_text_crawl_log_names_the_source(tmp_path, site):
    done = _crawl(_config(tmp_path, site, "text"))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    missing = [line for line in lines if "/2024/gone.html?key=***: HTTP 404" in line]
    assert missing and all(f"[{SOURCE}] " in line for line in missing)
    assert any(f"scrapy.core.engine: [{SOURCE}] Spider opened" in line for line in lines)
    with pytest.raises(ValueError):
        json.loads(lines[0])
    assert SECRET not in done.stderr


def test_json_config_error_after_load_is_json(tmp_path, site):
    config = _config(tmp_path, site, "json")
    done = subprocess.run([sys.executable, "-m", "crawler", "--config", str(config), "nonesuch"],
                          capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode == 2
    (record,) = _records(done.stderr)
    assert record["level"] == "ERROR" and "nonesuch" in record["message"]


def test_json_daemon_output_is_all_json(tmp_path, site):
    config = _config(tmp_path, site, "json", schedule={"interval": "1h", "delivery_interval": "1m",
                                                       "lag_report_every": "1s"})
    proc = subprocess.Popen([newsmon_executable(), "--config", str(config), "-v", "run"], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    streams: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def pump(name: str) -> None:
        for line in getattr(proc, name):
            streams[name].append(line.rstrip("\n"))

    pumps = [threading.Thread(target=pump, args=(name,), daemon=True) for name in streams]
    for thread in pumps:
        thread.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any("checks in the last" in line and "1 done" in line
                                                          for line in streams["stdout"]):
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for thread in pumps:
        thread.join(timeout=10)
    out, err = "\n".join(streams["stdout"]), "\n".join(streams["stderr"])
    stdout, stderr = _records(out), _records(err)
    messages = [r["message"] for r in stdout]
    assert any(m.startswith("newsmon daemon running") for m in messages), out
    assert any("checks in the last" in m and "1 done" in m for m in messages), out
    assert messages[-1] == "newsmon daemon stopped"
    assert all(r["logger"] == "newsmon.daemon" and r["level"] == "INFO" for r in stdout)
    (checked,) = [r for r in stdout if r["message"].startswith(f"crawl {SOURCE}:")]
    assert checked["source"] == SOURCE and "HTTP 404" in checked["message"]
    relayed = [r for r in stderr if "worker" in r]  # the crawl worker's own records, passed on
    assert relayed and all(isinstance(r["worker"], int) for r in relayed)
    assert any(r["source"] == SOURCE and "/2024/gone.html" in r["message"] for r in relayed), err
    assert SECRET not in out + err


@pytest.mark.redis
def test_json_newsmon_worker_output_is_all_json(tmp_path, site, redis_url, redis_prefix):
    config = _config(tmp_path, site, "json", redis_url=redis_url, redis_prefix=redis_prefix)
    worker = subprocess.Popen([newsmon_executable(), "--config", str(config), "-v", "worker"], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        crawl = subprocess.run([newsmon_executable(), "--config", str(config), "crawl", SOURCE],
                               capture_output=True, text=True, env=_env(), timeout=120)
        assert crawl.returncode == 0 and "partial" in crawl.stdout, crawl.stdout + crawl.stderr  # the 404
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, out + err
    stdout, stderr = _records(out), _records(err)
    (checked,) = [r for r in stdout if r["message"].startswith(f"[{SOURCE}] ")]
    assert checked["source"] == SOURCE and checked["logger"] == "newsmon.worker"
    assert any(r["source"] == SOURCE and "gone.html?key=***: HTTP 404" in r["message"] for r in stderr), err
    assert any(r["source"] == SOURCE and r["logger"].startswith("scrapy.") for r in stderr), err
    assert SECRET not in out + err
