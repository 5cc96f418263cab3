"""two languages: items' French names, each member's own language, each report's language

Revision ID: 0014_two_languages
Revises: 0013_field_phone
Create Date: 2026-12-04 17:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_two_languages"
down_revision = "0013_field_phone"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_fr", sa.String(length=120), server_default="", nullable=False)
        )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("locale", sa.String(length=10), server_default="en", nullable=False)
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("locale", server_default="")
    # Nobody could choose a language before: every member now follows their organisation's.
    op.execute("UPDATE user_account SET locale = ''")


def downgrade():
    op.execute("UPDATE user_account SET locale = 'en' WHERE locale = ''")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("locale", server_default=None)
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_column("locale")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_column("name_fr")
