"""alert claims with an owner and a lease; globally unique delivery keys

A claim ('sending') now records who holds it (claimed_by: "host:pid:start-token")
and until when (claimed_until), so a restarted daemon releases the claims of a
process that is gone at once instead of after a fixed 15 minutes.

delivery_key replaces the alert id as the idempotency key receivers dedupe on:
a rebuilt archive reuses ids, a uuid4 is never reused. Existing rows get fresh
keys. Rows left 'sending' by the previous version have no known owner: they get
a lease of 15 minutes from now (the old rule's wait, at least).

Revision ID: 0008_alert_claims_delivery_keys
Revises: 0007_source_content_hash_index
"""
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

# At most 32 characters: alembic_version.version_num is VARCHAR(32) on PostgreSQL.
revision: str = '0008_alert_claims_delivery_keys'
down_revision: str | None = '0007_source_content_hash_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_CLAIM_LEASE = timedelta(minutes=15)


def upgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))

    alerts = sa.table('alerts', sa.column('id', sa.Integer), sa.column('status', sa.String),
                      sa.column('delivery_key', sa.String), sa.column('claimed_until', sa.DateTime(timezone=True)))
    bind = op.get_bind()
    ids = bind.execute(sa.select(alerts.c.id)).scalars().all()
    if ids:
        bind.execute(alerts.update().where(alerts.c.id == sa.bindparam('alert_id'))
                     .values(delivery_key=sa.bindparam('key')),
                     [{'alert_id': alert_id, 'key': uuid.uuid4().hex} for alert_id in ids])
    lease_end = datetime.now(timezone.utc) + LEGACY_CLAIM_LEASE
    bind.execute(alerts.update().where(alerts.c.status == 'sending').values(claimed_until=lease_end))

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.alter_column('delivery_key', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_alerts_delivery_key'), ['delivery_key'])


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_alerts_delivery_key'), type_='unique')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('delivery_key')
