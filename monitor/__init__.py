"""newsmon: everything that is not fetching (config, archive, extraction, rules, delivery)."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _version() -> str:
    """The version has one home, pyproject.toml: read from the installed package's metadata,
    or, in a checkout run without installing, from the pyproject.toml beside it."""
    try:
        return version("newsmon")
    except PackageNotFoundError:
        pass
    try:
        text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return "0+unknown"
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
    return found.group(1) if found else "0+unknown"


__version__ = _version()
