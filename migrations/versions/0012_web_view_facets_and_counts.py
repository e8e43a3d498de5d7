"""web view on a big archive: story facets and article counts kept by triggers

`newsmon web` must answer from a million articles without reading them all:

- story_sources: one row per (story, source, language) its articles have, with
  the story's first_seen_at, so stories filtered by source or language are one
  index range in page order (source, first_seen_at) / (language, first_seen_at)
  instead of probing every newer story's articles. language '' = none.
- story_rules: one row per (story, rule) some alert of one of its articles has,
  for stories filtered by rule the same way.
- article_counts: articles per (source, language), for the sources page and
  the languages the archive has, without counting the articles.
- daily_article_counts: articles per (UTC day, source), for the sparklines, with
  the smallest and largest article id of that day: full-text search on SQLite
  walks the archive newest first a few days at a time, asking FTS5 only for that
  id range (a superset: ids of deleted articles or of articles moved to another
  day stay inside it).

alerts gets an index on created_at: the rules page counts a month of matches
per rule and day without reading every alert.

All four tables are kept by triggers on articles, alerts and stories, whatever writes
the rows (the crawler, tests, a person with SQL); this migration fills them from
the archive. PostgreSQL sums inserts per statement (transition tables), so a
batch of articles costs one upsert per source; updates and deletes are per row
and only when a column they depend on changes.

PostgreSQL also gets a trigram index (pg_trgm) on the articles' Chinese and
Japanese characters, newsmon_cjk_text(title, text): the 'simple' text search
parser keeps a CJK run as one word, so a Chinese term was found by a scan of
every text. The extension is trusted (a database owner may create it); where it
cannot be created the index is left out and search works as before, scanning.
The character class below must stay the one monitor.store.search splits terms
with (a unit test compares them).

Note for later migrations: SQLite's batch mode copies a table, which drops its
triggers (these and 0005's): recreate them after a batch_alter_table on
articles, alerts or stories.

Revision ID: 0012_web_view_facets_and_counts
Revises: 0011_alert_digests
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_web_view_facets_and_counts'
down_revision: str | None = '0011_alert_digests'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Han (with Extension A, compatibility ideographs, Extensions B and beyond, 々〆〇) and kana, as in
# monitor.text.cjk.CJK_RANGES when this was written. Frozen here: the index is built with it.
CJK_CLASS = "\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3040-\u30ff"

_SQLITE_ADD_FACETS = """
    INSERT OR IGNORE INTO story_sources (story_id, source, language, first_seen_at)
        SELECT id, new.source, coalesce(new.language, ''), first_seen_at FROM stories WHERE id = new.story_id;
    INSERT OR IGNORE INTO story_rules (story_id, rule, first_seen_at)
        SELECT s.id, a.rule, s.first_seen_at FROM alerts a, stories s WHERE a.article_id = new.id AND s.id = new.story_id;
"""
# After the old row's story lost an article: its facets that no other article (or alert) still gives.
_SQLITE_DROP_OLD_FACETS = """
    DELETE FROM story_sources WHERE story_id = old.story_id AND source = old.source
        AND language = coalesce(old.language, '')
        AND NOT EXISTS (SELECT 1 FROM articles x WHERE x.story_id = old.story_id AND x.source = old.source
                        AND coalesce(x.language, '') = coalesce(old.language, ''));
    DELETE FROM story_rules WHERE story_id = old.story_id
        AND NOT EXISTS (SELECT 1 FROM alerts a JOIN articles x ON x.id = a.article_id
                        WHERE x.story_id = story_rules.story_id AND a.rule = story_rules.rule);
"""
_SQLITE_COUNT = """
    INSERT INTO article_counts (source, language, articles) VALUES ({row}.source, coalesce({row}.language, ''), {n})
        ON CONFLICT (source, language) DO UPDATE SET articles = articles + {n};
    INSERT INTO daily_article_counts (day, source, articles, min_id, max_id)
        VALUES (date({row}.fetched_at), {row}.source, {n}, {row}.id, {row}.id)
        ON CONFLICT (day, source) DO UPDATE SET articles = articles + {n}, min_id = min(min_id, excluded.min_id),
            max_id = max(max_id, excluded.max_id);
