"""The outboxes: ratings on their way to the provincial 好差评 platform, bad ratings it sent back
for follow-up, and the read positions of
the outboxes in each hall's journal (server/journal/outbox.py); text messages and the encrypted
phone numbers they still need (server/journal/sms.py)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rating_uploads",
        sa.Column("hall", sa.String(length=40), nullable=False),
        sa.Column("rating", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("bad", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.String(length=40), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.Column("sent_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("hall", "rating"),
    )
    op.create_index("ix_rating_uploads_order", "rating_uploads", ["hall", "state", "day", "seq"])
    op.create_table(
        "rating_returns",
        sa.Column("hall", sa.String(length=40), nullable=False),
        sa.Column("rating", sa.String(length=60), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("window", sa.String(length=40), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_on", sa.Date(), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("hall", "rating"),
    )
    op.create_table(
        "outbox_positions",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("hall", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "hall"),
    )

    op.create_table(
        "sms_contacts",
        sa.Column("hall", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("hall", "subject"),
    )
    op.create_table(
        "sms_messages",
        sa.Column("hall", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.Column("queued_at", sa.String(length=40), nullable=False),
        sa.Column("sent_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("hall", "key"),
    )
    op.create_index("ix_sms_messages_state", "sms_messages", ["hall", "state", "queued_at"])


def downgrade() -> None:
    raise NotImplementedError("hallq does not downgrade a hall's data: restore the backup made before the upgrade")
