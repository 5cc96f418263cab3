"""field phone: each member's last site, an organisation's main warehouse, item aliases,
photo thumbnails and hand-outs recorded after the fact

Revision ID: 0013_field_phone
Revises: 0012_alerts_that_say_where
Create Date: 2026-12-04 14:05:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_field_phone"
down_revision = "0012_alerts_that_say_where"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unplanned", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thumbnail_sha256", sa.String(length=64), nullable=True))
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aliases", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_site_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_membership_last_site_id_site", "site", ["last_site_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("main", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Each organisation's first active warehouse becomes its main one; an admin can change it.
    op.execute(
        sa.text(
            "UPDATE site SET main = :yes WHERE id IN ("
            " SELECT MIN(id) FROM site WHERE kind = 'warehouse' AND active"
            " GROUP BY organisation_id)"
        ).bindparams(yes=True)
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(
            "uq_site_one_main",
            ["organisation_id"],
            unique=True,
            sqlite_where=sa.text("main"),
            postgresql_where=sa.text("main"),
        )


def downgrade():
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_site_one_main", sqlite_where=sa.text("main"), postgresql_where=sa.text("main")
        )
        batch_op.drop_column("main")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_constraint("fk_membership_last_site_id_site", type_="foreignkey")
        batch_op.drop_column("last_site_id")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("aliases")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_column("thumbnail_sha256")
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.drop_column("unplanned")
