"""index incidents by when they were recorded, so the needs read the last day's alone

Revision ID: 0019_incident_created_index
Revises: 0018_lots
Create Date: 2026-12-05 08:30:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0019_incident_created_index"
down_revision = "0018_lots"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_incident_org_created", "incident", ["organisation_id", "created_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_incident_org_created", table_name="incident")
