"""roster publications: the roster a coordinator published for each provider and date

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 02:00:00

Until now the day's roster of a provider was simply the newest solved or
re-optimised roster of that date whose plan listed it, so a planner's copy of a
plan, or a coordinator's one-visit test, replaced the live day. From this
revision a coordinator publishes one roster per provider and date.

To keep what providers and workers see today where that is safe, the upgrade
publishes, for each provider and date, the newest solved or re-optimised roster
whose job a **coordinator** key started (never a planner's); rosters of other
jobs stay drafts. Keys of the old role form ``worker:<worker id>`` are left as
they are: the server refuses them with a message saying how to re-issue them
(nothing recorded says which provider the holder works for).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    publications = op.create_table(
        "roster_publications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=False),
        sa.Column("roster_id", sa.String(length=32), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["roster_id"], ["rosters.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("roster_publications", schema=None) as batch_op:
        batch_op.create_index("ix_roster_publications_day", ["date", "provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roster_publications_roster_id"), ["roster_id"], unique=False)
    _publish_coordinators_rosters(publications)


def _publish_coordinators_rosters(publications: sa.Table) -> None:
    """Publish, per provider and date, the newest day roster of a job a coordinator key started."""
    rosters = sa.table("rosters", sa.column("id"), sa.column("plan_id"), sa.column("job_id"),
                       sa.column("purpose"), sa.column("date", sa.Date()),
                       sa.column("created_at", sa.DateTime(timezone=True)))
    jobs = sa.table("jobs", sa.column("id"), sa.column("created_by"))
    keys = sa.table("api_keys", sa.column("id"), sa.column("role"))
    members = sa.table("plan_members", sa.column("plan_id"), sa.column("kind"), sa.column("member_id"))
    rows = op.get_bind().execute(
        sa.select(rosters.c.id, rosters.c.date, rosters.c.created_at, members.c.member_id)
        .join(jobs, jobs.c.id == rosters.c.job_id)
        .join(keys, keys.c.id == jobs.c.created_by)
        .join(members, sa.and_(members.c.plan_id == rosters.c.plan_id, members.c.kind == "provider"))
        .where(rosters.c.purpose.in_(("solve", "reoptimise")), keys.c.role == "coordinator")
        .order_by(rosters.c.created_at, rosters.c.id))
    newest: dict[tuple[object, str], tuple[str, object]] = {}
    for roster_id, date, created_at, provider_id in rows:
        newest[(date, provider_id)] = (roster_id, created_at)  # rows come oldest first
    if newest:
        op.bulk_insert(publications, [
            {"date": date, "provider_id": provider_id, "roster_id": roster_id, "published_at": created_at,
             "published_by": None}
            for (date, provider_id), (roster_id, created_at) in newest.items()])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("roster_publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_publications_roster_id"))
        batch_op.drop_index("ix_roster_publications_day")
    op.drop_table("roster_publications")