"""
SQLITE_TRIGGERS = {
    "articles_web_insert": "AFTER INSERT ON articles BEGIN" + _SQLITE_COUNT.format(row="new", n=1)
                           + _SQLITE_ADD_FACETS + "END",
    "articles_web_delete": "AFTER DELETE ON articles BEGIN" + _SQLITE_COUNT.format(row="old", n=-1)
                           + _SQLITE_DROP_OLD_FACETS + "END",
    "articles_web_counts_update": "AFTER UPDATE OF source, language, fetched_at ON articles "
                                  "WHEN old.source IS NOT new.source OR old.language IS NOT new.language "
                                  "OR date(old.fetched_at) IS NOT date(new.fetched_at) BEGIN"
                                  + _SQLITE_COUNT.format(row="old", n=-1) + _SQLITE_COUNT.format(row="new", n=1)
                                  + "END",
    "articles_web_facets_update": "AFTER UPDATE OF story_id, source, language ON articles "
                                  "WHEN old.story_id IS NOT new.story_id OR old.source IS NOT new.source "
                                  "OR old.language IS NOT new.language BEGIN"
                                  + _SQLITE_ADD_FACETS + _SQLITE_DROP_OLD_FACETS + "END",
    "alerts_web_insert": """AFTER INSERT ON alerts WHEN new.article_id IS NOT NULL BEGIN
        INSERT OR IGNORE INTO story_rules (story_id, rule, first_seen_at)
            SELECT s.id, new.rule, s.first_seen_at FROM articles x JOIN stories s ON s.id = x.story_id
            WHERE x.id = new.article_id;
        END""",
    "alerts_web_update": """AFTER UPDATE OF rule, article_id ON alerts
        WHEN old.rule IS NOT new.rule OR old.article_id IS NOT new.article_id BEGIN
        INSERT OR IGNORE INTO story_rules (story_id, rule, first_seen_at)
            SELECT s.id, new.rule, s.first_seen_at FROM articles x JOIN stories s ON s.id = x.story_id
            WHERE x.id = new.article_id;
        DELETE FROM story_rules WHERE rule = old.rule
            AND story_id = (SELECT story_id FROM articles WHERE id = old.article_id)
            AND NOT EXISTS (SELECT 1 FROM alerts a JOIN articles x ON x.id = a.article_id
                            WHERE x.story_id = story_rules.story_id AND a.rule = old.rule);
        END""",
    "alerts_web_delete": """AFTER DELETE ON alerts WHEN old.article_id IS NOT NULL BEGIN
        DELETE FROM story_rules WHERE rule = old.rule
            AND story_id = (SELECT story_id FROM articles WHERE id = old.article_id)
            AND NOT EXISTS (SELECT 1 FROM alerts a JOIN articles x ON x.id = a.article_id
                            WHERE x.story_id = story_rules.story_id AND a.rule = old.rule);
        END""",
    "stories_web_update": """AFTER UPDATE OF first_seen_at ON stories WHEN old.first_seen_at IS NOT new.first_seen_at
        BEGIN
        UPDATE story_sources SET first_seen_at = new.first_seen_at WHERE story_id = new.id;
        UPDATE story_rules SET first_seen_at = new.first_seen_at WHERE story_id = new.id;
        END""",
}

_PG_DAY = "(({row}.fetched_at AT TIME ZONE 'UTC')::date)"
_PG_COUNT_ROW = """
    INSERT INTO article_counts AS c (source, language, articles) VALUES ({row}.source, coalesce({row}.language, ''), {n})
        ON CONFLICT (source, language) DO UPDATE SET articles = c.articles + {n};
    INSERT INTO daily_article_counts AS d (day, source, articles, min_id, max_id)
        VALUES ({day}, {row}.source, {n}, {row}.id, {row}.id)
        ON CONFLICT (day, source) DO UPDATE SET articles = d.articles + {n}, min_id = least(d.min_id, {row}.id),
            max_id = greatest(d.max_id, {row}.id);
