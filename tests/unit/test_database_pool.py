"""database_pool in newsmon.yaml sizes every process's pool on a PostgreSQL archive."""

from __future__ import annotations

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.store.session import make_engine
from tests.helpers.config import write_config

PG_URL = "postgresql+psycopg://newsmon@127.0.0.1:5432/test"


@pytest.mark.parametrize(("pool", "size", "overflow", "timeout", "recycle"), [
    pytest.param(None, 5, 10, 30.0, 1800, id="defaults"),
    pytest.param({"size": 2, "max_overflow": 0, "timeout": "5s", "recycle": "10m"}, 2, 0, 5.0, 600, id="set"),
])
def test_pool_settings_reach_the_engine(tmp_path, pool, size, overflow, timeout, recycle):
    config = load_config(write_config(tmp_path, {"database_url": PG_URL,
                                                 **({"database_pool": pool} if pool else {})}), {})
    engine = make_engine(config.database_url, config.database_pool)  # no connection is opened yet
    try:
        assert engine.pool.size() == size
        assert engine.pool._max_overflow == overflow
        assert engine.pool._timeout == timeout
        assert engine.pool._recycle == recycle
        assert engine.pool._pre_ping is True  # a connection dropped by a server restart is replaced
    finally:
        engine.dispose()


@pytest.mark.parametrize(("pool", "field"), [
    pytest.param({"size": 0}, "size", id="no connections"),
    pytest.param({"max_overflow": -1}, "max_overflow", id="negative overflow"),
    pytest.param({"timeout": "soon"}, "timeout", id="not a duration"),
    pytest.param({"pool_size": 3}, "pool_size", id="unknown key"),
])
def test_bad_pool_settings_name_the_field(tmp_path, pool, field):
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, {"database_url": PG_URL, "database_pool": pool}), {})
    assert "database_pool" in str(error.value) and field in str(error.value)
