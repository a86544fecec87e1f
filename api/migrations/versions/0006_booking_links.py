"""bookings: the equipment an installation put in place on other days, and reschedule links

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 07:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("equipment", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("replaces", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("replaced_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("replaced_by")
        batch_op.drop_column("replaces")
        batch_op.drop_column("equipment")
