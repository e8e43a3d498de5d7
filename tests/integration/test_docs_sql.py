"""Every SQL example in docs/archive.md runs on an archive crawled from the replay site."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from replay.environment import ReplayEnvironment

DOC = Path(__file__).resolve().parents[2] / "docs" / "archive.md"
EXAMPLES = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    db = tmp_path_factory.mktemp("docs") / "archive.sqlite3"
    with ReplayEnvironment(f"sqlite:///{db}") as env:
        env.newsmon("init")
        env.newsmon("crawl", "--quiet", check=False)
        yield env


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("sql", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_example_runs_and_returns_rows(world, sql):
    out = world.newsmon("query", sql, "--format", "json", check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout), f"no rows from:\n{sql}"


def test_documented_columns_exist(world):
    documented = set(re.findall(r"^\| `(\w+)`", DOC.read_text(encoding="utf-8"), re.M))
    out = world.newsmon("query", "SELECT * FROM articles LIMIT 1", "--format", "json")
    columns = set(json.loads(out.stdout)[0])
    story_columns = set(json.loads(world.newsmon("query", "SELECT * FROM stories LIMIT 1", "--format", "json").stdout)[0])
    missing = documented - columns - story_columns - {"title", "author", "language", "outlet"}
    assert not missing, f"documented but not in the archive: {missing}"
