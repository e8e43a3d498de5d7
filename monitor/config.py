"""The one typed config object: newsmon.yaml + sources/*.yaml + rules/*.yaml.

Loaded once (by the CLI, the daemon or the crawl subprocess) and passed down.
This is the only module that reads environment variables; it receives them as
a mapping so tests can pass their own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from monitor import __version__, redaction
from monitor.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///data/newsmon.sqlite3"
DEFAULT_USER_AGENT = f"newsmon/{__version__} (+https://github.com/newsmon/newsmon)"
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: Any) -> float:
    """'15m' -> 900.0 seconds; plain numbers are seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m, 1h or 1d")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 15m, 1h or 1d")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class ScheduleConfig(_Strict):
    interval: Duration = 900.0
    delivery_interval: Duration = 60.0
    # APScheduler 3 drops a run that is late by more than this; 1 s by default.
    misfire_grace_time: Duration = 3600.0
    jitter: Duration | None = None


class DeliveryConfig(_Strict):
    max_attempts: int = Field(8, ge=1)
    backoff: Duration = 30.0  # first retry delay; doubles each attempt
    backoff_max: Duration = 3600.0
    batch_size: int = Field(100, ge=1)


class CrawlConfig(_Strict):
    download_timeout: Duration = 30.0
    max_response_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    concurrent_requests: int = Field(16, ge=1)
    concurrent_requests_per_domain: int = Field(4, ge=1)
    download_delay: Duration | None = None
    obey_robots_txt: bool = True
    autothrottle: bool = True
    retry_times: int = Field(2, ge=0)
    max_articles_per_source: int = Field(200, ge=1)
    subprocess_timeout: Duration = 3600.0  # then the crawl is killed with its extraction workers
    stop_grace: Duration = 30.0  # on SIGTERM, the daemon's running crawls get this long, then are killed
    parallel_sources: int = Field(2, ge=1)  # crawl subprocesses the daemon runs at once
    seen_url_retention: Duration = 30 * 86400.0  # forget fetched-but-not-stored URLs after this
    max_retry_after: Duration = 60.0  # wait this long at most for a 429/503 Retry-After within a crawl
    # Processes extracting text beside the crawl (None: one fewer than the CPUs; 0: in the crawl process).
    extract_workers: int | None = Field(None, ge=0)
    # Private/loopback targets of URLs found on pages: auto (only when a start URL is on one), allow, deny.
    private_addresses: Literal["auto", "allow", "deny"] = "auto"
    max_sitemap_depth: int = Field(3, ge=0)  # levels of sitemap indexes below a start URL


_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_NAMES = {"\n": "line feed (LF)", "\r": "carriage return (CR)", "\t": "tab"}
_HTTP_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 field names


def _single_line(value: str, what: str = "the value") -> str:
    """Values that end up in a header or a protocol line (HTTP, SMTP) must be one line: a CR or
    LF splits the line (header injection) or makes the request fail on every retry. The
    message never repeats the value: it may be a secret."""
    found = _CONTROL_CHARACTER.search(value)
    if found:
        kind = _CONTROL_NAMES.get(found.group(), f"control character U+{ord(found.group()):04X}")
        where = "at its end" if found.start() == len(value) - 1 else f"at character {found.start() + 1}"
        raise ValueError(f"{what} contains a {kind} {where} (read from a file or an environment variable "
                         "with a trailing newline?); remove it")
    return value


