"""Loading a config directory: YAML, ${VAR} substitution, validation, cross-references."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from monitor import redaction
from monitor.config.channels import CHANNEL_TAGS
from monitor.config.model import NewsmonConfig, RuleConfig
from monitor.config.sources import SourceConfig
from monitor.errors import ConfigError

_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), None, f"is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), None, "must be a YAML mapping (key: value lines)")
    return data


def _substitute_env(value: Any, env: Mapping[str, str], path: Path, field: str, found: dict[str, str]) -> Any:
    """Resolve ${VAR} and ${VAR:-default} in every string, recursively; the variables taken from
    the environment are added to `found` (their values are masked wherever text is shown)."""
    if isinstance(value, dict):
        return {k: _substitute_env(v, env, path, f"{field}.{k}" if field else str(k), found)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_env(v, env, path, f"{field}[{i}]", found) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            found[name] = env[name]
            return env[name]
        if default is not None:
            return default
        raise ConfigError(
            str(path), field, f"environment variable {name} is not set (referenced as ${{{name}}})"
        )

    return _ENV_REF.sub(replace, value)


def _public_env(data: dict[str, Any], path: Path) -> frozenset[str]:
    """newsmon.yaml's `public_env`: variables whose values are not secret (not masked)."""
    names = data.get("public_env", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(str(path), "public_env", "must be a list of environment variable names")
    return frozenset(names)


def _url_password(url: str) -> set[str]:
    """The password in a URL such as postgresql://user:password@host/db, if any."""
    match = re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://[^/@:]*:([^/@]+)@", url)
    return {unquote(match.group(1)), match.group(1)} if match else set()


def _field_name(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _validate(model: type[BaseModel], data: dict[str, Any], path: Path, prefix: tuple[Any, ...] = ()) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])[len(prefix):] if error["loc"][: len(prefix)] == prefix else error["loc"]
        # A discriminated union puts the tag after the channel's name; users never wrote it.
        # Only that position: a channel may itself be named `email`.
        if len(loc) >= 3 and loc[0] == "channels" and loc[2] in CHANNEL_TAGS:
            loc = loc[:2] + loc[3:]
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check its spelling against the README's configuration reference)"
        elif error["type"] == "missing":
            message = "is required"
        raise ConfigError(str(path), _field_name(loc) or None, message) from None


