"""indexes the needs read: incidents by when recorded, a month's use by kind, held per item

Revision ID: 0019_needs_indexes
Revises: 0018_lots
Create Date: 2026-12-05 08:30:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0019_needs_indexes"
down_revision = "0018_lots"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_incident_org_created", "incident", ["organisation_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_stock_movement_org_kind_occurred",
        "stock_movement",
        ["organisation_id", "kind", "occurred_at", "item_id", "site_id", "quantity"],
        unique=False,
    )
    with op.batch_alter_table("stock_level") as batch_op:
        batch_op.drop_index("ix_stock_level_org_item")
        batch_op.create_index(
            "ix_stock_level_org_item_quantity",
            ["organisation_id", "item_id", "quantity"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("stock_level") as batch_op:
        batch_op.drop_index("ix_stock_level_org_item_quantity")
        batch_op.create_index("ix_stock_level_org_item", ["organisation_id", "item_id"], unique=False)
    op.drop_index("ix_stock_movement_org_kind_occurred", table_name="stock_movement")
    op.drop_index("ix_incident_org_created", table_name="incident")
