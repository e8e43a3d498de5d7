"""the daemon's schedule in source_state.next_check_at; no APScheduler job table

Each source's next due time now lives beside its state (indexed: the daemon and
`newsmon status` ask which sources are overdue), so a restarted daemon keeps every
source's rhythm. The daemon's own periodic jobs are rebuilt in memory at each
start, so the `apscheduler_jobs` table the previous versions kept in the archive
(undocumented, and one row per source) is dropped.

Revision ID: 0009_source_schedule
Revises: 0008_alert_claims_delivery_keys
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_source_schedule'
down_revision: str | None = '0008_alert_claims_delivery_keys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('source_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_source_state_next_check_at'), ['next_check_at'], unique=False)
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    with op.batch_alter_table('source_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_state_next_check_at'))
        batch_op.drop_column('next_check_at')