class EmailChannelConfig(_Strict):
    type: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    # Logging in over `security: none` sends the password in clear text: refused unless set.
    allow_insecure_auth: bool = False
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    timeout: Duration = 30.0
    subject_prefix: str = "[newsmon]"
    ca_file: FilePath | None = None  # PEM CA certificate(s) to trust instead of the system's (a private CA)

    @field_validator("host", "from_", "subject_prefix")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _single_line(value)

    @field_validator("to")
    @classmethod
    def _one_line_each(cls, addresses: list[str]) -> list[str]:
        for i, address in enumerate(addresses):
            _single_line(address, f"address [{i}]")
        return addresses

    @field_validator("password")
    @classmethod
    def _one_line_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _single_line(value.get_secret_value(), "the password")
        return value

    @field_validator("username")
    @classmethod
    def _no_clear_text_login(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        _single_line(value)
        if info.data.get("security") == "none" and not info.data.get("allow_insecure_auth"):
            raise ValueError("a login over `security: none` sends the password in clear text; use security: "
                             "starttls (usually port 587) or ssl (usually 465), or set allow_insecure_auth: true "
                             "for a trusted relay on this host or network")
        return value


class WebhookChannelConfig(_Strict):
    type: Literal["webhook"]
    url: str
    secret: SecretStr | None = None  # HMAC-SHA256 signing key
    timeout: Duration = 10.0
    headers: dict[str, str] = Field(default_factory=dict)
    ca_file: FilePath | None = None  # PEM CA certificate(s) to trust instead of the system's (a private CA)
    max_retry_after: Duration = 3600.0  # wait at most this long when a 429/503 asks for a Retry-After

    @field_validator("secret", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        # `${WEBHOOK_SECRET:-}` with the variable unset means "no signing".
        return None if value == "" else value

    @field_validator("secret")
    @classmethod
    def _one_line_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _single_line(value.get_secret_value(), "the secret")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        _single_line(value, "the URL")
        if any(c.isspace() for c in value):
            raise ValueError("the URL contains white space; percent-encode it (%20) or remove it")
        return value

    @field_validator("headers")
    @classmethod
    def _valid_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HTTP_TOKEN.match(name):
                raise ValueError(f"{name!r} is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)")
            _single_line(value, f"the value of header {name!r}")
        return headers


ChannelConfig = Annotated[
    EmailChannelConfig | WebhookChannelConfig, Field(discriminator="type")
]
_CHANNEL_TAGS = ("email", "webhook")  # the `type` values: pydantic puts the chosen one in error locations


def _css_selector(selector: str) -> str:
    """A CSS selector lxml can run (extraction uses lxml's cssselect), or a ValueError saying why not."""
    from cssselect import HTMLTranslator, SelectorError  # local: only hints need it

    try:
        HTMLTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        raise ValueError(f"{selector!r} is not a CSS selector extraction can use: {exc}") from None
    return selector


class ExtractHints(_Strict):
    """Per-source extraction hints: a few lines of config that beat heuristics."""

    content_selector: str | None = None
    drop_selectors: list[str] = Field(default_factory=list)
    date_selector: str | None = None
    date_pattern: str | None = None

    # Checked here, like allow/deny: a bad selector found during extraction is only a log line per page.
    @field_validator("content_selector", "date_selector")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        return None if value is None else _css_selector(value)

    @field_validator("drop_selectors")
    @classmethod
    def _selectors(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            try:
                _css_selector(value)
            except ValueError as exc:
                raise ValueError(f"[{i}]: {exc}") from None
        return values

    @field_validator("date_pattern")
    @classmethod
    def _date_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from None
        return value


class SourceConfig(_Strict):
    name: str
    kind: Literal["feed", "sitemap", "listing"]
    start_urls: list[str] = Field(min_length=1)
    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    interval: Duration | None = None
    language: str | None = None
    live: bool = False  # a real public site: never fetched by tests or CI
    enabled: bool = True
    max_articles: int | None = Field(None, ge=1)  # article pages fetched per cycle
    max_age: Duration | None = None  # skip feed/sitemap entries older than this
    max_sitemaps: int = Field(20, ge=1)  # child sitemaps followed from an index per cycle
    private_addresses: Literal["auto", "allow", "deny"] | None = None  # overrides crawl.private_addresses
    max_sitemap_depth: int | None = Field(None, ge=0)  # overrides crawl.max_sitemap_depth
    revisit: Duration | None = None  # refetch archived articles still listed after this long (None: never)
    hints: ExtractHints = Field(default_factory=ExtractHints)

    @field_validator("start_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return urls

    @field_validator("allow", "deny")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        return patterns


class RuleConfig(_Strict):
    name: str
    query: str = Field(min_length=1)
    channels: list[str] = Field(min_length=1)
    sources: list[str] = Field(default_factory=list)  # empty: all sources
    enabled: bool = True
    alert_on_update: bool = False  # alert again when a matched article's text changes (a revision)


class RetentionConfig(_Strict):
    # Empty the text of articles older than this; URLs, hashes and signatures stay, so dedup still works.
    article_text: Duration | None = None


class QueryConfig(_Strict):
    timeout: Duration = 300.0  # `newsmon query` stops a statement after this; --timeout overrides


class NewsmonConfig(_Strict):
    config_dir: Path
    database_url: str = DEFAULT_DATABASE_URL
    # Optional separate login for `newsmon query` (an analyst's, able only to read the archive).
    query_database_url: str | None = None
    redis_url: str | None = None
    # Environment variables whose values are not secret: not masked in output, logs and the archive.
    public_env: list[str] = Field(default_factory=list)
    user_agent: str = DEFAULT_USER_AGENT
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig)
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    query: QueryConfig = Field(default_factory=QueryConfig)
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    rules: dict[str, RuleConfig] = Field(default_factory=dict)

    def source_interval(self, source: SourceConfig) -> float:
        return source.interval or self.schedule.interval

    def enabled_sources(self) -> list[SourceConfig]:
        return [s for s in self.sources.values() if s.enabled]


# --- loading -----------------------------------------------------------------


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
        if len(loc) >= 3 and loc[0] == "channels" and loc[2] in _CHANNEL_TAGS:
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
