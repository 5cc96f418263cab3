"""request tokens belong to a user

Revision ID: 0009_submission_owner
Revises: 0008_accounts
Create Date: 2026-12-04 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_submission_owner'
down_revision = '0008_accounts'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