"""
_PG_ADD_FACETS = """
    INSERT INTO story_sources (story_id, source, language, first_seen_at)
        SELECT s.id, NEW.source, coalesce(NEW.language, ''), s.first_seen_at FROM stories s WHERE s.id = NEW.story_id
        ON CONFLICT DO NOTHING;
    INSERT INTO story_rules (story_id, rule, first_seen_at)
        SELECT DISTINCT s.id, a.rule, s.first_seen_at FROM alerts a, stories s
        WHERE a.article_id = NEW.id AND s.id = NEW.story_id ORDER BY 1, 2
        ON CONFLICT DO NOTHING;
"""
_PG_DROP_OLD_FACETS = """
    DELETE FROM story_sources ss WHERE ss.story_id = OLD.story_id AND ss.source = OLD.source
        AND ss.language = coalesce(OLD.language, '')
        AND NOT EXISTS (SELECT 1 FROM articles x WHERE x.story_id = OLD.story_id AND x.source = OLD.source
                        AND coalesce(x.language, '') = coalesce(OLD.language, ''));
    DELETE FROM story_rules sr WHERE sr.story_id = OLD.story_id
        AND NOT EXISTS (SELECT 1 FROM alerts a JOIN articles x ON x.id = a.article_id
                        WHERE x.story_id = sr.story_id AND a.rule = sr.rule);
"""
_PG_DROP_OLD_RULE = """
    DELETE FROM story_rules sr WHERE sr.rule = OLD.rule
        AND sr.story_id = (SELECT story_id FROM articles WHERE id = OLD.article_id)
        AND NOT EXISTS (SELECT 1 FROM alerts a JOIN articles x ON x.id = a.article_id
                        WHERE x.story_id = sr.story_id AND a.rule = OLD.rule);
"""


def _pg_function(name: str, body: str) -> str:
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n{body}\n"
            "    RETURN NULL;\nEND\n$body$")


def _pg_count_row(row: str, n: int) -> str:
    return _PG_COUNT_ROW.format(row=row, n=n, day=_PG_DAY.format(row=row))


PG_FUNCTIONS = {
    # Inserts: summed per statement (a batch of articles is one upsert per source and day), in key order.
    "newsmon_articles_inserted": """
    INSERT INTO article_counts AS c (source, language, articles)
        SELECT source, coalesce(language, ''), count(*) FROM inserted GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (source, language) DO UPDATE SET articles = c.articles + excluded.articles;
    INSERT INTO daily_article_counts AS d (day, source, articles, min_id, max_id)
        SELECT (fetched_at AT TIME ZONE 'UTC')::date, source, count(*), min(id), max(id) FROM inserted
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (day, source) DO UPDATE SET articles = d.articles + excluded.articles,
            min_id = least(d.min_id, excluded.min_id), max_id = greatest(d.max_id, excluded.max_id);
    INSERT INTO story_sources (story_id, source, language, first_seen_at)
        SELECT DISTINCT s.id, i.source, coalesce(i.language, ''), s.first_seen_at
        FROM inserted i JOIN stories s ON s.id = i.story_id ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING;""",
    "newsmon_article_deleted": _pg_count_row("OLD", -1) + _PG_DROP_OLD_FACETS,
    "newsmon_article_counts_updated": """
    IF OLD.source IS DISTINCT FROM NEW.source OR OLD.language IS DISTINCT FROM NEW.language
       OR (OLD.fetched_at AT TIME ZONE 'UTC')::date IS DISTINCT FROM (NEW.fetched_at AT TIME ZONE 'UTC')::date THEN
