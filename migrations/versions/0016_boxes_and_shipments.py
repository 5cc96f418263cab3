"""boxes on shelves, partner organisations and shipments between them

Revision ID: 0016_boxes_and_shipments
Revises: 0015_donors
Create Date: 2026-12-04 22:25:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016_boxes_and_shipments"
down_revision = "0015_donors"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "box",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("emptied_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "code"),
    )
    with op.batch_alter_table("box", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_box_organisation_id"), ["organisation_id"], unique=False
        )
    op.create_table(
        "partnership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["accepted_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["partner_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "partner_id"),
    )
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partnership_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_partnership_partner_id"), ["partner_id"], unique=False)
    op.create_table(
        "shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("to_organisation_id", sa.Integer(), nullable=False),
        sa.Column("from_site_id", sa.Integer(), nullable=False),
        sa.Column("to_site_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="draft", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["from_site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["received_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["sent_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["to_organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["to_site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_to", ["to_organisation_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_shipment_organisation_id"), ["organisation_id"], unique=False
        )
    op.create_table(
        "shipment_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received_item_id", sa.Integer(), nullable=True),
        sa.Column("received", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["received_item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shipment_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_line_shipment_id"), ["shipment_id"], unique=False
        )
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipment_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_stock_movement_shipment_id"), ["shipment_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_stock_movement_shipment_id", "shipment", ["shipment_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_constraint("fk_stock_movement_shipment_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_stock_movement_shipment_id"))
        batch_op.drop_column("shipment_id")
    op.drop_table("shipment_line")
    op.drop_table("shipment")
    op.drop_table("partnership")
    op.drop_table("box")
