"""Events recorded by another archive: origin and the sender's own event identifier.

Revision ID: 0002_event_origin
Revises: 0001_initial
Create Date: 2026-11-25

Issue 5 (transfers between archives): a package ingested from another repository brings its
PREMIS history. Those events are appended to our log like any other (hash-chained,
append-only) with three more columns: `origin`, the archive that recorded the event, and the
sender's `eventIdentifierType`/`eventIdentifierValue` (PREMIS 3.0 section 2.1.1), kept so an
export names the event exactly as its first archive did. All three are NULL for our own
events. Adding nullable columns keeps the append-only triggers of 0001 in place; `type` and
`outcome` become free text, as other archives' vocabularies may be longer than ours.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0002_event_origin"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Other archives' event types and outcomes are free text (PREMIS 3.0 recommends, does
    # not require, the LoC vocabularies): widen the columns. SQLite never enforces lengths.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("events", "type", type_=sa.Text(), existing_type=sa.String(100))
        op.alter_column("events", "outcome", type_=sa.Text(), existing_type=sa.String(20))
    op.add_column("events", sa.Column("origin", sa.Text(), nullable=True))
    op.add_column("events", sa.Column("source_identifier_type", sa.Text(), nullable=True))
    op.add_column("events", sa.Column("source_identifier", sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch rebuild of the table would
    # drop the append-only triggers of 0001 along with it.
    op.drop_column("events", "source_identifier")
    op.drop_column("events", "source_identifier_type")
    op.drop_column("events", "origin")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("events", "outcome", type_=sa.String(20), existing_type=sa.Text())
        op.alter_column("events", "type", type_=sa.String(100), existing_type=sa.Text())
