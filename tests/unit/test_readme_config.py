"""The newsmon.yaml example in README.md is a config newsmon accepts, key for key:
documentation that drifts from the config model fails here."""

from __future__ import annotations

import re
from pathlib import Path

from monitor.config import load_config

README = Path(__file__).resolve().parents[2] / "README.md"


def _example(first_line: str) -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return next(block for block in blocks if block.startswith(first_line))


def test_readme_newsmon_yaml_example_loads(tmp_path):
    (tmp_path / "newsmon.yaml").write_text(_example("# newsmon.yaml"), encoding="utf-8")
    names = set(re.findall(r"\$\{(\w+)", _example("# newsmon.yaml")))
    config = load_config(tmp_path, {name: f"value-of-{name.lower()}" for name in names})
    assert config.database_pool.size == 5 and config.crawl.workers >= 1
    assert config.channels, "the example defines channels"
