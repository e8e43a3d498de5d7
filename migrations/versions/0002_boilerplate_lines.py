"""learned site boilerplate lines

Revision ID: 0002_boilerplate_lines
Revises: 0001_initial_archive
Create Date: 2026-11-24 09:59:21.433583
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002_boilerplate_lines'
down_revision: str | None = '0001_initial_archive'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('boilerplate_lines',
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('line_hash', sa.String(length=64), nullable=False),
    sa.Column('line_text', sa.Text(), nullable=False),
    sa.Column('article_count', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'line_hash', name=op.f('pk_boilerplate_lines'))
    )


def downgrade() -> None:
    op.drop_table('boilerplate_lines')
