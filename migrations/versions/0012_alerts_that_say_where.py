"""alerts that say where: a source per planned line, alert keys and batches, needs-change
marks, the replacement kit, the resolve margin, and counts an amendment corrects

Revision ID: 0012_alerts_that_say_where
Revises: 0011_report_queue
Create Date: 2026-12-04 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_alerts_that_say_where"
down_revision = "0011_report_queue"
branch_labels = None
depends_on = None


def upgrade():
    _line_sources()
    op.create_table(
        "alert_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_alert_batch_organisation_id"), "alert_batch", ["organisation_id"], unique=False
    )
    # Every alert so far is about one item: its key says so.
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="item", nullable=False)
        )
        batch_op.add_column(sa.Column("key", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("distribution_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("incident_id", sa.Integer(), nullable=True))
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            "fk_alert_distribution_id_distribution", "distribution", ["distribution_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_alert_incident_id_incident", "incident", ["incident_id"], ["id"]
        )
        batch_op.drop_index(
            "uq_alert_one_open_per_item",
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )
    op.execute("UPDATE alert SET key = 'item:' || CAST(item_id AS VARCHAR)")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.alter_column("key", existing_type=sa.String(length=60), nullable=False)
        batch_op.create_index(
            "uq_alert_one_open_per_key",
            ["organisation_id", "key"],
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )
    with op.batch_alter_table("alert_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_alert_change_batch_id"), ["batch_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_alert_change_batch_id_alert_batch", "alert_batch", ["batch_id"], ["id"]
        )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_delivery_batch_id_alert_batch", "alert_batch", ["batch_id"], ["id"]
        )
        batch_op.create_unique_constraint(
            "uq_delivery_channel_id_batch_id", ["channel_id", "batch_id"]
        )
    op.create_table(
        "needs_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_needs_change_org", "needs_change", ["organisation_id", "id"], unique=False)
    op.create_table(
        "replacement_kit_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "basis", "item_id"),
    )
    op.create_index(
        op.f("ix_replacement_kit_line_organisation_id"),
        "replacement_kit_line",
        ["organisation_id"],
        unique=False,
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resolve_margin_percent", sa.Integer(), server_default="10", nullable=False)
        )
    # Counts an amendment corrects on a locked incident.
    with op.batch_alter_table("incident_amendment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("people_affected", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("shelters_affected", sa.Integer(), nullable=True))


def _line_sources():
    """Give every planned line its own source: until now, its distribution's (or series')."""
    for table, parent, parent_key in (
        ("distribution_line", "distribution", "distribution_id"),
        ("series_line", "distribution_series", "series_id"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("source_site_id", sa.Integer(), nullable=True))
        op.execute(
            f"UPDATE {table} SET source_site_id = (SELECT {parent}.source_site_id FROM {parent} "
            f"WHERE {parent}.id = {table}.{parent_key})"
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("source_site_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(
                f"fk_{table}_source_site_id_site", "site", ["source_site_id"], ["id"]
            )


def downgrade():
    with op.batch_alter_table("incident_amendment", schema=None) as batch_op:
        batch_op.drop_column("shelters_affected")
        batch_op.drop_column("people_affected")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("resolve_margin_percent")
    op.drop_index(
        op.f("ix_replacement_kit_line_organisation_id"), table_name="replacement_kit_line"
    )
    op.drop_table("replacement_kit_line")
    op.drop_index("ix_needs_change_org", table_name="needs_change")
    op.drop_table("needs_change")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("uq_delivery_channel_id_batch_id", type_="unique")
        batch_op.drop_constraint("fk_delivery_batch_id_alert_batch", type_="foreignkey")
        batch_op.drop_column("batch_id")
    with op.batch_alter_table("alert_change", schema=None) as batch_op:
        batch_op.drop_constraint("fk_alert_change_batch_id_alert_batch", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_alert_change_batch_id"))
        batch_op.drop_column("batch_id")
    # Only item alerts fit the old table: the others go, with their changes and deliveries.
    op.execute(
        "DELETE FROM delivery WHERE alert_change_id IN (SELECT alert_change.id FROM alert_change "
        "JOIN alert ON alert.id = alert_change.alert_id WHERE alert.item_id IS NULL)"
    )
    op.execute(
        "DELETE FROM alert_change WHERE alert_id IN (SELECT id FROM alert WHERE item_id IS NULL)"
    )
    op.execute("DELETE FROM alert WHERE item_id IS NULL")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alert_one_open_per_key",
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )
        batch_op.drop_constraint("fk_alert_incident_id_incident", type_="foreignkey")
        batch_op.drop_constraint("fk_alert_distribution_id_distribution", type_="foreignkey")
        batch_op.alter_column("item_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("incident_id")
        batch_op.drop_column("distribution_id")
        batch_op.drop_column("key")
        batch_op.drop_column("kind")
        batch_op.create_index(
            "uq_alert_one_open_per_item",
            ["organisation_id", "item_id"],
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )
    op.drop_index(op.f("ix_alert_batch_organisation_id"), table_name="alert_batch")
    op.drop_table("alert_batch")
    for table in ("series_line", "distribution_line"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_source_site_id_site", type_="foreignkey")
            batch_op.drop_column("source_site_id")
