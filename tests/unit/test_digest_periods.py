"""Digest periods (monitor.digest) and the rule config that sets them: pure, table-driven."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from monitor.config import load_config
from monitor.digest import digest_delivery_key, parse_clock, period_daily, period_every
from monitor.errors import ConfigError
from tests.helpers.config import write_config

UTC = timezone.utc


@pytest.mark.parametrize(("moment", "seconds", "start", "end"), [
    (datetime(2024, 3, 1, 10, 15, tzinfo=UTC), 3600, datetime(2024, 3, 1, 10, tzinfo=UTC),
     datetime(2024, 3, 1, 11, tzinfo=UTC)),
    (datetime(2024, 3, 1, 11, 0, tzinfo=UTC), 3600, datetime(2024, 3, 1, 11, tzinfo=UTC),
     datetime(2024, 3, 1, 12, tzinfo=UTC)),
    (datetime(2024, 3, 1, 10, 59, 59), 900, datetime(2024, 3, 1, 10, 45, tzinfo=UTC),
     datetime(2024, 3, 1, 11, tzinfo=UTC)),
    (datetime(2024, 3, 1, 23, 0, tzinfo=UTC), 86400, datetime(2024, 3, 1, tzinfo=UTC),
     datetime(2024, 3, 2, tzinfo=UTC)),
])
def test_every_cuts_utc_time_into_equal_periods(moment, seconds, start, end):
    period = period_every(moment, seconds)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(("moment", "zone", "start", "end"), [
    # 08:00 in Shanghai is 00:00 UTC.
    (datetime(2024, 3, 1, 10, tzinfo=UTC), "Asia/Shanghai", datetime(2024, 3, 1, 0, tzinfo=UTC),
     datetime(2024, 3, 2, 0, tzinfo=UTC)),
    (datetime(2024, 3, 1, 0, 0, tzinfo=UTC), "Asia/Shanghai", datetime(2024, 3, 1, 0, tzinfo=UTC),
     datetime(2024, 3, 2, 0, tzinfo=UTC)),
    (datetime(2024, 2, 29, 23, 59, tzinfo=UTC), "Asia/Shanghai", datetime(2024, 2, 29, 0, tzinfo=UTC),
     datetime(2024, 3, 1, 0, tzinfo=UTC)),
    # The night clocks go forward in Berlin: that period is 23 hours long.
    (datetime(2024, 3, 30, 12, tzinfo=UTC), "Europe/Berlin", datetime(2024, 3, 30, 7, tzinfo=UTC),
     datetime(2024, 3, 31, 6, tzinfo=UTC)),
])
def test_at_makes_daily_periods_ending_at_local_time(moment, zone, start, end):
    period = period_daily(moment, parse_clock("08:00"), zone)
    assert (period.start, period.end) == (start, end)


def test_the_delivery_key_is_stable_and_names_the_group():
    end = datetime(2024, 3, 1, 11, tzinfo=UTC)
    key = digest_delivery_key("chips", "mail", end, 7)
    assert key == digest_delivery_key("chips", "mail", end.astimezone(), 7)
    assert len(key) == 32 and int(key, 16) >= 0
    assert len({key, digest_delivery_key("chips", "hook", end, 7), digest_delivery_key("chips", "mail", end, 8),
                digest_delivery_key("other", "mail", end, 7)}) == 4


def _load(tmp_path, rule: dict):
    root = write_config(tmp_path / "c", {"channels": {"h": {"type": "webhook", "url": "http://127.0.0.1:9/"}}})
    (root / "rules").mkdir(exist_ok=True)
    (root / "rules" / "chips.yaml").write_text(yaml.safe_dump({"query": "chip*", "channels": ["h"], **rule}))
    return load_config(root, {})


@pytest.mark.parametrize(("rule", "field", "words"), [
    ({"digest": {"at": "8am"}}, "digest.at", "HH:MM"),
    ({"digest": {"at": "25:00"}}, "digest.at", "HH:MM"),
    ({"digest": {"at": "08:00", "timezone": "Mars/Olympus"}}, "digest.timezone", "time zone"),
    ({"digest": {"every": "1h", "at": "08:00"}}, "digest", "either"),
    ({"digest": {}}, "digest", "either"),
    ({"digest": {"every": "1h", "timezone": "UTC"}}, "digest", "timezone"),
    ({"digest": {"every": "banana"}}, "digest.every", "duration"),
    ({"on_spread": 1}, "on_spread", "2"),
    ({"on_first": False}, "chips.yaml", "on_spread"),
])
def test_bad_digest_and_spread_settings_name_file_and_field(tmp_path, rule, field, words):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, rule)
    text = str(caught.value)
    assert "rules/chips.yaml" in text and field in text and words in text


def test_good_settings_load(tmp_path):
    rule = _load(tmp_path, {"digest": {"at": "08:00", "timezone": "Asia/Shanghai"}, "on_spread": 3,
                            "on_first": False}).rules["chips"]
    assert (rule.digest.at, rule.digest.zone, rule.on_spread, rule.on_first) == ("08:00", "Asia/Shanghai", 3, False)
    assert _load(tmp_path, {"digest": {"every": "1h"}}).rules["chips"].digest.every == 3600
    assert _load(tmp_path, {"digest": {"at": "08:00"}}).rules["chips"].digest.zone == "UTC"
