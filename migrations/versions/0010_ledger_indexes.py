"""ledger indexes for the page filters

Revision ID: 0010_ledger_indexes
Revises: 0009_submission_owner
Create Date: 2026-12-04 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_ledger_indexes'
down_revision = '0009_submission_owner'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
