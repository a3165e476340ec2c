"""Due copies ordered by an index: `copies (last_fixity_at, file_id)`.

Revision ID: 0003_due_copy_index
Revises: 0002_event_origin
Create Date: 2026-11-25

Issue 7, item 3: an audit asks for due copies `ORDER BY last_fixity_at, file_id LIMIT n`
(`preserve.catalog.audits.due_copies`). With an index on `last_fixity_at` alone the database
walks that index but must sort every row sharing one timestamp by `file_id` before it can
stop: one audit batch writes one timestamp for 1,000 copies, and a catalog whose copies share
one timestamp (1,000,000 of them, benchmarks/catalog_bench.py) took 450 ms on SQLite and
175 ms on PostgreSQL per batch. Indexing both columns the query orders by lets it stop at the
LIMIT whatever the ties (6–9 ms). The composite index serves every use of the old one
(`IS NULL`, `<`), so it replaces it.
"""

from __future__ import annotations

from alembic import op

revision = "0003_due_copy_index"
down_revision = "0002_event_origin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE/DROP INDEX, no batch rebuild: indexes need no table copy on either database.
    op.create_index("ix_copies_last_fixity_at_file_id", "copies", ["last_fixity_at", "file_id"])
    op.drop_index("ix_copies_last_fixity_at", table_name="copies")


def downgrade() -> None:
    op.create_index("ix_copies_last_fixity_at", "copies", ["last_fixity_at"])
    op.drop_index("ix_copies_last_fixity_at_file_id", table_name="copies")
