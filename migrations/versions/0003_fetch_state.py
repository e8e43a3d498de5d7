"""conditional requests, seen urls, throttling

Revision ID: 0003_fetch_state
Revises: 0002_boilerplate_lines
Create Date: 2026-11-24 10:02:49.131538
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_fetch_state'
down_revision: str | None = '0002_boilerplate_lines'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('http_validators',
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'url', name=op.f('pk_http_validators'))
    )
    op.create_table('seen_urls',
    sa.Column('canonical_url', sa.String(length=2048), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('outcome', sa.String(length=200), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('canonical_url', name=op.f('pk_seen_urls'))
    )
    with op.batch_alter_table('seen_urls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_urls_last_seen'), ['last_seen'], unique=False)
        batch_op.create_index(batch_op.f('ix_seen_urls_source'), ['source'], unique=False)

    with op.batch_alter_table('source_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('throttled_until', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('source_state', schema=None) as batch_op:
        batch_op.drop_column('throttled_until')

    with op.batch_alter_table('seen_urls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_urls_source'))
        batch_op.drop_index(batch_op.f('ix_seen_urls_last_seen'))

    op.drop_table('seen_urls')
    op.drop_table('http_validators')