""" + _pg_count_row("OLD", -1) + _pg_count_row("NEW", 1) + """
    END IF;""",
    "newsmon_article_facets_updated": """
    IF NEW.story_id IS NOT NULL THEN""" + _PG_ADD_FACETS + """
    END IF;
    IF OLD.story_id IS NOT NULL THEN""" + _PG_DROP_OLD_FACETS + """
    END IF;""",
    "newsmon_alerts_inserted": """
    INSERT INTO story_rules (story_id, rule, first_seen_at)
        SELECT DISTINCT s.id, i.rule, s.first_seen_at FROM inserted i JOIN articles x ON x.id = i.article_id
        JOIN stories s ON s.id = x.story_id ORDER BY 1, 2
        ON CONFLICT DO NOTHING;""",
    "newsmon_alert_updated": """
    INSERT INTO story_rules (story_id, rule, first_seen_at)
        SELECT s.id, NEW.rule, s.first_seen_at FROM articles x JOIN stories s ON s.id = x.story_id
        WHERE x.id = NEW.article_id
        ON CONFLICT DO NOTHING;""" + _PG_DROP_OLD_RULE,
    "newsmon_alert_deleted": _PG_DROP_OLD_RULE,
    "newsmon_story_first_seen_updated": """
    UPDATE story_sources SET first_seen_at = NEW.first_seen_at WHERE story_id = NEW.id;
    UPDATE story_rules SET first_seen_at = NEW.first_seen_at WHERE story_id = NEW.id;""",
}
PG_TRIGGERS = {  # each on the table its name starts with
    "articles_web_insert": "AFTER INSERT ON articles REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
                           "EXECUTE FUNCTION newsmon_articles_inserted()",
    "articles_web_delete": "AFTER DELETE ON articles FOR EACH ROW EXECUTE FUNCTION newsmon_article_deleted()",
    "articles_web_counts_update": "AFTER UPDATE OF source, language, fetched_at ON articles FOR EACH ROW "
                                  "WHEN (OLD.source IS DISTINCT FROM NEW.source "
                                  "OR OLD.language IS DISTINCT FROM NEW.language "
                                  "OR OLD.fetched_at IS DISTINCT FROM NEW.fetched_at) "
                                  "EXECUTE FUNCTION newsmon_article_counts_updated()",
    "articles_web_facets_update": "AFTER UPDATE OF story_id, source, language ON articles FOR EACH ROW "
                                  "WHEN (OLD.story_id IS DISTINCT FROM NEW.story_id "
                                  "OR OLD.source IS DISTINCT FROM NEW.source "
                                  "OR OLD.language IS DISTINCT FROM NEW.language) "
                                  "EXECUTE FUNCTION newsmon_article_facets_updated()",
    "alerts_web_insert": "AFTER INSERT ON alerts REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
                         "EXECUTE FUNCTION newsmon_alerts_inserted()",
    "alerts_web_update": "AFTER UPDATE OF rule, article_id ON alerts FOR EACH ROW "
                         "WHEN (OLD.rule IS DISTINCT FROM NEW.rule OR OLD.article_id IS DISTINCT FROM NEW.article_id) "
                         "EXECUTE FUNCTION newsmon_alert_updated()",
    "alerts_web_delete": "AFTER DELETE ON alerts FOR EACH ROW WHEN (OLD.article_id IS NOT NULL) "
                         "EXECUTE FUNCTION newsmon_alert_deleted()",
    "stories_web_update": "AFTER UPDATE OF first_seen_at ON stories FOR EACH ROW "
                          "WHEN (OLD.first_seen_at IS DISTINCT FROM NEW.first_seen_at) "
                          "EXECUTE FUNCTION newsmon_story_first_seen_updated()",
}
PG_CJK = [
    # Only the CJK characters of title and text, runs kept whole and separated by a space.
    "CREATE FUNCTION newsmon_cjk_text(title text, body text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    f"AS $$ SELECT regexp_replace(coalesce(title, '') || ' ' || coalesce(body, ''), '[^{CJK_CLASS}]+', ' ', 'g') $$",
    # A subtransaction: where the extension cannot be created the migration goes on without the index.
    "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; "
    "EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm not available (%): Chinese search will scan', SQLERRM; END $$",
    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
    "EXECUTE 'CREATE INDEX ix_articles_search_vector_cjk ON articles USING gin (newsmon_cjk_text(title, text) "
    "gin_trgm_ops)'; END IF; END $$",
]

_BACKFILL = [
    "INSERT INTO article_counts (source, language, articles) "
    "SELECT source, coalesce(language, ''), count(*) FROM articles GROUP BY 1, 2",
    "INSERT INTO daily_article_counts (day, source, articles, min_id, max_id) "
    "SELECT {day}, source, count(*), min(id), max(id) FROM articles GROUP BY 1, 2",
    "INSERT INTO story_sources (story_id, source, language, first_seen_at) "
    "SELECT DISTINCT a.story_id, a.source, coalesce(a.language, ''), s.first_seen_at "
    "FROM articles a JOIN stories s ON s.id = a.story_id",
    "INSERT INTO story_rules (story_id, rule, first_seen_at) "
    "SELECT DISTINCT x.story_id, a.rule, s.first_seen_at FROM alerts a JOIN articles x ON x.id = a.article_id "
    "JOIN stories s ON s.id = x.story_id",
]


def upgrade() -> None:
    op.create_table(
        'story_sources',
        sa.Column('story_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('language', sa.String(length=20), server_default='', nullable=False),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_story_sources_story_id_stories'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('story_id', 'source', 'language', name=op.f('pk_story_sources')),
    )
    op.create_index('ix_story_sources_source_first_seen_at', 'story_sources', ['source', 'first_seen_at', 'story_id'])
    op.create_index('ix_story_sources_language_first_seen_at', 'story_sources',
                    ['language', 'first_seen_at', 'story_id'])
    op.create_table(
        'story_rules',
        sa.Column('story_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=200), nullable=False),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_story_rules_story_id_stories'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('story_id', 'rule', name=op.f('pk_story_rules')),
    )
    op.create_index('ix_story_rules_rule_first_seen_at', 'story_rules', ['rule', 'first_seen_at', 'story_id'])
    op.create_table(
        'article_counts',
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('language', sa.String(length=20), nullable=False),
        sa.Column('articles', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('source', 'language', name=op.f('pk_article_counts')),
    )
    op.create_table(
        'daily_article_counts',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('articles', sa.Integer(), nullable=False),
        sa.Column('min_id', sa.Integer(), nullable=False),
        sa.Column('max_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'source', name=op.f('pk_daily_article_counts')),
    )
    op.create_index('ix_alerts_created_at', 'alerts', ['created_at'])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _BACKFILL:
            op.execute(statement.format(day="date(fetched_at)"))
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    elif dialect == "postgresql":
        for statement in _BACKFILL:
            op.execute(statement.format(day="(fetched_at AT TIME ZONE 'UTC')::date"))
        for name, body in PG_FUNCTIONS.items():
            op.execute(_pg_function(name, body))
        for name, body in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        for statement in PG_CJK:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector_cjk")
        op.execute("DROP FUNCTION IF EXISTS newsmon_cjk_text(text, text)")
        for name in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {name.split('_')[0]}")
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index('ix_alerts_created_at', table_name='alerts')
    op.drop_table('daily_article_counts')
    op.drop_table('article_counts')
    op.drop_index('ix_story_rules_rule_first_seen_at', table_name='story_rules')
    op.drop_table('story_rules')
    op.drop_index('ix_story_sources_language_first_seen_at', table_name='story_sources')
    op.drop_index('ix_story_sources_source_first_seen_at', table_name='story_sources')
    op.drop_table('story_sources')
