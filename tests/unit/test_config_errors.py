"""Config errors name the right file and field: channels named like a channel type, .yml files,
two files for one name, extraction hints checked at load; the version and default User-Agent."""

from __future__ import annotations

import re

import pytest

import monitor
from monitor.config import DEFAULT_USER_AGENT, load_config
from monitor.errors import ConfigError

HOOK = {"type": "webhook", "url": "http://127.0.0.1:9/x"}
FEED = {"kind": "feed", "start_urls": ["http://a.example/feed.xml"]}
EMAIL = {"type": "email", "host": "smtp.example.org", "from": "a@example.org", "to": ["d@example.org"]}


def error_of(root) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(root, {})
    assert info.value.exit_code == 2
    return info.value


# A channel may be named like a channel type; only pydantic's tag is dropped from the location.
CHANNEL_CASES = [
    # (channels, field the error must name)
    ({"email": {**EMAIL, "to": []}}, "channels.email.to"),
    ({"webhook": {**HOOK, "url": "ftp://x"}}, "channels.webhook.url"),
    ({"email": {**HOOK, "url": "ftp://x"}}, "channels.email.url"),
    ({"webhook": {**EMAIL, "port": 0}}, "channels.webhook.port"),
    ({"desk": {**EMAIL, "to": []}}, "channels.desk.to"),
]


@pytest.mark.parametrize("channels, field", CHANNEL_CASES, ids=[f for _, f in CHANNEL_CASES])
def test_channel_errors_keep_the_channel_name(config_factory, channels, field):
    error = error_of(config_factory({"channels": channels}))
    assert error.file.endswith("newsmon.yaml") and error.field == field, str(error)


def test_a_yml_rule_error_names_the_yml_file(config_factory):
    root = config_factory({"channels": {"h": HOOK}})
    (root / "rules" / "chips.yml").write_text("query: chips\nchannels: [nowhere]\n", encoding="utf-8")
    error = error_of(root)
    assert error.file == str(root / "rules" / "chips.yml") and error.field == "channels[0]", str(error)


@pytest.mark.parametrize("folder, text", [
    ("sources", "kind: feed\nstart_urls: ['http://a.example/feed.xml']\n"),
    ("rules", "query: chips\nchannels: [h]\n"),
])
def test_yaml_and_yml_for_one_name_is_an_error(config_factory, folder, text):
    root = config_factory({"channels": {"h": HOOK}})
    for suffix in (".yaml", ".yml"):
        (root / folder / f"twin{suffix}").write_text(text, encoding="utf-8")
    error = error_of(root)
    assert f"{folder}/twin.yaml" in str(error) and f"{folder}/twin.yml" in str(error), str(error)


def test_a_yml_source_alone_loads(config_factory):
    root = config_factory({})
    (root / "sources" / "agency.yml").write_text("kind: feed\nstart_urls: ['http://a.example/f']\n", encoding="utf-8")
    assert list(load_config(root, {}).sources) == ["agency"]


# (hints, field the error must name, words in the message)
HINT_CASES = [
    ({"content_selector": "div["}, "hints.content_selector", "not a CSS selector"),
    ({"content_selector": "p::text"}, "hints.content_selector", "pseudo-elements"),
    ({"date_selector": "span:unknown-pseudo"}, "hints.date_selector", "not a CSS selector"),
    ({"drop_selectors": [".ok", "##"]}, "hints.drop_selectors", "[1]"),
    ({"date_pattern": "(\\d{4}"}, "hints.date_pattern", "regular expression"),
]


@pytest.mark.parametrize("hints, field, words", HINT_CASES, ids=[str(h) for h, _, _ in HINT_CASES])
def test_extraction_hints_are_checked_at_load(config_factory, hints, field, words):
    error = error_of(config_factory({}, {"bad": {**FEED, "hints": hints}}))
    assert error.file.endswith("sources/bad.yaml") and error.field == field, str(error)
    assert words.lower() in str(error).lower()


def test_valid_hints_load(config_factory):
    hints = {"content_selector": "div.article-body > p", "drop_selectors": [".share", "#related li:nth-child(2)"],
             "date_selector": "span.time", "date_pattern": r"(\d{4}-\d{2}-\d{2})"}
    config = load_config(config_factory({}, {"good": {**FEED, "hints": hints}}), {})
    assert config.sources["good"].hints.content_selector == "div.article-body > p"


def test_one_version_used_by_the_default_user_agent(config_factory):
    from importlib.metadata import version

    assert monitor.__version__ == version("newsmon")
    assert DEFAULT_USER_AGENT.startswith(f"newsmon/{monitor.__version__} ")
    assert load_config(config_factory({}), {}).user_agent == DEFAULT_USER_AGENT


def test_bundled_configs_take_the_default_user_agent():
    from tests.helpers.config import REPO_ROOT

    for config_file in (REPO_ROOT / "config").glob("**/newsmon.yaml"):
        assert not re.search(r"^user_agent:.*newsmon/\d", config_file.read_text(encoding="utf-8"), re.M), config_file


def test_an_uninstalled_checkout_reads_the_version_from_pyproject(monkeypatch):
    import importlib.metadata

    from tests.helpers.config import REPO_ROOT

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(monitor, "version", not_installed)
    declared = re.search(r'^version\s*=\s*"([^"]+)"', (REPO_ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert monitor._version() == declared
