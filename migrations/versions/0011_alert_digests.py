"""alert digests: outbox rows held for a rule's digest period

A rule with `digest:` queues its alerts as today, one row per (rule, article,
channel), but due at the end of the digest period: `digest_start` and
`digest_end` name the period (NULL for alerts sent one by one). The rows of one
(rule, channel, digest_end) are claimed and sent together as one message.

Spread alerts (rules with `on_spread`) are rows of kind 'spread' with revision
-1 (so they never collide with the article's own alert) and an `event_key`
"spread:<rule>:<story>:<channel>", unique: a story spreads once per rule and channel.

Revision ID: 0011_alert_digests
Revises: 0010_source_health
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_alert_digests'
down_revision: str | None = '0010_source_health'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_start', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('digest_end', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_alerts_rule_channel_digest_end'), 'alerts', ['rule', 'channel', 'digest_end'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_alerts_rule_channel_digest_end'), table_name='alerts')
    op.execute("DELETE FROM alerts WHERE kind = 'spread'")
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('digest_end')
        batch_op.drop_column('digest_start')
