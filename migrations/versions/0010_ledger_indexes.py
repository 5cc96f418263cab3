"""ledger indexes for the page filters

Revision ID: 0010_ledger_indexes
Revises: 0009_submission_owner
Create Date: 2026-12-04 07:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010_ledger_indexes'
down_revision = '0009_submission_owner'
branch_labels = None
depends_on = None

# The ledger page and GET /api/v1/movements: the organisation's newest movements, optionally
# of one kind or at one site. Each index hands them over in id order, so no sort is needed.
INDEXES = {
    'ix_stock_movement_org_id': ['organisation_id', 'id'],
    'ix_stock_movement_org_kind_id': ['organisation_id', 'kind', 'id'],
    'ix_stock_movement_org_site_id': ['organisation_id', 'site_id', 'id'],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, 'stock_movement', columns, unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        # Statistics for the new indexes (and any table never analysed), so the planner
        # weighs them from the start. The limit keeps this to a fraction of a second even on
        # a million movements; later, PRAGMA optimize keeps them fresh (logistics.database).
        op.execute('PRAGMA analysis_limit = 400')
        op.execute('ANALYZE')


def downgrade():
    for name in reversed(INDEXES):
        op.drop_index(name, table_name='stock_movement')
