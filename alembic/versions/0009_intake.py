"""Who deposited: `deposits.depositor`, the bag's Source-Organization (issue 16 §6).

Revision ID: 0009_intake
Revises: 0008_deaccession
Create Date: 2026-12-05

`preserve report` counts holdings by depositor; the catalog did not keep a deposit's
Source-Organization (RFC 8493 section 2.2.2). The column is nullable: attempts recorded
before this revision, plain folders and bags without the label have none.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0009_intake"
down_revision = "0008_deaccession"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deposits") as batch:
        batch.add_column(sa.Column("depositor", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deposits") as batch:
        batch.drop_column("depositor")
