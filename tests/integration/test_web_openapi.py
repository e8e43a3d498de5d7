"""The JSON API against its own OpenAPI schema (/openapi.json), by schemathesis: generated requests to
every operation, with the token a client sends, answer as documented (status codes, content types, bodies)
and never with a server error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from monitor.config import load_config
from monitor.store.session import make_engine, migrate, session_factory
from monitor.web import create_app
from tests.helpers.config import write_config
from tests.helpers.web import fill_desk, serve

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the test extra: pip install -e .[test]")

TOKEN = "schema-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = 100
TAKES_QUERIES_OR_CURSORS = {"GET /api/stories", "GET /api/search", "POST /api/backtest"}


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("web-openapi")
    url = f"sqlite:///{root / 'archive.sqlite3'}"
    config_dir = write_config(root / "config", {
        "database_url": url, "web": {"token": TOKEN},
        "channels": {"hook": {"type": "webhook", "url": "http://127.0.0.1:9/"}},
    }, sources={"alpha": {"kind": "feed", "start_urls": ["http://127.0.0.2:9/feed"]}},
        rules={"forces": {"query": '"productive forces"', "channels": ["hook"]}})
    migrate(url)
    sessions = session_factory(make_engine(url))
    fill_desk(sessions)
    with serve(create_app(load_config(config_dir, {}), sessions)) as base:
        yield base


def _checker(operation, excluded: list):
    from hypothesis import given

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        case.call_and_validate(headers=AUTH, excluded_checks=excluded)

    return check


def test_every_operation_answers_as_documented(api_server):
    """schemathesis' own checks (no server error, status code, content type and body as documented) on
    generated requests to each operation. Its pytest plugin's lazy fixtures do not run on pytest 9, so the
    operations are driven here through their Hypothesis strategies."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    api = schemathesis.openapi.from_url(f"{api_server}/openapi.json", headers=AUTH)
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /api/stories", "GET /api/stories/{story_id}", "GET /api/search",
                                               "GET /api/sources", "GET /api/alerts", "POST /api/alerts/{alert_id}/retry",
                                               "GET /api/rules", "GET /api/rules/{name}/backtest", "POST /api/backtest"}
    failures = {}
    for operation in operations:
        # A schema-valid cursor or rule query may still be one the server cannot use (400, documented):
        # the check that every schema-valid request succeeds does not hold for those parameters.
        excluded = [positive_data_acceptance] if operation.label in TAKES_QUERIES_OR_CURSORS else []
        try:
            _checker(operation, excluded)()
        except BaseException as exc:  # every operation is tried; all failures are reported together
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            failures[operation.label] = f"{type(exc).__name__}: {exc}"
    assert not failures, "\n\n".join(f"{label}:\n{message}" for label, message in failures.items())
