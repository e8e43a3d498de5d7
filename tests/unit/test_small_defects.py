"""Regression tests for small defects: a rule compiled once, an engine disposed after a failed
crawl, every source kind has a spider, the demo's per-source languages."""

from __future__ import annotations

import sqlite3
import typing

from sqlalchemy import Engine, event

from monitor.alerting import RuleMatcher
from monitor.config import RuleConfig, SourceConfig, load_config
from monitor.crawl_runner import run_crawl
from monitor.store.models import Article
from replay.demo import ARTICLES_PER_SOURCE


def test_rule_matcher_compiles_each_query_once_and_still_matches():
    rules = {"chips": RuleConfig(name="chips", query="semiconductor* NEAR/3 export", channels=["h"])}
    matcher = RuleMatcher(rules)
    assert matcher.compiled["chips"] is matcher.ruleset.compiled["chips"]
    article = Article(title="Export rules", text="Semiconductors face new export limits.", source="a",
                      language="en")
    assert matcher.matching_rules(article) == ["chips"]
    assert "export" in matcher.snippet("chips", article).lower()


def test_every_source_kind_has_a_spider():
    """crawler/__main__ no longer catches spider_for's ValueError: config allows no other kinds."""
    from crawler.sources import SPIDERS

    kinds = typing.get_args(SourceConfig.model_fields["kind"].annotation)
    assert set(kinds) == set(SPIDERS)


def test_a_failed_crawl_disposes_the_engine_it_opened(config_factory, tmp_path):
    """The crawl exits without reporting (an unknown source): its failure is recorded through an
    engine that is disposed afterwards, not left holding a pool in a long-running daemon."""
    from monitor.store.session import migrate

    config = load_config(config_factory(), {})
    migrate(config.database_url)
    connected: set[int] = set()
    disposed: set[int] = set()

    def on_connect(connection) -> None:
        connected.add(id(connection.engine))

    def on_dispose(engine) -> None:
        disposed.add(id(engine))

    event.listen(Engine, "engine_connect", on_connect)
    event.listen(Engine, "engine_disposed", on_dispose)
    try:
        outcome = run_crawl(config, ["no_such_source"])
    finally:
        event.remove(Engine, "engine_connect", on_connect)
        event.remove(Engine, "engine_disposed", on_dispose)
    assert outcome.results["no_such_source"].status == "failed"
    assert connected and connected <= disposed


def test_demo_lists_every_language_of_a_source():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE articles (source TEXT, language TEXT)")
    db.executemany("INSERT INTO articles VALUES (?, ?)",
                   [("jjckb", "zh"), ("jjckb", "en"), ("jjckb", "zh"), ("xinhua", "en")])
    rows = db.execute(ARTICLES_PER_SOURCE).fetchall()
    assert [(source, count, sorted(languages.split(","))) for source, count, languages in rows] == [
        ("jjckb", 3, ["en", "zh"]), ("xinhua", 1, ["en"])]
