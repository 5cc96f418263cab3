"""best-before lots: dated items, stock per date and the draws that explain it

Revision ID: 0018_lots
Revises: 0017_level_snapshots
Create Date: 2026-12-05 00:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018_lots"
down_revision = "0017_level_snapshots"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "stock_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("best_before", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name="ck_stock_lot_not_negative"),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "item_id", "best_before"),
    )
    with op.batch_alter_table("stock_lot", schema=None) as batch_op:
        batch_op.create_index("ix_stock_lot_org_best_before", ["organisation_id", "best_before"])
        batch_op.create_index(batch_op.f("ix_stock_lot_item_id"), ["item_id"], unique=False)
    op.create_table(
        "lot_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("movement_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("best_before", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["movement_id"], ["stock_movement.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lot_draw", schema=None) as batch_op:
        batch_op.create_index("ix_lot_draw_lot", ["site_id", "item_id", "best_before"])
        batch_op.create_index(batch_op.f("ix_lot_draw_movement_id"), ["movement_id"], unique=False)


def downgrade():
    op.drop_table("lot_draw")
    op.drop_table("stock_lot")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("dated")