def resolve_config_dir(cli_value: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    return Path(cli_value or env.get("NEWSMON_CONFIG") or "config")


def load_config(config_dir: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> NewsmonConfig:
    """Load and validate a config directory. Raises ConfigError naming file and field."""
    env = os.environ if env is None else env
    root = Path(config_dir)
    main_file = root / "newsmon.yaml"
    if not root.is_dir():
        raise ConfigError(str(root), None, "config directory not found (pass --config DIR or set NEWSMON_CONFIG)")
    if not main_file.is_file():
        raise ConfigError(str(main_file), None, "not found: a config directory needs a newsmon.yaml")

    found: dict[str, str] = {}
    data = _substitute_env(_read_yaml(main_file), env, main_file, "", found)
    public = _public_env(data, main_file)

    def register_secrets() -> None:
        redaction.register(value for name, value in found.items() if name not in public)

    for forbidden in ("sources", "rules", "config_dir"):
        if forbidden in data:
            raise ConfigError(str(main_file), forbidden, f"set {forbidden} in their own files under {forbidden}/, not here")
    if env.get("NEWSMON_DATABASE_URL"):
        data["database_url"] = env["NEWSMON_DATABASE_URL"]
        redaction.register(_url_password(env["NEWSMON_DATABASE_URL"]))
    register_secrets()  # before validation: an error message may quote a value

    sources = {}
    for path in _config_files(root / "sources"):
        name = path.stem
        if not _SOURCE_NAME.match(name):
            raise ConfigError(str(path), None, "a source file name must be lower-case letters, digits and _ (it is the source's name)")
        raw = _substitute_env(_read_yaml(path), env, path, "", found)
        register_secrets()
        if "name" in raw and raw["name"] != name:
            raise ConfigError(str(path), "name", f"must match the file name ({name!r}) or be left out")
        sources[name] = _validate(SourceConfig, {**raw, "name": name}, path)

    rules, rule_files = {}, {}
    for path in _config_files(root / "rules"):
        name = path.stem
        raw = _substitute_env(_read_yaml(path), env, path, "", found)
        register_secrets()
        rules[name] = _validate(RuleConfig, {**raw, "name": name}, path)
        rule_files[name] = path

    data["config_dir"] = root
    config: NewsmonConfig = _validate(NewsmonConfig, {**data, "sources": {}, "rules": {}}, main_file)
    config = config.model_copy(update={"sources": sources, "rules": rules})
    _check_references(config, rule_files)
    _attach_rule_templates(config, rule_files)
    return config


def _config_files(folder: Path) -> list[Path]:
    """The .yaml and .yml files of a folder, by name; the file name is the source's or rule's
    name, so x.yaml beside x.yml is an error rather than one silently replacing the other."""
    by_name: dict[str, Path] = {}
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        if path.stem in by_name:
            raise ConfigError(str(path), None, f"{by_name[path.stem]} defines {path.stem!r} too; "
                              "keep one of the two files")
        by_name[path.stem] = path
    return sorted(by_name.values())


def _check_references(config: NewsmonConfig, rule_files: Mapping[str, Path]) -> None:
    from monitor.errors import RuleSyntaxError
    from monitor.rules import parse_query  # local: rules import nothing from config

    for i, channel in enumerate(config.health.channels):
        if channel not in config.channels:
            known = ", ".join(sorted(config.channels)) or "none are defined"
            raise ConfigError(str(config.config_dir / "newsmon.yaml"), f"health.channels[{i}]",
                              f"no channel named {channel!r} (known: {known})")
    for rule in config.rules.values():
        path = str(rule_files[rule.name])
        for i, channel in enumerate(rule.channels):
            if channel not in config.channels:
                known = ", ".join(sorted(config.channels)) or "none are defined"
                raise ConfigError(path, f"channels[{i}]", f"no channel named {channel!r} in newsmon.yaml (known: {known})")
        for i, source in enumerate(rule.sources):
            if source not in config.sources:
                raise ConfigError(path, f"sources[{i}]", f"no source named {source!r} under sources/")
        try:
            parse_query(rule.query)
        except RuleSyntaxError as exc:
            raise ConfigError(path, "query", str(exc)) from None


def _attach_rule_templates(config: NewsmonConfig, rule_files: Mapping[str, Path]) -> None:
    """Check each rule's `templates` overrides and hand them to its channels' configs (a private
    attribute the channels read per message: monitor.channels.templates.source_for)."""
    from monitor.config.channels import TEMPLATE_FIELDS, checked_template

    per_channel: dict[str, dict[str, dict[str, str]]] = {}
    for rule in config.rules.values():
        path = str(rule_files[rule.name])
        types = {config.channels[c].type for c in rule.channels if c in config.channels}
        for key, fields in rule.templates.items():
            if key not in rule.channels and key not in types:
                raise ConfigError(path, f"templates.{key}", "names neither a channel of this rule "
                                  f"({', '.join(rule.channels)}) nor the type of one ({', '.join(sorted(types))})")
            kinds = {key} if key in TEMPLATE_FIELDS and key not in rule.channels else {config.channels[key].type}
            allowed = sorted({f for k in kinds for f in TEMPLATE_FIELDS[k]})
            for field, source in fields.items():
                if field not in allowed:
                    raise ConfigError(path, f"templates.{key}.{field}", f"unknown template field (allowed: "
                                      f"{', '.join(allowed)})")
                try:
                    checked_template(source, html=field == "html_template",
                                     json_out=field == "body_template" and "webhook" in kinds)
                except ValueError as exc:
                    raise ConfigError(path, f"templates.{key}.{field}", str(exc)) from None
        for channel in rule.channels:
            if channel not in config.channels:
                continue
            merged = {**rule.templates.get(config.channels[channel].type, {}), **rule.templates.get(channel, {})}
            if merged:
                per_channel.setdefault(channel, {})[rule.name] = merged
    for name, overrides in per_channel.items():
        copy = config.channels[name].model_copy()
        object.__setattr__(copy, "_rule_templates", overrides)
        config.channels[name] = copy
