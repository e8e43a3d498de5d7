"""The configs that ship: the default one names real sites (never fetched by
tests), the demo one only the local replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_default_config_loads_and_every_source_is_marked_live():
    config = load_config(CONFIG, {})
    assert {"xinhua_english", "jjckb", "gzgov_portal", "wordpress_example"} <= set(config.sources)
    for source in config.sources.values():
        assert source.live, f"{source.name}: real public sites must be marked live: true"
        assert all(url.startswith(("http://", "https://")) and "127.0.0.1" not in url for url in source.start_urls)


@pytest.mark.parametrize("port", ["8765", "9999"])
def test_demo_config_points_only_at_the_local_replay(port):
    config = load_config(CONFIG / "demo", {"NEWSMON_REPLAY_URL": f"http://127.0.0.1:{port}"})
    assert config.sources
    for source in config.sources.values():
        assert not source.live
        assert all(url.startswith(f"http://127.0.0.1:{port}/") for url in source.start_urls)
    for channel in config.channels.values():
        host = getattr(channel, "host", None) or channel.url
        assert "127.0.0.1" in host
