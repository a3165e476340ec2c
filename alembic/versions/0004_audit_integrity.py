"""What an audit needs to keep damage visible and to pin whole inventories.

Revision ID: 0004_audit_integrity
Revises: 0003_due_copy_index
Create Date: 2026-12-04

Issue 11 item 2 and issue 18 ("tampering"): two nullable columns, nothing else.

* `copies.problem_since`: when the copy's current damage (status `damaged` or `missing`) was
  first found; NULL while the copy is `ok`. Every audit reports the open problems with this
  date until a re-check passes and clears it.
* `package_versions.inventory_sha512`: the sha512 of the version's own `inventory.json`
  (the bytes of its sidecar digest), recorded at ingest or adoption. An audit compares it
  with the stored inventories, so a rewritten `message` or `created` is seen even when the
  sidecar was rewritten to match. NULL for versions recorded before this revision.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0004_audit_integrity"
down_revision = "0003_due_copy_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("copies") as batch:
        batch.add_column(sa.Column("problem_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("package_versions") as batch:
        batch.add_column(sa.Column("inventory_sha512", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("package_versions") as batch:
        batch.drop_column("inventory_sha512")
    with op.batch_alter_table("copies") as batch:
        batch.drop_column("problem_since")
