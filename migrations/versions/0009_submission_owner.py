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
    # Rows recorded before this keep NULL: nobody is their sender, so nobody replays them.
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_submission_user_id_user_account'),
            'user_account',
            ['user_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_submission_user_id_user_account'), type_='foreignkey'
        )
        batch_op.drop_column('user_id')
