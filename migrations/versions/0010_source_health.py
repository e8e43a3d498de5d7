"""source health: per-source verdicts and operator alerts through the outbox

source_health keeps, per source, what health evaluation concluded (ok, failing,
silent, drifting, since when, why), what operators were last alerted about, and
what it learned from the source's history (its usual gap between new articles,
its drift check). `version` counts transitions, so evaluations running at once
make each one once.

An alert can now be a health alert: kind 'health', no article (article_id
nullable), the notice in `payload` (JSON), and `event_key` naming the transition
and channel, unique: the same event is never queued twice. Existing alerts are
kind 'article' and unchanged.

Two indexes serve health's reads: a source's latest runs (crawl_runs) and its
latest articles (articles), newest first.

Revision ID: 0010_source_health
Revises: 0009_source_schedule
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_source_health'
down_revision: str | None = '0009_source_schedule'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'source_health',
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('notified_state', sa.String(length=20), nullable=True),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('version', sa.Integer(), server_default='0', nullable=False),
        sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('usual_gap_seconds', sa.Float(), nullable=True),
        sa.Column('gap_as_of', sa.DateTime(timezone=True), nullable=True),
        sa.Column('drift_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('drift_detail', sa.Text(), nullable=True),
        sa.Column('drift_as_of', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('source', name=op.f('pk_source_health')),
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='article', nullable=False))
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('event_key', sa.String(length=400), nullable=True))
        batch_op.alter_column('article_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_alerts_event_key'), ['event_key'])
    op.create_index(op.f('ix_crawl_runs_source_finished_at'), 'crawl_runs', ['source', 'finished_at'], unique=False)
    op.create_index(op.f('ix_articles_source_fetched_at'), 'articles', ['source', 'fetched_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_articles_source_fetched_at'), table_name='articles')
    op.drop_index(op.f('ix_crawl_runs_source_finished_at'), table_name='crawl_runs')
    # Health alerts have no article: the older schema cannot hold them.
    op.execute("DELETE FROM alerts WHERE article_id IS NULL")
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_alerts_event_key'), type_='unique')
        batch_op.alter_column('article_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('event_key')
        batch_op.drop_column('payload')
        batch_op.drop_column('kind')
    op.drop_table('source_health')
