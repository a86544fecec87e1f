"""job params: the solver settings of a job besides time limit and seed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:15:00.000000

Jobs stored before have none (``NULL``): they run with the default settings, as they did.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('params')
