"""The national calendar's years added by administrators (a State Council notice a year).

The official holiday table ships with the code for the years it knows; a year published later
is added from config/calendar/ or the admin page and kept here, so every process and every
restart knows it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),  # the year's table as JSON (server/domain/calendar.py)
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("added_by", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )


def downgrade() -> None:
    raise NotImplementedError("hallq does not downgrade a hall's data: restore the backup made before the upgrade")
