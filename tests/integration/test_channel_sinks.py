"""`python -m replay.sinks`: the demo's receivers print one line per alert."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from monitor.channels import AlertMessage, EmailChannel, WebhookChannel
from monitor.config import EmailChannelConfig, WebhookChannelConfig
from tests.helpers.config import REPO_ROOT

MESSAGE = AlertMessage(alert_id=7, delivery_key="0b6e2d1c4f8a49b7a3e5c6d7e8f90a1b", rule="new_quality", title="新质生产力 in focus", url="http://x/a.html",
                       source="jjckb", published_at=None, snippet="…")


class Sink:
    """The command running, its output read in a thread so a silent sink fails the test, not hangs it."""

    def __init__(self, *args: str):
        env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        self.process = subprocess.Popen([sys.executable, "-m", "replay.sinks", *args], cwd=REPO_ROOT, env=env,
                                        text=True, encoding="utf-8", stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)

    def line(self, timeout: float = 10) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"the sink printed nothing within {timeout}s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def run_sink() -> Iterator:
    started: list[Sink] = []

    def run(*args: str) -> Sink:
        started.append(Sink(*args))
        return started[-1]

    yield run
    for sink in started:
        sink.stop()


def test_webhook_sink_command_prints_each_delivery(run_sink):
    sink = run_sink("webhook", "--secret", "k")
    banner = sink.line()
    url = re.search(r"http://127\.0\.0\.1:\d+/newsmon", banner).group(0)
    config = WebhookChannelConfig.model_validate({"type": "webhook", "url": url, "secret": "k"})
    with WebhookChannel("hook", config) as channel:
        channel.send(MESSAGE)
    line = sink.line()
    assert "alert=7 delivery=0b6e2d1c4f8a49b7a3e5c6d7e8f90a1b" in line and "rule=new_quality" in line and "新质生产力 in focus" in line
    assert "signature ok" in line


def test_smtp_sink_command_prints_each_email(run_sink):
    sink = run_sink("smtp")
    banner = sink.line()
    port = int(re.search(r"127\.0\.0\.1:(\d+)", banner).group(1))
    config = EmailChannelConfig.model_validate({"type": "email", "host": "127.0.0.1", "port": port,
                                                "security": "none", "from": "a@example.org",
                                                "to": ["desk@example.org"], "timeout": 5})
    with EmailChannel("mail", config) as channel:
        channel.send(MESSAGE)
    line = sink.line()
    assert "a@example.org -> desk@example.org" in line and "[newsmon] new_quality: 新质生产力 in focus" in line
