"""Config directories as users write them, for tests."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_config(root: Path, newsmon: dict, sources: dict[str, dict] | None = None,
                 rules: dict[str, dict] | None = None) -> Path:
    """A config directory as users write it: newsmon.yaml, sources/*.yaml, rules/*.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "newsmon.yaml").write_text(yaml.safe_dump(newsmon, allow_unicode=True), encoding="utf-8")
    for folder, files in (("sources", sources or {}), ("rules", rules or {})):
        (root / folder).mkdir(exist_ok=True)
        for name, data in files.items():
            (root / folder / f"{name}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return root
