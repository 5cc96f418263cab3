"""donors: donatable items, the how-to-help block, pledges and e-mail subscribers

Revision ID: 0015_donors
Revises: 0014_two_languages
Create Date: 2026-12-04 21:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_donors"
down_revision = "0014_two_languages"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("donatable", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    # What the kitchens make is not something a donor can bring.
    op.execute("UPDATE item SET donatable = false WHERE lower(unit) IN ('meal', 'meals')")
    op.create_table(
        "donor_page",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("drop_off", sa.String(length=300), server_default="", nullable=False),
        sa.Column("opening_hours", sa.String(length=200), server_default="", nullable=False),
        sa.Column("donation_url", sa.String(length=500), server_default="", nullable=False),
        sa.Column("contact_email", sa.String(length=254), server_default="", nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=20), server_default="", nullable=False),
        sa.Column("logo_sha256", sa.String(length=64), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("organisation_id"),
    )
    op.create_table(
        "pledge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expected_on", sa.Date(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("share_link_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("movement_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), server_default="", nullable=False),
        sa.ForeignKeyConstraint(["closed_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["movement_id"], ["stock_movement.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["share_link_id"], ["share_link.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pledge", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pledge_open", ["organisation_id", "status", "expected_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pledge_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pledge_share_link_id"), ["share_link_id"], unique=False
        )
    op.create_table(
        "donor_subscriber",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=10), server_default="en", nullable=False),
        sa.Column("share_link_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.ForeignKeyConstraint(["share_link_id"], ["share_link.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "email"),
    )
    with op.batch_alter_table("donor_subscriber", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_donor_subscriber_channel_id"), ["channel_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_donor_subscriber_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_donor_subscriber_share_link_id"), ["share_link_id"], unique=False
        )


def downgrade():
    op.drop_table("donor_subscriber")
    op.drop_table("pledge")
    op.drop_table("donor_page")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("donatable")
