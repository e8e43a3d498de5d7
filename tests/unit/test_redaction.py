"""Secrets never shown: env-derived values and URL userinfo are masked wherever text goes."""

from __future__ import annotations

import logging

import pytest

from monitor import redaction
from monitor.config import load_config
from monitor.errors import ArchiveError
from tests.helpers.config import write_config

SECRET = "tok-3f9a/b c+d"  # with characters that URL-encode three different ways


@pytest.fixture(autouse=True)
def registered():
    redaction.register([SECRET])


@pytest.mark.parametrize("text, expected", [
    (f"GET https://h.example/feed?t={SECRET}", "GET https://h.example/feed?t=***"),
    ("GET https://h.example/feed?t=tok-3f9a%2Fb%20c%2Bd", "GET https://h.example/feed?t=***"),
    ("GET https://h.example/feed?t=tok-3f9a/b%20c+d", "GET https://h.example/feed?t=***"),
    ("GET https://h.example/feed?t=tok-3f9a%2Fb+c%2Bd", "GET https://h.example/feed?t=***"),
    ("https://alice:pw@h.example/x and ftp://bob@h2/y", "https://***@h.example/x and ftp://***@h2/y"),
    ("mail alice@example.org stays", "mail alice@example.org stays"),
    ("nothing secret here", "nothing secret here"),
    (None, None),
    ("", ""),
])
def test_mask(text, expected):
    assert redaction.mask(text) == expected


def test_short_values_are_not_masked():
    redaction.register(["587", "on"])
    assert redaction.mask("port 587 on") == "port 587 on"


def test_config_registers_only_values_from_the_environment(tmp_path):
    root = write_config(tmp_path / "c", {"user_agent": "ua ${UA_PART:-default-part}"},
                        {"s": {"kind": "feed", "start_urls": ["http://127.0.0.1/feed?key=${FEED_KEY}"]}})
    load_config(root, {"FEED_KEY": "k-123456789"})
    assert "k-123456789" in redaction.registered()
    assert "default-part" not in redaction.registered()
    assert redaction.mask("http://127.0.0.1/feed?key=k-123456789") == "http://127.0.0.1/feed?key=***"


def test_config_error_quoting_a_secret_masks_it(tmp_path):
    root = write_config(tmp_path / "c", {}, {"s": {"kind": "feed", "start_urls": ["gopher://h/${TOKEN_X}"]}})
    with pytest.raises(Exception) as caught:
        load_config(root, {"TOKEN_X": "zz-secret-zz"})
    assert "zz-secret-zz" not in str(caught.value) and "***" in str(caught.value)


def test_errors_never_show_secrets():
    assert SECRET not in str(ArchiveError(f"cannot open postgresql://u:{SECRET}@db/x"))


def test_log_records_are_masked(caplog):
    redaction.install_log_masking()
    with caplog.at_level(logging.WARNING):
        logging.getLogger("scrapy.test").warning("Crawled <GET %s>", f"https://u:pw@h/feed?t={SECRET}")
        try:
            raise RuntimeError(f"boom {SECRET}")
        except RuntimeError:
            logging.getLogger("x").exception("failed")
    text = caplog.text
    assert SECRET not in text and "u:pw" not in text
    assert "https://***@h/feed?t=***" in text and "boom ***" in text


def test_public_env_values_are_not_masked(tmp_path):
    root = write_config(tmp_path / "c", {"public_env": ["SITE_BASE"]},
                        {"s": {"kind": "feed", "start_urls": ["${SITE_BASE}/feed?key=${KEY_Y}"]}})
    config = load_config(root, {"SITE_BASE": "http://127.0.0.1:4567", "KEY_Y": "y-secret-y"})
    assert config.sources["s"].start_urls == ["http://127.0.0.1:4567/feed?key=y-secret-y"]
    assert redaction.mask(config.sources["s"].start_urls[0]) == "http://127.0.0.1:4567/feed?key=***"


def test_public_env_must_be_a_list_of_names(tmp_path):
    root = write_config(tmp_path / "c", {"public_env": "SITE_BASE"})
    with pytest.raises(Exception, match="public_env: must be a list"):
        load_config(root, {})


def test_a_raw_at_sign_in_a_password_goes_with_it():
    assert redaction.mask("postgresql://bob:p@ss@host/db") == "postgresql://***@host/db"
