"""sessions, password resets, invitations, last organisation

Revision ID: 0008_accounts
Revises: 0007_hand_plans
Create Date: 2026-12-04 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_accounts'
down_revision = '0007_hand_plans'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
