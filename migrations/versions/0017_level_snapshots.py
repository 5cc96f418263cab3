"""monthly level snapshots, so stock as of a past date walks back at most a month

Revision ID: 0017_level_snapshots
Revises: 0016_boxes_and_shipments
Create Date: 2026-12-05 00:45:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017_level_snapshots"
down_revision = "0016_boxes_and_shipments"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "snapshot_taken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "taken_at"),
    )
    op.create_table(
        "level_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "item_id", "taken_at"),
    )
    with op.batch_alter_table("level_snapshot", schema=None) as batch_op:
        batch_op.create_index("ix_level_snapshot_org_taken", ["organisation_id", "taken_at"])


def downgrade():
    op.drop_table("level_snapshot")
    op.drop_table("snapshot_taken")
