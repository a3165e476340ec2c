"""Deaccession with approval: requests, their decisions, and the package state (issue 16 §2).

Revision ID: 0008_deaccession
Revises: 0005_job_queue
Create Date: 2026-12-05

`deaccession_requests` holds one row per request (who asked, why, who decided, when); the
approved row is also the intent record of the removal (it carries the final METS before any
byte is removed, so `preserve check --repair` can finish a killed removal). The final METS is
kept here, in the catalog, and not in the storage root: OCFL 1.1 section 4.1 lets a storage
root hold only objects, the conformance declaration, `ocfl_layout.json` and `extensions/`, and
every storage location is emptied of the package, so a tombstone file beside the objects would
be a non-object file that audits and OCFL validators report as unexpected.

`packages.state` is `active` or `deaccessioned`; the package's version, file, identifier and
event rows stay as the tombstone.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0008_deaccession"
down_revision = "0005_job_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("packages") as batch:
        batch.add_column(sa.Column("state", sa.String(20), nullable=False,
                                   server_default="active"))
        batch.create_check_constraint("ck_packages_package_state",
                                      "state IN ('active', 'deaccessioned')")
    op.create_table(
        "deaccession_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final_mets", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint("state IN ('requested', 'approved', 'rejected', 'completed')",
                           name="ck_deaccession_requests_request_state"),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"],
                                name="fk_deaccession_requests_package_id_packages"),
        sa.PrimaryKeyConstraint("id", name="pk_deaccession_requests"),
    )
    op.create_index("ix_deaccession_requests_package_id", "deaccession_requests",
                    ["package_id"])


def downgrade() -> None:
    op.drop_index("ix_deaccession_requests_package_id", "deaccession_requests")
    op.drop_table("deaccession_requests")
    with op.batch_alter_table("packages") as batch:
        batch.drop_constraint("ck_packages_package_state", type_="check")
        batch.drop_column("state")
