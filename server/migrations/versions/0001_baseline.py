"""Baseline: every table as release 0.1.0 made them, and the adoption of older databases.

A database made before migrations existed (up to 0.1.0) has some or all of these tables and no
alembic_version: the tables it lacks are created, the columns later commits added to tables it
has are added (catalog_revisions.withdrawn_*), and statistics tables of another statistics
version are dropped and made again (they are derived from the journal). A new database simply
gets every table. The definitions are frozen here, never imported from the code, so this
migration does the same thing in every later release.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

baseline = sa.MetaData()


def _t(name: str) -> sa.Table:
    return baseline.tables[name]


sa.Table('catalog_revisions', baseline,
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('rev', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('by', sa.String(length=40), nullable=False),
    sa.Column('effective', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('withdrawn_at', sa.String(length=40), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('hall', 'rev')
)
sa.Table('devices', baseline,
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('place', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('claim_sha256', sa.String(length=64), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kiosk', sa.String(length=40), nullable=True),
    sa.Column('window', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('registered_at', sa.Float(), nullable=False),
    sa.Column('approved_at', sa.Float(), nullable=True),
    sa.Column('approved_by', sa.String(length=40), nullable=True),
    sa.Column('claimed_at', sa.Float(), nullable=True),
    sa.Column('revoked_at', sa.Float(), nullable=True),
    sa.Column('revoked_by', sa.String(length=40), nullable=True),
    sa.Column('last_seen', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_sha256')
)
sa.Index('ix_devices_hall', _t('devices').c.hall)
sa.Table('evaluator_sessions', baseline,
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('window', sa.String(length=40), nullable=False),
    sa.Column('opened_by', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('token_sha256')
)
sa.Index('ix_evaluator_sessions_expires_at', _t('evaluator_sessions').c.expires_at)
sa.Table('events', baseline,
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('hall', 'day', 'seq')
)
sa.Table('login_failures', baseline,
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.Float(), nullable=False),
    sa.Column('locked_until', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('username')
)
sa.Table('passwords', baseline,
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('hash', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('username')
)
sa.Table('sessions', baseline,
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('token_sha256')
)
sa.Table('staff_accounts', baseline,
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('updated_by', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('username')
)
sa.Table('staff_changes', baseline,
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('by', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id')
)
sa.Index('ix_staff_changes_hall', _t('staff_changes').c.hall)
sa.Table('stat_days', baseline,
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('built_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('hall', 'day')
)
sa.Table('stat_groups', baseline,
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('dim', sa.String(length=12), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('called', sa.Integer(), nullable=False),
    sa.Column('served', sa.Integer(), nullable=False),
    sa.Column('no_show', sa.Integer(), nullable=False),
    sa.Column('transferred', sa.Integer(), nullable=False),
    sa.Column('requeued', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Integer(), nullable=False),
    sa.Column('unfinished', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('score_1', sa.Integer(), nullable=False),
    sa.Column('score_2', sa.Integer(), nullable=False),
    sa.Column('score_3', sa.Integer(), nullable=False),
    sa.Column('score_4', sa.Integer(), nullable=False),
    sa.Column('score_5', sa.Integer(), nullable=False),
    sa.Column('case_immediate', sa.Integer(), nullable=False),
    sa.Column('case_promised', sa.Integer(), nullable=False),
    sa.Column('case_joint', sa.Integer(), nullable=False),
    sa.Column('case_escalated', sa.Integer(), nullable=False),
    sa.Column('outcome_completed', sa.Integer(), nullable=False),
    sa.Column('outcome_one_time_notice', sa.Integer(), nullable=False),
    sa.Column('outcome_not_accepted', sa.Integer(), nullable=False),
    sa.Column('outcome_consultation', sa.Integer(), nullable=False),
    sa.Column('alerts', sa.Integer(), nullable=False),
    sa.Column('alerts_warning', sa.Integer(), nullable=False),
    sa.Column('alerts_yellow', sa.Integer(), nullable=False),
    sa.Column('alerts_red', sa.Integer(), nullable=False),
    sa.Column('appt_booked', sa.Integer(), nullable=False),
    sa.Column('appt_checked_in', sa.Integer(), nullable=False),
    sa.Column('appt_missed', sa.Integer(), nullable=False),
    sa.Column('appt_cancelled', sa.Integer(), nullable=False),
    sa.Column('open_s', sa.Float(), nullable=False),
    sa.Column('idle_s', sa.Float(), nullable=False),
    sa.Column('calling_s', sa.Float(), nullable=False),
    sa.Column('serving_s', sa.Float(), nullable=False),
    sa.Column('paused_s', sa.Float(), nullable=False),
    sa.Column('idle_waiting_s', sa.Float(), nullable=False),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.Column('n_waits', sa.Integer(), nullable=False),
    sa.Column('n_services', sa.Integer(), nullable=False),
    sa.Column('waits', sa.LargeBinary(), nullable=False),
    sa.Column('services', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('hall', 'dim', 'day', 'key')
)
sa.Table('stat_ledger', baseline,
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('ticket', sa.String(length=40), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('hall', 'day', 'seq')
)
sa.Table('stat_meta', baseline,
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('version')
)
sa.Table('stat_tickets', baseline,
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('ticket', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=10), nullable=False),
    sa.Column('item_issued', sa.String(length=40), nullable=False),
    sa.Column('item', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('priority', sa.Boolean(), nullable=False),
    sa.Column('appointment', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_called_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_window', sa.String(length=40), nullable=True),
    sa.Column('first_clerk', sa.String(length=40), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window', sa.String(length=40), nullable=True),
    sa.Column('clerk', sa.String(length=40), nullable=True),
    sa.Column('wait_s', sa.Float(), nullable=True),
    sa.Column('service_s', sa.Float(), nullable=True),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.Column('requeues', sa.Integer(), nullable=False),
    sa.Column('recalls', sa.Integer(), nullable=False),
    sa.Column('case_type', sa.String(length=12), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('hall', 'day', 'ticket')
)
sa.Index('stat_tickets_cases', _t('stat_tickets').c.hall, _t('stat_tickets').c.case_type, _t('stat_tickets').c.deadline)
sa.Index('stat_tickets_scores', _t('stat_tickets').c.hall, _t('stat_tickets').c.score)
sa.Table('stat_window_hours', baseline,
    sa.Column('hall', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('window', sa.String(length=40), nullable=False),
    sa.Column('clerk', sa.String(length=40), nullable=False),
    sa.Column('hour', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('open_s', sa.Float(), nullable=False),
    sa.Column('idle_s', sa.Float(), nullable=False),
    sa.Column('calling_s', sa.Float(), nullable=False),
    sa.Column('serving_s', sa.Float(), nullable=False),
    sa.Column('paused_s', sa.Float(), nullable=False),
    sa.Column('idle_waiting_s', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('hall', 'day', 'window', 'clerk', 'hour')
)

STATS = ("stat_days", "stat_groups", "stat_ledger", "stat_meta", "stat_tickets", "stat_window_hours")
STATS_VERSION = 4  # the statistics version of 0.1.0 (server/stats/store.py VERSION then)
# Columns added to existing tables by commits before 0.1.0; a table made earlier lacks them.
LATE_COLUMNS = {"catalog_revisions": ("withdrawn_at", "withdrawn_by")}


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    if "stat_meta" in existing:
        version = bind.execute(sa.text("SELECT max(version) FROM stat_meta")).scalar()
        if version != STATS_VERSION:
            for name in STATS:
                if name in existing:
                    op.drop_table(name)
                    existing.discard(name)
    for table, columns in LATE_COLUMNS.items():
        if table in existing:
            have = {c["name"] for c in inspector.get_columns(table)}
            for name in columns:
                if name not in have:
                    op.add_column(table, sa.Column(name, _t(table).c[name].type, nullable=True))
    baseline.create_all(bind, tables=[t for t in baseline.sorted_tables if t.name not in existing])
    if "stat_meta" not in existing:
        bind.execute(_t("stat_meta").insert().values(version=STATS_VERSION))


def downgrade() -> None:
    raise NotImplementedError("hallq does not downgrade a hall's data: restore the backup made before the upgrade")
