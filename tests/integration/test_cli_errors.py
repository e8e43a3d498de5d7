"""User errors at the command line end in a message and exit 2, never a traceback; a closed
output pipe ends a command quietly; a missing optional driver names the extra to install.
Run as users run it: the installed `newsmon` script, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from replay.environment import newsmon_executable
from tests.helpers.config import REPO_ROOT, write_config

XINHUA = REPO_ROOT / "replay" / "site" / "xinhua_english/20240301/a1b2c3d4e5f6/c.html"


def run(*args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [newsmon_executable(), *(["--config", str(config)] if config else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    root = write_config(tmp_path / "config", {"database_url": f"sqlite:///{tmp_path / 'a.sqlite3'}",
                                              "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:9/x"}}},
                        rules={"zh": {"query": "新质生产力", "channels": ["hook"]}})
    assert run("init", config=root).returncode == 0
    return root


BAD_ARGUMENTS = [
    # (arguments, what the message must say)
    (["search", "x", "--since", "yesterday"], "argument --since: 'yesterday' is not a date"),
    (["search", "x", "--since", "2024-13-01"], "argument --since: '2024-13-01' is not a date"),
    (["search", "x", "--limit", "0"], "argument --limit: '0' is not a positive whole number"),
    (["search", "x", "--limit", "-3"], "argument --limit"),
    (["rules", "test", "zh", "--since", "last week"], "argument --since: 'last week' is not a date"),
    (["alerts", "--limit", "0"], "argument --limit: '0' is not a positive whole number"),
    (["alerts", "retry", "abc"], "argument ID: 'abc' is not a positive whole number"),
    (["query", "SELECT 1", "--limit", "-1"], "argument --limit"),
    (["query", "SELECT 1", "--timeout", "soon"], "argument --timeout"),
    (["worker"], "redis_url: distributed mode needs redis_url"),
]


@pytest.mark.parametrize("redis_url, message", [
    ("http://127.0.0.1:6379/0", "redis_url"),
    ("redis://", "redis_url"),
    ("redis://127.0.0.1:6379/0 extra", "redis_url"),
])
def test_a_bad_redis_url_names_the_field(tmp_path, redis_url, message):
    root = write_config(tmp_path / "config", {"database_url": f"sqlite:///{tmp_path / 'a.sqlite3'}",
                                              "redis_url": redis_url})
    out = run("worker", config=root)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("args, message", BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_exit_2_with_a_message(config, args, message):
    out = run(*args, config=config)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_good_since_still_filters(config):
    out = run("rules", "test", "zh", "--since", "2024-03-01", config=config)
    assert out.returncode == 0, out.stderr
    assert "0 article(s) match rule 'zh' since 2024-03-01" in out.stdout


def _first_line_then_close(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    """Like `cmd | head -1`: read one line, close the pipe while the command still writes."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.wait(timeout=120)
    return subprocess.CompletedProcess(cmd, proc.returncode, first, stderr)


@pytest.mark.parametrize("command", [
    # well over a pipe buffer (64 KB) of output, so the command is still writing when the reader goes
    pytest.param(lambda cfg: ["extract", *[str(XINHUA)] * 40, "--format", "text"], id="extract"),
    pytest.param(lambda cfg: ["--config", str(cfg), "query", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                              "SELECT i + 1 FROM n WHERE i < 100000) SELECT i FROM n"], id="query"),
])
def test_a_closed_pipe_ends_quietly(config, command):
    done = _first_line_then_close([newsmon_executable(), *command(config)])
    assert done.stdout.strip()
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 0


# Makes `import psycopg` fail as it does where the postgres extra is not installed.
_WITHOUT_PSYCOPG = """
import sys
class NoPsycopg:
    def find_spec(self, name, path=None, target=None):
        if name == "psycopg" or name.startswith("psycopg."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoPsycopg())
sys.argv = ["newsmon", *sys.argv[1:]]
from monitor.cli import main
sys.exit(main())
"""


@pytest.mark.parametrize("args", [["init"], ["status"], ["query", "SELECT 1"], ["search", "x"]],
                         ids=lambda a: a[0])
def test_postgres_without_its_driver_names_the_extra(tmp_path, args):
    root = write_config(tmp_path / "config", {"database_url": "postgresql+psycopg://newsmon@127.0.0.1:5432/newsmon"})
    out = subprocess.run([sys.executable, "-c", _WITHOUT_PSYCOPG, "--config", str(root), *args],
                         capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
                         env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert out.returncode == 2, out.stderr
    assert "pip install 'newsmon[postgres]'" in out.stderr
    assert "Traceback" not in out.stderr


def test_sqlite_works_without_psycopg(tmp_path):
    """The postgres extra is optional: a SQLite archive needs no psycopg, even to start."""
    root = write_config(tmp_path / "config", {"database_url": f"sqlite:///{tmp_path / 'a.sqlite3'}"})
    for args in (["init"], ["query", "SELECT count(*) FROM articles"]):
        out = subprocess.run([sys.executable, "-c", _WITHOUT_PSYCOPG, "--config", str(root), *args],
                             capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
                             env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
        assert out.returncode == 0, out.stderr
