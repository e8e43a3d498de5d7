"""The command-line contract, run as users run it: the installed `newsmon` script."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from replay.environment import newsmon_executable
from tests.helpers.config import write_config

SITE = Path(__file__).resolve().parents[2] / "replay" / "site"
XINHUA = SITE / "xinhua_english/20240301/a1b2c3d4e5f6/c.html"
JJCKB_ZH = SITE / "jjckb/20240305/t20240305_2345678.htm"


def run(*args: str, config: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [newsmon_executable(), *args]
    if config is not None:
        cmd[1:1] = ["--config", str(config)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_extract_jsonl_one_object_per_file_in_order(tmp_path):
    missing = tmp_path / "missing.html"
    out = run("extract", str(JJCKB_ZH), str(missing), str(XINHUA), "--format", "jsonl")
    assert out.returncode == 1  # one file could not be read
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["path"] for r in lines] == [str(JJCKB_ZH), str(missing), str(XINHUA)]
    assert all(list(r) == ["path", "url", "title", "author", "date", "language", "text"] for r in lines)
    assert lines[0]["language"] == "zh" and "新质生产力" in lines[0]["text"] and lines[0]["date"] == "2024-03-05"
    assert lines[1]["text"] == "" and "missing.html" in out.stderr
    assert lines[2]["title"].startswith("Xinhua Headlines") and "Related Articles" not in lines[2]["text"]


def test_extract_json_and_text_formats():
    out = run("extract", str(XINHUA), "--url", "http://example.org/a.html")
    assert out.returncode == 0
    (record,) = json.loads(out.stdout)
    assert record["url"] == "http://example.org/a.html" and record["captions"]
    text = run("extract", str(XINHUA), "--format", "text")
    assert text.stdout.startswith(f"==> {XINHUA} <==")


@pytest.fixture
def archive_config(tmp_path):
    db = tmp_path / "a.sqlite3"
    return write_config(tmp_path / "config", {
        "database_url": f"sqlite:///{db}",
        "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:9/x"}},
    }, {"site": {"kind": "feed", "start_urls": ["http://127.0.0.1:9/feed.xml"]}},
        {"zh": {"query": "新质生产力", "channels": ["hook"]}})


def seed_archive(config: Path) -> None:
    """Store two articles the way the crawler does, without a crawl."""
    from monitor.config import load_config
    from monitor.dedup import canonical_url, content_hash
    from monitor.extract import extract_article
    from monitor.store import repo
    from monitor.store.session import make_engine, session_factory, session_scope

    cfg = load_config(config, {})
    sessions = session_factory(make_engine(cfg.database_url))
    with session_scope(sessions) as session:
        for n, file in enumerate([JJCKB_ZH, XINHUA]):
            result = extract_article(file.read_bytes())
            repo.add_article(session, url=f"http://site/{n}", canonical_url=canonical_url(f"http://site/{n}"),
                             source="site", title=result.title, text=result.text, language=result.language,
                             content_hash=content_hash(result.text), fetched_at=repo.utcnow())


def test_init_is_idempotent_and_commands_need_it(archive_config):
    before = run("status", config=archive_config)
    assert before.returncode == 1 and "newsmon init" in before.stderr
    assert run("init", config=archive_config).returncode == 0
    again = run("init", config=archive_config)
    assert again.returncode == 0 and "archive ready" in again.stdout


def test_query_is_read_only_and_formats(archive_config):
    run("init", config=archive_config)
    seed_archive(archive_config)
    as_csv = run("query", "SELECT source, count(*) AS n FROM articles GROUP BY source", "--format", "csv",
                 config=archive_config)
    assert as_csv.stdout.splitlines() == ["source,n", "site,2"]
    as_json = run("query", "SELECT title FROM articles ORDER BY id", "--format", "json", config=archive_config)
    assert json.loads(as_json.stdout)[0]["title"] == "科技创新开启“新质生产力”之门"
    for statement in ("DELETE FROM articles", "UPDATE articles SET title = 'x'", "DROP TABLE alerts",
                      "INSERT INTO source_state (source) VALUES ('x')"):
        denied = run("query", statement, config=archive_config)
        assert denied.returncode == 1 and "read-only" in denied.stderr, statement
    count = run("query", "SELECT count(*) AS n FROM articles", "--format", "json", config=archive_config)
    assert json.loads(count.stdout) == [{"n": 2}]
    bad = run("query", "SELECT nope FROM articles", config=archive_config)
    assert bad.returncode == 1 and "no such column" in bad.stderr


def test_search_and_rules(archive_config):
    run("init", config=archive_config)
    seed_archive(archive_config)
    found = run("search", "新质生产力 OR satellit*", config=archive_config)
    assert found.returncode == 0 and "2 match(es)" in found.stdout
    assert run("search", "title:xinhua", config=archive_config).stdout.count("\n#") == 0
    check = run("rules", "check", config=archive_config)
    assert check.returncode == 0 and "1 rule(s) valid" in check.stdout
    backtest = run("rules", "test", "zh", config=archive_config)
    assert "1 article(s) match rule 'zh'" in backtest.stdout and "would send to: hook" in backtest.stdout
    assert run("rules", "test", "nope", config=archive_config).returncode == 2
    syntax = run("search", "(unclosed", config=archive_config)
    assert syntax.returncode == 2 and "missing ')'" in syntax.stderr


def test_bad_config_exits_2_naming_file_and_field(tmp_path):
    config = write_config(tmp_path / "c", {"schedule": {"interval": "whenever"}})
    out = run("status", config=config)
    assert out.returncode == 2
    assert "newsmon.yaml: schedule.interval" in out.stderr


def test_alerts_retry_unknown_id(archive_config):
    run("init", config=archive_config)
    out = run("alerts", "retry", "999", config=archive_config)
    assert out.returncode == 1 and "no alert with id 999" in out.stderr
