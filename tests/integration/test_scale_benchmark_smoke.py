"""benchmarks/scale.py --distributed at a tiny size: it runs its three phases against the real Redis and
PostgreSQL and reports every article stored once. Timing targets are not checked here (see the benchmark)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers.config import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


def test_distributed_scale_benchmark_smoke(redis_url, postgres_url):
    # The fixtures only make the test skip when a server is absent; the benchmark makes its own databases
    # and key prefixes from the same servers and removes them.
    done = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "scale.py"), "--distributed",
                           "--articles", "40", "--hosts", "4", "--latency", "0.1,0.2", "--json",
                           "--redis-url", redis_url], capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: a target not met (timing is not judged here)
    summary = json.loads(done.stdout)
    assert list(summary["phases"]) == ["A", "B", "C"]
    for phase in summary["phases"].values():
        assert phase["crawl_exit"] == 0, done.stderr
        assert phase["stored"] == 40, done.stderr
        assert phase["missing"] == 0 and phase["duplicates"] == 0, done.stderr
    c = summary["phases"]["C"]
    assert c["alert_keys_not_once"] == 0 and c["alerts"] == 40 and c["webhook_posts"] == 40, done.stderr
