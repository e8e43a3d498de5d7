"""SIGHUP: read the config directory again and say what changed.

A config that fails validation changes nothing: the error is reported and the running
config stays. Sources and rules added, changed or removed take effect at their next due
time (the daemon's dispatcher and delivery pass read the new config); settings that shape
running processes (the archive, Redis, the worker count) need a restart, and are named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from monitor.config import NewsmonConfig, load_config
from monitor.errors import NewsmonError

# Settings read once, when a process starts: a reload reports them instead of applying them.
RESTART_ONLY = ("database_url", "query_database_url", "database_pool", "redis_url", "redis_prefix", "metrics",
                "log_format")
RESTART_ONLY_CRAWL = ("workers",)


@dataclass
class ConfigChanges:
    sources_added: list[str] = field(default_factory=list)
    sources_removed: list[str] = field(default_factory=list)
    sources_changed: list[str] = field(default_factory=list)
    rules_added: list[str] = field(default_factory=list)
    rules_removed: list[str] = field(default_factory=list)
    rules_changed: list[str] = field(default_factory=list)
    settings_changed: list[str] = field(default_factory=list)  # applied: channels, schedule, crawl, health, …
    needs_restart: list[str] = field(default_factory=list)

    def any(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)

    def describe(self) -> str:
        parts = []
        for label, names in (("sources added", self.sources_added), ("sources removed", self.sources_removed),
                             ("sources changed", self.sources_changed), ("rules added", self.rules_added),
                             ("rules removed", self.rules_removed), ("rules changed", self.rules_changed),
                             ("settings changed", self.settings_changed)):
            if names:
                parts.append(f"{label}: {', '.join(names)}")
        if self.needs_restart:
            parts.append(f"not applied until newsmon restarts: {', '.join(self.needs_restart)}")
        return "; ".join(parts) if parts else "nothing changed"


def _diff(old: dict, new: dict) -> tuple[list[str], list[str], list[str]]:
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(name for name in set(old) & set(new) if old[name] != new[name])
    return added, removed, changed


def config_changes(old: NewsmonConfig, new: NewsmonConfig) -> ConfigChanges:
    changes = ConfigChanges()
    changes.sources_added, changes.sources_removed, changes.sources_changed = _diff(old.sources, new.sources)
    changes.rules_added, changes.rules_removed, changes.rules_changed = _diff(old.rules, new.rules)
    for name in NewsmonConfig.model_fields:
        if name in ("sources", "rules", "config_dir") or getattr(old, name) == getattr(new, name):
            continue
        if name in RESTART_ONLY:
            changes.needs_restart.append(name)
        elif name == "crawl":
            restart = [f"crawl.{key}" for key in RESTART_ONLY_CRAWL
                       if getattr(old.crawl, key) != getattr(new.crawl, key)]
            changes.needs_restart += restart
            if old.crawl.model_copy(update={k: getattr(new.crawl, k) for k in RESTART_ONLY_CRAWL}) != new.crawl:
                changes.settings_changed.append("crawl")
        else:
            changes.settings_changed.append(name)
    return changes


@dataclass
class Reloaded:
    config: NewsmonConfig | None  # None: the new config failed validation
    changes: ConfigChanges | None
    error: str | None = None


def reload_config(current: NewsmonConfig) -> Reloaded:
    """The config directory read again; on a user error, the error instead (nothing changes)."""
    try:
        new = load_config(current.config_dir, os.environ)
    except NewsmonError as exc:
        return Reloaded(None, None, str(exc))
    changes = config_changes(current, new)
    # What needs a restart keeps its running value, so what runs matches what was reported.
    keep = {name: getattr(current, name) for name in RESTART_ONLY}
    crawl = new.crawl.model_copy(update={k: getattr(current.crawl, k) for k in RESTART_ONLY_CRAWL})
    return Reloaded(new.model_copy(update={**keep, "crawl": crawl}), changes)
