"""article revisions

Revision ID: 0006_revisions
Revises: 0005_full_text_search
Create Date: 2026-11-24 10:43:14.494718
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_revisions'
down_revision: str | None = '0005_full_text_search'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('article_revisions',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_revisions_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', 'revision', name=op.f('pk_article_revisions'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_alerts_rule_article_id_channel'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_alerts_rule_article_id_channel_revision'),
                                          ['rule', 'article_id', 'channel', 'revision'])

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revision_count', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('revision_count')
        batch_op.drop_column('checked_at')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_alerts_rule_article_id_channel_revision'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_alerts_rule_article_id_channel'), ['rule', 'article_id', 'channel'])
        batch_op.drop_column('revision')

    op.drop_table('article_revisions')
