"""index articles by (source, content_hash)

The exact-duplicate check asks "this URL, or this text from this source?".
With only single-column indexes SQLite answered the second half through the
source index, reading every article of the source: a crawl slowed as the
archive grew. The pair index answers it with one lookup.

Revision ID: 0007_source_content_hash_index
Revises: 0006_revisions
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0007_source_content_hash_index'
down_revision: str | None = '0006_revisions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f('ix_articles_source_content_hash'), 'articles', ['source', 'content_hash'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_articles_source_content_hash'), table_name='articles')
