"""Config loading: valid configs load; every error names the file and the field."""

from __future__ import annotations

import pytest

from monitor.config import load_config, parse_duration
from monitor.errors import ConfigError

FEED = {"kind": "feed", "start_urls": ["http://127.0.0.1:1/feed.xml"]}
HOOK = {"type": "webhook", "url": "http://127.0.0.1:1/hook"}


@pytest.mark.parametrize("text, seconds", [
    ("30s", 30), ("15m", 900), ("1h", 3600), ("1d", 86400), (45, 45), ("1.5m", 90), ("250ms", 0.25),
])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["15 minutes", "", "-5m", 0, True, "m"])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_loads_a_full_config(config_factory):
    root = config_factory(
        {"schedule": {"interval": "15m", "delivery_interval": "1m"}, "channels": {
            "desk-hook": {**HOOK, "secret": "${HOOK_SECRET}"},
            "desk-email": {"type": "email", "host": "smtp.example.org", "port": 587, "security": "starttls",
                           "username": "a@example.org", "password": "${SMTP_PASSWORD}",
                           "from": "a@example.org", "to": ["desk@example.org"]},
        }},
        sources={"xinhua_english": {**FEED, "interval": "10m", "language": "en", "allow": [r"/\d{8}/"]}},
        rules={"new_quality": {"query": '"new quality productive forces" OR 新质生产力',
                               "channels": ["desk-hook", "desk-email"]}},
    )
    config = load_config(root, {"HOOK_SECRET": "s3cret", "SMTP_PASSWORD": "pw"})
    assert config.source_interval(config.sources["xinhua_english"]) == 600
    assert config.schedule.delivery_interval == 60
    assert config.channels["desk-hook"].secret.get_secret_value() == "s3cret"
    assert config.channels["desk-email"].from_ == "a@example.org"
    # Secrets never show in reprs (and so never in logs).
    assert "pw" not in repr(config.channels["desk-email"]) and "s3cret" not in repr(config)
    assert config.rules["new_quality"].channels == ["desk-hook", "desk-email"]


def test_database_url_env_overrides(config_factory):
    root = config_factory()
    config = load_config(root, {"NEWSMON_DATABASE_URL": "sqlite:////tmp/x.sqlite3"})
    assert config.database_url == "sqlite:////tmp/x.sqlite3"


def test_env_default_syntax(config_factory):
    root = config_factory({"channels": {"h": {**HOOK, "url": "http://127.0.0.1:${PORT:-8766}/x"}}})
    assert load_config(root, {}).channels["h"].url == "http://127.0.0.1:8766/x"
    assert load_config(root, {"PORT": "9"}).channels["h"].url == "http://127.0.0.1:9/x"


# (what to write, file the error must name, field it must name, words in the message)
ERROR_CASES = [
    ("newsmon", {"schedule": {"interval": "soon"}}, "newsmon.yaml", "schedule.interval", "not a duration"),
    ("newsmon", {"chanels": {}}, "newsmon.yaml", "chanels", "unknown key"),
    ("newsmon", {"channels": {"x": {"type": "pager"}}}, "newsmon.yaml", "channels.x", "type"),
    ("newsmon", {"channels": {"x": {"type": "email", "host": "h", "from": "a@b", "to": []}}},
     "newsmon.yaml", "channels.x.to", ""),
    ("newsmon", {"channels": {"x": {**HOOK, "secret": "${MISSING_SECRET}"}}}, "newsmon.yaml",
     "channels.x.secret", "MISSING_SECRET is not set"),
    ("newsmon", {"channels": {"x": {**HOOK, "ca_file": "/nonexistent/private-ca.pem"}}}, "newsmon.yaml",
     "channels.x.ca_file", "file"),
    ("source", {"kind": "rss", "start_urls": ["http://a/"]}, "sources/bad.yaml", "kind", ""),
    ("source", {"kind": "feed"}, "sources/bad.yaml", "start_urls", "required"),
    ("source", {"kind": "feed", "start_urls": ["ftp://a/"]}, "sources/bad.yaml", "start_urls", "http"),
    ("source", {**FEED, "allow": ["(unclosed"]}, "sources/bad.yaml", "allow", "regular expression"),
    ("source", {**FEED, "interval": "often"}, "sources/bad.yaml", "interval", "duration"),
    ("rule", {"query": "chips", "channels": ["nowhere"]}, "rules/bad.yaml", "channels[0]", "no channel named"),
    ("rule", {"query": "(chips", "channels": ["h"]}, "rules/bad.yaml", "query", ""),
    ("rule", {"channels": ["h"]}, "rules/bad.yaml", "query", "required"),
]


@pytest.mark.parametrize("where, data, file, field, words", ERROR_CASES)
def test_errors_name_file_and_field(config_factory, where, data, file, field, words):
    newsmon = {"channels": {"h": HOOK}}
    sources, rules = {}, {}
    if where == "newsmon":
        newsmon = data
    elif where == "source":
        sources = {"bad": data}
    else:
        rules = {"bad": data}
    root = config_factory(newsmon, sources, rules)
    with pytest.raises(ConfigError) as info:
        load_config(root, {})
    error = info.value
    assert error.exit_code == 2
    assert str(error.file).endswith(file)
    assert error.field is not None and error.field.startswith(field), str(error)
    assert words.lower() in str(error).lower()


def test_yaml_syntax_error_names_file(config_factory):
    root = config_factory()
    (root / "newsmon.yaml").write_text("schedule: [unclosed\n")
    with pytest.raises(ConfigError, match="newsmon.yaml.*not valid YAML"):
        load_config(root, {})


def test_missing_directory():
    with pytest.raises(ConfigError, match="config directory not found"):
        load_config("/nonexistent/newsmon-config", {})


def test_source_name_is_file_name(config_factory):
    root = config_factory(sources={"Bad-Name": FEED})
    with pytest.raises(ConfigError, match="lower-case"):
        load_config(root, {})
