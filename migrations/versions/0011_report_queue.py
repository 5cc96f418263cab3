"""report queue: queued, running, ready or failed; pages so far; the failure's reason

Revision ID: 0011_report_queue
Revises: 0010_ledger_indexes
Create Date: 2026-12-04 08:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_report_queue'
down_revision = '0010_ledger_indexes'
branch_labels = None
depends_on = None


def upgrade():
    # Every report made so far was made at once: ready, with its file.
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('status', sa.String(length=10), server_default='ready', nullable=False)
        )
        batch_op.add_column(sa.Column('pages', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('failure', sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column('attempts', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(), nullable=True))
        # A queued report has no file yet.
        batch_op.alter_column('file_path', existing_type=sa.String(length=500), nullable=True)
        batch_op.alter_column('sha256', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('size_bytes', existing_type=sa.BigInteger(), nullable=True)
        batch_op.create_index(batch_op.f('ix_report_status'), ['status'], unique=False)


def downgrade():
    # Reports without a file cannot stay in a table whose file columns are required.
    op.execute(
        "DELETE FROM delivery WHERE report_id IN (SELECT id FROM report WHERE status <> 'ready')"
    )
    op.execute("DELETE FROM report WHERE status <> 'ready'")
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_status'))
        batch_op.alter_column('size_bytes', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('sha256', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('file_path', existing_type=sa.String(length=500), nullable=False)
        batch_op.drop_column('finished_at')
        batch_op.drop_column('started_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('failure')
        batch_op.drop_column('pages')
        batch_op.drop_column('status')
